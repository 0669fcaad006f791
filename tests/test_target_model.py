"""One target model: a Target survives its stored form exactly, the store keeps that one form, and every reader
gets the import's reading back instead of parsing the 指标值 again (issue 11, item 3)."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from monitor.accounts.tokens import create_token
from monitor.importers.disclosure import parse_file
from monitor.importers.load import store_document
from monitor.progress.service import load_infos
from monitor.store.db import session_scope
from monitor.store.models import Indicator, User
from rules.targets import Target, parse_target
from tests.conftest import ROOT, SEED_HRSS
from tests.test_targets_properties import (
    _fill_years,
    grammar_text,
    level2s,
    names,
    time_text,
    valid_time_text,
    years,
)
from tests.test_targets_seeds import ROWS
from tests.test_web_portal import make_client


def _through_the_store(target: Target) -> Target:
    """What a reader gets back: the JSON text a database column holds, decoded."""
    return Target.from_json(json.loads(json.dumps(target.to_json(), ensure_ascii=False)))


def _assert_round_trip(target: Target) -> None:
    back = _through_the_store(target)
    assert back == target
    assert back.to_json() == target.to_json()
    assert (back.value is None) == (target.value is None)
    assert back.value is None or str(back.value) == str(target.value)  # the same Decimal, not just an equal one


@pytest.mark.parametrize("strict", [False, True])
def test_every_seed_value_survives_its_stored_form(strict):
    for level2, name, value in ROWS:
        _assert_round_trip(parse_target(value, year=2024, level2=level2, name=name, strict_month_before=strict))


# ranges and values a person should check: the readings with an upper bound or a suspicious flag
_bounds = st.decimals(min_value=-10, max_value=2000, places=2, allow_nan=False, allow_infinity=False)
range_text = st.builds(lambda a, sep, b, unit: f"{a}{sep}{b}{unit}", _bounds, st.sampled_from(["-", "～", "至"]),
                       _bounds, st.sampled_from(["%", "人", "万元", "", "元/人*月"]))
share_names = st.sampled_from(["资金到位率", "培训合格率(%)", "收入增长率", "覆盖率(百分比)", "成活率(≥**%)"])


@st.composite
def _parsed(draw) -> Target:
    year = draw(years)
    text = draw(st.one_of(grammar_text, time_text, st.text(max_size=30), range_text,
                          valid_time_text.map(lambda t: _fill_years(t, year))))
    name = draw(st.one_of(names, share_names))
    return parse_target(text, year=year, level2=draw(level2s), name=name, strict_month_before=draw(st.booleans()))


@settings(max_examples=400, deadline=None)
@given(target=_parsed())
def test_any_target_survives_its_stored_form(target):
    _assert_round_trip(target)


def test_dates_and_decimals_come_back_typed():
    back = _through_the_store(parse_target("每季度末", year=2024))
    assert back.occurrences[0].due == date(2024, 3, 31) and isinstance(back.occurrences[0].start, date)
    assert str(_through_the_store(parse_target("117727.38元", year=2024, level2="成本指标")).value) == "117727.38"


def test_an_imported_row_reads_back_its_reading_and_its_columns_agree(session):
    store_document(session, parse_file(SEED_HRSS))
    rows = session.exec(select(Indicator)).all()
    assert rows
    for row in rows:
        target = row.target
        assert target == parse_target(row.value_text, year=2024, level2=row.level2, name=row.name)
        assert (row.kind, row.comparator, row.target_value, row.unit, row.direction, row.parse_reason) == (
            target.kind, target.comparator, target.value, target.unit, target.direction, target.reason)


def _strict_import(engine) -> dict[int, Target]:
    with session_scope(engine) as s:
        store_document(s, parse_file(SEED_HRSS), strict_month_before=True)
        s.add(User(username="admin", display_name="管理员", password_hash="x", role="admin"))
    with session_scope(engine) as s:
        return {row.id: row.target for row in s.exec(select(Indicator)).all()}


def test_validation_judges_reports_against_the_stored_target_of_a_strict_import(engine):
    stored = _strict_import(engine)
    with session_scope(engine) as s:
        infos = load_infos(s, stored)
        other = s.exec(select(Indicator).where(Indicator.name == "其他补贴发放时间",
                                               Indicator.half == "annual")).one()
    assert {iid: info.target for iid, info in infos.items()} == stored
    assert infos[other.id].target.occurrences[-1].due == date(2024, 11, 30)  # "12月前", read strictly
    assert infos[other.id].occurrence_dues[-1] == date(2024, 11, 30)


def test_the_api_shows_the_stored_target_of_a_strict_import(engine):
    stored = _strict_import(engine)
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == "admin")).one()
        token = create_token(s, user, "test")[1]
    projects = make_client(engine).get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"}).json()
    shown = {i["id"]: i for p in projects for i in p["indicators"]}
    assert set(shown) == set(stored)
    for iid, target in stored.items():
        assert shown[iid]["kind"] == target.kind
        assert (shown[iid]["comparator"], shown[iid]["unit"]) == (target.comparator, target.unit)
        assert shown[iid]["target_value"] == (None if target.value is None else format(target.value, "f"))
        assert shown[iid]["occurrences"] == [o.due.isoformat() for o in target.occurrences]
    assert "2024-11-30" in next(i["occurrences"] for i in shown.values() if i["name"] == "其他补贴发放时间")


# Who may call the grammar: the import (the one writer of a stored target), a 目标调整's request (the other way a
# new 指标值 enters the store, typed by a department) and `kpiwatch parse-target` (text a user types to see how
# it would be read, never a stored 指标值). Everything else reads `Indicator.target` or the version in force.
GRAMMAR_CALLERS = {"monitor/importers/load.py", "monitor/progress/adjustments.py", "monitor/cli/targets.py"}
# Who may decode the stored form: the accessors (an indicator's, an adjustment's), the evaluation's bulk read (raw
# SQL rows, each distinct `target_json` text decoded once) and the one rule for the version in force, which reads
# approved adjustments in bulk. Every other reader goes through those.
STORED_FORM_READERS = {"monitor/store/models/core.py", "monitor/store/models/adjustments.py",
                       "monitor/store/target_versions.py", "monitor/evaluation/load.py"}


def _monitor_modules() -> list[tuple[str, ast.AST]]:
    return [(path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted((ROOT / "monitor").rglob("*.py")) if "migrations" not in path.parts]


def _uses_of(tree: ast.AST, names: set[str]) -> list[int]:
    """Lines that import one of `names` from rules.targets or reach it as an attribute (`Target.from_json`)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "rules.targets":
            lines += [node.lineno for alias in node.names if alias.name in names]
        elif isinstance(node, ast.Attribute) and node.attr in names:
            lines.append(node.lineno)
    return lines


def test_only_the_import_and_the_parse_target_command_call_the_grammar():
    grammar = {"parse_target", "parse_target_cached", "_parse_cached"}
    offences = [f"{name}:{line}" for name, tree in _monitor_modules() if name not in GRAMMAR_CALLERS
                for line in _uses_of(tree, grammar)]
    assert offences == []


def test_only_the_accessor_and_the_bulk_read_decode_the_stored_form():
    decoding = [f"{name}:{node.lineno}" for name, tree in _monitor_modules() if name not in STORED_FORM_READERS
                for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and (node.attr == "target_json" or node.attr == "from_json" and isinstance(node.value, ast.Name)
                     and node.value.id in ("Target", "Occurrence"))]
    assert decoding == []


def test_the_allowed_modules_exist():
    assert all(Path(ROOT, name).is_file() for name in GRAMMAR_CALLERS | STORED_FORM_READERS)
