"""The finance bureau's pages: the audit trail (readable, filtered, paged; CSV and Excel) and user accounts."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from monitor.accounts import users as user_service
from monitor.accounts.passwords import WeakPassword
from monitor.progress import parsing
from monitor.reports.audit_trail import (
    ENTITIES,
    ENTITY_NAMES,
    TrailFilter,
    actor_name,
    export_csv,
    export_xlsx,
    read_trail,
)
from monitor.store.models import AuditEvent, Department, Project, User
from monitor.store.models.accounts import USER_ROLES
from monitor.store.types import now
from monitor.web.auth import db_session, require_admin, require_bureau, verify_csrf
from monitor.web.i18n import resolve_lang
from monitor.web.templating import render

router = APIRouter(include_in_schema=False)


def _trail_filter(session: Session, since: str, until: str, actor: str, department: str, project: str,
                  entity: str) -> tuple[TrailFilter, list[str]]:
    """The filter the query string asks for, and what in it could not be read (shown, not silently dropped)."""
    problems: list[str] = []

    def day(raw: str, label: str) -> date | None:
        if not raw.strip():
            return None
        try:
            return parsing.day(raw)
        except ValueError as exc:
            problems.append(f"{label}：{exc}")
            return None

    return TrailFilter(since=day(since, "从"), until=day(until, "到"), actor=actor.strip() or None,
                       department_id=parsing.record_id(department), project_id=parsing.record_id(project),
                       entity=entity if entity in ENTITIES else None), problems


@router.get("/admin/audit")
def audit_page(request: Request, since: str = "", until: str = "", actor: str = "", department: str = "",
               project: str = "", entity: str = "", page: int = 1, user: User = Depends(require_bureau),
               session: Session = Depends(db_session)) -> Response:
    where, problems = _trail_filter(session, since, until, actor, department, project, entity)
    trail = read_trail(session, where, lang=resolve_lang(request), page=page)
    query = {"since": since, "until": until, "actor": actor, "department": department, "project": project,
             "entity": entity}
    return render(request, "audit.html", {
        "trail": trail, "query": query, "problems": problems, "entities": ENTITIES, "entity_names": ENTITY_NAMES,
        "departments": session.exec(select(Department).order_by(Department.code)).all(),
        "actors": sorted(set(session.exec(select(AuditEvent.actor).distinct()).all())), "actor_name": actor_name,
        "projects": session.exec(select(Project).where(Project.department_id == where.department_id)
                                 .order_by(Project.name)).all() if where.department_id else []})


@router.get("/admin/audit.{kind}")
def audit_export(request: Request, kind: str, since: str = "", until: str = "", actor: str = "",
                 department: str = "", project: str = "", entity: str = "", user: User = Depends(require_bureau),
                 session: Session = Depends(db_session)) -> Response:
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "不存在 (not found)")
    where, _problems = _trail_filter(session, since, until, actor, department, project, entity)
    lang = resolve_lang(request)
    rows = read_trail(session, where, lang=lang, per_page=None).rows
    stamp = now().strftime("%Y%m%d-%H%M")
    disposition = {"Content-Disposition": f'attachment; filename="kpiwatch-audit-{stamp}.{kind}"'}
    if kind == "csv":
        return Response(export_csv(rows, lang), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(export_xlsx(rows, lang), headers=disposition,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _users_page(request: Request, session: Session, *, problem: str | None = None, status_code: int = 200) -> Response:
    departments = session.exec(select(Department).order_by(Department.code)).all()
    return render(request, "users.html", {
        "users": user_service.list_users(session), "departments": departments,
        "names": {d.id: d.name for d in departments}, "roles": USER_ROLES, "problem": problem},
        status_code=status_code)


@router.get("/admin/users")
def users_page(request: Request, user: User = Depends(require_admin),
               session: Session = Depends(db_session)) -> Response:
    return _users_page(request, session)


@router.post("/admin/users", dependencies=[Depends(verify_csrf)])
def add_user(request: Request, username: str = Form(""), password: str = Form(""), role: str = Form("clerk"),
             department_id: str = Form(""), display_name: str = Form(""), email: str = Form(""),
             user: User = Depends(require_admin), session: Session = Depends(db_session)) -> Response:
    try:
        department = parsing.record_id(department_id) if department_id.strip() else None
        if department_id.strip() and department is None:
            raise user_service.AccountError(f"部门 {department_id[:20]} 不存在 (no such department)")
        user_service.create_user(session, username=username, password=password, role=role,
                                 department_id=department,
                                 display_name=display_name, email=email or None, actor=user, channel="portal")
    except (user_service.AccountError, WeakPassword) as exc:
        session.rollback()
        return _users_page(request, session, problem=str(exc), status_code=422)
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/disable", dependencies=[Depends(verify_csrf)])
def disable_user(username: str, disabled: str = Form("1"), user: User = Depends(require_admin),
                 session: Session = Depends(db_session)) -> Response:
    if username == user.username:
        raise HTTPException(403, "不能停用自己的账号 (cannot disable yourself)")
    try:
        user_service.set_disabled(session, username, disabled == "1", actor=user, channel="portal")
    except user_service.AccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/role", dependencies=[Depends(verify_csrf)])
def change_role(request: Request, username: str, role: str = Form(""), department_id: str = Form(""),
                user: User = Depends(require_admin), session: Session = Depends(db_session)) -> Response:
    """A new role (and department) for someone else; their sessions end, so the old rights go with them."""
    if username == user.username:
        raise HTTPException(403, "不能更改自己的角色 (cannot change your own role)")
    try:
        user_service.get_user(session, username)
    except user_service.AccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    try:
        department = parsing.record_id(department_id) if department_id.strip() else None
        if department_id.strip() and department is None:
            raise user_service.AccountError(f"部门 {department_id[:20]} 不存在 (no such department)")
        user_service.set_role(session, username, role, department_id=department, actor=user, channel="portal")
    except user_service.AccountError as exc:
        session.rollback()
        return _users_page(request, session, problem=str(exc), status_code=422)
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)
