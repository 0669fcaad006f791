"""Is this kpiwatch fit to serve? One answer for `/readyz` (a load balancer) and `kpiwatch status` (a person).

Three checks, each with a reason a person can act on:
- store: the database answers;
- schema: it is at the migrations' head, the schema this code was written for (`kpiwatch db upgrade` fixes it);
- scheduler: when `[scheduler] enabled`, some scheduler is alive on this store. A live scheduler moves every
  job's next-run time forward as it fires it (APScheduler's job store, `apscheduler_jobs`), so a next-run time
  long past means no scheduler is running anywhere, whichever replica was meant to run it.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from monitor.config import Config
from monitor.store.migrate import MIGRATIONS
from monitor.store.models import SchedulerJob
from monitor.store.types import now

log = logging.getLogger("kpiwatch.readiness")

# A due job not picked up this long after its time: no scheduler is running. Firing takes a live scheduler
# well under a second (the job may then run for long: only its start is timed).
SCHEDULER_LAG_LIMIT_SECONDS = 300


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def store_usable(self) -> bool:
        """The store answers with the expected schema, so its tables can be read."""
        return all(check.ok for check in self.checks if check.name in ("store", "schema"))

    def as_dict(self) -> dict:
        return {"status": "ready" if self.ready else "not ready",
                "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks}}


@functools.cache
def schema_heads() -> frozenset[str]:
    """The newest revision(s) among the migrations shipped with this code."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def job_lags(connection: Connection, at: datetime) -> dict[str, float]:
    """Seconds each scheduled job is past its next-run time (0 when not yet due); paused jobs are left out."""
    rows = connection.execute(select(col(SchedulerJob.id), col(SchedulerJob.next_run_time))
                              .where(col(SchedulerJob.next_run_time).is_not(None))).all()
    return {job: max(0.0, at.timestamp() - next_run) for job, next_run in rows if next_run is not None}


def readiness(engine: Engine, settings: Config, *, at: datetime | None = None) -> Readiness:
    """Check the store, its schema and the scheduler's heartbeat (see the module's docstring)."""
    at = at or now()
    try:
        with engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
            schema = _schema_check(current)
            if not schema.ok:
                scheduler = Check("scheduler", False, "not checked: the schema is not current")
            else:
                scheduler = _scheduler_check(connection, settings, at)
    except SQLAlchemyError as exc:
        log.warning("readiness: the store is unreachable: %s", exc)
        return Readiness((Check("store", False, f"unreachable ({type(exc).__name__})"),
                          Check("schema", False, "not checked: the store is unreachable"),
                          Check("scheduler", False, "not checked: the store is unreachable")))
    return Readiness((Check("store", True, f"reachable ({engine.dialect.name})"), schema, scheduler))


def _schema_check(current: frozenset[str]) -> Check:
    heads = schema_heads()
    if current == heads:
        return Check("schema", True, f"at {', '.join(sorted(heads))}")
    if not current:
        return Check("schema", False, "empty store: run `kpiwatch db upgrade`")
    return Check("schema", False, f"at {', '.join(sorted(current))}, this version needs {', '.join(sorted(heads))}: "
                                  "run `kpiwatch db upgrade`")


def _scheduler_check(connection: Connection, settings: Config, at: datetime) -> Check:
    if not settings.scheduler.enabled:
        return Check("scheduler", True, "not expected ([scheduler] enabled = false)")
    lags = job_lags(connection, at)
    if not lags:
        return Check("scheduler", False, "no scheduler has started on this store "
                                         "(`kpiwatch scheduler`, or `kpiwatch serve` with its scheduler)")
    job, lag = max(lags.items(), key=lambda item: item[1])
    if lag > SCHEDULER_LAG_LIMIT_SECONDS:
        return Check("scheduler", False, f"job {job} is {lag:.0f} s overdue: no scheduler is running")
    return Check("scheduler", True, f"running ({len(lags)} jobs, none overdue)")
