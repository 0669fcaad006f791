"""Rounds on the seed data, through the one service every channel uses: open, fill, submit, review, close, and
every refusal with its message and nothing changed."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.progress import service as progress
from monitor.progress.entries import read_report
from monitor.reports.produce import produce
from monitor.rounds import service
from monitor.rounds.documents import request_for
from monitor.rounds.service import Comment, RoundError
from monitor.store.models import AuditEvent, Project, Report, ReviewComment, Round, RoundSubmission, RoundTask
from rules.terms import FocusRules
from tests.rounds_world import TODAY, RoundWorld, build_round_world, user

DUE = date(2024, 8, 31)


@pytest.fixture
def world(engine, db_url) -> RoundWorld:
    return build_round_world(engine, db_url)


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(model)).one()
                 for model in (Round, RoundTask, RoundSubmission, ReviewComment, Report, AuditEvent))


def _open(session: Session, **kwargs) -> Round:
    values = {"kind": "monitor", "year": 2024, "through_month": 7, "due": DUE} | kwargs
    round_ = service.open_round(session, user(session, "bureau"), **values)
    session.commit()
    return round_


def _task(session: Session, round_: Round, department_id: int) -> RoundTask:
    return session.exec(select(RoundTask).where(RoundTask.round_id == round_.id,
                                                RoundTask.department_id == department_id)).one()


def test_the_bureau_opens_a_round_with_one_task_per_department_holding_all_its_projects(session, world):
    round_ = _open(session)
    tasks = session.exec(select(RoundTask).where(RoundTask.round_id == round_.id)).all()
    assert sorted(t.department_id for t in tasks) == sorted([world.hr_id, world.union_id])
    hr = _task(session, round_, world.hr_id)
    projects = session.exec(select(Project.id).where(Project.department_id == world.hr_id)).all()
    assert hr.status == "pending" and sorted(hr.projects["ids"]) == sorted(projects)
    event = session.exec(select(AuditEvent).where(AuditEvent.entity == "round")).one()
    assert (event.action, event.actor, event.entity_id) == ("open", "bureau", round_.id)


def test_focus_picks_projects_from_the_stored_states_with_their_reasons(session, world):
    round_ = _open(session, scope="focus", rules=FocusRules(large_funds_yuan=Decimal(10) ** 12))
    hr = _task(session, round_, world.hr_id)
    reasons = hr.projects["reasons"][str(world.hr_project)]
    # a quarter of the budget spent by July (序时 7/12) and a 数量指标 at 30% of its annual target
    assert {"behind_schedule", "red_light"} <= set(reasons)
    assert "large_funds" not in reasons
    # projects without any spending reported are picked for it, and only they carry that reason
    others = {int(k): v for k, v in hr.projects["reasons"].items() if int(k) != world.hr_project}
    assert others and all("no_spending" in v for v in others.values())


def test_focus_on_large_funds_alone_picks_only_projects_at_or_above_the_threshold(session, world):
    threshold = Decimal(2_000_000)
    round_ = _open(session, scope="focus", rules=FocusRules(large_funds_yuan=threshold,
                                                            quantity_deviation_percent=Decimal(10) ** 6))
    picked = {int(k): v for t in session.exec(select(RoundTask).where(RoundTask.round_id == round_.id))
              for k, v in t.projects["reasons"].items()}
    large = set(session.exec(select(Project.id).where(Project.annual_funds >= threshold)).all())
    assert large and {pid for pid, v in picked.items() if "large_funds" in v} == large


def test_a_department_user_opening_a_round_is_refused_and_nothing_is_stored(session, world):
    before = _counts(session)
    for username in ("head_144", "auditor"):
        with pytest.raises(NotAllowed, match="只有财政局管理员可以发起轮次"):
            service.open_round(session, user(session, username), kind="monitor", year=2024, through_month=7, due=DUE)
        session.rollback()
    assert _counts(session) == before


def test_a_second_open_round_of_the_same_kind_and_year_is_refused(session, world):
    _open(session)
    before = _counts(session)
    with pytest.raises(RoundError, match="已有进行中的2024年度年中绩效监控"):
        _open(session)
    session.rollback()
    assert _counts(session) == before


def test_the_clerk_fills_deviation_causes_into_a_correction_the_monitoring_table_shows(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    service.fill_indicator(session, user(session, "clerk_144"), task.id, world.reported, today=TODAY,
                           settings=world.settings, causes={"经费保障": "资金下达较晚"}, likelihood="有可能",
                           measures="加快拨付进度")
    session.commit()
    first, second = sorted(progress.history(session, world.reported), key=lambda r: r.revision)
    assert second.supersedes_id == first.id and second.value == first.value
    sheet = load_workbook(io.BytesIO(produce(session, request_for(round_, task, "xlsx"), world.settings))).worksheets[0]
    texts = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert {"资金下达较晚", "有可能"} <= texts and any("加快拨付进度" in t for t in texts)


def test_filling_an_indicator_nobody_reported_is_refused_naming_it(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    before = _counts(session)
    with pytest.raises(RoundError, match="尚未填报完成情况，请先在项目页填报"):
        service.fill_indicator(session, user(session, "clerk_144"), task.id, world.unreported, today=TODAY,
                               settings=world.settings, likelihood="有可能")
    session.rollback()
    assert _counts(session) == before


def test_only_the_head_submits_and_the_version_keeps_its_excel_bytes_after_later_reports(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    with pytest.raises(NotAllowed, match="只有本部门负责人可以上报"):
        service.submit_task(session, user(session, "clerk_144"), task.id, settings=world.settings)
    session.rollback()
    submitted = service.submit_task(session, user(session, "head_144"), task.id, settings=world.settings)
    session.commit()
    frozen = submitted.xlsx
    assert (submitted.version, session.get(RoundTask, task.id).status) == (1, "submitted")
    assert submitted.snapshot["projects"][0]["project_id"] in task.projects["ids"]
    # a later report changes today's table, never the submitted one
    progress.record_reports(session, user(session, "clerk_144"),
                            [read_report(world.unreported, value="5", as_of="2024-07-31")], channel="portal",
                            today=TODAY)
    session.commit()
    session.expire_all()
    assert produce(session, request_for(round_, task, "xlsx"), world.settings) != frozen
    assert service.version_of(session, task, 1).xlsx == frozen


def test_editing_a_submitted_version_is_refused_and_nothing_changes(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    service.submit_task(session, user(session, "head_144"), task.id, settings=world.settings)
    session.commit()
    before = _counts(session)
    with pytest.raises(RoundError, match="已上报的版本不能修改"):
        service.fill_indicator(session, user(session, "clerk_144"), task.id, world.reported, today=TODAY,
                               settings=world.settings, likelihood="确定能")
    session.rollback()
    with pytest.raises(RoundError, match="已上报的版本不能修改"):
        service.submit_task(session, user(session, "head_144"), task.id, settings=world.settings)
    session.rollback()
    assert _counts(session) == before


def test_another_departments_task_is_not_found_for_reading_filling_or_submitting(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    before = _counts(session)
    with pytest.raises(NotVisible, match="不存在或不属于本部门"):
        service.task_for(session, user(session, "clerk_959"), task.id)
    with pytest.raises(NotVisible, match="不存在或不属于本部门"):
        service.fill_indicator(session, user(session, "clerk_959"), task.id, world.reported, today=TODAY,
                               settings=world.settings, likelihood="确定能")
    with pytest.raises(NotVisible, match="不存在或不属于本部门"):
        service.submit_task(session, user(session, "head_959"), task.id, settings=world.settings)
    session.rollback()
    assert [t.department_id for t in service.visible_tasks(session, user(session, "clerk_959"))] == [world.union_id]
    assert _counts(session) == before


def test_a_returned_task_shows_the_comment_and_resubmission_is_a_new_version_then_approved(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    bureau, head = user(session, "bureau"), user(session, "head_144")
    service.submit_task(session, head, task.id, settings=world.settings)
    service.review_task(session, bureau, task.id, "returned",
                        [Comment("请补充偏差原因", indicator_id=world.reported)])
    session.commit()
    assert session.get(RoundTask, task.id).status == "returned"
    (comment,) = service.open_comments(session, task)
    assert (comment.text, comment.indicator_id, comment.project_id) == ("请补充偏差原因", world.reported,
                                                                         world.hr_project)
    service.fill_indicator(session, user(session, "clerk_144"), task.id, world.reported, today=TODAY,
                           settings=world.settings, causes={"其他": "补充说明"}, likelihood="有可能")
    second = service.submit_task(session, head, task.id, settings=world.settings)
    service.review_task(session, bureau, task.id, "approved")
    session.commit()
    versions = service.versions(session, task.id)
    assert [(v.version, v.verdict) for v in versions] == [(1, "returned"), (2, "approved")]
    assert second.xlsx != versions[0].xlsx
    assert session.get(RoundTask, task.id).status == "approved" and service.open_comments(session, task) == []
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "roundtask")
                           .order_by(AuditEvent.id)).all()
    assert actions == ["submit", "review", "submit", "review"]


def test_returning_without_a_comment_or_reviewing_as_a_department_is_refused(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    service.submit_task(session, user(session, "head_144"), task.id, settings=world.settings)
    session.commit()
    before = _counts(session)
    with pytest.raises(RoundError, match="退回时请至少写一条意见"):
        service.review_task(session, user(session, "bureau"), task.id, "returned", [Comment("  ")])
    with pytest.raises(NotAllowed, match="只有财政局管理员可以审核"):
        service.review_task(session, user(session, "head_144"), task.id, "approved")
    session.rollback()
    assert _counts(session) == before and session.get(RoundTask, task.id).status == "submitted"


def test_submitting_after_the_round_closed_is_refused_and_nothing_changes(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    service.close_round(session, user(session, "bureau"), round_.id)
    session.commit()
    before = _counts(session)
    with pytest.raises(RoundError, match="已关闭，不能再填报或上报"):
        service.submit_task(session, user(session, "head_144"), task.id, settings=world.settings)
    with pytest.raises(NotAllowed, match="只有财政局管理员可以关闭轮次"):
        service.close_round(session, user(session, "head_144"), round_.id)
    session.rollback()
    assert _counts(session) == before and session.get(Round, round_.id).status == "closed"


def test_the_status_counts_tasks_by_state_and_marks_overdue_ones(session, world):
    round_ = _open(session)
    service.submit_task(session, user(session, "head_144"), _task(session, round_, world.hr_id).id,
                        settings=world.settings)
    session.commit()
    status = service.round_status(session, user(session, "bureau"), round_.id, date(2024, 9, 2))
    assert status.title == "2024年度年中绩效监控（1-7月）"
    assert {t.department_id: (t.status, t.overdue) for t in status.tasks} == {
        world.hr_id: ("submitted", False), world.union_id: ("pending", True)}
    assert status.counts["submitted"] == 1 and status.counts["overdue"] == 1
    own = service.round_status(session, user(session, "clerk_959"), round_.id, date(2024, 9, 2))
    assert [t.department_id for t in own.tasks] == [world.union_id]


def test_a_self_evaluation_round_stores_the_explanation_in_the_years_entry(session, world):
    round_ = _open(session, kind="selfeval", through_month=None, due=date(2025, 3, 31))
    assert round_.through_month == 12
    task = _task(session, round_, world.hr_id)
    service.fill_indicator(session, user(session, "clerk_144"), task.id, world.unreported, today=TODAY,
                           settings=world.settings, explanation="受疫情影响进度滞后，已调整计划")
    submitted = service.submit_task(session, user(session, "head_144"), task.id, settings=world.settings)
    session.commit()
    rows = [r for p in submitted.snapshot["projects"] for r in p["rows"] if r["indicator_id"] == world.unreported]
    assert rows and rows[0]["explanation"] == "受疫情影响进度滞后，已调整计划"
    assert "受疫情影响进度滞后，已调整计划" in submitted.html.decode("utf-8")


def test_a_second_fill_keeps_the_causes_it_does_not_mention(session, world):
    round_ = _open(session)
    task = _task(session, round_, world.hr_id)
    clerk = user(session, "clerk_144")
    service.fill_indicator(session, clerk, task.id, world.reported, today=TODAY, settings=world.settings,
                           causes={"人员保障": "经办人员调整"})
    service.fill_indicator(session, clerk, task.id, world.reported, today=TODAY, settings=world.settings,
                           likelihood="完全不可能")
    session.commit()
    latest = max(progress.history(session, world.reported), key=lambda r: r.revision)
    assert (latest.revision, latest.deviation_causes, latest.likelihood) == (
        3, {"人员保障": "经办人员调整"}, "完全不可能")
