"""The sending side of the outbox: claim due messages, hand them to the SMTP pool, record each verdict the
moment it arrives. One pass (`send_pending`) for the scheduler's "send" job and the CLI; `send_forever` for a
dedicated sender process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parseaddr
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine

from monitor.config import Config
from monitor.notify import outbox
from monitor.notify.joblog import job_run
from monitor.shutdown import STOPPING
from notifications.delivery import Outcome, Outgoing, Result, deliver


@dataclass
class SendStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, "sent": self.sent, "retrying": self.retrying, "failed": self.failed}


def send_pending(engine: Engine, config: Config, *, worker: str | None = None, max_messages: int | None = None,
                 log: bool = True) -> SendStats:
    """Send every due message once (claims in batches of `smtp.batch_size`), then return.

    Each verdict is committed on one kept-open connection before its SMTP connection takes the next
    message, so at most one accepted-but-unrecorded message per SMTP connection exists at any moment."""
    worker = worker or outbox.worker_name()
    stats = SendStats()
    claims: dict[int, outbox.Claimed] = {}
    envelope_from = parseaddr(config.smtp.sender)[1] or config.smtp.sender
    smtp = config.smtp

    def run(connection) -> None:
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

        asyncio.run(deliver(smtp, next_batch, on_result, password=config.smtp_password, stop=STOPPING.is_set))
        outbox.release(connection, claims.values())  # stopped mid-batch: what was never begun goes back

    if not log:
        with _autocommit(engine) as connection:
            run(connection)
        return stats
    with job_run(engine, "send") as note:
        with _autocommit(engine) as connection:
            run(connection)
        note.counts = stats.as_dict()
        if stats.failed:
            note.error = "\n".join(stats.errors[:20])
            note.counts["alerted"] = alert_administrators(engine, config, stats.errors)
    return stats


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
    """A dedicated sender: pass after pass, pausing when there was nothing to do. Passes that sent something
    are logged as JobRun rows, idle ones at most every `heartbeat_seconds`, so `kpiwatch status` sees a live
    sender without a row every few seconds."""
    worker = outbox.worker_name()
    last_logged = 0.0
    while not STOPPING.is_set():
        log = time.monotonic() - last_logged >= heartbeat_seconds
        stats = send_pending(engine, config, worker=worker, log=log)
        if stats.claimed and not log:
            with job_run(engine, "send") as note:
                note.counts = stats.as_dict()
                if stats.failed:
                    note.error = "\n".join(stats.errors[:20])
                    note.counts["alerted"] = alert_administrators(engine, config, stats.errors)
            log = True
        if log:
            last_logged = time.monotonic()
        if not stats.claimed:
            STOPPING.wait(poll_seconds)


def alert_administrators(engine: Engine, config: Config, errors: list[str]) -> int:
    """Tell the finance bureau's performance office that messages were given up (once a day per address);
    the details stay in `kpiwatch outbox list --status failed` and the admin status page."""
    from sqlmodel import Session, select

    from monitor.store.models import Contact, Department
    from monitor.store.types import now

    day = now().date().isoformat()
    with Session(engine) as session:
        addresses = sorted({c.email.strip().lower() for c, _d in session.exec(
            select(Contact, Department).join(Department, Department.id == Contact.department_id)
            .where(Department.is_finance_bureau == True, Contact.active == True,  # noqa: E712
                   Contact.role.in_(config.notifications.finance_roles))).all()})
        if not addresses:
            return 0
        text = ("kpiwatch 有邮件投递失败（收件服务器拒收，已停止重试）：\n\n" + "\n".join(f"- {e}" for e in errors[:50])
                + "\n\n请核对联系人邮箱后在门户“运行状态”页或用 `kpiwatch outbox retry` 重新发送。\n")
        messages = [outbox.NewMessage(f"alert|{a}|{day}", [a], f"【kpiwatch告警】{len(errors)}封邮件投递失败", text,
                                      kind="other", period=day) for a in addresses]
        queued = outbox.enqueue_many(session, messages, sender=config.smtp.sender)
        session.commit()
    return queued
