"""A report's project evaluated again right after the transaction that stored it, by the daily run's rules."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.config import Config
from monitor.evaluation import evaluate_project
from monitor.store.db import write_turn
from monitor.web.auth import today

log = logging.getLogger(__name__)
EVALUATION_SHARE = 0.25  # of the time, at most, that re-evaluations take while reports keep coming in


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


def reevaluate(request: Request, project_ids: Iterable[int]) -> None:
    """The projects' lights anew on the portal's today, so the page a clerk returns to after reporting shows the
    light their report earned, with its reason, instead of the one of the last scheduled run."""
    evaluate_projects(request.app.state.engine, request.app.state.settings, project_ids, today(request))


@dataclass
class _Waiting:
    """One event loop's projects waiting for evaluation, and the task evaluating them."""

    pending: dict[tuple[int, date], list[asyncio.Future[None]]] = field(default_factory=dict)
    worker: asyncio.Task[None] | None = None


class Reevaluations:
    """The API's re-evaluations, coalesced: requests that arrive while one batch is being evaluated wait for the
    next, and a project named by many of them is evaluated once for all.

    The API takes reports by the hundred per second (and batches their writes, monitor.store.group_commit); one
    evaluation per report would cost more than the report. The API answers first and hands its projects to `run`
    as a background task of the request (the answer carries no light); `run` returns once they were evaluated.
    The server runs one event loop; a test client runs one per request thread, so each loop has its own queue.

    Under a steady stream of reports the evaluations would otherwise follow one another without a pause and take
    a whole core from the posts they follow (one project costs tens of milliseconds of pandas, however few of
    its indicators changed). So after an evaluation, when more requests are already waiting, the next one waits
    until evaluating has taken no more than `share` of the time: a report is still re-evaluated within a few
    evaluations' time, and a lone report at once.
    """

    def __init__(self, engine: Engine, settings: Config, *, share: float = EVALUATION_SHARE) -> None:
        self.engine = engine
        self.settings = settings
        self.share = share
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    async def run(self, project_ids: Iterable[int], as_of: date) -> None:
        """Return once every project in `project_ids` was evaluated as of `as_of` after this call began."""
        loop = asyncio.get_running_loop()
        with self._lock:
            waiting = self._loops.setdefault(loop, _Waiting())
        waits = []
        for project_id in set(project_ids):
            done: asyncio.Future[None] = loop.create_future()
            waiting.pending.setdefault((project_id, as_of), []).append(done)
            waits.append(done)
        if not waits:
            return
        if waiting.worker is None or waiting.worker.done():
            waiting.worker = loop.create_task(self._drain(waiting))
        await asyncio.gather(*waits)

    async def _drain(self, waiting: _Waiting) -> None:
        while waiting.pending:
            batch, waiting.pending = waiting.pending, {}
            by_day: dict[date, list[int]] = {}
            for project_id, as_of in sorted(batch):
                by_day.setdefault(as_of, []).append(project_id)
            started = time.perf_counter()
            try:
                for as_of, projects in by_day.items():
                    await run_in_threadpool(evaluate_projects, self.engine, self.settings, projects, as_of)
            finally:
                for futures in batch.values():
                    for done in futures:
                        if not done.done():
                            done.set_result(None)
            if waiting.pending:
                await asyncio.sleep((time.perf_counter() - started) * (1 / self.share - 1))
