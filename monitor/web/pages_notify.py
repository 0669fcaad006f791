"""Notification pages: acknowledge an item (from the signed link in an email, or signed in from the portal),
the administrators' waivers and contacts pages, and the status page (last successful evaluation and sending,
the outbox, failed messages)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.notify import joblog
from monitor.notify.actions import ActionError, acknowledge, add_contact, add_waiver, remove_contact, revoke_waiver
from monitor.notify.compose import staleness_warnings
from monitor.notify.outbox import retry
from monitor.notify.tokens import InvalidToken, read_ack_token
from monitor.store.models import Contact, Department, Indicator, IndicatorState, Project, User
from monitor.store.models.core import CONTACT_ROLES
from monitor.store.models.notify import Acknowledgement, OutboxMessage, Waiver
from monitor.web.auth import current_user, db_session, indicator_for_user, require_admin, verify_csrf
from monitor.web.i18n import resolve_lang
from monitor.web.templating import render
from rules.terms import DEVIATION_CAUSES, OUTBOX_STATUS_NAMES, STATUS_NAMES, STATUS_NAMES_EN

router = APIRouter(include_in_schema=False)


def _item(session: Session, indicator_id: int, occurrence: str) -> dict:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise HTTPException(404, "指标不存在")
    project = session.get(Project, indicator.project_id)
    state = session.exec(select(IndicatorState).where(IndicatorState.indicator_id == indicator_id,
                                                      IndicatorState.occurrence == occurrence)).first()
    history = session.exec(select(Acknowledgement).where(Acknowledgement.indicator_id == indicator_id,
                                                         Acknowledgement.occurrence == occurrence)
                           .order_by(col(Acknowledgement.id).desc())).all()
    return {"indicator": indicator, "project": project, "state": state, "occurrence": occurrence,
            "history": history, "causes": DEVIATION_CAUSES, "status_names": STATUS_NAMES,
            "status_names_en": STATUS_NAMES_EN}


@router.get("/notify/ack/{token}")
def ack_from_email(token: str, request: Request, session: Session = Depends(db_session)) -> Response:
    try:
        data = read_ack_token(request.app.state.settings, token)
    except InvalidToken as exc:
        raise HTTPException(404, str(exc)) from exc
    return render(request, "notify_ack.html", {**_item(session, data["indicator_id"], data["occurrence"]),
                                               "action": f"/notify/ack/{token}", "stale": _stale(session, data)})


def _stale(session: Session, data: dict) -> bool:
    state = session.exec(select(IndicatorState).where(IndicatorState.indicator_id == data["indicator_id"],
                                                      IndicatorState.occurrence == data["occurrence"])).first()
    return state is None or state.status != data["status"]


@router.post("/notify/ack/{token}", dependencies=[Depends(verify_csrf)])
def ack_from_email_post(token: str, request: Request, cause: str = Form(""), text: str = Form(""),
                        by: str = Form(""), session: Session = Depends(db_session)) -> Response:
    try:
        data = read_ack_token(request.app.state.settings, token)
    except InvalidToken as exc:
        raise HTTPException(404, str(exc)) from exc
    context = {**_item(session, data["indicator_id"], data["occurrence"]), "action": f"/notify/ack/{token}"}
    try:
        acknowledge(session, indicator_id=data["indicator_id"], occurrence=data["occurrence"], cause=cause, text=text,
                    by=by or "邮件链接", channel="email", expected_status=data["status"], whole_item=True)
    except ActionError as exc:
        return render(request, "notify_ack.html", {**context, "problem": str(exc), "stale": _stale(session, data)},
                      status_code=422)
    return render(request, "notify_ack.html", {**_item(session, data["indicator_id"], data["occurrence"]),
                                               "action": f"/notify/ack/{token}", "done": True, "stale": False})


@router.get("/notify/acknowledge/{indicator_id}")
def ack_in_portal(indicator_id: int, request: Request, occurrence: str = "", user: User = Depends(current_user),
                  session: Session = Depends(db_session)) -> Response:
    indicator_for_user(session, user, indicator_id)
    return render(request, "notify_ack.html", {**_item(session, indicator_id, occurrence), "stale": False,
                                               "action": f"/notify/acknowledge/{indicator_id}?occurrence={occurrence}"})


@router.post("/notify/acknowledge/{indicator_id}", dependencies=[Depends(verify_csrf)])
def ack_in_portal_post(indicator_id: int, request: Request, occurrence: str = "", cause: str = Form(""),
                       text: str = Form(""), user: User = Depends(current_user),
                       session: Session = Depends(db_session)) -> Response:
    indicator_for_user(session, user, indicator_id)
    if user.role == "auditor":
        raise HTTPException(403, "审计人员只能查看")
    context = {**_item(session, indicator_id, occurrence), "stale": False,
               "action": f"/notify/acknowledge/{indicator_id}?occurrence={occurrence}"}
    try:
        acknowledge(session, indicator_id=indicator_id, occurrence=occurrence, cause=cause, text=text,
                    by=user.username, channel="portal")
    except ActionError as exc:
        return render(request, "notify_ack.html", {**context, "problem": str(exc)}, status_code=422)
    return render(request, "notify_ack.html", {**_item(session, indicator_id, occurrence), "done": True,
                                               "stale": False, "action": context["action"]})


@router.get("/admin/waivers")
def waivers_page(request: Request, user: User = Depends(require_admin), session: Session = Depends(db_session),
                 problem: str | None = None, status_code: int = 200) -> Response:
    waivers = session.exec(select(Waiver).order_by(col(Waiver.revoked_at).is_not(None), col(Waiver.until).desc())).all()
    projects = {p.id: p for p in session.exec(select(Project)).all()}
    indicators = {i.id: i for i in session.exec(select(Indicator).where(
        col(Indicator.id).in_([w.indicator_id for w in waivers if w.indicator_id]))).all()}
    return render(request, "notify_waivers.html", {"waivers": waivers, "projects": projects,
                                                   "indicators": indicators, "problem": problem},
                  status_code=status_code)


@router.post("/admin/waivers", dependencies=[Depends(verify_csrf)])
def waivers_add(request: Request, target: str = Form(""), until: str = Form(""), reason: str = Form(""),
                user: User = Depends(require_admin), session: Session = Depends(db_session)) -> Response:
    kind, _, raw_id = target.strip().partition(":")
    try:
        until_day = date.fromisoformat(until)
        target_id = int(raw_id)
        if kind not in ("project", "indicator"):
            raise ValueError
        add_waiver(session, until=until_day, reason=reason, by=user.username,
                   project_id=target_id if kind == "project" else None,
                   indicator_id=target_id if kind == "indicator" else None)
    except ValueError as exc:
        message = (str(exc) if isinstance(exc, ActionError)
                   else "请填写“project:编号”或“indicator:编号”及截止日期 (YYYY-MM-DD)")
        return waivers_page(request, user, session, problem=message, status_code=422)
    return RedirectResponse("/admin/waivers", status_code=303)


@router.post("/admin/waivers/{waiver_id}/revoke", dependencies=[Depends(verify_csrf)])
def waivers_revoke(waiver_id: int, user: User = Depends(require_admin),
                   session: Session = Depends(db_session)) -> Response:
    try:
        revoke_waiver(session, waiver_id)
    except ActionError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse("/admin/waivers", status_code=303)


@router.get("/admin/contacts")
def contacts_page(request: Request, user: User = Depends(require_admin), session: Session = Depends(db_session),
                  problem: str | None = None, status_code: int = 200) -> Response:
    rows = session.exec(select(Contact, Department).join(Department, col(Department.id) == Contact.department_id)
                        .order_by(Department.code, col(Contact.id))).all()
    departments = session.exec(select(Department).order_by(Department.code)).all()
    return render(request, "notify_contacts.html", {"rows": rows, "departments": departments, "roles": CONTACT_ROLES,
                                                    "problem": problem}, status_code=status_code)


@router.post("/admin/contacts", dependencies=[Depends(verify_csrf)])
def contacts_add(request: Request, department: str = Form(""), name: str = Form(""), email: str = Form(""),
                 role: str = Form(""), user: User = Depends(require_admin),
                 session: Session = Depends(db_session)) -> Response:
    try:
        add_contact(session, department_code=department, name=name, email=email, role=role)
    except ActionError as exc:
        return contacts_page(request, user, session, problem=str(exc), status_code=422)
    return RedirectResponse("/admin/contacts", status_code=303)


@router.post("/admin/contacts/{contact_id}/remove", dependencies=[Depends(verify_csrf)])
def contacts_remove(contact_id: int, user: User = Depends(require_admin),
                    session: Session = Depends(db_session)) -> Response:
    try:
        remove_contact(session, contact_id)
    except ActionError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse("/admin/contacts", status_code=303)


@router.get("/admin/notify-status")
def status_page(request: Request, user: User = Depends(require_admin),
                session: Session = Depends(db_session)) -> Response:
    settings = request.app.state.settings
    jobs = []
    for job in ("evaluate", "notify", "send"):
        jobs.append({"job": job, "ok": joblog.last_success(session, job), "last": joblog.last_run(session, job)})
    evaluation = joblog.last_evaluation(session)
    counts = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")
                          .order_by(col(OutboxMessage.id).desc()).limit(100)).all()
    warnings = staleness_warnings(session, settings, english=resolve_lang(request) == "en")
    return render(request, "notify_status.html", {"jobs": jobs, "evaluation": evaluation, "counts": counts,
                                                  "failed": failed, "warnings": warnings,
                                                  "outbox_names": OUTBOX_STATUS_NAMES})


@router.post("/admin/outbox/retry", dependencies=[Depends(verify_csrf)])
def outbox_retry(request: Request, user: User = Depends(require_admin)) -> Response:
    retry(request.app.state.engine)
    return RedirectResponse("/admin/notify-status", status_code=303)
