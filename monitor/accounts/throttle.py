"""The login throttle: failed logins per (account name, address) and per address, with exponential backoff.

Why this shape:
- per (name, address), so a guesser elsewhere cannot lock anyone out: their failures slow down only their own
  address; the per-address count (any name, a higher limit) slows down one address trying many names;
- backoff instead of a hard lock: after `login_max_failures` failures each attempt waits
  `login_backoff_seconds`, doubled per further failure up to `login_backoff_max_seconds`; failures are forgotten
  after `login_forget_minutes` without one;
- by the name as typed, never by whether the account exists, so the answers are the same for a name nobody has;
- in the store (`LoginThrottle` rows), so a restart or another replica sees the same count;
- the attempt is counted *before* its password is checked (and given back when it succeeds), with a
  compare-and-set update, so a hundred requests sent at once cannot all slip in before the first failure lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.config import PortalConfig
from monitor.store.db import write_turn
from monitor.store.models import LoginThrottle
from monitor.store.types import now

ANY_ACCOUNT = ""  # the `account` of an address's own row, counting failures under every name
NAME_LIMIT = 100
ADDRESS_LIMIT = 64
_RACES = 20  # compare-and-set rounds lost to concurrent attempts before this one is simply refused


@dataclass(frozen=True)
class Refused:
    """The attempt was not tried: wait `seconds` (for a Retry-After header and the message)."""

    seconds: int


def account_key(username: str) -> str:
    """The name as the throttle counts it: as typed (stripped), whether or not such an account exists."""
    return username.strip()[:NAME_LIMIT]


def _keys(username: str, address: str) -> list[tuple[str, str, int]]:
    return [(ANY_ACCOUNT, address[:ADDRESS_LIMIT], 0)] + (
        [(account_key(username), address[:ADDRESS_LIMIT], 1)] if account_key(username) else [])


def wait_after(failures: int, free: int, portal: PortalConfig) -> timedelta:
    """How long after the last of `failures` failures the next attempt must wait (0 while under `free`)."""
    if failures < free:
        return timedelta(0)
    seconds = portal.login_backoff_seconds * 2 ** min(failures - free, 30)
    return timedelta(seconds=min(seconds, portal.login_backoff_max_seconds))


@contextmanager
def _turn(session: Session) -> Iterator[None]:
    """One short write transaction of its own, committed at once, so other requests and replicas see it."""
    try:
        with write_turn(session):
            yield
            session.commit()
    except BaseException:
        session.rollback()
        raise


def reserve(session: Session, portal: PortalConfig, *, username: str, address: str) -> Refused | None:
    """Count this attempt as a failure in advance (committed), or refuse it without counting.

    Call `give_back` when the password turns out right. Commits `session`: call it before any other change.
    """
    limits = {0: portal.ip_max_failures, 1: portal.login_max_failures}
    keys = _keys(username, address)
    for _ in range(_RACES):
        moment = now()
        try:
            with _turn(session):
                rows = {(row.account, row.address): row for row in session.exec(
                    select(LoginThrottle).where(col(LoginThrottle.address) == address[:ADDRESS_LIMIT],
                                                col(LoginThrottle.account).in_([key for key, _, _ in keys]))
                    .execution_options(populate_existing=True))}  # the row as it is now, not as last read
                wait = max(_remaining(rows.get((account, where)), limits[kind], portal, moment)
                           for account, where, kind in keys)
                if wait > timedelta(0):
                    return Refused(max(1, int(wait.total_seconds() + 0.999)))
                if not all(_count(session, rows.get((account, where)), account, where, portal, moment)
                           for account, where, _ in keys):
                    raise _Lost
                return None
        except _Lost:
            continue  # another request counted first (or created the row): read again and decide again
    return Refused(portal.login_backoff_seconds)


class _Lost(Exception):
    """A compare-and-set lost to a concurrent attempt: the transaction is rolled back and the round repeated."""


def _remaining(row: LoginThrottle | None, free: int, portal: PortalConfig, moment: datetime) -> timedelta:
    if row is None or _forgotten(row, portal, moment):
        return timedelta(0)
    return max(timedelta(0), row.last_failure_at + wait_after(row.failures, free, portal) - moment)


def _forgotten(row: LoginThrottle, portal: PortalConfig, moment: datetime) -> bool:
    return row.last_failure_at < moment - timedelta(minutes=portal.login_forget_minutes)


def _count(session: Session, row: LoginThrottle | None, account: str, address: str, portal: PortalConfig,
           moment: datetime) -> bool:
    """Add one failure to the row, unless another request changed it since it was read (then False)."""
    if row is None:
        # Rows of long-forgotten failures go when a new one comes: the table stays as small as recent guessing.
        session.execute(delete(LoginThrottle).where(
            col(LoginThrottle.last_failure_at) < moment - timedelta(minutes=portal.login_forget_minutes)))
        try:
            with session.begin_nested():
                session.add(LoginThrottle(account=account, address=address, failures=1, last_failure_at=moment))
            return True
        except IntegrityError:
            return False
    failures = 1 if _forgotten(row, portal, moment) else row.failures + 1
    changed = session.execute(
        update(LoginThrottle).where(col(LoginThrottle.id) == row.id, col(LoginThrottle.failures) == row.failures,
                                    col(LoginThrottle.last_failure_at) == row.last_failure_at)
        .values(failures=failures, last_failure_at=moment).execution_options(synchronize_session=False))
    return changed.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


def give_back(session: Session, *, username: str, address: str) -> None:
    """The reserved attempt succeeded: the name starts afresh from this address, the address's count drops by one.

    Added to `session` for the caller to commit with the login. The address's count is not cleared: one
    account of one's own signed into between guesses must not wipe out the guesses.
    """
    where = address[:ADDRESS_LIMIT]
    if account_key(username):
        session.execute(delete(LoginThrottle).where(col(LoginThrottle.address) == where,
                                                    col(LoginThrottle.account) == account_key(username)))
    session.execute(update(LoginThrottle)
                    .where(col(LoginThrottle.address) == where, col(LoginThrottle.account) == ANY_ACCOUNT,
                           col(LoginThrottle.failures) > 0)
                    .values(failures=LoginThrottle.failures - 1).execution_options(synchronize_session=False))


def forget_account(session: Session, username: str) -> None:
    """Clear the name's failures from every address (a new password was set); added to `session`."""
    if account_key(username):
        session.execute(delete(LoginThrottle).where(col(LoginThrottle.account) == account_key(username)))


def slowed_down(connection: Connection, portal: PortalConfig, at: datetime) -> int:
    """Account names (from one address each) past `login_max_failures` and not yet forgotten: for monitoring."""
    return connection.execute(select(func.count()).select_from(LoginThrottle).where(
        col(LoginThrottle.account) != ANY_ACCOUNT, col(LoginThrottle.failures) >= portal.login_max_failures,
        col(LoginThrottle.last_failure_at) >= at - timedelta(minutes=portal.login_forget_minutes))).scalar_one()
