"""Round tasks in the department's one daily digest: on the reminder days before the due date, on the first
overdue day, and after the bureau returned the task; never a second message."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from monitor.notify.compose import plan
from monitor.rounds import service
from monitor.rounds.service import Comment
from monitor.store.models import Contact, RoundTask
from rules.calendar import SHANGHAI
from tests.rounds_world import RoundWorld, build_round_world, user

DUE = date(2024, 8, 29)  # a Thursday: 7 days before is a Thursday, the first overdue day a Friday


@pytest.fixture
def world(engine, db_url) -> RoundWorld:
    built = build_round_world(engine, db_url)
    with Session(engine) as s:
        s.add(Contact(department_id=built.hr_id, name="张三", email="zhangsan@example.org", role="负责人"))
        service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7, due=DUE,
                           department_codes=["144"])
        s.commit()
    return built


def _hr_digest(session: Session, world: RoundWorld, day: date):
    found = plan(session, world.settings, day)
    plans = [d for d in found.departments if d.department.id == world.hr_id]
    return found, (plans[0] if plans else None)


def _task_id(session: Session) -> int:
    return session.exec(select(RoundTask.id)).one()


def test_a_task_due_in_seven_days_is_listed_in_the_departments_one_digest(session, world):
    found, hr = _hr_digest(session, world, date(2024, 8, 22))
    assert hr is not None
    (task,) = hr.digest.tasks
    assert (task.round, task.status, task.days_left) == ("2024年度年中绩效监控（1-7月）", "待填报", 7)
    assert "== 填报任务（1项） ==" in hr.rendered.text and f"/rounds/tasks/{_task_id(session)}" in hr.rendered.text
    assert "1项填报任务" in hr.rendered.subject
    assert [m.dedup_key for m in found.messages() if m.kind == "digest" and m.department_id == world.hr_id] == [
        "digest|zhangsan@example.org|144|2024-08-22"]


def test_a_task_is_silent_between_reminder_days_and_listed_on_its_first_overdue_day(session, world):
    _found, quiet = _hr_digest(session, world, date(2024, 8, 23))
    assert quiet is None or quiet.digest.tasks == []
    _found, late = _hr_digest(session, world, date(2024, 8, 30))
    assert late is not None
    (task,) = late.digest.tasks
    assert task.days_overdue == 1 and "已逾期1天" in late.rendered.text


def test_a_submitted_task_is_not_listed_and_a_returned_one_is_with_what_to_do(session, world):
    task_id = _task_id(session)
    service.submit_task(session, user(session, "head_144"), task_id, settings=world.settings)
    session.commit()
    _found, submitted = _hr_digest(session, world, date(2024, 8, 22))
    assert submitted is None or submitted.digest.tasks == []
    service.review_task(session, user(session, "bureau"), task_id, "returned", [Comment("请补充偏差原因")])
    task = session.get(RoundTask, task_id)
    task.updated_at = datetime(2024, 8, 20, 15, 0, tzinfo=SHANGHAI)  # the return, on the round's own calendar
    session.add(task)
    session.commit()
    _found, returned = _hr_digest(session, world, date(2024, 8, 21))
    assert returned is not None
    (item,) = returned.digest.tasks
    assert item.returned and item.status == "已退回"
    assert "财政局已退回，请按审核意见修改后重新上报" in returned.rendered.text
