"""Department and project pages: what is due, what was reported, and the forms to report it.

The portal is usable on a phone: one column, native date inputs, every form posts back to the page it
came from. Failed submissions re-render the page with the problems next to the indicator (HTTP 422).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypedDict
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from monitor.accounts.permissions import NotAllowed, can_write, is_bureau
from monitor.progress import service
from monitor.progress.adjustments import REQUESTERS, list_adjustments
from monitor.progress.budget import record_adjustment
from monitor.progress.entries import read_adjustment, read_report, read_spending
from monitor.progress.schedule import describe_target
from monitor.progress.validation import ValidationFailed, year_end_notice
from monitor.store.db import write_turn
from monitor.store.models import User
from monitor.store.target_versions import adjusted_targets
from monitor.web.auth import (
    current_user,
    db_session,
    department_for_user,
    indicator_for_user,
    project_for_user,
    require_writer,
    today,
    verify_csrf,
)
from monitor.web.reevaluate import reevaluate
from monitor.web.templating import render
from monitor.web.views import department_rows, project_page
from monitor.weights.service import LEVEL_KEYS, WeightsChange, WeightsRefused, change_weights, project_weights
from rules.calendar import closed_year_end
from rules.terms import DEVIATION_CAUSES, FUND_SOURCES, GRADES, LIKELIHOODS

router = APIRouter(include_in_schema=False)


class ReportForm(TypedDict):
    """A report form's fields as typed, for `read_report` and for showing them again next to its problems."""

    value: str
    as_of: str
    occurrence_due: str
    completed_on: str
    grade: str
    explanation: str
    forecast: str
    deviation_causes: dict[str, str]
    likelihood: str
    note: str
    supersedes_id: str


def default_as_of(today_: date, year: int) -> date:
    """Today during the budget year; after it, 31 December: what is typed then is the year's result."""
    return min(today_, date(year, 12, 31))


@router.get("/departments/{department_id}")
def department_home(request: Request, department_id: int, user: User = Depends(current_user),
                    session: Session = Depends(db_session)) -> Response:
    department = department_for_user(session, user, department_id)
    return render(request, "department.html", {
        "department": department, "rows": department_rows(session, department_id, today(request)),
        "today": today(request)})


def _project_response(request: Request, session: Session, user: User, project_id: int, *,
                      errors: dict | None = None, status_code: int = 200, message: str | None = None) -> Response:
    project = project_for_user(session, user, project_id)
    page = project_page(session, project, today(request))
    weights = project_weights(session, project, request.app.state.settings.scoring)
    return render(request, "project.html", {
        "page": page, "today": today(request), "as_of_default": default_as_of(today(request), page.year),
        "grades": GRADES, "likelihoods": LIKELIHOODS, "causes": DEVIATION_CAUSES, "errors": errors or {},
        "year_end": closed_year_end(page.year, today(request)),
        "message": message or _saved_message(request, page.year), "echo": _echo(request),
        "can_write": can_write(user),
        "weights": weights, "level_keys": LEVEL_KEYS, "can_weigh": user.role == "admin" and not user.disabled,
        "can_adjust": can_write(user) and is_bureau(user), "fund_sources": FUND_SOURCES,
        "target_adjustments": _by_indicator(list_adjustments(session, user, project_id=project_id)),
        "can_request": user.role in REQUESTERS and not user.disabled,
        "in_force": adjusted_targets(session, [v.info.indicator_id for v in page.indicators],
                                     default_as_of(today(request), page.year)),
        "describe": describe_target},
        status_code=status_code)


def _by_indicator(views: list) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for view in views:
        grouped.setdefault(view.indicator_id, []).append(view)
    return grouped


def _saved_message(request: Request, year: int) -> str | None:
    saved = request.query_params.get("saved")
    if saved is None:
        return None
    text = "已保存 (saved)" if saved != "0" else "没有新内容：与已有记录相同 (nothing new: same as on record)"
    if request.query_params.get("year_end") == "1":
        text += f"；{year_end_notice(year)}"
    return text


