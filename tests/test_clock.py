"""One clock: every stored instant reads back as an aware Asia/Shanghai datetime, on both stores and on any host.

SQLite keeps no offset and PostgreSQL answers in its session zone; the `Instant` column type hides both, so a
Shanghai evening stays on its Shanghai day even when the server, the database session and the writer think in
UTC (the 31 July grade that once landed on 1 August).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import DateTime, select, text
from sqlmodel import Session

from monitor.store import audit
from monitor.store.db import make_engine
from monitor.store.models import AuditEvent, BudgetYear, Department, Indicator, Project, Report, metadata
from monitor.store.types import Instant
from rules.calendar import SHANGHAI
from tests.conftest import ROOT

UTC = UTC
EVENING = datetime(2024, 7, 31, 20, 0, tzinfo=SHANGHAI)  # 12:00 UTC, still 31 July in Shanghai
NIGHT = datetime(2024, 8, 1, 1, 0, tzinfo=SHANGHAI)  # 31 July 17:00 UTC, already 1 August in Shanghai

WRITTEN = {
    "aware UTC": EVENING.astimezone(UTC),
    "aware Shanghai": EVENING,
    "naive Shanghai wall clock": EVENING.replace(tzinfo=None),
}


def _is_shanghai(moment: datetime) -> bool:
    return moment.tzinfo is SHANGHAI


@pytest.mark.parametrize("written", list(WRITTEN), ids=list(WRITTEN))
def test_an_instant_reads_back_aware_in_shanghai_however_it_was_written(session, written):
    session.add(AuditEvent(at=WRITTEN[written], actor="system", action="probe", entity="clock"))
    session.commit()
    session.expunge_all()
    (event,) = session.exec(select(AuditEvent)).scalars().all()
    (orm_column,) = session.exec(select(AuditEvent.at)).scalars().all()
    with session.bind.connect() as connection:
        (core,) = connection.execute(select(AuditEvent.__table__.c.at)).scalars().all()
    for read in (event.at, orm_column, core):
        assert _is_shanghai(read), read
        assert read == EVENING and read.hour == 20
    if session.bind.dialect.name == "sqlite":  # the text SQLite holds is the Shanghai wall clock, as it always was
        with session.bind.connect() as connection:
            assert connection.execute(text("SELECT at FROM auditevent")).scalar().startswith("2024-07-31 20:00:00")


def test_a_bound_instant_compares_as_the_same_moment_whatever_its_zone(session):
    """Filters bind through the type too: 'since 12:00 UTC' finds the event of 20:00 Shanghai time."""
    session.add(AuditEvent(at=EVENING, actor="system", action="probe", entity="clock"))
    session.commit()
    assert len(audit.list_events(session, since=EVENING.astimezone(UTC))) == 1
    assert audit.list_events(session, since=(EVENING + timedelta(seconds=1)).astimezone(UTC)) == []


def test_every_instant_column_uses_the_instant_type():
    plain = [f"{table.name}.{column.name}" for table in metadata.sorted_tables for column in table.columns
             if isinstance(column.type, DateTime)]
    assert plain == [], "an instant column without `Instant` reads back naive on SQLite"
    assert any(isinstance(column.type, Instant) for column in AuditEvent.__table__.columns)


def utc_host_days(url: str) -> dict[str, list[str]]:
    """Run in a process on a UTC host (TZ=UTC, PostgreSQL session zone UTC): record a grade and an audit event at
    20:00 Shanghai time on 31 July and at 01:00 on 1 August, written as UTC instants, and say which day each
    reader shows."""
    import time

    from monitor.reports.data import load_year
    from monitor.web.templating import env
    from rules.targets import parse_target

    assert time.timezone == 0 and datetime.now().astimezone().utcoffset() == timedelta(0), "not a UTC host"
    engine = make_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            assert connection.execute(text("SHOW TimeZone")).scalar() == "UTC"
    moments = [EVENING.astimezone(UTC), NIGHT.astimezone(UTC)]
    with Session(engine) as session:
        department, year = Department(code="959", name="晋城市总工会"), BudgetYear(year=2024)
        session.add_all([department, year])
        session.flush()
        project = Project(department_id=department.id, budget_year_id=year.id, import_key="帮扶", name="帮扶送温暖",
                          implementing_unit=department.name)
        session.add(project)
        session.flush()
        for position, moment in enumerate(moments):
            target = parse_target("提升", year=2024, level2="社会效益指标", name=f"满意度{position}")
            indicator = Indicator(project_id=project.id, half="annual", level1="效益指标", level2="社会效益指标",
                                  name=f"满意度{position}", value_text="提升", position=position, kind=target.kind,
                                  target_json=target.to_json())
            session.add(indicator)
            session.flush()
            session.add(Report(indicator_id=indicator.id, channel="portal", grade="达成年度指标",
                               explanation="已完成", created_at=moment))
            audit.record(session, actor="system", channel="portal", action="probe", entity="clock",
                         entity_id=position).at = moment
        session.commit()
    with Session(engine) as session:
        data = load_year(session, 2024)
        reports = session.exec(select(Report).order_by(Report.id)).scalars().all()
        events = sorted(audit.list_events(session, entity="clock"), key=lambda e: e.entity_id)
        csv_rows = audit.export_csv(events).splitlines()[1:]
        days = {
            "monitoring table": [f.effective_on.isoformat() for i in data.projects[0].indicators for f in i.reports],
            "portal": [env.filters["when"](r.created_at)[:10] for r in reports],
            "audit export": [row.split(",")[1][:10] for row in csv_rows],
            "stored report": [r.created_at.date().isoformat() for r in reports],
        }
    engine.dispose()
    return days


def test_on_a_utc_host_an_entry_at_20_00_shanghai_time_keeps_its_shanghai_day(db_url):
    env = dict(os.environ, TZ="UTC", PGTZ="UTC")
    probe = ("import json, sys; from tests.test_clock import utc_host_days; "
             "print(json.dumps(utc_host_days(sys.argv[1])))")
    done = subprocess.run([sys.executable, "-c", probe, db_url], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    days = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [date(2024, 7, 31).isoformat(), date(2024, 8, 1).isoformat()]
    assert days == {reader: expected for reader in days}
    assert set(days) == {"monitoring table", "portal", "audit export", "stored report"}


# Where an instant may still be turned into Shanghai time by hand: the rule itself, the column type, and the two
# places that take a datetime from outside the store (a spreadsheet cell; any value an audit snapshot records).
CONVERTERS = {"rules/calendar.py", "monitor/store/types.py", "monitor/importers/excel.py", "monitor/store/audit.py"}


def test_no_reader_converts_a_stored_instant_by_hand():
    offences = []
    for package in ("monitor", "rules", "notifications"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            source = path.read_text(encoding="utf-8")
            if "in_shanghai" in source:
                offences.append(f"{name} uses in_shanghai (the Instant column type already reads Shanghai time)")
            if re.search(r"\bshanghai_time\(", source) and name not in CONVERTERS:
                offences.append(f"{name} calls shanghai_time on what should already be Shanghai time")
    assert offences == []
