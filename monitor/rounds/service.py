"""Every step of a round, for every channel: open, fill, submit, review, close, and the status by department.

Each step checks who may take it and whether the round and task allow it before it writes anything; a refusal
raises (`NotAllowed` for the role, `NotVisible` for another department's task, `RoundError` for the state) and
leaves the store as it was. Each step is audited in the same transaction; the caller commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, NotVisible, is_bureau, may_see_department, visible_department_ids
from monitor.config import Config
from monitor.progress import service as progress
from monitor.progress.entries import read_report
from monitor.reports.data import ReportError
from monitor.reports.entries import record_entry
from monitor.rounds.documents import freeze, report_kind, task_projects
from monitor.rounds.focus import pick_focus
from monitor.store import audit
from monitor.store.facts import effective_reports
from monitor.store.models import (
    EDITABLE_TASK_STATUSES,
    BudgetYear,
    Department,
    Indicator,
    Project,
    Report,
    ReviewComment,
    Round,
    RoundSubmission,
    RoundTask,
    User,
    task_overdue,
)
from monitor.store.rows import stored_id
from monitor.store.types import now
from rules import calendar as cal
from rules.terms import (
    REVIEW_VERDICT_NAMES,
    REVIEW_VERDICTS,
    ROUND_KINDS,
    ROUND_SCOPES,
    TASK_STATUS_NAMES,
    TASK_STATUSES,
    FocusRules,
)

EDITABLE = EDITABLE_TASK_STATUSES  # a task the department may still fill and submit
SUBMITTERS = ("head",)  # 负责人: only the head of a department submits its tables
FILLERS = ("clerk", "head")
MAX_COMMENT = 2000


class RoundError(ValueError):
    """A step the round's or task's state does not allow (closed round, submitted task, bad input); the message
    says what and why, in Chinese with English after it."""


# ---- reading ------------------------------------------------------------------------------------------------

def round_title(round_: Round, *, english: bool = False) -> str:
    return round_.title(english=english)


def cutoff(round_: Round) -> date:
    """The data cut-off: the end of the round's month (31 December for a self-evaluation)."""
    return cal.month_end(round_.year, round_.through_month)


def get_round(session: Session, round_id: int) -> Round:
    found = session.get(Round, round_id)
    if found is None:
        raise NotVisible(f"轮次 {round_id} 不存在 (no such round)")
    return found


def visible_tasks(session: Session, user: User, round_id: int | None = None) -> list[RoundTask]:
    """The tasks `user` may see (the bureau: all; a department: its own and its units'), newest round first."""
    query = select(RoundTask)
    if round_id is not None:
        query = query.where(RoundTask.round_id == round_id)
    visible = visible_department_ids(session, user)
    if visible is not None:
        query = query.where(col(RoundTask.department_id).in_(visible or {-1}))
    return list(session.exec(query.order_by(col(RoundTask.round_id).desc(), col(RoundTask.id))))


def task_for(session: Session, user: User, task_id: int) -> RoundTask:
    """The task, or `NotVisible` when it does not exist or belongs to another department (existence never leaks)."""
    task = session.get(RoundTask, task_id)
    if task is None or not may_see_department(session, user, task.department_id):
        raise NotVisible(f"任务 {task_id} 不存在或不属于本部门 (no such task)")
    return task


def versions(session: Session, task_id: int) -> list[RoundSubmission]:
    return list(session.exec(select(RoundSubmission).where(RoundSubmission.task_id == task_id)
                             .order_by(col(RoundSubmission.version))))


def version_of(session: Session, task: RoundTask, version: int) -> RoundSubmission:
    found = session.exec(select(RoundSubmission).where(RoundSubmission.task_id == task.id,
                                                       RoundSubmission.version == version)).first()
    if found is None:
        raise NotVisible(f"任务 {task.id} 没有第 {version} 版 (no such version)")
    return found


def comments_of(session: Session, submission_id: int) -> list[ReviewComment]:
    return list(session.exec(select(ReviewComment).where(ReviewComment.submission_id == submission_id)
                             .order_by(col(ReviewComment.id))))


def open_comments(session: Session, task: RoundTask) -> list[ReviewComment]:
    """What the department must address: the comments of the version the bureau returned last, while returned."""
    if task.status != "returned":
        return []
    returned = [v for v in versions(session, stored_id(task)) if v.verdict == "returned"]
    return comments_of(session, stored_id(returned[-1])) if returned else []


@dataclass
class TaskStatus:
    task_id: int
    department_id: int
    department_code: str
    department_name: str
    status: str
    overdue: bool
    projects: int
    versions: int
    last_submitted_at: Any = None

    @property
    def status_name(self) -> str:
        return TASK_STATUS_NAMES[self.status]


