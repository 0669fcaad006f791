"""Projects evaluated again between scheduled runs (after a report), in the caller's process or in one of their own.

A server evaluates the project a report touched so the next page shows the light it earned. The rules are
pandas work that holds the interpreter for tens of milliseconds per project (120 ms for a project of 250
indicators); run in the server's process, every request that arrives meanwhile waits for it, which set the API's
p99 on PostgreSQL (bench/README.md, "Session 9"). `EvaluationProcess` runs them in a process of its own, which
the operating system shares the cores with by preemption, so the requests go on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from monitor.config import Config
from monitor.evaluation.run import evaluate_project
from monitor.store.db import make_engine, write_turn

log = logging.getLogger(__name__)
NICENESS = 10  # the child's: when the cores are busy, the requests it follows go first


def evaluate_projects(engine: Engine, settings: Config, project_ids: Iterable[int], as_of: date) -> None:
    """The projects' lights anew as of `as_of`, all of them in one evaluation and one short transaction (the
    rules cost about the same for one project as for fifty, wherever their ids lie), no project outside
    `project_ids`.

    Called after the report's transaction committed: what was stored stays stored if this fails, and the next
    scheduled run then brings the light up to date.
    """
    ids = sorted(set(project_ids))
    if not ids:
        return
    try:
        with Session(engine) as session, write_turn(session):
            evaluate_project(session.connection(), settings, ids[0], as_of=as_of, through=ids[-1], only=ids)
            session.commit()
    except Exception:
        log.exception("re-evaluating projects %s after a report failed; the next evaluation run catches up",
                      ", ".join(map(str, ids[:20])))


class EvaluationProcess:
    """One child process that evaluates projects for this process, started on first use.

    The child opens the store by URL and keeps no connection between evaluations (no idle sessions held on the
    server, a database can be dropped once its server stops). It ignores Ctrl-C, which the terminal sends to the
    whole process group: the parent decides when to stop, with `close` (the app's shutdown), and a child whose
    parent is gone without closing it (killed, or a worker process that ends with `os._exit`, as uvicorn's and
    multiprocessing's do, skipping the executor's own exit hook) exits within a second. A child that dies (killed,
    out of memory) fails the evaluation it had; the next one starts a new child (`submit` raises
    `BrokenProcessPool` once, for the caller to evaluate that batch itself).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> Future[int]:
        """Start the child now; the future's result, its pid, comes once it has imported the evaluation (pandas
        and all).

        Started by the first report instead, the child's second of imports lands on the cores just as reports
        start coming in, and the first seconds' answers after a restart under load wait for it (their p99 was
        the run's, bench/README.md, "Session 12")."""
        return self._in_child(os.getpid)

    def submit(self, url: str, settings: Config, project_ids: list[int], as_of: date) -> Future[int]:
        """Evaluate in the child; the future's result is the child's pid."""
        return self._in_child(_evaluate_in_child, url, settings, project_ids, as_of)

    def _in_child(self, call: Callable[..., int], *args: object) -> Future[int]:
        """`call(*args)` in the child, started first if there is none; a child found dead is forgotten."""
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_child_started, initargs=(os.getpid(),))
            pool = self._pool
        try:
            return pool.submit(call, *args)
        except BrokenProcessPool:
            self._discard(pool)
            raise

    def discard_if_broken(self, exc: BaseException) -> None:
        """After a future failed with `exc`: forget a child that died, so the next evaluation starts another."""
        if isinstance(exc, BrokenProcessPool):
            with self._lock:
                pool = self._pool
            if pool is not None:
                self._discard(pool)

    def close(self) -> None:
        """Stop the child once its evaluations in hand are done (a later `submit` starts another)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


def _child_started(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    threading.Thread(target=_exit_with, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)  # an evaluation in hand is rolled back with its connection; the next run catches up


_CHILD_ENGINE: dict[str, Engine] = {}  # the child's engine, by URL: one store at a time


def _evaluate_in_child(url: str, settings: Config, project_ids: list[int], as_of: date) -> int:
    engine = _CHILD_ENGINE.get(url)
    if engine is None:
        _CHILD_ENGINE.clear()
        engine = _CHILD_ENGINE[url] = make_engine(url, poolclass=NullPool)
    evaluate_projects(engine, settings, project_ids, as_of)
    return os.getpid()
