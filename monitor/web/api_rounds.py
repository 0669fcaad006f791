"""REST API for rounds under /api/v1/rounds: the same steps as the portal, through `monitor.rounds.service`.

A task of another department is 404, a step the token owner's role may not take is 403, a step the round or task
state does not allow is 409 with the reason; nothing is stored when a step is refused.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from monitor.accounts.permissions import is_bureau
from monitor.progress.validation import ValidationFailed
from monitor.rounds import service
from monitor.rounds.documents import task_projects
from monitor.rounds.service import Comment, RoundError, RoundStatus
from monitor.store.models import Round, RoundSubmission, RoundTask, User
from monitor.store.rows import stored_id
from monitor.web.auth import api_user, db_session, today
from monitor.web.refusals import api_step
from rules.terms import FocusRules

router = APIRouter(prefix="/api/v1/rounds", tags=["rounds"])


class RoundOut(BaseModel):
    id: int
    kind: str = Field(description="monitor / second_monitor / selfeval")
    title: str
    year: int
    through_month: int = Field(description="data cut-off: the end of this month")
    due: date = Field(description="报送截止日期")
    status: str = Field(description="open / closed")


class TaskStatusOut(BaseModel):
    task_id: int
    department_code: str
    department_name: str
    status: str = Field(description="pending / submitted / returned / approved")
    overdue: bool
    projects: int
    versions: int


class RoundStatusOut(RoundOut):
    counts: dict[str, int]
    tasks: list[TaskStatusOut]


class CommentOut(BaseModel):
    project_id: int | None
    indicator_id: int | None
    text: str


class VersionOut(BaseModel):
    version: int
    submitted_at: datetime | None
    xlsx_sha256: str
    verdict: str | None = Field(description="approved / returned, None while awaiting review")
    comments: list[CommentOut]


class TaskOut(BaseModel):
    id: int
    round_id: int
    department_id: int
    status: str
    project_ids: list[int]
    reasons: dict[str, list[str]] = Field(description="per project id: why the 重点监控 rules picked it")
    versions: list[VersionOut]


class RoundIn(BaseModel):
    kind: str = Field(description="monitor / second_monitor / selfeval")
    year: int
    through_month: int | None = Field(None, description="1-12; a self-evaluation is always through December")
    due: date
    departments: list[str] | None = Field(None, description="department codes; omitted: every department")
    scope: str = Field("all", description="all / focus (重点监控 picked by rules)")
    large_funds_yuan: Decimal | None = Field(None, description="focus: large funds from this many 元")
    quantity_deviation_percent: Decimal | None = Field(None, description="focus: a 数量指标 off by more than this %")


class FillIn(BaseModel):
    indicator_id: int
    deviation_causes: dict[str, str] | None = Field(
        None, description="经费保障 / 制度保障 / 人员保障 / 硬件条件保障 / 其他 → text")
    likelihood: str | None = Field(None, description="确定能 / 有可能 / 完全不可能")
    measures: str | None = Field(None, description="整改措施 (monitoring rounds)")
    explanation: str | None = Field(None, description="偏差原因分析及改进措施 (self-evaluation rounds)")
    score: Decimal | None = Field(None, description="self-evaluation: a qualitative indicator's score inside its band")


class CommentIn(BaseModel):
    text: str
    project_id: int | None = None
    indicator_id: int | None = None


class ReviewIn(BaseModel):
    verdict: str = Field(description="approved / returned")
    comments: list[CommentIn] = Field(default_factory=list, description="a return needs at least one")
    note: str | None = None


def round_step(session: Session) -> AbstractContextManager[None]:
    """A step of a round or a 整改, answered as monitor.web.refusals says."""
    return api_step(session, (RoundError, ValidationFailed))


def _round_out(round_: Round) -> RoundOut:
    return RoundOut(id=stored_id(round_), kind=round_.kind, title=service.round_title(round_), year=round_.year,
                    through_month=round_.through_month, due=round_.due, status=round_.status)


def _status_out(status: RoundStatus) -> RoundStatusOut:
    return RoundStatusOut(**_round_out(status.round).model_dump(), counts=status.counts, tasks=[
        TaskStatusOut(task_id=t.task_id, department_code=t.department_code, department_name=t.department_name,
                      status=t.status, overdue=t.overdue, projects=t.projects, versions=t.versions)
        for t in status.tasks])


def _task_out(session: Session, task: RoundTask) -> TaskOut:
    def version(v: RoundSubmission) -> VersionOut:
        return VersionOut(version=v.version, submitted_at=v.submitted_at, xlsx_sha256=v.xlsx_sha256,
                          verdict=v.verdict, comments=[
                              CommentOut(project_id=c.project_id, indicator_id=c.indicator_id, text=c.text)
                              for c in service.comments_of(session, stored_id(v))])
    return TaskOut(id=stored_id(task), round_id=task.round_id, department_id=task.department_id, status=task.status,
                   project_ids=task_projects(task), reasons=(task.projects or {}).get("reasons", {}),
                   versions=[version(v) for v in service.versions(session, stored_id(task))])


@router.get("", response_model=list[RoundOut])
def list_rounds(user: User = Depends(api_user), session: Session = Depends(db_session)) -> list[RoundOut]:
    """The bureau: every round; a department: the rounds it has a task in. Newest first."""
    query = select(Round).order_by(col(Round.id).desc())
    if not is_bureau(user):
        query = query.where(col(Round.id).in_({t.round_id for t in service.visible_tasks(session, user)} or {-1}))
    return [_round_out(r) for r in session.exec(query)]


@router.post("", response_model=RoundStatusOut, status_code=201)
def open_round(body: RoundIn, request: Request, user: User = Depends(api_user),
               session: Session = Depends(db_session)) -> RoundStatusOut:
    """Open a round (finance bureau administrators only): one task per department with projects in it."""
    defaults = FocusRules()
    rules = FocusRules(large_funds_yuan=body.large_funds_yuan or defaults.large_funds_yuan,
                       quantity_deviation_percent=body.quantity_deviation_percent
                       or defaults.quantity_deviation_percent)
    with round_step(session):
        round_ = service.open_round(session, user, kind=body.kind, year=body.year, through_month=body.through_month,
                                    due=body.due, department_codes=body.departments, scope=body.scope, rules=rules,
                                    channel="api")
    return _status_out(service.round_status(session, user, stored_id(round_), today(request)))


@router.get("/{round_id}", response_model=RoundStatusOut)
def round_status(round_id: int, request: Request, user: User = Depends(api_user),
                 session: Session = Depends(db_session)) -> RoundStatusOut:
    """The round's status by department (a department sees only its own task)."""
    with round_step(session):
        status = service.round_status(session, user, round_id, today(request))
    return _status_out(status)


