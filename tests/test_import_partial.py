"""A table cut off at the end (a truncated download, a page not copied): refused naming the line, unless
`--allow-partial`, which imports what is complete and lists the rest with its line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.importers.disclosure import parse_text
from monitor.importers.document import ImportFailure
from monitor.importers.output import document_json, summary_lines
from monitor.store.models import Indicator, Project
from tests.conftest import SEED_UNION

CUT_PIPES = Path(__file__).parent / "data" / "layouts" / "010_sichuan_jingyan_mata_2023_markdown.txt"


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (s.execute(select(func.count()).select_from(Project)).scalar_one(),
                s.execute(select(func.count()).select_from(Indicator)).scalar_one())


def _import(db_url, monkeypatch, tmp_path, *args: str):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(app, ["import", str(CUT_PIPES), "--json", *args])


def test_a_cut_off_table_is_refused_naming_the_cut_line_and_nothing_is_stored(db_url, engine, tmp_path, monkeypatch):
    before = _counts(engine)
    result = _import(db_url, monkeypatch, tmp_path)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)
    assert (error["file"], error["line"]) == (str(CUT_PIPES), 17)
    assert "被截断" in error["error"] and "基层组织活动经费" in error["error"] and "--allow-partial" in error["error"]
    assert _counts(engine) == before


def test_allow_partial_stores_the_complete_rows_and_lists_the_cut_one(db_url, engine, tmp_path, monkeypatch):
    result = _import(db_url, monkeypatch, tmp_path, "--allow-partial", "--year", "2023")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(p["name"], len(p["indicators"]), p["incomplete"]) for p in data["projects"]] == [
        ("村组干部报酬", 8, []), ("基层组织活动经费", 4, [17])]
    assert _counts(engine) == (2, 12)


def _union_cut_before_its_last_signature() -> str:
    lines = SEED_UNION.read_text(encoding="utf-8").splitlines()
    assert lines[1352].startswith("负责人：")  # line 1353 closes the document's last target table
    return "\n".join(lines[:1352]) + "\n"


def test_a_seed_document_whose_last_table_is_cut_is_refused_without_the_flag():
    with pytest.raises(ImportFailure) as caught:
        parse_text(_union_cut_before_its_last_signature(), source="union-cut.txt")
    assert caught.value.line == 1251 and "不完整" in caught.value.message and "--allow-partial" in caught.value.message


def test_allow_partial_leaves_the_cut_seed_table_out_and_lists_its_lines():
    doc = parse_text(_union_cut_before_its_last_signature(), source="union-cut.txt", allow_partial=True)
    assert len(doc.projects) == 4
    [left_out] = document_json(doc)["incomplete_tables"]
    assert (left_out["line"], left_out["end_line"]) == (1251, 1352)
    assert any(line.startswith("  不完整 第1251–1352行") for line in summary_lines(doc))
