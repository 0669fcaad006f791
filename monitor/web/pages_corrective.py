"""Portal pages for 整改: the bureau issues one (from a reviewed task or from a light on a project or indicator),
lists them all and accepts or reopens an answer; a department lists its own and answers. Phone-sized, CSRF on
every form; every step is `monitor.rounds.corrective`, and a refusal comes back to the page as its message.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, NotVisible, is_bureau
from monitor.rounds import corrective, service
from monitor.rounds.corrective import Origin
from monitor.rounds.service import RoundError
from monitor.rounds.summary import status_workbook
from monitor.store.models import Department, Indicator, Project, User
from monitor.web.auth import current_user, db_session, today, verify_csrf
from monitor.web.refusals import back, flash, refusal
from monitor.web.templating import render
from rules.terms import CORRECTIVE_STATUS_NAMES

router = APIRouter(include_in_schema=False)
HERE = "/corrective"


def _number(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _day(value: str | None, what: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise RoundError(f"请填写{what}（YYYY-MM-DD）({what} is required)") from exc


@router.get("/corrective")
def corrective_page(request: Request, user: User = Depends(current_user), session: Session = Depends(db_session)
                    ) -> Response:
    """Every item the user may see, with the forms their role may use on each; `?project=` (and `indicator`,
    `task`) opens the bureau's issue form for that light or review."""
    actions = corrective.visible_actions(session, user)
    projects = {p.id: p for p in session.exec(select(Project).where(
        col(Project.id).in_({a.project_id for a in actions} | {_number(request.query_params.get("project")) or -1})))}
    indicator_ids = {a.indicator_id for a in actions if a.indicator_id} | {
        _number(request.query_params.get("indicator")) or -1}
    indicators = {i.id: i for i in session.exec(select(Indicator).where(col(Indicator.id).in_(indicator_ids)))}
    issue: dict[str, Any] | None = None
    project_id = _number(request.query_params.get("project"))
    if is_bureau(user) and user.role == "admin" and project_id in projects:
        issue = {"project": projects[project_id], "indicator": indicators.get(_number(
            request.query_params.get("indicator")) or -1), "task_id": _number(request.query_params.get("task"))}
    return render(request, "corrective.html", {
        "actions": actions, "projects": projects, "indicators": indicators, "issue": issue,
        "departments": {d.id: d for d in session.exec(select(Department))}, "today": today(request),
        "status_names": CORRECTIVE_STATUS_NAMES, "admin": user.role == "admin",
        "may_answer": user.role in corrective.FILLERS, "answerable": corrective.ANSWERABLE, **flash(request)})


@router.post("/corrective", dependencies=[Depends(verify_csrf)])
async def issue_form(request: Request, user: User = Depends(current_user),
                     session: Session = Depends(db_session)) -> Response:
    form = await request.form()
    value = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        project_id = _number(value.get("project_id"))
        if project_id is None:
            raise RoundError("缺少项目编号 (project_id is required)")
        action = corrective.issue(session, user, Origin(project_id, _number(value.get("indicator_id")),
                                                        _number(value.get("task_id"))),
                                  requirement=value.get("requirement", ""), due=_day(value.get("due"), "整改期限"),
                                  today=today(request), channel="portal")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except RoundError as exc:
        session.rollback()
        return back(HERE, problem=str(exc))
    return back(HERE, saved="已发起整改", anchor=f"#action-{action.id}")


@router.post("/corrective/{action_id}/{step}", dependencies=[Depends(verify_csrf)])
async def step_form(request: Request, action_id: int, step: str, user: User = Depends(current_user),
                    session: Session = Depends(db_session)) -> Response:
    """answer (the department), accept or reopen (the bureau)."""
    form = await request.form()
    value = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    anchor = f"#action-{action_id}"
    try:
        if step == "answer":
            corrective.answer(session, user, action_id, value.get("answer", ""), channel="portal")
        elif step == "accept":
            corrective.accept(session, user, action_id, today=today(request), note=value.get("note"),
                              channel="portal")
        elif step == "reopen":
            due = _day(value["due"], "新的整改期限") if value.get("due", "").strip() else None
            corrective.reopen(session, user, action_id, today=today(request), note=value.get("note", ""), due=due,
                              channel="portal")
        else:
            raise NotVisible(f"没有这一步 {step} (no such step)")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except RoundError as exc:
        session.rollback()
        return back(HERE, problem=str(exc), anchor=anchor)
    return back(HERE, saved="已保存", anchor=anchor)


@router.get("/rounds/{round_id}/status.xlsx")
def status_export(request: Request, round_id: int, user: User = Depends(current_user),
                  session: Session = Depends(db_session)) -> Response:
    """The round's status by department as Excel (the bureau: every department; a department: its own)."""
    try:
        status = service.round_status(session, user, round_id, today(request))
    except NotVisible as exc:
        raise refusal(exc) from exc
    return Response(status_workbook(status),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=round-{round_id}-status.xlsx"})
