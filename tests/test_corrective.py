"""整改 through the service: the bureau issues from a review or a light, the department answers, the bureau accepts
or reopens; every refusal says why in Chinese and changes nothing; every step is audited."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.rounds import corrective, service
from monitor.rounds.corrective import Origin
from monitor.rounds.service import Comment, RoundError
from monitor.store.models import AuditEvent, CorrectiveAction, Project, RoundTask
from tests.rounds_world import TODAY, RoundWorld, build_round_world, user

DUE = date(2024, 9, 30)


@pytest.fixture
def world(engine, db_url) -> RoundWorld:
    return build_round_world(engine, db_url)


def _issue(session: Session, world: RoundWorld, **origin) -> CorrectiveAction:
    action = corrective.issue(session, user(session, "bureau"), Origin(world.hr_project, **origin),
                              requirement="请说明支出进度滞后的原因并加快执行", due=DUE, today=TODAY)
    session.commit()
    return action


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(CorrectiveAction)).one()


def _reviewed_task(session: Session, world: RoundWorld) -> int:
    service.open_round(session, user(session, "bureau"), kind="monitor", year=2024, through_month=7,
                       due=date(2024, 8, 31), department_codes=["144"])
    task_id = session.exec(select(RoundTask.id)).one()
    service.submit_task(session, user(session, "head_144"), task_id, settings=world.settings)
    service.review_task(session, user(session, "bureau"), task_id, "returned", [Comment("支出偏慢")])
    session.commit()
    return task_id


def test_issue_answer_accept_walks_the_item_to_accepted_with_who_and_when(session, world):
    action = _issue(session, world, indicator_id=world.reported)
    assert (action.status, action.department_id, action.round_id) == ("open", world.hr_id, None)
    corrective.answer(session, user(session, "clerk_144"), action.id, "已召开推进会，8月支出率提高到60%")
    session.commit()
    corrective.accept(session, user(session, "bureau"), action.id, today=TODAY, note="整改到位")
    session.commit()
    done = session.get(CorrectiveAction, action.id)
    assert done.status == "accepted" and done.answer.startswith("已召开推进会")
    assert done.answered_by == user(session, "clerk_144").id and done.decided_by == user(session, "bureau").id
    assert done.answered_at is not None and done.decided_at is not None


def test_every_step_of_a_corrective_action_is_in_the_audit_trail(session, world):
    action = _issue(session, world)
    corrective.answer(session, user(session, "head_144"), action.id, "已整改")
    corrective.reopen(session, user(session, "bureau"), action.id, today=TODAY, note="证明材料不足")
    corrective.answer(session, user(session, "clerk_144"), action.id, "已补充材料")
    corrective.accept(session, user(session, "bureau"), action.id, today=TODAY)
    session.commit()
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "corrective",
                                                   AuditEvent.entity_id == action.id)
                          .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["issue", "answer", "reopen", "answer", "accept"]
    assert events[2].note == "证明材料不足" and events[2].after["status"] == "reopened"
    assert all(e.department_id == world.hr_id for e in events)


def test_an_item_issued_from_a_review_names_its_round_and_reviewed_version(session, world):
    task_id = _reviewed_task(session, world)
    action = _issue(session, world, task_id=task_id)
    task = session.get(RoundTask, task_id)
    assert action.round_id == task.round_id and action.submission_id == service.versions(session, task_id)[-1].id


def test_an_item_from_a_task_not_yet_reviewed_is_refused(session, world):
    service.open_round(session, user(session, "bureau"), kind="monitor", year=2024, through_month=7,
                       due=date(2024, 8, 31), department_codes=["144"])
    session.commit()
    task_id = session.exec(select(RoundTask.id)).one()
    with pytest.raises(RoundError, match="还没有审核过的版本"):
        _issue(session, world, task_id=task_id)
    session.rollback()
    assert _count(session) == 0


def test_a_department_issuing_an_item_is_refused_and_nothing_is_stored(session, world):
    with pytest.raises(NotAllowed, match="只有财政局管理员可以发起整改"):
        corrective.issue(session, user(session, "head_144"), Origin(world.hr_project), requirement="自己整改",
                         due=DUE, today=TODAY)
    session.rollback()
    assert _count(session) == 0


def test_an_item_due_in_the_past_or_without_requirement_is_refused(session, world):
    bureau = user(session, "bureau")
    with pytest.raises(RoundError, match="早于今天"):
        corrective.issue(session, bureau, Origin(world.hr_project), requirement="x", due=date(2024, 8, 1),
                         today=TODAY)
    with pytest.raises(RoundError, match="请填写整改要求和建议"):
        corrective.issue(session, bureau, Origin(world.hr_project), requirement="  ", due=DUE, today=TODAY)
    session.rollback()
    assert _count(session) == 0


def test_answering_another_departments_item_is_not_found_and_changes_nothing(session, world):
    action = _issue(session, world)
    with pytest.raises(NotVisible, match="不存在或不属于本部门"):
        corrective.answer(session, user(session, "clerk_959"), action.id, "不是我们的")
    session.rollback()
    assert session.get(CorrectiveAction, action.id).status == "open"


def test_answering_an_accepted_item_is_refused_with_the_reason(session, world):
    action = _issue(session, world)
    corrective.answer(session, user(session, "clerk_144"), action.id, "已整改")
    corrective.accept(session, user(session, "bureau"), action.id, today=TODAY)
    session.commit()
    with pytest.raises(RoundError, match="已验收，不能再答复"):
        corrective.answer(session, user(session, "clerk_144"), action.id, "再补充一句")
    session.rollback()
    assert session.get(CorrectiveAction, action.id).answer == "已整改"


def test_the_bureau_cannot_accept_an_unanswered_item_nor_a_department_accept_its_own(session, world):
    action = _issue(session, world)
    with pytest.raises(RoundError, match="没有待验收的整改结果"):
        corrective.accept(session, user(session, "bureau"), action.id, today=TODAY)
    corrective.answer(session, user(session, "clerk_144"), action.id, "已整改")
    session.commit()
    with pytest.raises(NotAllowed, match="只有财政局管理员可以验收整改"):
        corrective.accept(session, user(session, "head_144"), action.id, today=TODAY)
    session.rollback()
    assert session.get(CorrectiveAction, action.id).status == "answered"


def test_reopening_needs_a_reason_and_may_set_a_new_due_date(session, world):
    action = _issue(session, world)
    corrective.answer(session, user(session, "clerk_144"), action.id, "已整改")
    session.commit()
    with pytest.raises(RoundError, match="请填写重新整改的原因"):
        corrective.reopen(session, user(session, "bureau"), action.id, today=TODAY, note="")
    session.rollback()
    corrective.reopen(session, user(session, "bureau"), action.id, today=TODAY, note="材料不足",
                      due=date(2024, 10, 31))
    session.commit()
    again = session.get(CorrectiveAction, action.id)
    assert (again.status, again.due) == ("reopened", date(2024, 10, 31))


def test_an_indicator_of_another_project_is_refused(session, world):
    other = session.exec(select(Project).where(Project.department_id == world.union_id)).first()
    with pytest.raises(RoundError, match="不属于项目"):
        corrective.issue(session, user(session, "bureau"), Origin(other.id, indicator_id=world.reported),
                         requirement="x", due=DUE, today=TODAY)
    session.rollback()
    assert _count(session) == 0
