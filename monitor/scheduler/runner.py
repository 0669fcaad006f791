"""Run one scheduled run of a job: take the lease, log a `JobRun`, call the job, record how it ended.

APScheduler 3 does not tell a job which run time it was fired for, so the scheduled time is recomputed from
the job's own cron trigger: the latest fire time at or before now. With coalescing that is exactly the run
being executed (also for a catch-up after downtime), and every replica computes the same instant, which makes
(job, scheduled time) a key replicas can race for: the first `JobLease` insert wins, the others hit the
unique constraint and skip.

The winner keeps its lease alive while the job runs (`monitor/store/heartbeat.py`) and finishes it when the job
ends, well or badly. A lease left unfinished and unrenewed belongs to a replica that died mid-run; the recovery
job (`monitor/scheduler/recover.py`) takes it over and runs the job again through `run_leased`.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from monitor.config import Config
from monitor.job_context import JobContext
from monitor.store.heartbeat import kept_alive
from monitor.store.models.jobs import JobLease, JobRun
from monitor.store.types import now

log = logging.getLogger("kpiwatch.scheduler")
HOST = f"{socket.gethostname()}:{os.getpid()}"[:100]


class _Runtime(TypedDict, total=False):
    settings: Config
    engine: Engine


# Set by the process that runs the scheduler: jobs run in its threads and use its engine and settings.
_runtime: _Runtime = {}


def set_runtime(settings: Config, engine: Engine) -> None:
    _runtime["settings"] = settings
    _runtime["engine"] = engine


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A trigger from a 5-field (minute first) or 6-field (second first) cron expression."""
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow,
                           timezone=ZoneInfo(timezone))
    raise ValueError(f"cron 表达式需要5或6个字段：{expression!r}")


def latest_fire_time(trigger: CronTrigger, moment: datetime) -> datetime | None:
    """The last time `trigger` fired at or before `moment` (looking back at most 400 days).

    Asked of the trigger itself rather than of croniter's `get_prev`: APScheduler 3 reads a crontab its own way
    (weekday 0 is Monday, a day and a weekday must both match, seconds come first in 6 fields) and `get_prev`
    skips a fire time equal to `moment`, so croniter would name runs the trigger never fired."""
    back = 1
    while back <= 400 * 86400:
        fire = trigger.get_next_fire_time(None, moment - timedelta(seconds=back))
        if fire is not None and fire <= moment:
            last = fire
            while True:
                nxt = trigger.get_next_fire_time(last, last + timedelta(microseconds=1))
                if nxt is None or nxt > moment:
                    return last
                last = nxt
        back *= 2
    return None


def resolve(target: str) -> Callable[[JobContext], dict | None]:
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"任务目标应写成 'package.module:function'：{target!r}")
    return getattr(importlib.import_module(module), name)


def run_scheduled(job: str, target: str, cron: str, timezone: str) -> str:
    """The function APScheduler calls (by reference, so the persistent store can hold it)."""
    trigger = cron_trigger(cron, timezone)
    scheduled_at = latest_fire_time(trigger, datetime.now(ZoneInfo(timezone)))
    if scheduled_at is None:
        scheduled_at = datetime.now(ZoneInfo(timezone)).replace(microsecond=0)
    settings = _runtime["settings"]
    engine = _runtime["engine"]
    return run_once(engine, settings, job=job, target=target, scheduled_at=scheduled_at)


def run_once(engine: Engine, settings: Config, *, job: str, target: str, scheduled_at: datetime) -> str:
    """Run `job` for `scheduled_at` unless another replica already has: "ran", "failed" or "skipped"."""
    lease_id = acquire_lease(engine, job, scheduled_at)
    if lease_id is None:
        log.info("任务 %s（计划于 %s）已由其他实例执行，跳过", job, scheduled_at.isoformat())
        print(f"skipped {job} {scheduled_at.isoformat()} on {HOST}", flush=True)
        return "skipped"
    return run_leased(engine, settings, lease_id=lease_id, job=job, target=target, scheduled_at=scheduled_at)


def run_leased(engine: Engine, settings: Config, *, lease_id: int, job: str, target: str,
               scheduled_at: datetime) -> str:
    """Run `job` under the lease this process holds: log a `JobRun`, keep the lease alive, finish it at the end."""
    with engine.begin() as conn:
        key = conn.execute(insert(JobRun).values(job=job[:50], started_at=now(), scheduled_at=scheduled_at,
                                                 host=HOST)).inserted_primary_key
    assert key is not None  # a single-row insert always reports its key
    run_id = key[0]
    try:
        with kept_alive(engine, JobLease, lease_id, "renewed_at", lease_seconds=settings.scheduler.lease_seconds):
            counts = resolve(target)(JobContext(settings=settings, engine=engine, job=job,
                                                scheduled_at=scheduled_at))
    except Exception as exc:
        log.exception("任务 %s 失败", job)
        with engine.begin() as conn:
            conn.execute(update(JobRun).where(col(JobRun.id) == run_id).values(
                finished_at=now(), ok=False, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            _finish(conn, lease_id)
        return "failed"
    with engine.begin() as conn:
        conn.execute(update(JobRun).where(col(JobRun.id) == run_id).values(
            finished_at=now(), ok=True, counts=_jsonable(counts)))
        _finish(conn, lease_id)
    print(f"ran {job} {scheduled_at.isoformat()} on {HOST}", flush=True)
    return "ran"


def acquire_lease(engine: Engine, job: str, scheduled_at: datetime) -> int | None:
    """The id of the new lease on (`job`, `scheduled_at`), or None when another replica holds it."""
    try:
        with engine.begin() as conn:
            stamp = now()
            key = conn.execute(insert(JobLease).values(job=job[:200], scheduled_at=scheduled_at, acquired_at=stamp,
                                                       renewed_at=stamp, host=HOST)).inserted_primary_key
    except IntegrityError:
        return None
    assert key is not None  # a single-row insert always reports its key
    return int(key[0])


def _finish(conn: Connection, lease_id: int) -> None:
    conn.execute(update(JobLease).where(col(JobLease.id) == lease_id).values(finished_at=now()))


def _jsonable(counts) -> dict | None:
    if counts is None:
        return None
    if not isinstance(counts, dict):
        return {"result": str(counts)}
    import json

    return json.loads(json.dumps(counts, default=str))