@dataclass
class RoundStatus:
    round: Round
    title: str
    tasks: list[TaskStatus] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in TASK_STATUSES}
        for task in self.tasks:
            counts[task.status] += 1
        return counts | {"overdue": sum(1 for t in self.tasks if t.overdue)}


def round_status(session: Session, user: User, round_id: int, today: date) -> RoundStatus:
    """The round with every task `user` may see: status, overdue (past the due date and not submitted), versions."""
    round_ = get_round(session, round_id)
    tasks = visible_tasks(session, user, round_id)
    if not is_bureau(user) and not tasks:
        raise NotVisible(f"轮次 {round_id} 不存在 (no such round)")
    departments = {d.id: d for d in session.exec(select(Department).where(
        col(Department.id).in_({t.department_id for t in tasks} or {-1})))}
    result = RoundStatus(round=round_, title=round_title(round_))
    for task in tasks:
        done = versions(session, stored_id(task))
        department = departments[task.department_id]
        result.tasks.append(TaskStatus(
            task_id=stored_id(task), department_id=task.department_id, department_code=department.code,
            department_name=department.name, status=task.status,
            overdue=task_overdue(round_, task, today),
            projects=len(task_projects(task)), versions=len(done),
            last_submitted_at=done[-1].submitted_at if done else None))
    result.tasks.sort(key=lambda t: t.department_code)
    return result


# ---- opening and closing --------------------------------------------------------------------------------------

def _require_admin(user: User, what: str) -> None:
    if user.role != "admin" or user.disabled:
        raise NotAllowed(f"只有财政局管理员可以{what} (only the finance bureau's administrators may do this)")


def open_round(session: Session, user: User, *, kind: str, year: int, through_month: int | None, due: date,
               department_codes: Sequence[str] | None = None, scope: str = "all",
               rules: FocusRules | None = None, channel: str = "portal") -> Round:
    """Open a round and one task per department that has projects in it; refused for anyone but the bureau's
    admins, for an unknown kind, year or department, and while a round of the same kind and year is open."""
    _require_admin(user, "发起轮次")
    if kind not in ROUND_KINDS:
        raise RoundError(f"未知的轮次类型“{kind}”，应为：{' / '.join(ROUND_KINDS)} (unknown round kind)")
    if scope not in ROUND_SCOPES:
        raise RoundError(f"未知的项目范围“{scope}”，应为：{' / '.join(ROUND_SCOPES)} (unknown scope)")
    month = 12 if kind == "selfeval" else through_month
    if month is None or not 1 <= month <= 12:
        raise RoundError(f"数据截至月份应为 1-12，得到 {month} (the cut-off month must be 1-12)")
    budget_year = session.exec(select(BudgetYear).where(BudgetYear.year == year)).first()
    if budget_year is None:
        raise RoundError(f"没有 {year} 年度的绩效目标，请先导入 (no budget year {year} in the store)")
    if due < cal.month_end(year, month):
        raise RoundError(f"报送截止日期 {due.isoformat()} 早于数据截至日期 {cal.month_end(year, month).isoformat()} "
                         "(the due date is before the data cut-off)")
    already = session.exec(select(Round).where(Round.kind == kind, Round.year == year,
                                               Round.status == "open")).first()
    if already is not None:
        raise RoundError(f"已有进行中的{round_title(already)}（编号 {already.id}），请先关闭 "
                         "(a round of this kind and year is still open)")
    departments = _departments(session, department_codes)
    rules = rules or FocusRules()
    projects = list(session.exec(select(Project).where(
        Project.budget_year_id == budget_year.id,
        col(Project.department_id).in_([stored_id(d) for d in departments] or [-1])).order_by(col(Project.id))))
    reasons: dict[int, list[str]] = (pick_focus(session, projects, rules) if scope == "focus"
                                     else {stored_id(p): [] for p in projects})
    if not reasons:
        raise RoundError("所选部门在该年度没有符合条件的项目，未发起轮次 (no project matches; nothing opened)")
    moment = now()
    round_ = Round(kind=kind, year=year, through_month=month, due=due, status="open", opened_by=user.id,
                   opened_at=moment, selection={
                       "departments": list(department_codes) if department_codes else None, "scope": scope,
                       "large_funds_yuan": str(rules.large_funds_yuan),
                       "quantity_deviation_percent": str(rules.quantity_deviation_percent)})
    session.add(round_)
    session.flush()
    for department in departments:
        ids = [stored_id(p) for p in projects if p.department_id == department.id and stored_id(p) in reasons]
        if not ids:
            continue
        session.add(RoundTask(round_id=stored_id(round_), department_id=stored_id(department), status="pending",
                              projects={"ids": ids, "reasons": {str(i): reasons[i] for i in ids}},
                              updated_at=moment))
    session.flush()
    audit.record(session, actor=user, channel=channel, action="open", entity="round", entity_id=round_.id,
                 after=audit.snapshot(round_) | {"tasks": len(visible_tasks(session, user, stored_id(round_)))})
    return round_