def _echo(request: Request) -> dict[str, str] | None:
    """What a number typed with separators ("1,200") was read as, to show beside the saved message."""
    typed, read = request.query_params.get("typed"), request.query_params.get("read")
    if not typed or not read:
        return None
    return {"typed": typed, "read": read, "unit": request.query_params.get("unit", "")}


def understood(typed: str, read: Decimal | None, unit: str | None) -> dict[str, str]:
    """The echo's query parameters when what was typed is not written as the number it was read as (thousands
    separators, spaces, full-width commas); nothing when it is."""
    if read is None or typed.strip() == format(read, "f"):
        return {}
    return {"typed": typed.strip()[:40], "read": format(read, "f"), "unit": unit or ""}


def _saved(project_id: int, stored: int, anchor: str, notices: list,
           echo: dict[str, str] | None = None) -> RedirectResponse:
    """Back to the page after a save; `year_end` makes it say the entry was recorded for 31 December, `echo` what
    a number typed with separators was read as."""
    query = {"saved": str(stored), **({"year_end": "1"} if notices else {}), **(echo or {})}
    return RedirectResponse(f"/projects/{project_id}?{urlencode(query)}#{anchor}", status_code=303)


@router.get("/projects/{project_id}")
def project_detail(request: Request, project_id: int, user: User = Depends(current_user),
                   session: Session = Depends(db_session)) -> Response:
    return _project_response(request, session, user, project_id)


@router.post("/projects/{project_id}/indicators/{indicator_id}/reports", dependencies=[Depends(verify_csrf)])
def post_report(
    request: Request, project_id: int, indicator_id: int,
    value: str = Form(""), as_of: str = Form(""), occurrence_due: str = Form(""), completed_on: str = Form(""),
    grade: str = Form(""), explanation: str = Form(""), forecast: str = Form(""), likelihood: str = Form(""),
    note: str = Form(""), supersedes_id: str = Form(""),
    cause_0: str = Form(""), cause_1: str = Form(""), cause_2: str = Form(""), cause_3: str = Form(""),
    cause_4: str = Form(""),
    user: User = Depends(current_user), session: Session = Depends(db_session),
) -> Response:
    project = project_for_user(session, user, project_id)
    require_writer(user)
    causes = dict(zip(DEVIATION_CAUSES, (cause_0, cause_1, cause_2, cause_3, cause_4), strict=True))
    form = ReportForm(value=value, as_of=as_of, occurrence_due=occurrence_due, completed_on=completed_on,
                      grade=grade, explanation=explanation, forecast=forecast, deviation_causes=causes,
                      likelihood=likelihood, note=note, supersedes_id=supersedes_id)
    entry = read_report(indicator_id, **form)
    with write_turn(session):
        indicator, owner = indicator_for_user(session, user, indicator_id)
        if owner.id != project.id:
            raise HTTPException(404, "该项目下没有此指标 (no such indicator in this project)")
        try:
            result = service.record_reports(session, user, [entry], channel="portal", today=today(request))
        except ValidationFailed as exc:
            session.rollback()
            key = f"{indicator_id}:{supersedes_id or 'new'}"
            return _project_response(request, session, user, project_id, status_code=422,
                                     errors={key: {"problems": exc.problems, "form": form},
                                             f"{indicator_id}:history": True})
        session.commit()
    if result.stored:
        reevaluate(request, [project_id])
    echo = understood(value, entry.value, indicator.unit) if result.stored else {}
    return _saved(project_id, len(result.stored), f"ind-{indicator_id}", result.notices, echo)


