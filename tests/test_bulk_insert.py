"""Rows inserted in bulk (COPY on PostgreSQL) read back exactly as an INSERT of them would have stored them: the
API stores every batch of reports and audit events this way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.store import bulk
from monitor.store.models import AuditEvent, Report
from monitor.store.rows import row_object, table_of
from rules.calendar import SHANGHAI
from tests.test_progress_world import build_world

AWKWARD = "tab\there, line\nbreak, CR\r, back\\slash \\N, quote \" ' , comma; 中文 =SUM(A1)"


def _report(indicator_id: int, report_id: int | None, **values) -> dict:
    row = dict(indicator_id=indicator_id, revision=1, supersedes_id=None, value=None, as_of=None, occurrence_due=None,
               completed_on=None, grade=None, explanation=None, forecast=None, forecast_text=None,
               deviation_causes=None, likelihood=None, user_id=None, channel="api", note=None,
               created_at=datetime(2024, 7, 31, 9, 30, tzinfo=SHANGHAI))
    if report_id is not None:
        row["id"] = report_id
    return {**row, **values}


def _stored(engine, model, **where):
    with Session(engine) as s:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return s.exec(query).one()


def test_text_with_tabs_newlines_and_backslashes_reads_back_verbatim(engine):
    world = build_world(engine)
    with Session(engine) as s:
        bulk.insert_rows(s, table_of(Report), [_report(world.ind["count"], 90_001, note=AWKWARD,
                                                       explanation="", forecast_text=None)])
        s.commit()
    stored = _stored(engine, Report, id=90_001)
    assert (stored.note, stored.explanation, stored.forecast_text) == (AWKWARD, "", None)


def test_decimals_dates_instants_and_json_read_back_exactly(engine):
    world = build_world(engine)
    causes = {"资金": AWKWARD, "nested": {"n": 1, "none": None}}
    utc_moment = datetime(2024, 7, 31, 1, 30, 15, 123456, tzinfo=UTC)
    with Session(engine) as s:
        bulk.insert_rows(s, table_of(Report), [_report(
            world.ind["count"], 90_002, value=Decimal("123456789012345678.123456"), forecast=Decimal("-0.000001"),
            as_of=date(2024, 7, 31), deviation_causes=causes, created_at=utc_moment)])
        s.commit()
    stored = _stored(engine, Report, id=90_002)
    assert stored.value == Decimal("123456789012345678.123456")
    assert stored.forecast == Decimal("-0.000001")
    assert stored.as_of == date(2024, 7, 31)
    assert stored.deviation_causes == causes
    assert stored.created_at == utc_moment
    assert stored.created_at.utcoffset() == timedelta(hours=8)  # read back in Shanghai time, the same instant


def test_rows_without_an_id_take_the_next_from_the_table(engine):
    with Session(engine) as s:
        bulk.insert_rows(s, table_of(AuditEvent), [
            {"at": datetime(2024, 7, 31, 9, 0, tzinfo=SHANGHAI), "actor": "bulk", "actor_user_id": None,
             "channel": "api", "action": "report", "entity": "report", "entity_id": n, "department_id": None,
             "before": None, "after": {"value": str(n)}, "note": None} for n in range(3)])
        s.commit()
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.actor == "bulk").order_by(AuditEvent.id)).all()
    assert [(e.entity_id, e.after) for e in events] == [(n, {"value": str(n)}) for n in range(3)]
    assert len({e.id for e in events}) == 3


def test_a_row_that_breaks_a_constraint_stores_none_of_the_batch(engine):
    world = build_world(engine)
    rows = [_report(world.ind["count"], 90_010), _report(world.ind["count"], 90_011),
            _report(world.ind["count"], 90_010)]  # the same id twice
    with Session(engine) as s, pytest.raises(IntegrityError):
        bulk.insert_rows(s, table_of(Report), rows)
        s.commit()
    with Session(engine) as s:
        assert s.exec(select(Report).where(col(Report.id).in_([90_010, 90_011]))).all() == []


def test_a_row_object_is_the_model_built_from_the_same_values(engine):
    world = build_world(engine)
    values = _report(world.ind["count"], 90_020, value=Decimal("12.5"), deviation_causes={"资金": "晚到"})
    fast, built = row_object(Report, values), Report(**values)
    assert fast == built and fast.model_dump() == built.model_dump()
    assert inspect(fast).transient
    fast.note = "改"
    assert inspect(fast).attrs.note.history.added == ["改"]  # changes are tracked, as on any row object
    with Session(engine) as s:  # and it can be stored like one
        s.add(fast)
        s.commit()
    assert _stored(engine, Report, id=90_020).note == "改"
