"""Signing in and out, the home redirect, and the account page where users manage their API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from monitor.accounts import throttle
from monitor.accounts import tokens as token_service
from monitor.accounts import users as user_service
from monitor.accounts.passwords import WeakPassword, verify_password
from monitor.accounts.permissions import is_bureau
from monitor.accounts.sign_ins import attempt_login
from monitor.store.models import User
from monitor.web.auth import client_ip, current_user, db_session, optional_user, sign_in, verify_csrf
from monitor.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/", user: User | None = Depends(optional_user)) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "problem": None, "username": ""})


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
          session: Session = Depends(db_session)) -> Response:
    context = {"next": _safe_next(next), "username": username}
    result = attempt_login(session, request.app.state.settings.portal, username=username, password=password,
                           address=client_ip(request))
    if result.retry_after is not None:
        return render(request, "login.html", {**context, "problem": result.problem}, status_code=429,
                      headers={"Retry-After": str(result.retry_after)})
    if result.user is None:
        return render(request, "login.html", {**context, "problem": result.problem}, status_code=401)
    sign_in(request, result.user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, user: User | None = Depends(optional_user),
           session: Session = Depends(db_session)) -> Response:
    """Sign out everywhere: the user's every session ends, so a copy of this cookie stops working too."""
    if user is not None:
        user_service.end_sessions(session, user)
        session.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(user: User = Depends(current_user)) -> Response:
    if is_bureau(user) or user.department_id is None:
        return RedirectResponse("/admin", status_code=303)
    return RedirectResponse("/todo", status_code=303)  # a department's users start from what they have to do


@router.get("/account")
def account(request: Request, user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    return render(request, "account.html", {"tokens": token_service.list_tokens(session, user), "new_token": None})


@router.post("/account/password", dependencies=[Depends(verify_csrf)])
def change_password(request: Request, current: str = Form(""), new: str = Form(""), confirm: str = Form(""),
                    user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    """A new password of one's own: every other session of the user ends, this one is signed in afresh.

    Guesses at the current password count against the login throttle, so a borrowed session cannot be used to
    find the password faster than the login page would allow.
    """
    def refused(problem: str, status_code: int = 422) -> Response:
        return render(request, "account.html", {"tokens": token_service.list_tokens(session, user),
                                                "new_token": None, "password_problem": problem},
                      status_code=status_code)

    portal, address = request.app.state.settings.portal, client_ip(request)
    waiting = throttle.reserve(session, portal, username=user.username, address=address)
    if waiting is not None:
        return refused(f"尝试次数过多，请 {waiting.seconds} 秒后再试 (too many attempts; try again in "
                       f"{waiting.seconds} s)", 429)
    if not verify_password(user.password_hash, current):
        return refused("当前密码不正确 (the current password is wrong)")
    throttle.give_back(session, username=user.username, address=address)
    session.commit()
    if new != confirm:
        return refused("两次输入的新密码不一致 (the new passwords differ)")
    try:
        user_service.set_password(session, user.username, new, actor=user, channel="portal")
    except WeakPassword as exc:
        session.rollback()
        return refused(str(exc))
    session.commit()
    sign_in(request, user)
    return render(request, "account.html", {"tokens": token_service.list_tokens(session, user), "new_token": None,
                                            "password_changed": True})


@router.post("/account/tokens", dependencies=[Depends(verify_csrf)])
def create_token(request: Request, name: str = Form(""), user: User = Depends(current_user),
                 session: Session = Depends(db_session)) -> Response:
    try:
        _, plain = token_service.create_token(session, user, name, actor=user, channel="portal")
    except token_service.TokenError as exc:
        session.rollback()
        return render(request, "account.html", {"tokens": token_service.list_tokens(session, user), "new_token": None,
                                                "problem": str(exc)}, status_code=422)
    session.commit()
    return render(request, "account.html", {"tokens": token_service.list_tokens(session, user), "new_token": plain})


@router.post("/account/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_token(token_id: int, user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    try:
        token_service.revoke_token(session, token_id, actor=user, channel="portal", owner=user)
    except token_service.TokenError as exc:
        raise HTTPException(404, str(exc)) from exc
    session.commit()
    return RedirectResponse("/account", status_code=303)
