"""Group commit: write jobs from concurrent requests run on one thread, many to a transaction.

SQLite takes one writer at a time, so concurrent API writes queue anyway. Run one per transaction and
each pays for BEGIN IMMEDIATE, a commit and a session of its own, which under load cost as much as the
write itself. PostgreSQL takes concurrent writers, but each transaction there pays a commit that waits
for its WAL flush, a pool checkout and the round trips of reading the same tokens and indicators again;
batched, those are shared. On PostgreSQL each server process has its own writer thread, so several
processes write side by side. The writer thread takes every job waiting in the queue (in arrival order, up to
`max_batch`) and commits them together. A job that raises gets its exception and leaves nothing behind;
its neighbours still commit. A caller learns its outcome only after the commit, so a job reported as
stored is stored.

If the commit itself fails (a full disk, a deferred constraint), nothing of the batch is stored and each
job is run again in a transaction of its own, so the failure lands on the job that causes it and not on
its neighbours. If the write lock cannot be had at all (another process held it past the busy timeout), or no
connection to the database, no job has run and every job of the batch gets that error at once; running them
again one by one would only wait out the same failure once per job.

A job's class may define `prepare_batch(session, jobs)`: it is called once per batch with all the jobs
of that class, before any of them runs, so that what each would read alone (a token's user, an
indicator's target) is read for all of them in one query. It may also define `finish_batch(session, jobs)`,
called with the jobs of that class that succeeded, after the last job and before the commit, so that what
each would write alone (an audit event) is written for all of them in one statement.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from monitor.store.db import write_turn

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Session], T]


@dataclass
class _Item:
    job: Job
    future: Future = field(default_factory=Future)


_STOP = object()
KEEP_SECONDS = 1.0  # how long the writer keeps its connection between batches


class _NoWriteTurn(Exception):
    """No connection, or BEGIN IMMEDIATE failed: the batch never started (its cause is what the callers get)."""


class GroupCommit:
    """One writer thread for `engine`; `await run(job)` from the event loop, `submit(job)` from anywhere.

    A job receives the batch's session, must not commit or roll back itself, and returns what its caller
    gets (built before the commit: objects stay loaded, `expire_on_commit` is off).
    """

    def __init__(self, engine: Engine, *, max_batch: int = 64, name: str = "kpiwatch-group-commit") -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._name = name
        self._kept: Connection | None = None  # the writer thread's connection between batches in quick succession
        self._kept_since = 0.0  # time.monotonic() when its last batch ended
        self._committing = False  # whether the batch under way has reached its COMMIT
        self.batches = 0  # for tests and diagnostics: how many transactions the jobs so far took

    def submit(self, job: Job) -> Future:
        item = _Item(job)
        self._ensure_thread()
        self._queue.put(item)
        return item.future

    async def run(self, job: Job[T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def close(self) -> None:
        """Finish the jobs already queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            self._release()

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            batch = [item for item in batch if item.future.set_running_or_notify_cancel()]
            if batch:
                self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Item]) -> None:
        try:
            outcomes = self._transaction(batch)
        except _NoWriteTurn as exc:
            for item in batch:
                item.future.set_exception(exc.__cause__)
            return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.info("a group of %d writes is rolled back (%s: %s); running each alone", len(batch),
                     type(exc).__name__, exc)
            for item in batch:
                self._run_batch([item])
            return
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)

    def _transaction(self, batch: list[_Item]) -> list[tuple[bool, Any]]:
        """Run `batch` in one transaction; raise (rolling all of it back) if that cannot be done cleanly.

        On SQLite a job that raises without having changed a row (a refused report, a bad token) costs its
        neighbours nothing: its exception is its outcome. A job that raises after writing is undone by
        rolling back the whole transaction, and `_run_batch` runs every job again on its own. Counting
        changed rows (`total_changes`) instead of a SAVEPOINT per job saves a fifth of the cost of a report.
        PostgreSQL has no such count (and a failed statement spoils the transaction), so there any job that
        raises in a batch of several sends the batch down that second path: refusals are rare, and the
        posts that are not refused pay no SAVEPOINT round trips.
        """
        outcomes: list[tuple[bool, Any]] = []
        for _ in range(2):
            try:
                connection, reused = self._connection()
            except Exception as exc:  # the database is unreachable: each job alone would wait out the same failure
                raise _NoWriteTurn from exc
            try:
                self._batch_on(connection, batch, outcomes)
            except BaseException as exc:
                self._release()  # back to the pool, which ends whatever the failure left open
                if not (reused and _lost(exc) and not self._committing):
                    raise
                # The server had dropped the kept connection (a restart, an idle timeout) and nothing of the batch
                # was stored: it runs again on a connection the pool has just pinged, as it would have without
                # keeping one (that one is not kept, so a second failure is raised).
                outcomes.clear()
                continue
            self._kept_since = time.monotonic()
            return outcomes
        raise AssertionError("unreachable")

    def _connection(self) -> tuple[Connection, bool]:
        """The connection the last batch used, if it ended less than `KEEP_SECONDS` ago, else one from the pool;
        and whether it is the kept one.

        Checked out of the pool, a PostgreSQL connection is first pinged (one round trip, so that a connection
        the server dropped while it sat idle is replaced): under load that was one of the writer's ten waits on
        the server a batch. A connection in use a moment ago is not pinged; one idle for longer goes back to the
        pool and the next batch takes a pinged one."""
        kept = self._kept
        if kept is not None and not kept.invalidated and time.monotonic() - self._kept_since < KEEP_SECONDS:
            return kept, True
        self._release()
        self._kept = self.engine.connect()
        return self._kept, False

    def _release(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()

    def _batch_on(self, connection: Connection, batch: list[_Item], outcomes: list[tuple[bool, Any]]) -> None:
        self._committing = False
        with Session(connection, expire_on_commit=False) as session, ExitStack() as turn:
            try:
                turn.enter_context(write_turn(session))
            except Exception as exc:
                raise _NoWriteTurn from exc
            driver = session.connection().connection.driver_connection
            assert driver is not None  # None only once the pool has invalidated it, and such a one is not kept
            sqlite = driver if session.get_bind().dialect.name == "sqlite" else None
            _each_kind(session, [item.job for item in batch], "prepare_batch")
            for item in batch:
                changes = sqlite.total_changes if sqlite is not None else 0
                try:
                    outcomes.append((True, item.job(session)))
                except Exception as exc:
                    if len(batch) == 1 or sqlite is None or sqlite.total_changes != changes or session.new \
                            or session.dirty or session.deleted:
                        raise
                    outcomes.append((False, exc))
            _each_kind(session, [item.job for item, (ok, _) in zip(batch, outcomes, strict=True) if ok],
                       "finish_batch")
            self._committing = True
            session.commit()
            self.batches += 1


def _lost(exc: BaseException) -> bool:
    """Whether `exc` is the database connection found dead (SQLAlchemy marks such errors `connection_invalidated`)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _each_kind(session: Session, jobs: list[Job], hook: str) -> None:
    """Call the class method `hook` (`prepare_batch`, `finish_batch`) of each kind of job that has it, once, with
    that kind's jobs."""
    by_kind: dict[type, list[Job]] = {}
    for job in jobs:
        by_kind.setdefault(type(job), []).append(job)
    for kind, same in by_kind.items():
        method = getattr(kind, hook, None)
        if method is not None:
            method(session, same)