@router.post("/projects/{project_id}/spending", dependencies=[Depends(verify_csrf)])
def post_spending(request: Request, project_id: int, amount: str = Form(""), as_of: str = Form(""),
                  note: str = Form(""), supersedes_id: str = Form(""), fiscal: str = Form(""), other: str = Form(""),
                  carryover: str = Form(""), user: User = Depends(current_user),
                  session: Session = Depends(db_session)) -> Response:
    project_for_user(session, user, project_id)
    require_writer(user)
    form = dict(amount=amount, as_of=as_of, note=note, supersedes_id=supersedes_id, fiscal=fiscal, other=other,
                carryover=carryover)
    entry = read_spending(project_id, amount, as_of, note, supersedes_id, fiscal=fiscal, other=other,
                          carryover=carryover)
    with write_turn(session):
        try:
            stored, _ = service.record_spending(session, user, [entry], channel="portal", today=today(request))
            notices = service.spending_notices(session, [entry], today(request))
        except ValidationFailed as exc:
            session.rollback()
            return _project_response(request, session, user, project_id, status_code=422,
                                     errors={"spending": {"problems": exc.problems, "form": form}})
        session.commit()
    if stored:
        reevaluate(request, [project_id])
    echo = understood(amount, entry.amount, "元") if stored else {}
    return _saved(project_id, len(stored), "spending", notices, echo)


@router.post("/projects/{project_id}/weights", dependencies=[Depends(verify_csrf)])
async def post_weights(request: Request, project_id: int, user: User = Depends(current_user),
                       session: Session = Depends(db_session)) -> Response:
    """The finance bureau's weights form: every field is posted, so an emptied one goes back to the default."""
    form = await request.form()
    levels: dict[str, object] = {key: str(form.get(f"level_{key}", "")) for key in LEVEL_KEYS}
    indicators: dict[int, object] = {}
    for name, value in form.items():
        if name.startswith("weight_") and name.removeprefix("weight_").isdigit():
            indicators[int(name.removeprefix("weight_"))] = str(value)
    typed = {"levels": levels, "indicators": {str(k): v for k, v in indicators.items()}}
    return await run_in_threadpool(_save_weights, request, session, user, project_id,
                                   WeightsChange(levels=levels, indicators=indicators), typed)


def _save_weights(request: Request, session: Session, user: User, project_id: int, change: WeightsChange,
                  typed: dict) -> Response:
    with write_turn(session):
        project = project_for_user(session, user, project_id)
        try:
            changed = change_weights(session, user, project, change, channel="portal",
                                     rules=request.app.state.settings.scoring)
        except NotAllowed as exc:
            session.rollback()
            raise HTTPException(403, str(exc)) from exc
        except WeightsRefused as exc:
            session.rollback()
            return _project_response(request, session, user, project_id, status_code=422,
                                     errors={"weights": {"problems": exc.problems, "form": typed}})
        session.commit()
    return RedirectResponse(f"/projects/{project_id}?saved={int(changed)}#weights", status_code=303)


@router.post("/projects/{project_id}/budget-adjustments", dependencies=[Depends(verify_csrf)])
def post_adjustment(request: Request, project_id: int, amount: str = Form(""), effective_on: str = Form(""),
                    reason: str = Form(""), source: str = Form(""), supersedes_id: str = Form(""),
                    user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    """The finance bureau's budget adjustment; a department (even for its own project) and an auditor get 403."""
    project_for_user(session, user, project_id)
    form = dict(amount=amount, effective_on=effective_on, reason=reason, source=source, supersedes_id=supersedes_id)
    entry = read_adjustment(project_id, **form)
    with write_turn(session):
        try:
            record_adjustment(session, user, entry, channel="portal", today=today(request))
        except NotAllowed as exc:
            session.rollback()
            raise HTTPException(403, str(exc)) from exc
        except ValidationFailed as exc:
            session.rollback()
            return _project_response(request, session, user, project_id, status_code=422,
                                     errors={"budget": {"problems": exc.problems, "form": form}})
        session.commit()
    return RedirectResponse(f"/projects/{project_id}?saved=1#budget", status_code=303)