@router.post("/{round_id}/close", response_model=RoundOut)
def close_round(round_id: int, user: User = Depends(api_user), session: Session = Depends(db_session)) -> RoundOut:
    with round_step(session):
        round_ = service.close_round(session, user, round_id, channel="api")
    return _round_out(round_)


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(task_id: int, user: User = Depends(api_user), session: Session = Depends(db_session)) -> TaskOut:
    with round_step(session):
        task = service.task_for(session, user, task_id)
    return _task_out(session, task)


@router.post("/tasks/{task_id}/fill", response_model=TaskOut)
def fill(task_id: int, body: FillIn, request: Request, user: User = Depends(api_user),
         session: Session = Depends(db_session)) -> TaskOut:
    """What a person writes for one indicator: 偏差原因, 完成目标可能性, 整改措施 (monitoring) or the 自评 text."""
    with round_step(session):
        service.fill_indicator(session, user, task_id, body.indicator_id, today=today(request),
                               settings=request.app.state.settings, causes=body.deviation_causes,
                               likelihood=body.likelihood, measures=body.measures, explanation=body.explanation,
                               score=None if body.score is None else str(body.score), channel="api")
    return _task_out(session, service.task_for(session, user, task_id))


@router.post("/tasks/{task_id}/submit", response_model=TaskOut)
def submit(task_id: int, request: Request, user: User = Depends(api_user),
           session: Session = Depends(db_session)) -> TaskOut:
    """The head (负责人) submits: the document is frozen as the next version."""
    with round_step(session):
        service.submit_task(session, user, task_id, settings=request.app.state.settings, channel="api")
    return _task_out(session, service.task_for(session, user, task_id))


@router.post("/tasks/{task_id}/review", response_model=TaskOut)
def review(task_id: int, body: ReviewIn, user: User = Depends(api_user),
           session: Session = Depends(db_session)) -> TaskOut:
    """The bureau's verdict on the submitted version: approved, or returned with comments."""
    with round_step(session):
        service.review_task(session, user, task_id, body.verdict,
                            [Comment(c.text, project_id=c.project_id, indicator_id=c.indicator_id)
                             for c in body.comments], body.note, channel="api")
    return _task_out(session, service.task_for(session, user, task_id))
