"""Creating, listing, disabling and authenticating users; every change to who a user is ends their sessions.

Failed logins are throttled in `monitor.accounts.throttle` (per name and address, in the store), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from monitor.accounts import throttle
from monitor.accounts.passwords import dummy_hash, hash_password, needs_rehash, verify_password
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


def end_sessions(session: Session, user: User) -> None:
    """End every portal session of `user` at once, on every device and replica (a copied cookie included).

    One atomic increment in the store, so two changes at once cannot both raise it to the same value; the
    caller commits it with the change that caused it.
    """
    session.execute(update(User).where(col(User.id) == user.id)
                    .values(session_generation=User.session_generation + 1)
                    .execution_options(synchronize_session=False))
    session.refresh(user, ["session_generation"])


def set_disabled(session: Session, username: str, disabled: bool, *, actor: User | str | None,
                 channel: str = "cli") -> User:
    user = get_user(session, username)
    before = audit.snapshot(user, USER_FIELDS)
    user.disabled = disabled
    session.add(user)
    session.flush()
    end_sessions(session, user)
    audit.record(session, actor=actor, channel=channel, action="disable" if disabled else "enable", entity="user",
                 entity_id=user.id, department_id=user.department_id, before=before,
                 after=audit.snapshot(user, USER_FIELDS))
    return user


def set_password(session: Session, username: str, password: str, *, actor: User | str | None,
                 channel: str = "cli") -> User:
    """A new password; every session signed in with the old one ends, and the name's failed logins are forgotten."""
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    end_sessions(session, user)
    throttle.forget_account(session, user.username)
    audit.record(session, actor=actor, channel=channel, action="set_password", entity="user", entity_id=user.id,
                 department_id=user.department_id)
    return user


def set_role(session: Session, username: str, role: str, *, department_code: str | None = None,
             department_id: int | None = None, actor: User | str | None, channel: str = "cli") -> User:
    """A new role (and department, for department staff); the user's sessions end, so no page goes on being
    served under the old role's rights."""
    user = get_user(session, username)
    if role not in USER_ROLES:
        raise AccountError(f"角色 {role!r} 未知，可选 {', '.join(USER_ROLES)} (unknown role)")
    if department_code is not None:
        department = session.exec(select(Department).where(Department.code == department_code)).first()
        if department is None:
            raise AccountError(f"部门代码 {department_code} 不存在 (no such department)")
        department_id = department.id
    elif department_id is not None and session.get(Department, department_id) is None:
        raise AccountError(f"部门 {department_id} 不存在 (no such department)")
    elif department_id is None:
        department_id = user.department_id
    if role in ("clerk", "head") and department_id is None:
        raise AccountError("经办人/负责人必须属于一个部门 (clerk and head need --department)")
    if role in ("admin", "auditor"):
        department_id = None
    before = audit.snapshot(user, USER_FIELDS)
    user.role, user.department_id = role, department_id
    session.add(user)
    session.flush()
    end_sessions(session, user)
    audit.record(session, actor=actor, channel=channel, action="set_role", entity="user", entity_id=user.id,
                 department_id=user.department_id, before=before, after=audit.snapshot(user, USER_FIELDS))
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    problem: str | None = None
    retry_after: int | None = None  # set when the throttle refused the attempt without trying it


WRONG = "用户名或密码错误 (wrong username or password)"


def authenticate(session: Session, username: str, password: str) -> LoginResult:
    """Check a password. A wrong username and a wrong password get the same message after the same work
    (an argon2 verification, against a dummy hash when nobody has the name)."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        verify_password(dummy_hash(), password)
        return LoginResult(None, WRONG)
    if not verify_password(user.password_hash, password):
        return LoginResult(None, WRONG)
    if user.disabled:
        return LoginResult(None, "账号已停用 (account disabled)")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now()
    session.add(user)
    return LoginResult(user)