def _departments(session: Session, codes: Sequence[str] | None) -> list[Department]:
    query = select(Department).where(Department.is_finance_bureau == False)  # noqa: E712 - builds SQL, not a truth test
    found = list(session.exec(query.order_by(Department.code)))
    if not codes:
        return found
    by_code = {d.code: d for d in found}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise RoundError(f"没有代码为 {'、'.join(unknown)} 的部门 (unknown department)")
    return [by_code[c] for c in dict.fromkeys(codes)]


def close_round(session: Session, user: User, round_id: int, *, channel: str = "portal") -> Round:
    """Close a round: nothing of it changes afterwards (no fill, submission or review)."""
    _require_admin(user, "关闭轮次")
    round_ = get_round(session, round_id)
    if round_.status == "closed":
        raise RoundError(f"{round_title(round_)}已关闭 (the round is already closed)")
    round_.status, round_.closed_by, round_.closed_at = "closed", user.id, now()
    session.add(round_)
    audit.record(session, actor=user, channel=channel, action="close", entity="round", entity_id=round_.id,
                 before={"status": "open"}, after={"status": "closed"})
    return round_


# ---- the department's steps -------------------------------------------------------------------------------------

def _open_task(session: Session, user: User, task_id: int) -> tuple[RoundTask, Round]:
    """The task for a department step: visible to the user, of an open round, not submitted or approved."""
    task = task_for(session, user, task_id)
    round_ = get_round(session, task.round_id)
    if round_.status != "open":
        raise RoundError(f"{round_title(round_)}已关闭，不能再填报或上报 (the round is closed)")
    if task.status not in EDITABLE:
        raise RoundError(f"任务已{TASK_STATUS_NAMES[task.status]}，已上报的版本不能修改 "
                         "(a submitted version cannot be changed)")
    return task, round_


def _task_indicator(session: Session, task: RoundTask, indicator_id: int) -> Indicator:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None or indicator.project_id not in task_projects(task) or indicator.half != "annual":
        raise NotVisible(f"指标 {indicator_id} 不在本任务中 (the indicator is not part of this task)")
    return indicator


def shown_report(reports: Iterable[Report], until: date) -> Report | None:
    """The report the table shows for an indicator: the latest effective one by its date, up to the cut-off
    (as `monitor.reports.data` orders them)."""
    def effective_on(r: Report) -> date:
        return r.as_of or r.completed_on or (r.created_at.date() if r.created_at else cal.year_end(until.year))
    dated = sorted((r for r in reports if effective_on(r) <= until), key=lambda r: (effective_on(r), stored_id(r)))
    return dated[-1] if dated else None


def fill_indicator(session: Session, user: User, task_id: int, indicator_id: int, *, today: date, settings: Config,
                   causes: dict[str, str] | None = None, likelihood: str | None = None, measures: str | None = None,
                   explanation: str | None = None, score: str | None = None, channel: str = "portal") -> None:
    """What a person writes for one indicator of the task, stored where the tables read it.

    Monitoring: 偏差原因, 完成目标可能性 and 整改措施 (the 备注) go into a correction of the report the table shows,
    so the report keeps one history; an indicator nobody reported yet is refused (report its progress first).
    Self-evaluation: 偏差原因分析及改进措施 (and a band score) go into the year's self-evaluation entry.
    """
    task, round_ = _open_task(session, user, task_id)
    if user.role not in FILLERS:
        raise NotAllowed("只有本部门经办人或负责人可以填报 (only the department's clerk or head may fill)")
    indicator = _task_indicator(session, task, indicator_id)
    if report_kind(round_) == "selfeval":
        try:
            record_entry(session, indicator_id=indicator_id, year=round_.year, rules=settings.scoring,
                         score=score or None, explanation=explanation, user_id=user.id, channel=channel)
        except ReportError as exc:
            raise RoundError(str(exc)) from exc
        return
    latest = shown_report(effective_reports(session, [indicator_id])[indicator_id], cutoff(round_))
    if latest is None:
        raise RoundError(f"指标“{indicator.name}”截至{cutoff(round_).isoformat()}尚未填报完成情况，请先在项目页填报，"
                         "再分析偏差原因 (report the indicator's progress first)")
    entry = read_report(
        indicator_id, value=latest.value, as_of=latest.as_of, occurrence_due=latest.occurrence_due,
        completed_on=latest.completed_on, grade=latest.grade, explanation=latest.explanation,
        forecast=latest.forecast if latest.forecast is not None else latest.forecast_text,
        # what is not given (None) stays as the report has it; an empty form field clears a cause
        deviation_causes=latest.deviation_causes if causes is None else causes,
        likelihood=latest.likelihood if likelihood is None else likelihood,
        note=latest.note if measures is None else measures, supersedes_id=latest.id)
    progress.record_reports(session, user, [entry], channel=channel, today=today)


