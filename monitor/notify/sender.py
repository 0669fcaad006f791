"""The sending side of the outbox: claim due messages, hand them to the SMTP pool, record each verdict the
moment it arrives. One pass (`send_pending`) for the scheduler's "send" job and the CLI; `send_forever` for a
dedicated sender process.

A slow server does not cost attempts or make two senders send one message: a pass renews every claim it holds
each third of the lease while it sends, and right before a message goes to the server checks that its claim
still holds (renewing it first, and skipping the message if another sender has taken it, when less than a
third of the lease is known to be left: before the lease ends no other sender may take it).

When the server refuses kpiwatch's login the pass stops at once: every message it had claimed goes back to
pending as it was (no attempt counted), the pass is recorded as failed with the server's reply (what
`kpiwatch status` and the portal's 运行状态 page show), one ERROR line is logged, and `SendingStopped` is
raised, so the CLI exits non-zero. Mail to the bureau would meet the same refusal, so nothing is queued for
it. Later passes with the same login wait out a hold (`login_hold`) instead of failing at the server again.

Otherwise the finance bureau is told (`alert_administrators`) about messages given up, and once about a long
outage (`alert_outage`); `delivery_warnings` is what `kpiwatch status` says about both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import partial

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.notify import outbox
from monitor.notify.joblog import RunNote, job_run
from monitor.notify.login_hold import HOLDS, Hold
from monitor.shutdown import STOPPING
from monitor.store.models import Contact, Department
from monitor.store.models.notify import OutboxMessage
from monitor.store.types import now
from notifications.delivery import LoginRefused, Outcome, Outgoing, Result, deliver
from notifications.smtp import SmtpSettings

logger = logging.getLogger("kpiwatch.sender")
CLAIM_DEPTH = 8  # messages claimed per SMTP connection at a time


@dataclass
class SendStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    delayed: int = 0  # of those retrying: on the slow schedule of a long outage
    failed: int = 0
    kept: int = 0  # claimed, then handed back untried because the login was refused
    taken_over: int = 0  # claimed, then found in another sender's hands right before sending: left to it
    alerted: int = 0  # alert messages queued for the finance bureau
    errors: list[str] = field(default_factory=list)
    last_delay: str = ""  # the server's reply to the last message put on the slow schedule

    def as_dict(self) -> dict:
        counts = {"claimed": self.claimed, "sent": self.sent, "retrying": self.retrying, "failed": self.failed}
        for name in ("delayed", "kept", "taken_over", "alerted"):
            if getattr(self, name):
                counts[name] = getattr(self, name)
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
    """Send every due message once, then return; alerts for messages given up or long delayed are queued.

    Each verdict is committed on one kept-open connection before its SMTP connection takes the next
    message, so at most one accepted-but-unrecorded message per SMTP connection exists at any moment.
    Raises `SendingStopped` when the login is refused; with `log=False` the caller records the pass (the
    scheduler's runner logs and records the exception)."""
    worker = worker or outbox.worker_name()
    stats = SendStats()
    if not log:
        _send(engine, config, worker, max_messages, stats)
        _alert(engine, config, stats)
        return stats
    stopped: SendingStopped | None = None
    with job_run(engine, "send") as note:
        try:
            _send(engine, config, worker, max_messages, stats)
        except SendingStopped as exc:
            stopped = exc
        else:
            _alert(engine, config, stats)
        record(engine, config, note, stats, stopped)
    if stopped is not None:
        raise stopped
    return stats


def record(engine: Engine, config: Config, note: RunNote, stats: SendStats, stopped: SendingStopped | None) -> None:
    """Fill a pass's JobRun note: its counts (the alerts it queued among them) and its errors. A refused login
    is logged here, once per pass, at ERROR (a pass that only waited out a hold, at WARNING)."""
    note.counts = stats.as_dict()
    errors = stats.errors[:20]
    if stopped is not None:
        errors.insert(0, str(stopped))
        note.counts["login_refused"] = stopped.hold.reason
        logger.log(logging.ERROR if stopped.refused_now else logging.WARNING, "%s", stopped)
    if errors:
        note.error = "\n".join(errors)


def _send(engine: Engine, config: Config, worker: str, max_messages: int | None, stats: SendStats) -> None:
    smtp, password = config.smtp, config.smtp_password
    hold = HOLDS.current(smtp, password)
    if hold is not None:
        raise SendingStopped(hold, stats, refused_now=False)
    claims: dict[tuple[int, str], outbox.Claimed] = {}  # by (id, token): a lapsed claim taken again is another
    held: dict[tuple[int, str], float] = {}  # until when (time.monotonic()) each claim's lease surely holds
    envelope_from = parseaddr(smtp.sender)[1] or smtp.sender
    lease = smtp.claim_timeout_seconds

    with _autocommit(engine) as connection:
        def batch_limit() -> int:
            # A few messages per connection: enough that claiming costs little beside sending, few enough that
            # the rest stay free for other senders while a slow server keeps this one busy. The claims are
            # renewed while they wait (`_keep_leases`), so none lapses however slow the server.
            limit = min(smtp.batch_size, smtp.max_connections * CLAIM_DEPTH)
            return limit if max_messages is None else min(limit, max_messages - stats.claimed)

        def next_batch() -> list[Outgoing]:
            limit = batch_limit()
            if limit <= 0:
                return []
            asked = time.monotonic()
            return taken(outbox.claim(connection, worker=worker, limit=limit, lease_seconds=lease), asked)

        def taken(batch: list[outbox.Claimed], asked: float) -> list[Outgoing]:
            stats.claimed += len(batch)
            for item in batch:
                claims[(item.id, item.token)] = item
                held[(item.id, item.token)] = asked + lease
            return [Outgoing((item.id, item.token), envelope_from, item.recipients, item.raw.encode("utf-8"))
                    for item in batch]

        def still_ours(message: Outgoing) -> bool:
            """Whether the claim still holds right before sending: surely, while more than a third of its lease
            is left (no other sender may take it before the lease ends); otherwise it is renewed first, and a
            message another sender has taken meanwhile is left to it."""
            item = claims.get(message.key)
            if item is None:
                return False
            if held.get(message.key, 0.0) - time.monotonic() > lease / 3:
                return True
            asked = time.monotonic()
            if outbox.renew(connection, [item], lease_seconds=lease):
                held[message.key] = asked + lease
                return True
            held.pop(message.key, None)
            if claims.pop(message.key, None) is not None:
                stats.taken_over += 1
            return False

        def verdict_of(result: Result) -> outbox.Verdict:
            item = claims.pop(result.key)
            held.pop(result.key, None)
            return outbox.Verdict(item, result.outcome is Outcome.SENT, result.outcome is Outcome.PERMANENT,
                                  result.detail)

        def on_result(result: Result) -> None:
            verdict = verdict_of(result)
            (status,) = outbox.record_verdicts(connection, [verdict], smtp)
            count(verdict, status)

        def count(verdict: outbox.Verdict, status: str) -> None:
            item = verdict.claimed
            if status == "sent":
                stats.sent += 1
            elif status == "failed":
                stats.failed += 1
                stats.errors.append(f"#{item.id} {', '.join(item.recipients)}: {verdict.detail}")
            else:
                stats.retrying += 1
                if status == outbox.DELAYED:
                    stats.delayed += 1
                    stats.last_delay = verdict.detail

        def counted(verdict: outbox.Verdict, recorded: asyncio.Future[str]) -> None:
            if not recorded.cancelled() and recorded.exception() is None:
                count(verdict, recorded.result())

        async def run() -> None:
            keeper = asyncio.create_task(_keep_leases(connection, claims, held, lease))
            try:
                async with outbox.background_writers(engine, smtp) as writers:
                    async def next_batch_async() -> list[Outgoing]:
                        assert writers is not None  # only chosen when there are background writers
                        limit = batch_limit()
                        if limit <= 0:
                            return []
                        asked = time.monotonic()
                        return taken(await writers.claims.claim(worker=worker, limit=limit, lease_seconds=lease),
                                     asked)

                    def on_result_async(result: Result) -> asyncio.Future[str]:
                        assert writers is not None
                        verdict = verdict_of(result)
                        recorded = writers.verdicts.record(verdict)
                        recorded.add_done_callback(partial(counted, verdict))
                        return recorded

                    if writers is None:
                        await deliver(smtp, next_batch, on_result, password=password, stop=STOPPING.is_set,
                                      before_send=still_ours)
                    else:
                        await deliver(smtp, next_batch_async, on_result_async, password=password,
                                      stop=STOPPING.is_set, before_send=still_ours)
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper

        try:
            asyncio.run(run())
        except LoginRefused as exc:
            stats.kept = outbox.release(connection, list(claims.values()))
            hold = HOLDS.refused(smtp, password, exc.detail, base=smtp.backoff_base_seconds,
                                 cap=smtp.backoff_max_seconds)
            raise SendingStopped(hold, stats, refused_now=True) from exc
        outbox.release(connection, claims.values())  # stopped mid-batch: what was never begun goes back
    if stats.sent:
        HOLDS.cleared(smtp, password)


async def _keep_leases(connection: Connection, claims: dict[tuple[int, str], outbox.Claimed],
                       held: dict[tuple[int, str], float], lease: float) -> None:
    """Renew every claim the pass holds each third of the lease, so none lapses while its message waits for a
    connection or a slow server takes its time, and note until when each surely holds (a claim found taken holds
    no longer); runs on the pass's one thread, between its SMTP exchanges."""
    while True:
        await asyncio.sleep(lease / 3)
        asked = time.monotonic()
        try:
            kept = outbox.renew(connection, list(claims.values()), lease_seconds=lease)
        except Exception:  # the database is unreachable: the verdicts will fail and stop the pass
            logger.warning("could not renew the outbox claims", exc_info=True)
            continue
        for key in claims:
            held[key] = asked + lease if key in kept else 0.0


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


def _alert(engine: Engine, config: Config, stats: SendStats) -> None:
    if stats.failed:
        stats.alerted += alert_administrators(engine, config, stats.errors)
    if stats.delayed:
        smtp = config.smtp
        logger.warning("%d messages still not delivered after the %d attempts of the fast schedule (%s); retrying "
                       "every %d s until they are %d h old", stats.delayed, smtp.max_attempts, stats.last_delay,
                       smtp.outage_retry_seconds, smtp.give_up_after_hours)
        stats.alerted += alert_outage(engine, config)


def _bureau_addresses(session: Session, config: Config) -> list[str]:
    """The finance bureau's performance office: its active contacts in `notifications.finance_roles`."""
    return sorted({c.email.strip().lower() for c, _d in session.exec(
        select(Contact, Department).join(Department, col(Department.id) == Contact.department_id)
        .where(Department.is_finance_bureau == True, Contact.active == True,  # noqa: E712 - builds SQL; "is True" would not
               col(Contact.role).in_(config.notifications.finance_roles))).all()})


def _queue_alert(session: Session, config: Config, key: str, subject: str, text: str) -> int:
    day = now().date().isoformat()
    messages = [outbox.NewMessage(f"{key}|{a}|{day}", [a], subject, text, kind="other", period=day)
                for a in _bureau_addresses(session, config)]
    queued = outbox.enqueue_many(session, messages, sender=config.smtp.sender) if messages else 0
    session.commit()
    return queued


def alert_administrators(engine: Engine, config: Config, errors: list[str]) -> int:
    """Tell the finance bureau's performance office that messages were given up (once a day per address);
    the details stay in `kpiwatch outbox list --status failed` and the admin status page."""
    give_up = config.smtp.give_up_after_hours
    text = (f"kpiwatch 有邮件投递失败（收件服务器拒收，或超过{give_up}小时仍未送出），已停止重试：\n\n"
            + "\n".join(f"- {e}" for e in errors[:50])
            + "\n\n请核对联系人邮箱后在门户“运行状态”页或用 `kpiwatch outbox retry` 重新发送。\n")
    with Session(engine) as session:
        return _queue_alert(session, config, "alert", f"【kpiwatch告警】{len(errors)}封邮件投递失败", text)


_OUTAGE_ALERT = "outage"


def alert_outage(engine: Engine, config: Config) -> int:
    """Tell the finance bureau once that mail has not gone out for long (messages on the slow schedule): at most
    once a day, and not while an earlier such alert still waits to go out. During an outage of the server it
    waits with the rest and arrives when the server is back, so it says what happened, not what to do now."""
    smtp = config.smtp
    delayed = outbox.backlog(engine, status="pending", min_attempts=smtp.max_attempts)
    if not delayed.count:
        return 0
    with Session(engine) as session:
        waiting = session.exec(select(OutboxMessage.id).where(
            col(OutboxMessage.dedup_key).startswith(f"{_OUTAGE_ALERT}|"),
            col(OutboxMessage.status).in_(("pending", "sending"))).limit(1)).first()
        if waiting is not None:
            return 0
        text = (f"kpiwatch 的邮件发不出去：{delayed.count}封邮件已尝试{smtp.max_attempts}次仍未送出"
                f"（最早一封{delayed.oldest:%Y-%m-%d %H:%M}入发件箱），最近一次错误：{delayed.last_error[:300]}\n\n"
                f"kpiwatch 继续每{_span(smtp.outage_retry_seconds)}重试一次，邮件服务器恢复后自动发出，无需操作；"
                f"入发件箱超过{smtp.give_up_after_hours}小时仍未送出的邮件将放弃。"
                f"`kpiwatch status` 显示当前情况。\n")
        subject = f"【kpiwatch告警】邮件投递中断，{delayed.count}封邮件待重试"
        return _queue_alert(session, config, _OUTAGE_ALERT, subject, text)


def delivery_warnings(bind: Engine | Connection, smtp: SmtpSettings) -> list[str]:
    """What `kpiwatch status` says about mail that does not go out: messages retried on the slow schedule of a
    long outage, and messages given up (refused by the server, or too old)."""
    warnings = []
    delayed = outbox.backlog(bind, status="pending", min_attempts=smtp.max_attempts)
    if delayed.count:
        warnings.append(f"{delayed.count}封邮件已尝试{smtp.max_attempts}次仍未送出"
                        f"（最早一封{delayed.oldest:%Y-%m-%d %H:%M}入发件箱），"
                        f"每{_span(smtp.outage_retry_seconds)}重试一次，超过{smtp.give_up_after_hours}小时放弃；"
                        f"最近错误：{delayed.last_error[:200]}")
    failed = outbox.backlog(bind, status="failed")
    if failed.count:
        warnings.append(f"{failed.count}封邮件投递失败、已放弃"
                        f"（收件服务器拒收，或超过{smtp.give_up_after_hours}小时未送出）；"
                        f"最近错误：{failed.last_error[:200]}；核对后用 `kpiwatch outbox retry` 重新发送")
    return warnings


def _span(seconds: int) -> str:
    return f"{seconds // 60}分钟" if seconds >= 60 and seconds % 60 == 0 else f"{seconds}秒"
