"""Storing parsed documents on SQLite and PostgreSQL: counts, idempotence, corrections in place, rollback."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import Config
from monitor.evaluation import run_evaluation
from monitor.importers.disclosure import parse_file
from monitor.importers.document import ImportFailure, ParsedIndicator
from monitor.importers.load import store_document
from monitor.store.db import session_scope
from monitor.store.models import (
    BudgetYear,
    Department,
    ImportRun,
    Indicator,
    IndicatorState,
    IndicatorStateChange,
    Project,
    ProjectState,
    Report,
)
from tests.conftest import SEED_UNION
from tests.import_seeds import hrss_document, union_document


@pytest.fixture(scope="module")
def hrss():
    return hrss_document()


@pytest.fixture(scope="module")
def union():
    return union_document()


def _counts(engine) -> dict:
    with Session(engine) as s:
        return {
            "departments": s.execute(select(func.count()).select_from(Department)).scalar(),
            "years": s.execute(select(func.count()).select_from(BudgetYear)).scalar(),
            "projects": s.execute(select(func.count()).select_from(Project)).scalar(),
            "annual": s.execute(select(func.count()).select_from(Indicator).where(Indicator.half == "annual")).scalar(),
            "period": s.execute(select(func.count()).select_from(Indicator).where(Indicator.half == "period")).scalar(),
            "runs": s.execute(select(func.count()).select_from(ImportRun)).scalar(),
        }


def _ids(engine) -> dict:
    with Session(engine) as s:
        return {(i.project_id, i.half, i.level2, i.name): i.id for i in s.execute(select(Indicator)).scalars()}


def test_both_seeds_are_stored(engine, hrss, union):
    with session_scope(engine) as s:
        store_document(s, hrss)
        store_document(s, union)
    assert _counts(engine) == {"departments": 2, "years": 1, "projects": 24, "annual": 237 + 59,
                               "period": 237 + 59, "runs": 2}
    with Session(engine) as s:
        dept = s.execute(select(Department).where(Department.code == "144")).scalars().one()
        assert dept.name == "晋城市人力资源和社会保障局"
        total = s.execute(select(func.sum(Project.annual_funds)).where(Project.department_id == dept.id)).scalar()
        assert Decimal(total) == Decimal("46949800.00")
        twins = s.execute(select(Project.import_key, Project.annual_funds).where(
            Project.name == "建国前老工人及企业抗美援朝老战士生活补贴").order_by(Project.import_key)).all()
        assert [(k, Decimal(a)) for k, a in twins] == [
            ("建国前老工人及企业抗美援朝老战士生活补贴", Decimal("223100.00")),
            ("建国前老工人及企业抗美援朝老战士生活补贴#2", Decimal("71900.00"))]
        row = s.execute(select(Indicator).join(Project).where(
            Project.name == "创业就业专项", Indicator.half == "annual", Indicator.name == "城镇新增就业人数",
        )).scalars().one()
        assert (row.level1, row.level2, row.value_text, row.source_line) == (
            "效益指标", "经济效益指标", "≥3.9万人", 600)
        assert row.target_json["text"] == "≥3.9万人" and row.kind is not None
        run = s.execute(select(ImportRun).where(ImportRun.department_id == dept.id)).scalars().one()
        assert run.format == "text" and run.sha256 == hrss.sha256
        assert run.summary_json["indicators"]["balanced"] is True
        assert run.summary_json["reconciliation"]["ok"] is True


def test_reimporting_the_same_document_changes_nothing(engine, union):
    with session_scope(engine) as s:
        store_document(s, union)
    before_ids, before = _ids(engine), _counts(engine)
    with session_scope(engine) as s:
        result = store_document(s, union)
    assert result.created == {"projects": 0, "indicators": 0}
    assert result.updated == {"projects": 0, "indicators": 0}
    assert result.unchanged == {"projects": 5, "indicators": 118}
    assert _ids(engine) == before_ids
    assert _counts(engine) == {**before, "runs": before["runs"] + 1}


def test_corrected_version_updates_in_place_and_keeps_attached_rows(engine, union):
    with session_scope(engine) as s:
        store_document(s, union)
    ids = _ids(engine)
    with session_scope(engine) as s:
        target = s.execute(select(Indicator).where(Indicator.half == "annual",
                                                   Indicator.name == "慰问职工人数")).scalars().one()
        s.add(Report(indicator_id=target.id, value=Decimal("9000"), channel="web"))
    corrected = copy.deepcopy(union)
    project = next(p for p in corrected.projects if p.name == "帮扶送温暖")
    project.annual_funds = Decimal("3100000.00")
    item = next(i for i in project.annual_indicators if i.name == "慰问职工人数")
    item.value = "≥17000人"
    gone = next(i for i in project.annual_indicators if i.name == "慰问完成率")
    project.indicators.remove(gone)
    project.indicators.append(ParsedIndicator("annual", "效益指标", "可持续影响指标", "职工队伍稳定", "稳定", None, 9))
    with session_scope(engine) as s:
        result = store_document(s, corrected)
    assert result.updated == {"projects": 1, "indicators": 1}
    assert result.created["indicators"] == 1 and result.deleted["indicators"] == 1
    after = _ids(engine)
    with Session(engine) as s:
        row = s.get(Indicator, target.id)
        assert row.value_text == "≥17000人"
        assert s.execute(select(Report).where(Report.indicator_id == target.id)).scalars().one().value == 9000
        funds = s.execute(select(Project.annual_funds).where(Project.name == "帮扶送温暖")).scalar()
        assert Decimal(funds) == Decimal("3100000")
    unchanged = {k: v for k, v in ids.items() if k[3] != "慰问完成率" or k[1] != "annual"}
    assert all(after[k] == v for k, v in unchanged.items())
    assert not any(k[3] == "慰问完成率" and k[1] == "annual" for k in after)


def test_an_indicator_with_reports_is_never_deleted(engine, union):
    with session_scope(engine) as s:
        store_document(s, union)
        target = s.execute(select(Indicator).where(Indicator.half == "annual",
                                                   Indicator.name == "慰问完成率")).scalars().one()
        s.add(Report(indicator_id=target.id, value=Decimal("50"), channel="web"))
    corrected = copy.deepcopy(union)
    project = next(p for p in corrected.projects if p.name == "帮扶送温暖")
    project.indicators = [i for i in project.indicators if not (i.half == "annual" and i.name == "慰问完成率")]
    with session_scope(engine) as s:
        result = store_document(s, corrected)
    assert result.deleted["indicators"] == 0 and len(result.kept_stale) == 1
    with Session(engine) as s:
        assert s.get(Indicator, target.id) is not None


def _lights(engine, *, indicator_id: int | None = None, project_id: int | None = None) -> int:
    """How many state, change and project-state rows the evaluation left for this indicator or project."""
    with Session(engine) as s:
        if indicator_id is not None:
            return sum(s.execute(select(func.count()).select_from(table).where(table.indicator_id == indicator_id))
                       .scalar() for table in (IndicatorState, IndicatorStateChange))
        return s.execute(select(func.count()).select_from(ProjectState)
                         .where(ProjectState.project_id == project_id)).scalar()


def test_an_evaluated_indicator_that_leaves_the_document_goes_with_its_lights(engine, union):
    """Lights are what the evaluation concluded, not anyone's data: they do not keep a dropped indicator alive,
    and they leave with it."""
    with session_scope(engine) as s:
        store_document(s, union)
    run_evaluation(engine, Config(), as_of=date(2024, 6, 30))
    with Session(engine) as s:
        gone = s.execute(select(Indicator).where(Indicator.half == "annual",
                                                 Indicator.name == "慰问完成率")).scalars().one().id
    assert _lights(engine, indicator_id=gone) >= 2  # its state and the change that first lit it
    corrected = copy.deepcopy(union)
    project = next(p for p in corrected.projects if p.name == "帮扶送温暖")
    project.indicators = [i for i in project.indicators if not (i.half == "annual" and i.name == "慰问完成率")]
    with session_scope(engine) as s:
        result = store_document(s, corrected)
    assert result.deleted["indicators"] == 1 and result.kept_stale == []
    assert _lights(engine, indicator_id=gone) == 0
    with Session(engine) as s:
        assert s.get(Indicator, gone) is None
        kept = s.execute(select(Indicator).where(Indicator.half == "annual",
                                                 Indicator.name == "慰问职工人数")).scalars().one().id
    assert _lights(engine, indicator_id=kept) >= 2


def test_an_evaluated_project_that_leaves_the_document_goes_with_its_lights(engine, union):
    with session_scope(engine) as s:
        store_document(s, union)
    run_evaluation(engine, Config(), as_of=date(2024, 6, 30))
    corrected = copy.deepcopy(union)
    dropped = corrected.projects.pop()
    with Session(engine) as s:
        project = s.execute(select(Project).where(Project.name == dropped.name)).scalars().one()
        indicators = [i.id for i in s.execute(select(Indicator).where(Indicator.project_id == project.id)).scalars()]
    assert _lights(engine, project_id=project.id) == 1
    with session_scope(engine) as s:
        result = store_document(s, corrected)
    assert result.deleted["projects"] == 1
    assert _lights(engine, project_id=project.id) == 0
    assert all(_lights(engine, indicator_id=i) == 0 for i in indicators)


def test_a_failure_while_storing_leaves_the_store_unchanged(engine, union, hrss):
    with session_scope(engine) as s:
        store_document(s, union)
    before_ids, before = _ids(engine), _counts(engine)
    broken = copy.deepcopy(hrss)
    broken.projects[5].indicators[0].level1 = None  # NOT NULL in the schema: the database itself refuses it
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            store_document(s, broken)
    assert _counts(engine) == before and _ids(engine) == before_ids


def test_flags_that_contradict_the_document_are_refused(engine, union):
    with pytest.raises(ImportFailure, match="959"):
        with session_scope(engine) as s:
            store_document(s, union, department_code="144")
    with pytest.raises(ImportFailure, match="2025"):
        with session_scope(engine) as s:
            store_document(s, union, year=2025)
    assert _counts(engine)["projects"] == 0


BAD_INPUTS = {
    "binary.txt": b"\x00\x01\x02PK\x00binary",
    "empty.txt": b"",
    "unknown.txt": "晋城市市级预算部门（单位）项目支出绩效目标表\n(2024年度)\n一级指标;二级指标;三级指标;指标值\n"
                   .encode(),
    "broken.xlsx": b"PK\x03\x04 this is not really a workbook",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_cli_bad_files_get_a_clear_error_and_store_nothing(db_url, engine, union, tmp_path, monkeypatch, name):
    with session_scope(engine) as s:
        store_document(s, union)
    before_ids, before = _ids(engine), _counts(engine)
    path = tmp_path / name
    path.write_bytes(BAD_INPUTS[name])
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", str(path), "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["file"].endswith(name) and error["error"]
    assert _counts(engine) == before and _ids(engine) == before_ids


def test_cli_text_summary_says_what_was_written(db_url, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(app, ["import", str(SEED_UNION)])
    assert first.exit_code == 0, first.output
    assert ("  已写入：新建 项目5个、指标118个，更新 项目0个、指标0个，未变 项目0个、指标0个，删除 项目0个、指标0个\n"
            in first.output)
    again = CliRunner().invoke(app, ["import", str(SEED_UNION)])
    assert "未变 项目5个、指标118个" in again.output


def test_cli_a_folder_instead_of_a_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", str(tmp_path), "--dry-run"])
    assert result.exit_code == 1
    assert f"导入失败：{tmp_path}: 不是文件" in result.output


def test_cli_truncated_table_names_file_line_and_field(db_url, engine, tmp_path, monkeypatch):
    lines = SEED_UNION.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(lines[:1300]), encoding="utf-8")
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 1
    assert "cut.txt" in result.output and "第1251行" in result.output and "填报日期" in result.output
    assert _counts(engine)["projects"] == 0


def test_cli_imports_and_reimports(db_url, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(app, ["import", str(SEED_UNION), "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["store"]["created"] == {"projects": 5, "indicators": 118}
    second = CliRunner().invoke(app, ["import", str(SEED_UNION), "--json"])
    assert json.loads(second.stdout)["store"]["unchanged"] == {"projects": 5, "indicators": 118}
    assert _counts(engine)["projects"] == 5


def test_corrected_text_file_updates_the_one_changed_indicator(engine, union, tmp_path):
    with session_scope(engine) as s:
        store_document(s, union)
        target = s.execute(select(Indicator).where(Indicator.half == "annual",
                                                   Indicator.name == "慰问职工人数")).scalars().one()
        s.add(Report(indicator_id=target.id, value=Decimal("8000"), channel="web"))
    ids = _ids(engine)
    lines = SEED_UNION.read_text(encoding="utf-8").splitlines()
    assert lines[1332] == "数量指标 慰问职工人数 ≥16000人 数量指标 慰问职工人数 ≥16000人"
    lines[1332] = "数量指标 慰问职工人数 ≥16000人 数量指标 慰问职工人数 ≥17000人"
    corrected = tmp_path / "004_corrected.txt"
    corrected.write_text("\n".join(lines), encoding="utf-8")
    with session_scope(engine) as s:
        result = store_document(s, parse_file(corrected))
    assert result.updated == {"projects": 0, "indicators": 1}
    assert result.created == {"projects": 0, "indicators": 0} and result.deleted == {"projects": 0, "indicators": 0}
    assert _ids(engine) == ids
    with Session(engine) as s:
        assert s.get(Indicator, target.id).value_text == "≥17000人"
        assert [r.value for r in s.execute(select(Report).where(Report.indicator_id == target.id)).scalars()] == [8000]
        period = s.execute(select(Indicator).where(Indicator.half == "period",
                                                   Indicator.name == "慰问职工人数")).scalars().one()
        assert period.value_text == "≥16000人"


def test_an_over_long_cell_is_refused_with_its_line_before_writing(engine, union):
    too_long = copy.deepcopy(union)
    too_long.projects[2].indicators[3].name = "很长" * 200
    with pytest.raises(ImportFailure) as err:
        with session_scope(engine) as s:
            store_document(s, too_long)
    assert err.value.field_name == "三级指标" and err.value.line == too_long.projects[2].indicators[3].line
    assert _counts(engine)["projects"] == 0
