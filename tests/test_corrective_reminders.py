"""整改 and round tasks in the daily run: listed in the department's one digest, escalated ONCE to the bureau and
the department's head when overdue by `[rounds] escalate_after_days`, through the outbox's dedup keys; and the
bureau's round status, at most once a day."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlmodel import Session, col, select

from monitor.config import RoundsConfig
from monitor.notify.compose import plan, run_notify
from monitor.rounds import corrective, service
from monitor.rounds.corrective import Origin
from monitor.store.models import Contact, Department, OutboxMessage
from tests.rounds_world import TODAY, RoundWorld, build_round_world, user

DUE = date(2024, 9, 2)  # a Monday; three days overdue on Thursday 5 September
BUREAU, HEAD, CLERK = "perf@fin.example.org", "head@hr.example.org", "clerk@hr.example.org"


@pytest.fixture
def world(engine, db_url) -> RoundWorld:
    built = build_round_world(engine, db_url)
    built.settings = dataclasses.replace(built.settings, rounds=RoundsConfig(escalate_after_days=3))
    with Session(engine) as s:
        bureau = Department(code="FIN", name="市财政局", is_finance_bureau=True)
        s.add(bureau)
        s.flush()
        s.add_all([Contact(department_id=bureau.id, name="绩效科", email=BUREAU, role="绩效管理员"),
                   Contact(department_id=built.hr_id, name="局长", email=HEAD, role="负责人"),
                   Contact(department_id=built.hr_id, name="经办", email=CLERK, role="经办人")])
        s.commit()
    return built


def _issue(engine, world: RoundWorld) -> int:
    with Session(engine) as s:
        action = corrective.issue(s, user(s, "bureau"), Origin(world.hr_project), requirement="加快支出进度",
                                  due=DUE, today=TODAY)
        s.commit()
        return action.id


def _escalations(engine) -> list[str]:
    with Session(engine) as s:
        return sorted(s.exec(select(OutboxMessage.dedup_key).where(
            col(OutboxMessage.dedup_key).like("round-escalation|%"))).all())


def test_an_open_item_is_listed_in_the_departments_digest_on_its_first_overdue_day(engine, session, world):
    _issue(engine, world)
    found = plan(session, world.settings, date(2024, 9, 3))
    (hr,) = [d for d in found.departments if d.department.id == world.hr_id]
    (item,) = hr.digest.correctives
    assert (item.requirement, item.status, item.days_overdue, item.escalated) == ("加快支出进度", "待整改", 1, False)
    assert "== 整改事项（1项） ==" in hr.rendered.text and "1项整改" in hr.rendered.subject
    assert [m.dedup_key for m in found.messages() if m.kind == "digest" and m.department_id == world.hr_id] == [
        f"digest|{HEAD}|144|2024-09-03", f"digest|{CLERK}|144|2024-09-03"]


def test_an_item_overdue_by_the_configured_days_escalates_once_however_often_notify_runs(engine, world):
    action_id = _issue(engine, world)
    run_notify(engine, world.settings, date(2024, 9, 4))  # two days overdue: not yet
    assert _escalations(engine) == []
    run_notify(engine, world.settings, date(2024, 9, 5))
    once = [f"round-escalation|{HEAD}|corrective|{action_id}|2024-09-02",
            f"round-escalation|{BUREAU}|corrective|{action_id}|2024-09-02"]
    assert _escalations(engine) == sorted(once)
    run_notify(engine, world.settings, date(2024, 9, 5))  # the same day again
    run_notify(engine, world.settings, date(2024, 9, 6))  # and the next days
    run_notify(engine, world.settings, date(2024, 9, 9))
    assert _escalations(engine) == sorted(once)


def test_the_escalation_copy_says_what_is_overdue_and_the_digest_says_it_was_copied(engine, session, world):
    _issue(engine, world)
    found = plan(session, world.settings, date(2024, 9, 5))
    (hr,) = [d for d in found.departments if d.department.id == world.hr_id]
    (copy,) = [m for m in found.round_escalations if m.recipients == [BUREAU]]
    assert "【绩效督办】" in copy.subject and "逾期3天仍未答复整改结果" in copy.text and "加快支出进度" in copy.text
    assert "已逾期，已抄送财政局" in hr.rendered.text


def test_the_heads_copy_greets_the_head_and_says_the_bureau_was_copied(engine, session, world):
    _issue(engine, world)
    found = plan(session, world.settings, date(2024, 9, 5))
    (head_copy,) = [m for m in found.round_escalations if m.recipients == [HEAD]]
    (bureau_copy,) = [m for m in found.round_escalations if m.recipients == [BUREAU]]
    assert head_copy.text.startswith("晋城市人力资源和社会保障局负责人：")
    assert "已抄送" in head_copy.text and "请督促办理" in head_copy.text
    assert not bureau_copy.text.startswith("晋城市人力资源和社会保障局负责人")
    assert "特抄送" in bureau_copy.text


def test_an_answered_item_is_neither_listed_nor_escalated(engine, session, world):
    action_id = _issue(engine, world)
    corrective.answer(session, user(session, "clerk_144"), action_id, "已加快支出")
    session.commit()
    found = plan(session, world.settings, date(2024, 9, 5))
    hr = [d for d in found.departments if d.department.id == world.hr_id]
    assert all(not d.digest.correctives for d in hr) and found.round_escalations == []


def test_a_round_task_overdue_by_the_configured_days_escalates_once(engine, world):
    with Session(engine) as s:
        service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7, due=date(2024, 8, 30),
                           department_codes=["144"])
        s.commit()
    run_notify(engine, world.settings, date(2024, 9, 2))  # three days past 30 August
    run_notify(engine, world.settings, date(2024, 9, 2))
    run_notify(engine, world.settings, date(2024, 9, 3))
    keys = _escalations(engine)
    assert len(keys) == 2 and all("|task|" in k and k.endswith("|2024-08-30") for k in keys)


def test_the_bureau_gets_the_round_status_at_most_once_a_day(engine, world):
    with Session(engine) as s:
        service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7, due=date(2024, 8, 30),
                           department_codes=["144", "959"])
        s.commit()
    run_notify(engine, world.settings, date(2024, 9, 2))  # Monday: the weekly summary's day
    run_notify(engine, world.settings, date(2024, 9, 2))
    with Session(engine) as s:
        status = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "round_status")).all()
    assert [m.recipients for m in status] == [BUREAU]
    assert "待填报2" in status[0].subject and "逾期2" in status[0].subject
