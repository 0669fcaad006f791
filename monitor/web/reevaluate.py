"""A report's project evaluated again right after the transaction that stored it, by the daily run's rules."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
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


def evaluate_projects(engine: Engine, settings: Config, project_ids: Iterable[int], as_of: date) -> None:
    """Each project's lights anew as of `as_of`, each in its own short transaction.

    Called after the report's transaction committed: what was stored stays stored if this fails, and the next
    scheduled run then brings the light up to date.
    """
    for project_id in project_ids:
        try:
            with Session(engine) as session, write_turn(session):
                evaluate_project(session.connection(), settings, project_id, as_of=as_of)
                session.commit()
        except Exception:
            log.exception("re-evaluating project %s after a report failed; the next evaluation run catches up",
                          project_id)


def reevaluate(request: Request, project_ids: Iterable[int]) -> None:
    """The projects' lights anew on the portal's today, so the page a clerk returns to after reporting shows the
    light their report earned, with its reason, instead of the one of the last scheduled run."""
    evaluate_projects(request.app.state.engine, request.app.state.settings, project_ids, today(request))


class Reevaluations:
    """The API's re-evaluations, coalesced: requests that arrive while one batch is being evaluated wait for the
    next, and a project named by many of them is evaluated once for all.

    The API takes reports by the hundred per second (and batches their writes, monitor.store.group_commit); one
    evaluation per report would cost more than the report. Each request still answers only after its own
    projects were evaluated, so its answer and the next GET agree with what it stored.
    """

    def __init__(self, engine: Engine, settings: Config) -> None:
        self.engine = engine
        self.settings = settings
        self._pending: dict[tuple[int, date], list[asyncio.Future[None]]] = {}
        self._worker: asyncio.Task[None] | None = None

    async def run(self, project_ids: Iterable[int], as_of: date) -> None:
        """Return once every project in `project_ids` was evaluated as of `as_of` after this call began."""
        loop = asyncio.get_running_loop()
        waits = []
        for project_id in set(project_ids):
            done: asyncio.Future[None] = loop.create_future()
            self._pending.setdefault((project_id, as_of), []).append(done)
            waits.append(done)
        if not waits:
            return
        # A worker of another event loop (a test client starts one per request) will never run here.
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._worker = loop.create_task(self._drain())
        await asyncio.gather(*waits)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = {key: [f for f in waiting if f.get_loop() is loop] for key, waiting in self._pending.items()}
            self._pending = {}
            by_day: dict[date, list[int]] = {}
            for project_id, as_of in sorted(batch):
                by_day.setdefault(as_of, []).append(project_id)
            try:
                for as_of, projects in by_day.items():
                    await run_in_threadpool(evaluate_projects, self.engine, self.settings, projects, as_of)
            finally:
                for waiting in batch.values():
                    for done in waiting:
                        if not done.done():
                            done.set_result(None)
