"""The outbox: every message is stored (with a unique deduplication key) before it is sent, and marked
sent right after the SMTP server accepted it.

Delivery guarantee, exactly:
- Nothing is lost. A message is committed to `outboxmessage` before any attempt; a crash at any point
  leaves it `pending` (not yet claimed) or `sending` (claimed), and a `sending` row whose lease
  (`smtp.claim_timeout_seconds`) has run out is claimed again by the next sender.
- Never built twice: `dedup_key` (kind | recipient | period) is unique, and enqueueing an existing key does
  nothing, so re-running a day's notify job or two schedulers racing cannot queue a second copy.
- Never claimed twice: on PostgreSQL the claim is `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`;
  on SQLite the same single UPDATE runs under the database's one write lock, so two senders never get
  the same row while its lease holds.
- Never sent by two senders at once: a sender hands a message to the SMTP server only after `renew` has
  extended its claim in one fenced UPDATE (same claim token, still `sending`); a message another sender has
  taken meanwhile is left to it, untried and uncounted. While a message is being sent its sender renews the
  lease every third of it, so it does not lapse however slow the server is.
- What can repeat: only a message the SMTP server accepted whose `sent` mark was not committed, i.e. a
  sender killed (or its database connection lost) between the server's 250 reply and the commit of the
  mark, which follows it immediately. One sender has at most one such message per connection
  (`smtp.max_connections`: a connection may send the next message's envelope while that mark is being
  committed, but not its content, at whose end the server accepts it), so a kill -9 repeats at most that
  many messages, each exactly once more, with the same Message-ID (clients that fold duplicates by
  Message-ID show it once). The same bound holds for
  the one other case: a sender whose renewals cannot reach the database for a whole lease while its SMTP
  transactions still run (a frozen process, a lost database connection), whose in-flight messages another
  sender may then send again; and it assumes the senders' clocks agree to well within the lease.
- Transient failures are retried with backoff for `smtp.max_attempts` attempts, then every
  `smtp.outage_retry_seconds` until the message is `smtp.give_up_after_hours` old (`next_delay`); only then,
  or at once on a permanent (5xx) refusal, is it `failed`.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from functools import partial
from pathlib import Path
from queue import SimpleQueue

from sqlalchemy import Table, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from monitor.store.bulk import insert_rows
from monitor.store.models.notify import OutboxMessage
from monitor.store.rows import table_of
from monitor.store.types import Instant, now
from notifications.mime import Attachment, build_message, sender_domain
from notifications.smtp import SmtpSettings

TABLE: Table = table_of(OutboxMessage)
_COPIED_FROM = 20  # rows: smaller batches (an alert, one escalation) are inserted
_INSTANT = Instant()


def _sql(statement: str, *instants: str):
    """Text SQL whose instant parameters go through the same type as the columns (SQLite stores text)."""
    return text(statement).bindparams(*(bindparam(name, type_=_INSTANT) for name in instants))


def _default_sender() -> str:
    from monitor.config import load_config

    return load_config().smtp.sender


def _attachment(item: Attachment | tuple | Path) -> Attachment:
    if isinstance(item, Attachment):
        return item
    if isinstance(item, Path):
        return Attachment(item.name, item.read_bytes(), _guess_type(item.name))
    filename, content, *rest = item
    return Attachment(filename, content, rest[0] if rest else _guess_type(filename))


def _guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@dataclass(frozen=True)
class NewMessage:
    dedup_key: str
    recipients: Sequence[str]
    subject: str
    text: str
    html: str | None = None
    attachments: Sequence[Attachment | tuple | Path] = ()
    kind: str = "other"
    period: str = ""
    department_id: int | None = None


def _row(message: NewMessage, sender: str, at: datetime, list_unsubscribe: str) -> dict:
    if not message.recipients:
        raise ValueError(f"outbox message {message.dedup_key!r} has no recipients")
    message_id = make_msgid(idstring=uuid.uuid4().hex[:12], domain=sender_domain(sender))
    email = build_message(sender=sender, recipients=message.recipients, subject=message.subject, text=message.text,
                          html=message.html, date=at, message_id=message_id,
                          attachments=[_attachment(a) for a in message.attachments],
                          list_unsubscribe=list_unsubscribe)
    return {
        "dedup_key": message.dedup_key, "kind": message.kind, "period": message.period,
        "recipients": "\n".join(message.recipients), "subject": message.subject, "message_id": message_id,
        "raw": email, "department_id": message.department_id, "status": "pending", "attempts": 0,
        "next_attempt_at": at, "created_at": at,
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> int:
    """Insert the rows whose `dedup_key` is new; returns how many.

    On PostgreSQL a batch (a day's digests) is copied in instead, which costs half the CPU of the INSERT: psycopg
    parses a statement of thousands of parameters anew for every batch. The keys already queued are left out
    first; should another writer queue one of the rest meanwhile (two schedulers racing), the copy is undone to
    its savepoint and the INSERT skips that key."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(rows) >= _COPIED_FROM:
        queued = set(session.execute(select(TABLE.c.dedup_key).where(
            TABLE.c.dedup_key.in_([row["dedup_key"] for row in rows]))).scalars())
        rows = [row for row in rows if row["dedup_key"] not in queued]
        try:
            with session.begin_nested():
                insert_rows(session, TABLE, rows)
            return len(rows)
        except IntegrityError:
            pass
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(TABLE).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(TABLE.c.id)
    return len(session.execute(statement, rows).all())


def enqueue(session: Session, *, dedup_key: str, recipients: Sequence[str], subject: str, text: str,
            html: str | None = None, attachments: Sequence[Attachment | tuple | Path] = (), kind: str = "other",
            period: str = "", department_id: int | None = None, sender: str | None = None,
            list_unsubscribe: str = "") -> bool:
    """Queue one message in the caller's transaction; True if queued, False if `dedup_key` already exists.

    Attachments are `notifications.mime.Attachment`, a path, or `(filename, bytes[, content_type])`.
    Nothing is sent until the caller commits and a sender runs (`kpiwatch outbox send` or the "send" job).
    """
    return enqueue_many(session, [NewMessage(dedup_key, recipients, subject, text, html, attachments, kind, period,
                                             department_id)], sender=sender, list_unsubscribe=list_unsubscribe) == 1


def enqueue_many(session: Session, messages: Iterable[NewMessage], *, sender: str | None = None,
                 list_unsubscribe: str = "") -> int:
    """Queue many messages with one INSERT … ON CONFLICT DO NOTHING; returns how many were new."""
    sender = sender or _default_sender()
    at = now()
    keys = set()
    rows = []
    for message in messages:
        if message.dedup_key in keys:
            continue
        keys.add(message.dedup_key)
        rows.append(_row(message, sender, at, list_unsubscribe))
    return _insert_ignoring_duplicates(session, rows)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    recipients: list[str]
    raw: str
    attempts: int
    created_at: datetime


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A transaction on an engine (fresh pooled connection) or on a connection the caller keeps open."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            yield connection
    else:
        with bind.begin():
            yield bind


# The first term is the partial index's own predicate, so both stores' planners read the claim from it.
_DUE = ("status IN ('pending', 'sending') AND ((status = 'pending' AND next_attempt_at <= :now) OR "
        "(status = 'sending' AND lease_until < :now))")
_CLAIM_SET = "SET status = 'sending', claimed_by = :token, lease_until = :lease, attempts = attempts + 1"
_RETURNED = "id, recipients, raw, attempts, created_at"
# PostgreSQL: a CTE runs once; an IN (subquery … SKIP LOCKED) may be re-run by the planner and pick extra rows.
_CLAIM_POSTGRESQL = (
    f"WITH picked AS MATERIALIZED (SELECT id FROM outboxmessage WHERE {_DUE} ORDER BY id LIMIT :limit "
    f"FOR UPDATE SKIP LOCKED) UPDATE outboxmessage {_CLAIM_SET} FROM picked WHERE outboxmessage.id = picked.id "
    f"RETURNING {', '.join(f'outboxmessage.{column}' for column in _RETURNED.split(', '))}")


def claim(bind: Engine | Connection, *, worker: str, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to `limit` due messages (pending and due, or sending with a lapsed lease) for this worker."""
    at = now()
    token = f"{worker}:{uuid.uuid4().hex[:8]}"
    params = {"token": token, "lease": at + timedelta(seconds=lease_seconds), "now": at, "limit": limit}
    due, claim_set, returned = _DUE, _CLAIM_SET, _RETURNED
    if bind.dialect.name == "postgresql":
        sql = _CLAIM_POSTGRESQL
    else:
        # SQLite: one UPDATE statement holds the database's single write lock from selection to change.
        sql = (f"UPDATE outboxmessage {claim_set} WHERE id IN (SELECT id FROM outboxmessage WHERE {due} "
               f"ORDER BY id LIMIT :limit) RETURNING {returned}")
    statement = _sql(sql, "lease", "now").columns(created_at=_INSTANT)
    with _transaction(bind) as connection:
        rows = connection.execute(statement, params).all()
    return sorted((Claimed(r.id, token, r.recipients.split("\n"), r.raw, r.attempts, r.created_at) for r in rows),
                  key=lambda c: c.id)


def renew(bind: Engine | Connection, claims: Iterable[Claimed], *, lease_seconds: float) -> set[tuple[int, str]]:
    """Extend the lease of these claims where they still hold, in one UPDATE; returns the (id, token) pairs
    that do. A claim holds while the message is `sending` under its token, even past its lease if no other
    sender has claimed it since; so a sender that renews a message right before handing it to the server
    never sends one another sender holds, and a slow server costs no attempt."""
    claimed = list(claims)
    if not claimed:
        return set()
    statement = _sql("UPDATE outboxmessage SET lease_until = :lease WHERE status = 'sending' AND id IN :ids "
                     "AND claimed_by IN :tokens RETURNING id, claimed_by", "lease").bindparams(
        bindparam("ids", expanding=True), bindparam("tokens", expanding=True))
    wanted = {(c.id, c.token) for c in claimed}
    with _transaction(bind) as connection:
        rows = connection.execute(statement, {"lease": now() + timedelta(seconds=lease_seconds),
                                              "ids": sorted({c.id for c in claimed}),
                                              "tokens": sorted({c.token for c in claimed})}).all()
    return {(r.id, r.claimed_by) for r in rows} & wanted


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    return min(cap, base * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Verdict:
    claimed: Claimed
    sent: bool
    permanent: bool = False
    detail: str = ""


def next_delay(attempts: int, age: timedelta, smtp: SmtpSettings) -> float | None:
    """Seconds until a message that failed temporarily for the `attempts`-th time is tried again, or None to
    give it up. Backoff for `smtp.max_attempts` attempts (about two hours with the defaults), then, so that a
    long outage of the server does not fail every message for good, every `smtp.outage_retry_seconds` until
    the message is `smtp.give_up_after_hours` old."""
    if attempts < smtp.max_attempts:
        return backoff_seconds(attempts, smtp.backoff_base_seconds, smtp.backoff_max_seconds)
    if age < timedelta(hours=smtp.give_up_after_hours):
        return smtp.outage_retry_seconds
    return None


DELAYED = "delayed"  # a status `record_verdicts` reports: pending again, on the slow schedule of a long outage

_SENT = _sql("UPDATE outboxmessage SET status = 'sent', sent_at = :at, lease_until = NULL, last_error = :detail "
             "WHERE id = :id", "at")
_ALL_SENT = _sql("UPDATE outboxmessage SET status = 'sent', sent_at = :at, lease_until = NULL, last_error = NULL "
                 "WHERE id IN :ids", "at").bindparams(bindparam("ids", expanding=True))
_FAILED = _sql("UPDATE outboxmessage SET status = :status, next_attempt_at = :next, lease_until = NULL, "
               "last_error = :detail WHERE id = :id AND claimed_by = :token AND status = 'sending'", "next")


def record_verdicts(bind: Engine | Connection, verdicts: Sequence[Verdict], smtp: SmtpSettings) -> list[str]:
    """Record several servers' verdicts in one transaction (group commit); returns each message's new status
    (`sent`, `pending`, `failed`, or `DELAYED` for pending on the slow schedule).

    Sent is a fact whoever holds the claim, so that mark is not fenced by the claim token; a failure goes back
    to pending with a later next attempt (`next_delay`), or to failed for good (permanent, or given up), and
    only while this claim still holds the message. The sender waits for this commit before a connection sends
    its next message, so batching changes nothing about what can repeat."""
    statuses, sent, failed = _verdict_rows(verdicts, smtp)
    with _transaction(bind) as connection:
        # One row is one statement: a list, even of one, is run as executemany, a pipeline that costs more; so are
        # several sent marks without a detail (every recipient accepted), the common case.
        if len(sent) > 1 and not any(row["detail"] for row in sent):
            connection.execute(_ALL_SENT, {"at": sent[0]["at"], "ids": [row["id"] for row in sent]})
        elif sent:
            connection.execute(_SENT, sent[0] if len(sent) == 1 else sent)
        if failed:
            connection.execute(_FAILED, failed[0] if len(failed) == 1 else failed)
    return statuses


def _verdict_rows(verdicts: Sequence[Verdict], smtp: SmtpSettings) -> tuple[list[str], list[dict], list[dict]]:
    """(each message's new status, the rows marked sent, the rows put back or failed) of `record_verdicts`."""
    at = now()
    sent = [{"at": at, "detail": v.detail or None, "id": v.claimed.id} for v in verdicts if v.sent]
    statuses = []
    failed = []
    for verdict in verdicts:
        if verdict.sent:
            statuses.append("sent")
            continue
        claimed = verdict.claimed
        delay = None if verdict.permanent else next_delay(claimed.attempts, at - claimed.created_at, smtp)
        status = "failed" if delay is None else "pending"
        statuses.append(DELAYED if status == "pending" and claimed.attempts >= smtp.max_attempts else status)
        failed.append({"status": status, "next": at + timedelta(seconds=delay or 0), "detail": verdict.detail[:2000],
                       "id": claimed.id, "token": claimed.token})
    return statuses, sent, failed


class VerdictWriter:
    """PostgreSQL: verdicts recorded from the sender's event loop without stopping it, by a thread of their own
    on a connection of their own (autocommit), with `record_verdicts` itself.

    Written on the event loop's blocking connection, every verdict held up all SMTP connections for its round
    trip and commit; psycopg's asyncio connection avoided that but cost about 0.3 ms of CPU a statement in the
    event loop's bookkeeping, four times what the blocking driver costs, which on two cores shared with the SMTP
    server made that the sender's largest cost. The thread takes every verdict waiting in its queue, commits them
    together (group commit) and wakes the event loop once for all of them. `record` resolves only once its
    verdict is committed, and the sender's connection waits for it before taking its next message, so what can
    repeat after a crash is unchanged: at most one message per connection. Commits are synchronous as everywhere
    else.
    """

    def __init__(self, connection: Connection, smtp: SmtpSettings) -> None:
        self.connection = connection
        self.smtp = smtp
        self.writes = 0  # for tests and diagnostics: how many commits the verdicts so far took
        self._loop = asyncio.get_running_loop()
        self._queue: SimpleQueue[tuple[Verdict, asyncio.Future[str]] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="kpiwatch-verdicts", daemon=True)
        self._thread.start()

    def record(self, verdict: Verdict) -> asyncio.Future[str]:
        """Commit `verdict`: a future of its message's new status, as `record_verdicts` returns it."""
        done: asyncio.Future[str] = self._loop.create_future()
        self._queue.put((verdict, done))
        return done

    def close(self) -> None:
        """Wait for the verdicts already handed over to be committed, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _write(self) -> None:
        while True:
            batch: list[tuple[Verdict, asyncio.Future[str]]] = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                if self._queue.empty():
                    break
                item = self._queue.get()
            if batch:
                try:
                    statuses: list[str] | BaseException = record_verdicts(
                        self.connection, [verdict for verdict, _ in batch], self.smtp)
                    self.writes += 1
                except Exception as exc:  # each waiting sender gets the database's error
                    statuses = exc
                self._loop.call_soon_threadsafe(_settle, [done for _, done in batch], statuses)
            if item is None:
                return


def _settle(waiting: list[asyncio.Future[str]], statuses: list[str] | BaseException) -> None:
    for index, done in enumerate(waiting):
        if done.done():
            continue
        if isinstance(statuses, BaseException):
            done.set_exception(statuses)
        else:
            done.set_result(statuses[index])


class BackgroundClaims:
    """PostgreSQL: claims taken from the sender's event loop without stopping it, by a thread of their own on a
    connection of their own, with `claim` itself.

    A claim returns whole messages (a batch of digests is some hundreds of kilobytes); taken on the event loop's
    blocking connection, every SMTP connection stood still until it arrived. Here they keep sending meanwhile."""

    def __init__(self, connection: Connection, thread: Executor) -> None:
        self.connection = connection
        self.thread = thread

    async def claim(self, *, worker: str, limit: int, lease_seconds: float) -> list[Claimed]:
        """`claim` on this connection."""
        return await asyncio.get_running_loop().run_in_executor(
            self.thread, partial(claim, self.connection, worker=worker, limit=limit, lease_seconds=lease_seconds))


@dataclass(frozen=True)
class BackgroundWriters:
    """The sender's own connections on PostgreSQL, each with its thread: one for verdicts, one for claims."""

    verdicts: VerdictWriter
    claims: BackgroundClaims


@asynccontextmanager
async def background_writers(engine: Engine, smtp: SmtpSettings) -> AsyncIterator[BackgroundWriters | None]:
    """`VerdictWriter` and `BackgroundClaims`, each on its own autocommitting connection to `engine`'s PostgreSQL
    database and its own thread, closed afterwards; None on other stores (SQLite's writes are local and short:
    the sender makes them on its own connection)."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    # Exits run in reverse: each thread has finished its last statement before its connection closes.
    with engine.connect() as verdicts, engine.connect() as claims, \
            ThreadPoolExecutor(1, "kpiwatch-claims") as claim_thread:
        writer = VerdictWriter(verdicts.execution_options(isolation_level="AUTOCOMMIT"), smtp)
        try:
            yield BackgroundWriters(writer, BackgroundClaims(claims.execution_options(isolation_level="AUTOCOMMIT"),
                                                             claim_thread))
        finally:
            writer.close()


def release(bind: Engine | Connection, claims: Iterable[Claimed]) -> int:
    """Hand back claimed messages that were never handed to the SMTP server (a sender stopping, or a run the
    server refused to log in): pending and due again at once, the claim's attempt not counted, instead of
    waiting out the lease; returns how many."""
    claimed = list(claims)
    released = 0
    with _transaction(bind) as connection:
        for token in sorted({c.token for c in claimed}):
            statement = text("UPDATE outboxmessage SET status = 'pending', attempts = attempts - 1, claimed_by = NULL, "
                             "lease_until = NULL WHERE claimed_by = :token AND status = 'sending' AND id IN :ids"
                             ).bindparams(bindparam("ids", expanding=True))
            ids = [c.id for c in claimed if c.token == token]
            released += connection.execute(statement, {"token": token, "ids": ids}).rowcount
    return released


def retry(engine: Engine, ids: Sequence[int] | None = None) -> int:
    """Put failed messages (all, or the given ids) back in the queue with fresh attempts."""
    where = "status = 'failed'" if ids is None else "status IN ('failed', 'pending') AND id IN :ids"
    statement = _sql(f"UPDATE outboxmessage SET status = 'pending', attempts = 0, next_attempt_at = :at, "
                     f"claimed_by = NULL, lease_until = NULL WHERE {where}", "at")
    params: dict = {"at": now()}
    if ids is not None:
        statement = statement.bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(ids)
    with engine.begin() as connection:
        return connection.execute(statement, params).rowcount


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, COUNT(*) FROM outboxmessage GROUP BY status")).all()
    return {status: n for status, n in rows}


@dataclass(frozen=True)
class Backlog:
    """Messages in one kind of trouble: how many, since when (the oldest one's creation), and the latest error."""

    count: int
    oldest: datetime | None = None
    last_error: str = ""


def backlog(bind: Engine | Connection, *, status: str, min_attempts: int = 0) -> Backlog:
    """The messages in `status` with at least `min_attempts` attempts: `failed`, or `pending` with
    `smtp.max_attempts` for those on the slow schedule of a long outage."""
    where = (TABLE.c.status == status, TABLE.c.attempts >= min_attempts)
    with _transaction(bind) as connection:
        count, oldest = connection.execute(select(func.count(), func.min(TABLE.c.created_at)).where(*where)).one()
        if not count:
            return Backlog(0)
        last_error = connection.execute(select(TABLE.c.last_error).where(*where)
                                        .order_by(TABLE.c.next_attempt_at.desc(), TABLE.c.id.desc()).limit(1)).scalar()
    return Backlog(count, oldest, last_error or "")
