"""REST API for target adjustments under /api/v1/target-adjustments, through `monitor.progress.adjustments`.

A department's clerk or head requests; only the finance bureau's admins approve or reject. Another department's
indicator or adjustment is 404, a step the token owner's role may not take is 403, a request or decision its
content or state does not allow is 409 with the reason; nothing is stored when a step is refused.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from monitor.progress import adjustments as service
from monitor.progress.adjustments import AdjustmentRefused, AdjustmentView
from monitor.store.models import User
from monitor.web.auth import api_user, db_session, today
from monitor.web.refusals import api_step

router = APIRouter(prefix="/api/v1/target-adjustments", tags=["target adjustments"])


class AdjustmentOut(BaseModel):
    id: int
    indicator_id: int
    indicator: str = Field(description="三级指标")
    project_id: int
    project: str
    department_code: str
    original_text: str = Field(description="原目标: the target as imported")
    previous_text: str | None = Field(description="the target in force when the adjustment was requested")
    value_text: str = Field(description="调整后目标, verbatim as requested")
    kind: str = Field(description="what the grammar made of it; unparsed when it could not read it")
    flag: str | None = Field(description="what a person should check (unparseable or suspicious)")
    reason: str
    effective_on: date = Field(description="in force from this day once approved")
    status: str = Field(description="proposed / approved / rejected")
    status_name: str = Field(description="待审核 / 已批准 / 已驳回")
    channel: str = Field(description="portal / api / cli, or import for a re-import's proposal")
    requested_by: str | None
    requested_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class AdjustmentIn(BaseModel):
    indicator_id: int
    value_text: str = Field(description="the new 指标值, as the table would print it")
    reason: str
    effective_on: date | None = Field(None, description="default: today")


class DecisionIn(BaseModel):
    note: str | None = Field(None, description="审批意见; required to reject")
    effective_on: date | None = Field(None, description="approve only: another effective day than requested")


def _out(view: AdjustmentView) -> AdjustmentOut:
    return AdjustmentOut(**{name: getattr(view, name) for name in AdjustmentOut.model_fields})


def _step(session: Session) -> AbstractContextManager[None]:
    return api_step(session, (AdjustmentRefused,))


@router.get("", response_model=list[AdjustmentOut])
def list_adjustments(status: str | None = Query(None, description="proposed / approved / rejected"),
                     indicator_id: int | None = None, project_id: int | None = None,
                     user: User = Depends(api_user), session: Session = Depends(db_session)) -> list[AdjustmentOut]:
    """The bureau: every adjustment; a department: its own. Newest first."""
    with _step(session):
        views = service.list_adjustments(session, user, status=status, indicator_id=indicator_id,
                                         project_id=project_id)
    return [_out(v) for v in views]


@router.post("", response_model=AdjustmentOut, status_code=201)
def request_adjustment(body: AdjustmentIn, request: Request, user: User = Depends(api_user),
                       session: Session = Depends(db_session)) -> AdjustmentOut:
    """A department asks for a new 指标值 for one of its indicators (not in force until the bureau approves)."""
    with _step(session):
        row = service.request_adjustment(session, user, body.indicator_id, text=body.value_text, reason=body.reason,
                                         effective_on=body.effective_on, channel="api", today=today(request))
        view = service.view_of(session, row)
    return _out(view)


@router.get("/{adjustment_id}", response_model=AdjustmentOut)
def get_adjustment(adjustment_id: int, user: User = Depends(api_user),
                   session: Session = Depends(db_session)) -> AdjustmentOut:
    with _step(session):
        view = service.view_of(session, service.adjustment_for(session, user, adjustment_id))
    return _out(view)


@router.post("/{adjustment_id}/approve", response_model=AdjustmentOut)
def approve(adjustment_id: int, body: DecisionIn, user: User = Depends(api_user),
            session: Session = Depends(db_session)) -> AdjustmentOut:
    """The bureau approves: the adjusted target is in force from the effective day."""
    with _step(session):
        row = service.approve_adjustment(session, user, adjustment_id, note=body.note,
                                         effective_on=body.effective_on, channel="api")
        view = service.view_of(session, row)
    return _out(view)


@router.post("/{adjustment_id}/reject", response_model=AdjustmentOut)
def reject(adjustment_id: int, body: DecisionIn, user: User = Depends(api_user),
           session: Session = Depends(db_session)) -> AdjustmentOut:
    """The bureau rejects, saying why; the target in force stays."""
    with _step(session):
        row = service.reject_adjustment(session, user, adjustment_id, note=body.note or "", channel="api")
        view = service.view_of(session, row)
    return _out(view)


__all__ = ["router"]
