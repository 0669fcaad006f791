"""The clerk's home page (待办) and its multi-period completion: one form ticks several open periods of a timed
indicator and records each as completed on one day, through the one report service (all or nothing, audited),
then re-evaluates the project at once so the page shows the light those completions earned."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from monitor.accounts.permissions import can_write, is_bureau
from monitor.progress import service
from monitor.progress.entries import read_report
from monitor.progress.validation import Problem, ValidationFailed
from monitor.store.db import write_turn
from monitor.store.models import User
from monitor.web.auth import (
    current_user,
    db_session,
    indicator_for_user,
    require_writer,
    today,
    verify_csrf,
    visible_department_ids,
)
from monitor.web.reevaluate import reevaluate
from monitor.web.templating import render
from monitor.web.todo import todo
from rules.terms import SCHEDULED_KINDS

router = APIRouter(include_in_schema=False)

NONE_CHOSEN = "请至少勾选一期 (choose at least one period)"
NOT_TIMED = "该指标没有期次，请在项目页填报 (this indicator has no periods; report it on the project page)"


def _page(request: Request, session: Session, user: User, *, problems: list[str] | None = None,
          failed: int | None = None, status_code: int = 200) -> Response:
    visible = visible_department_ids(session, user)
    # The finance bureau has the overview, not a to-do list: a refused completion of theirs shows its problems only.
    departments = visible if visible is not None else set()
    done = request.query_params.get("done")
    return render(request, "todo.html", {
        "todo": todo(session, departments, today(request)), "can_write": can_write(user),
        "problems": problems or [], "failed": failed, "done": int(done) if done and done.isdigit() else None},
        status_code=status_code)


@router.get("/todo")
def todo_page(request: Request, user: User = Depends(current_user),
              session: Session = Depends(db_session)) -> Response:
    if is_bureau(user):
        return RedirectResponse("/admin", status_code=303)
    return _page(request, session, user)


@router.post("/todo/indicators/{indicator_id}/complete", dependencies=[Depends(verify_csrf)])
async def complete_periods(request: Request, indicator_id: int, user: User = Depends(current_user),
                           session: Session = Depends(db_session)) -> Response:
    form = await request.form()
    periods = [str(v) for v in form.getlist("occurrence")]
    completed_on = str(form.get("completed_on", ""))
    note = str(form.get("note", ""))
    return await run_in_threadpool(_complete, request, session, user, indicator_id, periods, completed_on, note)


def _complete(request: Request, session: Session, user: User, indicator_id: int, periods: list[str],
              completed_on: str, note: str) -> Response:
    require_writer(user)
    with write_turn(session):
        indicator, project = indicator_for_user(session, user, indicator_id)
        refused = _refusal(indicator.kind, periods)
        if refused:
            session.rollback()
            return _page(request, session, user, problems=[refused], failed=indicator_id, status_code=422)
        entries = [read_report(indicator_id, occurrence_due=period, completed_on=completed_on, note=note)
                   for period in dict.fromkeys(periods)]
        try:
            result = service.record_reports(session, user, entries, channel="portal", today=today(request))
        except ValidationFailed as exc:
            session.rollback()
            return _page(request, session, user, problems=_described(exc.problems, list(dict.fromkeys(periods))),
                         failed=indicator_id, status_code=422)
        session.commit()
    if result.stored:
        reevaluate(request, [project.id] if project.id is not None else [])
    return RedirectResponse(f"/todo?done={len(result.stored)}", status_code=303)


def _refusal(kind: str | None, periods: list[str]) -> str | None:
    if kind not in SCHEDULED_KINDS:
        return NOT_TIMED
    if not periods:
        return NONE_CHOSEN
    return None


def _described(problems: list[Problem], periods: list[str]) -> list[str]:
    """Each problem with the period it is about, so a refused batch says which tick was wrong."""
    lines = []
    for p in problems:
        period = periods[p.index] if p.index is not None and 0 <= p.index < len(periods) else None
        lines.append(f"{period}：{p.message}" if period else p.message)
    return list(dict.fromkeys(lines))

