"""Portal pages for target adjustments (目标调整): a department's request from the project page, and the list
where the bureau approves or rejects, through `monitor.progress.adjustments` like the API and the CLI.

A refused step re-renders with its message (HTTP 409 for the request's state or content, 403 for the role, 404
for another department's indicator) and stores nothing; a done step redirects back (303)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.progress import adjustments as service
from monitor.progress.adjustments import AdjustmentRefused
from monitor.store.db import write_turn
from monitor.store.models import User
from monitor.web.auth import current_user, db_session, today, verify_csrf
from monitor.web.refusals import refusal
from monitor.web.templating import render
from rules.terms import ADJUSTMENT_STATUS_NAMES, ADJUSTMENT_STATUSES

router = APIRouter(include_in_schema=False)


def _page(request: Request, session: Session, user: User, *, problem: str | None = None,
          status_code: int = 200) -> Response:
    status = request.query_params.get("status") or None
    views = service.list_adjustments(session, user, status=status if status in ADJUSTMENT_STATUSES else None)
    return render(request, "adjustments.html", {
        "adjustments": views, "status": status, "statuses": ADJUSTMENT_STATUSES,
        "status_names": ADJUSTMENT_STATUS_NAMES, "can_decide": user.role == "admin" and not user.disabled,
        "problem": problem, "saved": request.query_params.get("saved")}, status_code=status_code)


@router.get("/target-adjustments")
def adjustments_page(request: Request, user: User = Depends(current_user),
                     session: Session = Depends(db_session)) -> Response:
    """Every adjustment the user may see, newest first; the bureau's admins decide the proposed ones here."""
    return _page(request, session, user)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text.strip() else None
    except ValueError as exc:
        raise AdjustmentRefused(f"日期应为 YYYY-MM-DD，得到 {text!r} (not a date)") from exc


@router.post("/projects/{project_id}/indicators/{indicator_id}/target-adjustments",
             dependencies=[Depends(verify_csrf)])
def post_request(request: Request, project_id: int, indicator_id: int, value_text: str = Form(""),
                 reason: str = Form(""), effective_on: str = Form(""), user: User = Depends(current_user),
                 session: Session = Depends(db_session)) -> Response:
    """A department asks for a new 指标值 for one of its indicators; back to the indicator on the project page."""
    with write_turn(session):
        try:
            service.request_adjustment(session, user, indicator_id, text=value_text, reason=reason,
                                       effective_on=_day(effective_on), channel="portal", today=today(request))
        except (NotVisible, NotAllowed) as exc:
            session.rollback()
            raise refusal(exc) from exc
        except AdjustmentRefused as exc:
            session.rollback()
            return _page(request, session, user, problem=str(exc), status_code=409)
        session.commit()
    return RedirectResponse(f"/projects/{project_id}?saved=1#ind-{indicator_id}", status_code=303)


def _decide(request: Request, session: Session, user: User, adjustment_id: int, verdict: str, note: str,
            effective_on: str) -> Response:
    with write_turn(session):
        try:
            if verdict == "approved":
                service.approve_adjustment(session, user, adjustment_id, note=note, effective_on=_day(effective_on),
                                           channel="portal")
            else:
                service.reject_adjustment(session, user, adjustment_id, note=note, channel="portal")
        except (NotVisible, NotAllowed) as exc:
            session.rollback()
            raise refusal(exc) from exc
        except AdjustmentRefused as exc:
            session.rollback()
            return _page(request, session, user, problem=str(exc), status_code=409)
        session.commit()
    return RedirectResponse(f"/target-adjustments?saved={verdict}#adj-{adjustment_id}", status_code=303)


@router.post("/target-adjustments/{adjustment_id}/approve", dependencies=[Depends(verify_csrf)])
def post_approve(request: Request, adjustment_id: int, note: str = Form(""), effective_on: str = Form(""),
                 user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    return _decide(request, session, user, adjustment_id, "approved", note, effective_on)


@router.post("/target-adjustments/{adjustment_id}/reject", dependencies=[Depends(verify_csrf)])
def post_reject(request: Request, adjustment_id: int, note: str = Form(""), user: User = Depends(current_user),
                session: Session = Depends(db_session)) -> Response:
    return _decide(request, session, user, adjustment_id, "rejected", note, "")
