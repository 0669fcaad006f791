"""Portal pages for rounds: the bureau opens a round, follows its status by department, reviews each submission
(通过 / 退回 with comments) and closes it; a department sees its tasks, fills what a person must write, and its
head submits. Every step is `monitor.rounds.service`; a refusal comes back to the page as its message.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, NotVisible, is_bureau
from monitor.progress.validation import ValidationFailed
from monitor.reports.produce import MEDIA_TYPES, context
from monitor.rounds import corrective, service
from monitor.rounds.documents import report_kind, request_for
from monitor.rounds.service import Comment, RoundError
from monitor.store.models import BudgetYear, Department, Project, Round, User
from monitor.store.rows import stored_id
from monitor.web.auth import current_user, db_session, today, verify_csrf
from monitor.web.i18n import resolve_lang
from monitor.web.refusals import back, flash, refusal
from monitor.web.templating import render
from rules.terms import (
    CORRECTIVE_STATUS_NAMES,
    DEVIATION_CAUSES,
    FOCUS_REASONS,
    LIKELIHOODS,
    REVIEW_VERDICT_NAMES,
    ROUND_KIND_NAMES,
    ROUND_KINDS,
    ROUND_STATUS_NAMES,
    TASK_STATUS_NAMES,
    FocusRules,
)

router = APIRouter(include_in_schema=False)


def _names() -> dict[str, Any]:
    return {"kind_names": ROUND_KIND_NAMES, "round_status_names": ROUND_STATUS_NAMES,
            "task_status_names": TASK_STATUS_NAMES, "verdict_names": REVIEW_VERDICT_NAMES,
            "focus_reasons": FOCUS_REASONS}


def _english(request: Request) -> bool:
    return resolve_lang(request) == "en"


@router.get("/rounds")
def rounds_page(request: Request, user: User = Depends(current_user), session: Session = Depends(db_session)
                ) -> Response:
    tasks = service.visible_tasks(session, user)
    round_ids = {t.round_id for t in tasks}
    query = select(Round).order_by(col(Round.id).desc())
    if not is_bureau(user):
        query = query.where(col(Round.id).in_(round_ids or {-1}))
    rounds = list(session.exec(query))
    departments = {d.id: d for d in session.exec(select(Department))}
    years = [y.year for y in session.exec(select(BudgetYear).order_by(col(BudgetYear.year).desc()))]
    return render(request, "rounds.html", {
        "rounds": rounds, "titles": {r.id: service.round_title(r, english=_english(request)) for r in rounds},
        "tasks": tasks,
        "departments": departments, "years": years, "kinds": ROUND_KINDS, "bureau": is_bureau(user),
        "today": today(request), **_names(), **flash(request)})


@router.post("/rounds", dependencies=[Depends(verify_csrf)])
async def open_round_form(request: Request, user: User = Depends(current_user),
                          session: Session = Depends(db_session)) -> Response:
    form = await request.form()
    value = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    try:
        rules = FocusRules()
        threshold = service.large_funds(value.get("large_funds_wan"))
        if threshold is not None:
            rules = FocusRules(large_funds_yuan=threshold)
        try:
            year = int(value.get("year", ""))
            month = int(value["through_month"]) if value.get("through_month") else None
            due = date.fromisoformat(value.get("due", ""))
        except ValueError as exc:
            raise RoundError("请填写年度、数据截至月份和报送截止日期（YYYY-MM-DD）(year, cut-off month and due date "
                             "are required)") from exc
        codes = [c for c in value.get("departments", "").replace("，", ",").split(",") if c.strip()]
        round_ = service.open_round(session, user, kind=value.get("kind", ""), year=year, through_month=month,
                                    due=due, department_codes=[c.strip() for c in codes] or None,
                                    scope=value.get("scope", "all"), rules=rules, channel="portal")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except RoundError as exc:
        session.rollback()
        return back("/rounds", problem=str(exc))
    return back(f"/rounds/{round_.id}", saved="已发起")


@router.get("/rounds/{round_id}")
def round_page(request: Request, round_id: int, user: User = Depends(current_user),
               session: Session = Depends(db_session)) -> Response:
    try:
        status = service.round_status(session, user, round_id, today(request))
    except NotVisible as exc:
        raise refusal(exc) from exc
    return render(request, "round.html", {"status": status, "bureau": is_bureau(user), **_names(),
                                          "title": service.round_title(status.round, english=_english(request)),
                                          **flash(request)})


@router.post("/rounds/{round_id}/close", dependencies=[Depends(verify_csrf)])
def close_round_form(round_id: int, user: User = Depends(current_user),
                     session: Session = Depends(db_session)) -> Response:
    try:
        service.close_round(session, user, round_id, channel="portal")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except RoundError as exc:
        session.rollback()
        return back(f"/rounds/{round_id}", problem=str(exc))
    return back(f"/rounds/{round_id}", saved="已关闭")


@router.get("/rounds/tasks/{task_id}")
def task_page(request: Request, task_id: int, user: User = Depends(current_user),
              session: Session = Depends(db_session)) -> Response:
    try:
        task = service.task_for(session, user, task_id)
    except NotVisible as exc:
        raise refusal(exc) from exc
    round_ = service.get_round(session, task.round_id)
    ctx = context(session, request_for(round_, task, "html"), request.app.state.settings)
    comments = service.open_comments(session, task)
    versions = service.versions(session, task_id)
    editable = round_.status == "open" and task.status in service.EDITABLE
    names = {p.id: p.name for p in session.exec(select(Project).where(
        col(Project.id).in_(task.projects["ids"] if task.projects else [-1])))}
    return render(request, "task.html", {
        "task": task, "round": round_, "title": service.round_title(round_, english=_english(request)),
        "department": session.get(Department, task.department_id), "projects": ctx["projects"],
        "selfeval": report_kind(round_) == "selfeval", "reasons": (task.projects or {}).get("reasons", {}),
        "project_names": names,
        "general_comments": [c for c in comments if c.project_id is None],
        "project_comments": [c for c in comments if c.project_id is not None and c.indicator_id is None],
        "indicator_comments": [c for c in comments if c.indicator_id is not None],
        "versions": versions, "version_comments": {v.id: service.comments_of(session, stored_id(v)) for v in versions},
        "can_fill": editable and user.role in service.FILLERS,
        "can_submit": editable and user.role in service.SUBMITTERS,
        "can_review": round_.status == "open" and task.status == "submitted" and user.role == "admin",
        "can_correct": user.role == "admin" and any(v.verdict for v in versions),
        "correctives": corrective.unfinished_for_department(session, task.department_id),
        "corrective_names": CORRECTIVE_STATUS_NAMES,
        "causes": DEVIATION_CAUSES, "likelihoods": LIKELIHOODS, **_names(), **flash(request)})


@router.post("/rounds/tasks/{task_id}/fill", dependencies=[Depends(verify_csrf)])
async def fill_form(request: Request, task_id: int, user: User = Depends(current_user),
                    session: Session = Depends(db_session)) -> Response:
    form = await request.form()
    value = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    here = f"/rounds/tasks/{task_id}"
    try:
        indicator_id = int(value.get("indicator_id", ""))
    except ValueError as exc:
        raise HTTPException(422, "缺少指标编号 (indicator_id is required)") from exc
    anchor = f"#ind-{indicator_id}"
    try:
        service.fill_indicator(
            session, user, task_id, indicator_id, today=today(request), settings=request.app.state.settings,
            causes={c: value.get(f"cause_{i}", "") for i, c in enumerate(DEVIATION_CAUSES)},
            likelihood=value.get("likelihood") or None, measures=value.get("measures") or None,
            explanation=value.get("explanation"), score=value.get("score") or None, channel="portal")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except (RoundError, ValidationFailed, ValueError) as exc:
        session.rollback()
        return back(here, problem=str(exc), anchor=anchor)
    return back(here, saved="已保存", anchor=anchor)


@router.post("/rounds/tasks/{task_id}/submit", dependencies=[Depends(verify_csrf)])
def submit_form(request: Request, task_id: int, user: User = Depends(current_user),
                session: Session = Depends(db_session)) -> Response:
    here = f"/rounds/tasks/{task_id}"
    try:
        submission = service.submit_task(session, user, task_id, settings=request.app.state.settings,
                                         channel="portal")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except RoundError as exc:
        session.rollback()
        return back(here, problem=str(exc))
    return back(here, saved="已上报", version=submission.version)


@router.post("/rounds/tasks/{task_id}/review", dependencies=[Depends(verify_csrf)])
async def review_form(request: Request, task_id: int, user: User = Depends(current_user),
                      session: Session = Depends(db_session)) -> Response:
    form = await request.form()
    value = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    here = f"/rounds/tasks/{task_id}"
    comments = [Comment(value.get("comment", ""))]
    for key, text in value.items():
        if key.startswith("project_comment_") and key.removeprefix("project_comment_").isdigit():
            comments.append(Comment(text, project_id=int(key.removeprefix("project_comment_"))))
    if value.get("indicator_id", "").isdigit():
        comments.append(Comment(value.get("indicator_comment", ""), indicator_id=int(value["indicator_id"])))
    try:
        service.review_task(session, user, task_id, value.get("verdict", ""), comments, value.get("note"),
                            channel="portal")
        session.commit()
    except (NotAllowed, NotVisible) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except RoundError as exc:
        session.rollback()
        return back(here, problem=str(exc))
    return back(here, saved="已审核")


@router.get("/rounds/tasks/{task_id}/versions/{version}.{fmt}")
def version_file(task_id: int, version: int, fmt: str, user: User = Depends(current_user),
                 session: Session = Depends(db_session)) -> Response:
    if fmt not in ("xlsx", "html"):
        raise HTTPException(404, f"没有 {fmt} 格式 (no such format)")
    try:
        task = service.task_for(session, user, task_id)
        submission = service.version_of(session, task, version)
    except NotVisible as exc:
        raise refusal(exc) from exc
    body = submission.xlsx if fmt == "xlsx" else submission.html
    name = quote(f"任务{task_id}-第{version}版.{fmt}")
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
