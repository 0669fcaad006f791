"""REST API for 整改 under /api/v1/corrective-actions: the same steps as the portal, through
`monitor.rounds.corrective`.

An item of another department is 404, a step the token owner's role may not take is 403, a step the item's state
does not allow is 409 with the reason; nothing is stored when a step is refused.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from monitor.rounds import corrective
from monitor.rounds.corrective import Origin
from monitor.store.models import CorrectiveAction, User
from monitor.store.rows import stored_id
from monitor.web.api_rounds import round_step
from monitor.web.auth import api_user, db_session, today
from rules.terms import CORRECTIVE_STATUSES

router = APIRouter(prefix="/api/v1/corrective-actions", tags=["corrective actions"])


class CorrectiveActionOut(BaseModel):
    id: int
    department_id: int
    project_id: int
    indicator_id: int | None
    round_id: int | None = Field(description="the round of the review it came from; None when issued from a light")
    submission_id: int | None = Field(description="the reviewed version it came from")
    requirement: str = Field(description="整改要求和建议")
    due: date = Field(description="整改期限")
    status: str = Field(description=" / ".join(CORRECTIVE_STATUSES))
    overdue_days: int | None = Field(description="days past the due date while unanswered; None otherwise")
    answer: str | None = Field(description="整改结果和结论")
    issued_at: datetime | None
    answered_at: datetime | None
    decided_at: datetime | None
    decision_note: str | None = Field(description="the bureau's reason when it reopened (or its note on accepting)")


class IssueIn(BaseModel):
    project_id: int
    indicator_id: int | None = None
    task_id: int | None = Field(None, description="the reviewed round task it comes from; omitted: from a light")
    requirement: str = Field(description="整改要求和建议")
    due: date = Field(description="整改期限")


class AnswerIn(BaseModel):
    answer: str = Field(description="整改结果和结论")


class DecisionIn(BaseModel):
    note: str | None = Field(None, description="required to reopen: what is still missing")
    due: date | None = Field(None, description="reopen only: a new 整改期限")


def _out(action: CorrectiveAction, day: date) -> CorrectiveActionOut:
    return CorrectiveActionOut(
        id=stored_id(action), department_id=action.department_id, project_id=action.project_id,
        indicator_id=action.indicator_id, round_id=action.round_id, submission_id=action.submission_id,
        requirement=action.requirement, due=action.due, status=action.status, overdue_days=action.days_overdue(day),
        answer=action.answer, issued_at=action.issued_at, answered_at=action.answered_at,
        decided_at=action.decided_at, decision_note=action.decision_note)


@router.get("", response_model=list[CorrectiveActionOut])
def list_actions(request: Request, status: str | None = Query(None, description=" / ".join(CORRECTIVE_STATUSES)),
                 user: User = Depends(api_user), session: Session = Depends(db_session)
                 ) -> list[CorrectiveActionOut]:
    """The bureau: every item; a department: its own. By due date."""
    actions = corrective.visible_actions(session, user, statuses=(status,) if status else None)
    return [_out(a, today(request)) for a in actions]


@router.post("", response_model=CorrectiveActionOut, status_code=201)
def issue(body: IssueIn, request: Request, user: User = Depends(api_user),
          session: Session = Depends(db_session)) -> CorrectiveActionOut:
    """Issue a 整改 (finance bureau administrators only), from a reviewed task or from a light."""
    with round_step(session):
        action = corrective.issue(session, user, Origin(body.project_id, body.indicator_id, body.task_id),
                                  requirement=body.requirement, due=body.due, today=today(request), channel="api")
    return _out(action, today(request))


@router.get("/{action_id}", response_model=CorrectiveActionOut)
def get_action(action_id: int, request: Request, user: User = Depends(api_user),
               session: Session = Depends(db_session)) -> CorrectiveActionOut:
    with round_step(session):
        action = corrective.action_for(session, user, action_id)
    return _out(action, today(request))


@router.post("/{action_id}/answer", response_model=CorrectiveActionOut)
def answer(action_id: int, body: AnswerIn, request: Request, user: User = Depends(api_user),
           session: Session = Depends(db_session)) -> CorrectiveActionOut:
    """The department's clerk or head answers with its 整改结果和结论."""
    with round_step(session):
        action = corrective.answer(session, user, action_id, body.answer, channel="api")
    return _out(action, today(request))


@router.post("/{action_id}/accept", response_model=CorrectiveActionOut)
def accept(action_id: int, request: Request, body: DecisionIn | None = None, user: User = Depends(api_user),
           session: Session = Depends(db_session)) -> CorrectiveActionOut:
    """The bureau accepts the answer: the item is finished."""
    with round_step(session):
        action = corrective.accept(session, user, action_id, today=today(request),
                                   note=body.note if body else None, channel="api")
    return _out(action, today(request))


@router.post("/{action_id}/reopen", response_model=CorrectiveActionOut)
def reopen(action_id: int, body: DecisionIn, request: Request, user: User = Depends(api_user),
           session: Session = Depends(db_session)) -> CorrectiveActionOut:
    """The bureau sends the answer back with the reason (and optionally a new due date)."""
    with round_step(session):
        action = corrective.reopen(session, user, action_id, today=today(request), note=body.note or "",
                                   due=body.due, channel="api")
    return _out(action, today(request))
