"""Creating, listing, disabling and authenticating users, with per-account lockout after failed logins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from monitor.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from monitor.store import audit
from monitor.store.models import Department, User
from monitor.store.models.accounts import USER_ROLES
from monitor.store.types import now

USER_FIELDS = ("id", "username", "display_name", "email", "department_id", "role", "disabled")


class AccountError(ValueError):
    pass


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str = "clerk",
    department_code: str | None = None,
    department_id: int | None = None,
    display_name: str = "",
    email: str | None = None,
    actor: User | str | None = None,
    channel: str = "cli",
) -> User:
    """A new login; department staff need a department, the finance bureau's admin/auditor have none."""
    username = username.strip()
    if not username:
        raise AccountError("用户名不能为空 (username is required)")
    for label, value, limit in (("用户名", username, 100), ("名称", display_name, 100), ("邮箱", email or "", 254)):
        if len(value) > limit:
            raise AccountError(f"{label}过长（{len(value)} 字，最多 {limit}）(too long)")
    if role not in USER_ROLES:
        raise AccountError(f"角色 {role!r} 未知，可选 {', '.join(USER_ROLES)} (unknown role)")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise AccountError(f"用户名 {username} 已存在 (username taken)")
    if department_code is not None:
        department = session.exec(select(Department).where(Department.code == department_code)).first()
        if department is None:
            raise AccountError(f"部门代码 {department_code} 不存在 (no such department)")
        department_id = department.id
    elif department_id is not None and session.get(Department, department_id) is None:
        raise AccountError(f"部门 {department_id} 不存在 (no such department)")
    if role in ("clerk", "head") and department_id is None:
        raise AccountError("经办人/负责人必须属于一个部门 (clerk and head need --department)")
    if role in ("admin", "auditor"):
        department_id = None
    user = User(username=username, display_name=display_name or username, email=email,
                password_hash=hash_password(password), department_id=department_id, role=role,
                created_at=now())
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, channel=channel, action="create", entity="user", entity_id=user.id,
                 department_id=department_id, after=audit.snapshot(user, USER_FIELDS))
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(User.username)).all()


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise AccountError(f"用户 {username} 不存在 (no such user)")
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: User | str | None,
                 channel: str = "cli") -> User:
    user = get_user(session, username)
    before = audit.snapshot(user, USER_FIELDS)
    user.disabled = disabled
    session.add(user)
    audit.record(session, actor=actor, channel=channel, action="disable" if disabled else "enable", entity="user",
                 entity_id=user.id, department_id=user.department_id, before=before,
                 after=audit.snapshot(user, USER_FIELDS))
    return user


def set_password(session: Session, username: str, password: str, *, actor: User | str | None,
                 channel: str = "cli") -> User:
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, actor=actor, channel=channel, action="set_password", entity="user", entity_id=user.id,
                 department_id=user.department_id)
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    problem: str | None = None


def authenticate(session: Session, username: str, password: str, *, max_failures: int,
                 lock_minutes: int) -> LoginResult:
    """Check a password; after `max_failures` wrong ones in a row the account is locked for a while.

    The messages do not tell a wrong username from a wrong password.
    """
    user = session.exec(select(User).where(User.username == username.strip())).first()
    wrong = "用户名或密码错误 (wrong username or password)"
    if user is None:
        verify_password(DUMMY_HASH, password)
        return LoginResult(None, wrong)
    moment = now()
    if user.locked_until is not None and user.locked_until > moment:
        return LoginResult(None, "尝试次数过多，账号暂时锁定，请稍后再试 (too many attempts; try again later)")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = moment + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            audit.record(session, actor="system", channel="portal", action="lock", entity="user",
                         entity_id=user.id, department_id=user.department_id,
                         note=f"{max_failures} failed logins")
        session.add(user)
        return LoginResult(None, wrong)
    if user.disabled:
        return LoginResult(None, "账号已停用 (account disabled)")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = moment
    session.add(user)
    return LoginResult(user)