def submit_task(session: Session, user: User, task_id: int, *, settings: Config, channel: str = "portal"
                ) -> RoundSubmission:
    """The head (负责人) submits: the task's document is produced now and frozen as the next version."""
    task, round_ = _open_task(session, user, task_id)
    if user.role not in SUBMITTERS:
        raise NotAllowed("只有本部门负责人可以上报 (only the department's head may submit)")
    frozen = freeze(session, round_, task, settings)
    number = len(versions(session, task_id)) + 1
    submission = RoundSubmission(task_id=task_id, version=number, submitted_by=user.id, submitted_at=now(),
                                 xlsx=frozen.xlsx, html=frozen.html,
                                 xlsx_sha256=hashlib.sha256(frozen.xlsx).hexdigest(), snapshot=frozen.snapshot)
    before = task.status
    task.status, task.updated_at = "submitted", now()
    session.add_all([submission, task])
    session.flush()
    audit.record(session, actor=user, channel=channel, action="submit", entity="roundtask", entity_id=task.id,
                 department_id=task.department_id, before={"status": before},
                 after={"status": "submitted", "version": number, "xlsx_sha256": submission.xlsx_sha256})
    return submission


# ---- review ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comment:
    """A review comment on a project or an indicator of the task (both None: on the whole submission)."""

    text: str
    project_id: int | None = None
    indicator_id: int | None = None


def review_task(session: Session, user: User, task_id: int, verdict: str, comments: Sequence[Comment] = (),
                note: str | None = None, *, channel: str = "portal") -> RoundSubmission:
    """The bureau's verdict on the submitted version: 通过, or 退回 with at least one comment, each on a project or an
    indicator of the task. A returned task goes back to the department to fix and submit again."""
    _require_admin(user, "审核")
    task = task_for(session, user, task_id)
    round_ = get_round(session, task.round_id)
    if round_.status != "open":
        raise RoundError(f"{round_title(round_)}已关闭，不能再审核 (the round is closed)")
    if verdict not in REVIEW_VERDICTS:
        raise RoundError(f"审核结论应为：{' / '.join(REVIEW_VERDICT_NAMES.values())} (unknown verdict)")
    if task.status != "submitted":
        raise RoundError(f"任务{TASK_STATUS_NAMES[task.status]}，没有待审核的版本 (nothing submitted to review)")
    kept = [c for c in comments if c.text and c.text.strip()]
    if verdict == "returned" and not kept:
        raise RoundError("退回时请至少写一条意见，说明要修改什么 (a return needs a comment)")
    projects = task_projects(task)
    for comment in kept:
        if len(comment.text) > MAX_COMMENT:
            raise RoundError(f"意见过长（{len(comment.text)} 字，最多 {MAX_COMMENT}）(comment too long)")
        if comment.project_id is not None and comment.project_id not in projects:
            raise RoundError(f"项目 {comment.project_id} 不在本任务中 (the project is not part of this task)")
        if comment.indicator_id is not None:
            _task_indicator(session, task, comment.indicator_id)
    submission = versions(session, task_id)[-1]
    moment = now()
    submission.verdict, submission.reviewed_by, submission.reviewed_at = verdict, user.id, moment
    submission.review_note = (note or "").strip() or None
    task.status, task.updated_at = verdict, moment
    session.add_all([submission, task])
    for comment in kept:
        project_id = comment.project_id
        if comment.indicator_id is not None:
            project_id = _task_indicator(session, task, comment.indicator_id).project_id
        session.add(ReviewComment(submission_id=stored_id(submission), project_id=project_id,
                                  indicator_id=comment.indicator_id, text=comment.text.strip(), user_id=user.id,
                                  created_at=moment))
    session.flush()
    audit.record(session, actor=user, channel=channel, action="review", entity="roundtask", entity_id=task.id,
                 department_id=task.department_id, before={"status": "submitted"},
                 after={"status": verdict, "version": submission.version,
                        "comments": [{"project_id": c.project_id, "indicator_id": c.indicator_id, "text": c.text}
                                     for c in kept]},
                 note=submission.review_note)
    return submission


def large_funds(value: str | None) -> Decimal | None:
    """A threshold typed in 万元 (as the bureau thinks of it) in 元, as the store keeps money."""
    if value is None or not str(value).strip():
        return None
    try:
        return Decimal(str(value).strip()) * 10000
    except ArithmeticError as exc:
        raise RoundError(f"大额资金标准“{value}”不是数字（单位：万元）(not a number)") from exc
