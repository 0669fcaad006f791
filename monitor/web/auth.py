"""Dependencies every router reuses: who is asking, may they, and is the form genuine.

Conventions (tested): an object outside the user's departments answers 404, exactly like one that does
not exist, so ids never reveal what other departments have; an action the user's role forbids on
something they can see (an auditor writing, a clerk opening admin pages) answers 403.

- pages: `user: User = Depends(current_user)` (redirects to /login when not signed in)
- API:   `user: User = Depends(api_user)` (Bearer token; 401 otherwise)
- admin pages: `Depends(require_admin)`; every POST form: `Depends(verify_csrf)`
- today (the demo may pin it): `today(request)`
- scope: `project_for_user(session, user, id)`, `visible_department_ids(session, user)`
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from monitor.accounts import permissions
from monitor.accounts.tokens import user_for_token
from monitor.store.models import Department, Indicator, Project, User
from monitor.store.types import SHANGHAI, now

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """Raised by `current_user`; the app turns it into a redirect to the login page."""

    def __init__(self, location: str) -> None:
        self.location = location


def today(request: Request) -> date:
    """The portal's and API's today: the real Shanghai date, or the demo's as-of date when the demo set a clock."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(SHANGHAI).date()


def db_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing request whose form field (or header) does not carry this session's token."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise HTTPException(403, "表单已过期或来源不明，请刷新页面后重试 (CSRF check failed)")


def sign_in(request: Request, user: User) -> None:
    """A fresh session for `user`, under their current session generation (raising it ends this session)."""
    request.session.clear()
    request.session.update({"uid": user.id, "gen": user.session_generation, "login_at": now().isoformat(),
                            "csrf": secrets.token_urlsafe(32)})


def _session_user(request: Request, session: Session) -> User | None:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    uid = request.session.get("uid")
    login_at = request.session.get("login_at")
    if not uid or not login_at:
        return None
    hours = request.app.state.settings.portal.session_hours
    try:
        expired = datetime.fromisoformat(login_at) + timedelta(hours=hours) < now()
    except ValueError:
        expired = True
    if expired:
        request.session.clear()
        return None
    # The one lookup every signed-in request makes anyway (by primary key) also says whether the session was ended
    # since: logout, a new password or role and disabling raise the user's generation.
    user = session.get(User, uid)
    if user is None or user.disabled or request.session.get("gen") != user.session_generation:
        request.session.clear()
        return None
    request.state.user = user
    return user


def optional_user(request: Request, session: Session = Depends(db_session)) -> User | None:
    return _session_user(request, session)


def current_user(request: Request, session: Session = Depends(db_session)) -> User:
    user = _session_user(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(f"/login?next={quote(target, safe='')}")
    return user


def require_admin(user: User = Depends(current_user)) -> User:
    if user.role != "admin":
        raise HTTPException(403, "仅限财政局管理员 (administrators only)")
    return user


def require_bureau(user: User = Depends(current_user)) -> User:
    """Finance-bureau staff: admins and read-only auditors."""
    if not permissions.is_bureau(user):
        raise HTTPException(403, "仅限财政局 (finance bureau only)")
    return user


bearer = HTTPBearer(auto_error=False, description="`kpiwatch tokens create --user NAME` 生成的令牌")


def user_from_credentials(session: Session, credentials: HTTPAuthorizationCredentials | None) -> User:
    """The token's user or 401; for async endpoints that do all their database work in one thread hop."""
    return token_user_or_401(user_for_token(session, credentials.credentials) if credentials else None)


def token_user_or_401(user: User | None) -> User:
    """`user` as looked up from a bearer token; None (missing, invalid, revoked, disabled) is 401."""
    if user is None:
        raise HTTPException(401, "缺少或无效的令牌 (missing or invalid bearer token)",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


def api_user(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
             session: Session = Depends(db_session)) -> User:
    user = user_from_credentials(session, credentials)
    request.state.user = user
    return user


def require_writer(user: User) -> None:
    try:
        permissions.require_writer(user)
    except permissions.NotAllowed as exc:
        raise HTTPException(403, str(exc)) from exc


def visible_department_ids(session: Session, user: User) -> set[int] | None:
    """Department ids `user` may see; None = all (finance bureau)."""
    return permissions.visible_department_ids(session, user)


def department_for_user(session: Session, user: User, department_id: int) -> Department:
    try:
        return permissions.department_for(session, user, department_id)
    except permissions.NotVisible as exc:
        raise HTTPException(404, str(exc)) from exc


def project_for_user(session: Session, user: User, project_id: int) -> Project:
    """The project, or 404 if it does not exist or lies outside the user's departments."""
    try:
        return permissions.project_for(session, user, project_id)
    except permissions.NotVisible as exc:
        raise HTTPException(404, str(exc)) from exc


def indicator_for_user(session: Session, user: User, indicator_id: int) -> tuple[Indicator, Project]:
    try:
        return permissions.indicator_for(session, user, indicator_id)
    except permissions.NotVisible as exc:
        raise HTTPException(404, str(exc)) from exc
