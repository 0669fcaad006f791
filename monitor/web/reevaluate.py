"""A report's project evaluated again right after the transaction that stored it, by the daily run's rules."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable
from concurrent.futures import Future
from datetime import date

from fastapi import FastAPI, Request
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.evaluation.projects import EvaluationProcess, evaluate_projects
from monitor.web.auth import today

log = logging.getLogger(__name__)
EVALUATION_SHARE = 0.25  # of the time, at most, that re-evaluations take while reports keep coming in
ELSEWHERE = EvaluationProcess()  # this server process's evaluator of the API's reports on PostgreSQL
IDLE_SECONDS = 60  # after which the evaluating thread ends, until the next report
_EVERY: weakref.WeakSet[Reevaluations] = weakref.WeakSet()


def reevaluate(request: Request, project_ids: Iterable[int]) -> None:
    """The projects' lights anew on the portal's today, so the page a clerk returns to after reporting shows the
    light their report earned, with its reason, instead of the one of the last scheduled run."""
    evaluate_projects(request.app.state.engine, request.app.state.settings, project_ids, today(request))


def reevaluations(app: FastAPI) -> Reevaluations:
    """The app's one coalescing re-evaluator of the API's reports, made on first use."""
    if getattr(app.state, "reevaluations", None) is None:
        app.state.reevaluations = Reevaluations(app.state.engine, app.state.settings)
    return app.state.reevaluations


def settle_all(timeout: float | None = None) -> bool:
    """Wait until every re-evaluator of this process has evaluated what it was given (before a store is emptied
    or dropped, say); False if `timeout` seconds passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for each in list(_EVERY):
        if not each.settled(None if deadline is None else max(0.0, deadline - time.monotonic())):
            return False
    return True


def prepare(app: FastAPI) -> Future[int] | None:
    """As the server starts (`kpiwatch serve`, the API benchmark's workers): on PostgreSQL, the evaluation process
    started now, beside the first requests, rather than by the first report; the future of its pid.

    Not waited for: portal pages and health checks are answered meanwhile. Should the process fail to start,
    the first report starts another, and evaluates in the server should that fail too."""
    if app.state.engine.dialect.name != "postgresql":
        return None
    try:
        started = ELSEWHERE.start()
    except Exception as exc:
        _not_started(exc)
        return None
    started.add_done_callback(_check_started)
    return started


def _check_started(started: Future[int]) -> None:
    if started.cancelled():  # the server stopped first
        return
    exc = started.exception()
    if exc is not None:
        _not_started(exc)


def _not_started(exc: BaseException) -> None:
    ELSEWHERE.discard_if_broken(exc)
    log.warning("the evaluation process did not start (%s: %s)", type(exc).__name__, exc)


def stop(app: FastAPI) -> None:
    """At the app's shutdown: what the API's reports are waiting for evaluated, then the evaluators stopped."""
    if getattr(app.state, "reevaluations", None) is not None:
        app.state.reevaluations.close()
    ELSEWHERE.close()


class Reevaluations:
    """The API's re-evaluations, coalesced: projects named while one batch is being evaluated wait for the next,
    and a project named by many reports is evaluated once for all of them.

    The API takes reports by the hundred per second (and batches their writes, monitor.store.group_commit); one
    evaluation per report would cost more than the report. The API answers first (the answer carries no light)
    and `submit`s its projects; one thread of the server takes what is waiting, evaluates it, and takes the next.
    A request does not wait for its evaluation: kept open until then, hundreds of answered requests stayed
    alive at once, and the garbage collector's full passes over them grew to 300 ms pauses of the whole server
    (bench/README.md, "Session 9"). `settled` waits for the queue to empty, for whoever must see the light.

    On PostgreSQL the evaluations run in a process of their own (`ELSEWHERE`), niced: in the server's process
    each project's 100-odd milliseconds of pandas held the interpreter, and every request arriving meanwhile
    waited. SQLite evaluates in the server's process, whose write turn already orders its writers (a second
    process would wait on SQLite's file lock instead, polling); should the child die, its batch is evaluated here.

    Under a steady stream of reports the evaluations would otherwise follow one another without a pause and take
    a whole core from the posts they follow (one project costs tens of milliseconds of pandas, however few of
    its indicators changed). So after an evaluation, when more projects are already waiting, the next one waits
    until evaluating has taken no more than `share` of the time: a report is still re-evaluated within a few
    evaluations' time, and a lone report at once.
    """

    def __init__(self, engine: Engine, settings: Config, *, share: float = EVALUATION_SHARE) -> None:
        self.engine = engine
        self.settings = settings
        self.share = share
        self._pending: set[tuple[int, date]] = set()
        self._busy = False
        self._stopping = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        _EVERY.add(self)

    def submit(self, project_ids: Iterable[int], as_of: date) -> None:
        """Have the projects evaluated as of `as_of` soon, after everything submitted before."""
        with self._changed:
            self._pending.update((project_id, as_of) for project_id in project_ids)
            if not self._pending:
                return
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._loop, name="kpiwatch-reevaluations", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def settled(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far was evaluated; False if `timeout` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self) -> None:
        """Evaluate what is waiting (without the pause between evaluations), then stop the thread (a later
        `submit` starts another)."""
        with self._changed:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._changed.notify_all()
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._stopping, IDLE_SECONDS)
                if not self._pending:  # stopping, or idle: a later `submit` starts another thread
                    if self._thread is threading.current_thread():
                        self._thread = None
                    return
                batch, self._pending = self._pending, set()
                self._busy = True
            started = time.perf_counter()
            try:
                self._evaluate(batch)
            except Exception:  # the thread goes on: the next scheduled run brings these lights up to date
                log.exception("re-evaluating %d projects after API reports failed", len(batch))
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
                    more = bool(self._pending) and not self._stopping
            if more:  # the pause ends early when the app stops: what is waiting is evaluated at once
                pause = (time.perf_counter() - started) * (1 / self.share - 1)
                with self._changed:
                    self._changed.wait_for(lambda: self._stopping, pause)

    def _evaluate(self, batch: set[tuple[int, date]]) -> None:
        by_day: dict[date, list[int]] = {}
        for project_id, as_of in sorted(batch):
            by_day.setdefault(as_of, []).append(project_id)
        for as_of, projects in by_day.items():
            if self.engine.dialect.name == "postgresql":
                url = self.engine.url.render_as_string(hide_password=False)
                try:
                    ELSEWHERE.submit(url, self.settings, projects, as_of).result()
                    continue
                except Exception as exc:  # the child died: this batch is evaluated here, the next starts another
                    ELSEWHERE.discard_if_broken(exc)
                    log.warning("the evaluation process failed (%s: %s); evaluating projects %s in the server",
                                type(exc).__name__, exc, ", ".join(map(str, projects[:20])))
            evaluate_projects(self.engine, self.settings, projects, as_of)
