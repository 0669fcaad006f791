"""Sign-ins in the audit trail: every portal login and failed login, with the client address it came from.

The address is the real client's (a trusted proxy's X-Forwarded-For already applied), so after an incident the
trail says which workstation signed in as whom; failed attempts show who was guessing from where. Requests the
throttle refuses are not recorded: a flood from one address would otherwise flood the trail.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from monitor.accounts import throttle
from monitor.accounts.users import LoginResult, authenticate
from monitor.config import PortalConfig
from monitor.store import audit
from monitor.store.models import AuditEvent

ENTITY = "session"
LOGIN = "login"
LOGIN_FAILED = "login_failed"


def attempt_login(session: Session, portal: PortalConfig, *, username: str, password: str,
                  address: str) -> LoginResult:
    """A portal login from `address`: throttled, checked, recorded and committed.

    A refused attempt (too many recent failures of this name or this address) is answered before the user is
    looked up, so it is as fast, and says the same, for a name nobody has as for an existing account.
    """
    refused = throttle.reserve(session, portal, username=username, address=address)
    if refused is not None:
        return LoginResult(None, f"登录失败次数过多，请 {refused.seconds} 秒后再试 "
                                 f"(too many failed logins; try again in {refused.seconds} s)", refused.seconds)
    result = authenticate(session, username, password)
    if result.user is not None:
        throttle.give_back(session, username=username, address=address)
    record_sign_in(session, result, username=username, address=address)
    session.commit()
    return result


def record_sign_in(session: Session, result: LoginResult, *, username: str, address: str) -> None:
    """Add the login (or failed login) to `session`; the caller commits it with the login's own changes."""
    if result.user is not None:
        audit.record(session, actor=result.user, channel="portal", action=LOGIN, entity=ENTITY,
                     entity_id=result.user.id, department_id=result.user.department_id, after={"address": address})
    else:
        audit.record(session, actor="anonymous", channel="portal", action=LOGIN_FAILED, entity=ENTITY,
                     after={"address": address, "username": username.strip()[:100]}, note=result.problem)


def failed_sign_ins(session: Session) -> int:
    """Failed logins ever recorded (a counter for monitoring)."""
    return session.exec(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.entity == ENTITY, AuditEvent.action == LOGIN_FAILED)).one()
