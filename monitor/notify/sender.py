"""The sending side of the outbox: claim due messages, hand them to the SMTP pool, record each verdict the
moment it arrives. One pass (`send_pending`) for the scheduler's "send" job and the CLI; `send_forever` for a
dedicated sender process.

When the server refuses kpiwatch's login the pass stops at once: every message it had claimed goes back to
pending as it was (no attempt counted), the pass is recorded as failed with the server's reply (what
`kpiwatch status` and the portal's 运行状态 page show), one ERROR line is logged, and `SendingStopped` is
raised, so the CLI exits non-zero. Mail to the bureau would meet the same refusal, so nothing is queued for
it. Later passes with the same login wait out a hold (`login_hold`) instead of failing at the server again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parseaddr

from sqlalchemy.engine import Connection, Engine

from monitor.config import Config
from monitor.notify import outbox
from monitor.notify.joblog import RunNote, job_run
from monitor.notify.login_hold import HOLDS, Hold
from monitor.shutdown import STOPPING
from notifications.delivery import LoginRefused, Outcome, Outgoing, Result, deliver

logger = logging.getLogger("kpiwatch.sender")


@dataclass
class SendStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    kept: int = 0  # claimed, then handed back untried because the login was refused
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        counts = {"claimed": self.claimed, "sent": self.sent, "retrying": self.retrying, "failed": self.failed}
        if self.kept:
            counts["kept"] = self.kept
        return counts


class SendingStopped(RuntimeError):
    """A pass that stopped because the SMTP server refused kpiwatch's login, now (`hold.refused_at` is this
    pass) or earlier with a hold that has not run out; nothing it claimed was tried."""

    def __init__(self, hold: Hold, stats: SendStats, *, refused_now: bool) -> None:
        pending = f"，{stats.kept}封邮件保留待发（未计尝试次数）" if stats.kept else ""
        when = "" if refused_now else f"{hold.refused_at:%H:%M}"
        wait = f"，{hold.until:%H:%M}前不再尝试登录" if hold.until > hold.refused_at else ""
        super().__init__(f"SMTP服务器{when}拒绝登录（{hold.reason}）：发送已停止{pending}{wait}；"
                         f"请核对 [smtp] username 与 KPIWATCH_SMTP_PASSWORD，改后重启调度或发送进程")
        self.hold = hold
        self.stats = stats
        self.refused_now = refused_now


def send_pending(engine: Engine, config: Config, *, worker: str | None = None, max_messages: int | None = None,
                 log: bool = True) -> SendStats:
    """Send every due message once (claims in batches of `smtp.batch_size`), then return.

    Each verdict is committed on one kept-open connection before its SMTP connection takes the next
    message, so at most one accepted-but-unrecorded message per SMTP connection exists at any moment.
    Raises `SendingStopped` when the login is refused; with `log=False` the caller records the pass (the
    scheduler's runner logs and records the exception)."""
    worker = worker or outbox.worker_name()
    stats = SendStats()
    if not log:
        _send(engine, config, worker, max_messages, stats)
        return stats
    stopped: SendingStopped | None = None
    with job_run(engine, "send") as note:
        try:
            _send(engine, config, worker, max_messages, stats)
        except SendingStopped as exc:
            stopped = exc
        record(engine, config, note, stats, stopped)
    if stopped is not None:
        raise stopped
    return stats


def record(engine: Engine, config: Config, note: RunNote, stats: SendStats, stopped: SendingStopped | None) -> None:
    """Fill a pass's JobRun note: its counts, its errors, and the alerts it raised. A refused login is logged
    here, once per pass, at ERROR (a pass that only waited out a hold, at WARNING)."""
    note.counts = stats.as_dict()
    errors = stats.errors[:20]
    if stopped is not None:
        errors.insert(0, str(stopped))
        note.counts["login_refused"] = stopped.hold.reason
        logger.log(logging.ERROR if stopped.refused_now else logging.WARNING, "%s", stopped)
    if errors:
        note.error = "\n".join(errors)
    if stats.failed:
        note.counts["alerted"] = alert_administrators(engine, config, stats.errors)


def _send(engine: Engine, config: Config, worker: str, max_messages: int | None, stats: SendStats) -> None:
    settings, password = config.smtp, config.smtp_password
    smtp = config.smtp
    hold = HOLDS.current(settings, password)
    if hold is not None:
        raise SendingStopped(hold, stats, refused_now=False)
    claims: dict[int, outbox.Claimed] = {}
    envelope_from = parseaddr(smtp.sender)[1] or smtp.sender

    with _autocommit(engine) as connection:
        def next_batch() -> list[Outgoing]:
            limit = smtp.batch_size
            if max_messages is not None:
                limit = min(limit, max_messages - stats.claimed)
                if limit <= 0:
                    return []
            batch = outbox.claim(connection, worker=worker, limit=limit, lease_seconds=smtp.claim_timeout_seconds)
            stats.claimed += len(batch)
            for item in batch:
                claims[item.id] = item
            return [Outgoing(item.id, envelope_from, item.recipients, item.raw.encode("utf-8"),
                             not_after=item.lease_deadline) for item in batch]

        def on_result(result: Result) -> None:
            item = claims.pop(result.key)
            verdict = outbox.Verdict(item, result.outcome is Outcome.SENT, result.outcome is Outcome.PERMANENT,
                                     result.detail)
            (status,) = outbox.record_verdicts(connection, [verdict], max_attempts=smtp.max_attempts,
                                               backoff_base=smtp.backoff_base_seconds,
                                               backoff_max=smtp.backoff_max_seconds)
            if status == "sent":
                stats.sent += 1
            elif status == "failed":
                stats.failed += 1
                stats.errors.append(f"#{item.id} {', '.join(item.recipients)}: {result.detail}")
            else:
                stats.retrying += 1

        try:
            asyncio.run(deliver(settings, next_batch, on_result, password=password, stop=STOPPING.is_set))
        except LoginRefused as exc:
            stats.kept = outbox.release(connection, list(claims.values()))
            hold = HOLDS.refused(settings, password, exc.detail, base=smtp.backoff_base_seconds,
                                 cap=smtp.backoff_max_seconds)
            raise SendingStopped(hold, stats, refused_now=True) from exc
        outbox.release(connection, claims.values())  # stopped mid-batch: what was never begun goes back
    if stats.sent:
        HOLDS.cleared(settings, password)


@contextmanager
def _autocommit(engine: Engine) -> Iterator[Connection]:
    """The sender's kept-open connection, each statement its own transaction.

    Every write the sender makes is one statement (a claim is one UPDATE … RETURNING, a verdict one
    UPDATE), so nothing needs a transaction around it, and each verdict is committed in one round trip
    instead of three (BEGIN, UPDATE, COMMIT): on PostgreSQL the sender spent most of its time waiting on
    those round trips."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def send_forever(engine: Engine, config: Config, *, poll_seconds: float = 5.0,
                 heartbeat_seconds: float = 600.0) -> None:
    """A dedicated sender: pass after pass, pausing when there was nothing to do, and for the whole hold after
    a refused login. Passes that sent something (or stopped) are logged as JobRun rows, idle ones at most
    every `heartbeat_seconds`, so `kpiwatch status` sees a live sender without a row every few seconds."""
    worker = outbox.worker_name()
    last_logged = 0.0
    while not STOPPING.is_set():
        log = time.monotonic() - last_logged >= heartbeat_seconds
        try:
            stats = send_pending(engine, config, worker=worker, log=log)
        except SendingStopped as stopped:
            if not log:
                with job_run(engine, "send") as note:
                    record(engine, config, note, stopped.stats, stopped)
            last_logged = time.monotonic()
            time.sleep(max(poll_seconds, stopped.hold.seconds_left))
            continue
        if stats.claimed and not log:
            with job_run(engine, "send") as note:
                record(engine, config, note, stats, None)
            log = True
        if log:
            last_logged = time.monotonic()
        if not stats.claimed:
            STOPPING.wait(poll_seconds)


def alert_administrators(engine: Engine, config: Config, errors: list[str]) -> int:
    """Tell the finance bureau's performance office that messages were given up (once a day per address);
    the details stay in `kpiwatch outbox list --status failed` and the admin status page."""
    from sqlmodel import Session, col, select

    from monitor.store.models import Contact, Department
    from monitor.store.types import now

    day = now().date().isoformat()
    with Session(engine) as session:
        addresses = sorted({c.email.strip().lower() for c, _d in session.exec(
            select(Contact, Department).join(Department, col(Department.id) == Contact.department_id)
            .where(Department.is_finance_bureau == True, Contact.active == True,  # noqa: E712 - builds SQL; "is True" would not
                   col(Contact.role).in_(config.notifications.finance_roles))).all()})
        if not addresses:
            return 0
        text = ("kpiwatch 有邮件投递失败（收件服务器拒收，已停止重试）：\n\n" + "\n".join(f"- {e}" for e in errors[:50])
                + "\n\n请核对联系人邮箱后在门户“运行状态”页或用 `kpiwatch outbox retry` 重新发送。\n")
        messages = [outbox.NewMessage(f"alert|{a}|{day}", [a], f"【kpiwatch告警】{len(errors)}封邮件投递失败", text,
                                      kind="other", period=day) for a in addresses]
        queued = outbox.enqueue_many(session, messages, sender=config.smtp.sender)
        session.commit()
    return queued
