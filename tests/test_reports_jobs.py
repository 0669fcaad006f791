"""Scheduled drafts: queued once in the outbox for each department and the bureau, on the configured days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from monitor.job_context import JobContext
from monitor.reports.jobs import monitor_draft, selfeval_draft
from monitor.scheduler.jobs import JOBS
from monitor.store.models import Contact, Department
from monitor.store.models.notify import OutboxMessage
from monitor.store.types import SHANGHAI
from tests.test_reports import SETTINGS, seed_house_repair


def _seed(engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        seed_house_repair(s)
        hr = s.exec(select(Department).where(Department.code == "144")).scalars().one()
        bureau = Department(code="FIN", name="晋城市财政局", is_finance_bureau=True)
        s.add(bureau)
        s.flush()
        s.add_all([Contact(department_id=hr.id, name="王经办", email="wang@hr.example", role="经办人"),
                   Contact(department_id=bureau.id, name="李科长", email="li@fin.example", role="绩效管理员")])
        s.commit()


def _context(engine, job, when: datetime) -> JobContext:
    return JobContext(settings=SETTINGS, engine=engine, job=job, scheduled_at=when)


def test_monitoring_draft_goes_out_a_week_before_the_due_date_once(engine):
    _seed(engine)
    assert monitor_draft(_context(engine, "report_monitor_draft", datetime(2024, 8, 23, 8, tzinfo=SHANGHAI))) == {
        "not_due": 1}
    first = monitor_draft(_context(engine, "report_monitor_draft", datetime(2024, 8, 24, 8, tzinfo=SHANGHAI)))
    assert first == {"queued": 2, "already": 0, "no_contact": 0}
    again = monitor_draft(_context(engine, "report_monitor_draft", datetime(2024, 8, 25, 8, tzinfo=SHANGHAI)))
    assert again == {"queued": 0, "already": 2, "no_contact": 0}
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    assert [r.dedup_key for r in rows] == ["report-monitor|144|2024", "report-monitor|ALL|2024"]
    assert "wang@hr.example" in rows[0].recipients and "li@fin.example" in rows[1].recipients
    assert all(r.kind == "report" and "application/pdf" in r.raw and "spreadsheetml" in r.raw for r in rows)


def test_selfeval_draft_in_early_january_of_the_following_year(engine):
    _seed(engine)
    assert selfeval_draft(_context(engine, "report_selfeval_draft", datetime(2025, 1, 4, 9, tzinfo=SHANGHAI))) == {
        "not_due": 1}
    counts = selfeval_draft(_context(engine, "report_selfeval_draft", datetime(2025, 1, 5, 9, tzinfo=SHANGHAI)))
    assert counts["queued"] == 2
    with Session(engine) as s:
        keys = [r.dedup_key for r in s.exec(select(OutboxMessage)).scalars()]
    assert sorted(keys) == ["report-selfeval|144|2024", "report-selfeval|ALL|2024"]


def test_both_jobs_are_registered_with_the_scheduler():
    names = {j.name: j.target for j in JOBS}
    assert names["report_monitor_draft"] == "monitor.reports.jobs:monitor_draft"
    assert names["report_selfeval_draft"] == "monitor.reports.jobs:selfeval_draft"
