"""The finance bureau's pages: the audit trail (list + CSV export) and user accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from monitor.accounts import users as user_service
from monitor.accounts.passwords import WeakPassword
from monitor.progress import parsing
from monitor.store import audit
from monitor.store.models import Department, User
from monitor.store.models.accounts import USER_ROLES
from monitor.store.types import now
from monitor.web.auth import db_session, require_admin, require_bureau, verify_csrf
from monitor.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/audit")
def audit_page(request: Request, entity: str = "", actor: str = "", user: User = Depends(require_bureau),
               session: Session = Depends(db_session)) -> Response:
    events = audit.list_events(session, entity=entity or None, actor=actor or None, limit=500)
    return render(request, "audit.html", {"events": events, "entity": entity, "actor": actor})


@router.get("/admin/audit.csv")
def audit_csv(entity: str = "", actor: str = "", user: User = Depends(require_bureau),
              session: Session = Depends(db_session)) -> Response:
    events = audit.list_events(session, entity=entity or None, actor=actor or None, limit=None)
    stamp = now().strftime("%Y%m%d-%H%M")
    return Response(audit.export_csv(events), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kpiwatch-audit-{stamp}.csv"'})


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
