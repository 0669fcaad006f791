"""The scheduler process: APScheduler 3 with its job store in kpiwatch's own database.

- Jobs come from the registry (`monitor/scheduler/jobs.py`) and `[scheduler.cron]`; they are written to the
  persistent store so a restart knows when each job last ran and was due next.
- After downtime: the store still holds the missed next-run time, so the job fires once on start-up
  (coalesce=True folds every missed run into one; misfire_grace_seconds, default one day, bounds how late a
  run may still happen). A job whose schedule is unchanged keeps its stored next-run time for exactly this
  reason; only a changed schedule is replaced.
- Replicas: each runs its own scheduler against the same store; the lease in `runner.run_once` makes every
  scheduled run happen once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import time as clock

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.scheduler.jobs import JOBS, JobSpec
from monitor.scheduler.runner import cron_trigger, run_scheduled, set_runtime

log = logging.getLogger("kpiwatch.scheduler")
JOBSTORE_TABLE = "apscheduler_jobs"


class SchedulerConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PlannedJob:
    name: str
    target: str
    cron: str
    description: str


def planned_jobs(settings: Config, registry: list[JobSpec] | None = None) -> list[PlannedJob]:
    """What should be scheduled: registered jobs with their (possibly overridden) cron, plus any
    "module:function" job configured in [scheduler.cron]."""
    config = settings.scheduler
    registry = JOBS if registry is None else registry
    known = {spec.name: spec for spec in registry}
    out: list[PlannedJob] = []
    for spec in registry:
        cron = config.cron.get(spec.name, spec.cron if spec.cron is not None else _daily(config.evaluate_at))
        if cron.strip():
            out.append(PlannedJob(spec.name, spec.target, cron.strip(), spec.description))
    for name, cron in config.cron.items():
        if name in known:
            continue
        if ":" not in name:
            raise SchedulerConfigError(
                f"[scheduler.cron] {name}: 不是已登记的任务（已登记：{', '.join(known) or '无'}），"
                "也不是 'package.module:function'")
        if cron.strip():
            out.append(PlannedJob(name, name, cron.strip(), "配置文件中的任务"))
    for job in out:
        try:
            cron_trigger(job.cron, config.timezone)
        except ValueError as exc:
            raise SchedulerConfigError(f"[scheduler.cron] {job.name}: {exc}") from exc
    return out


def _daily(at: str) -> str:
    try:
        moment = clock.fromisoformat(at)
    except ValueError as exc:
        raise SchedulerConfigError(f"[scheduler] evaluate_at: 需要 HH:MM，得到 {at!r}") from exc
    return f"{moment.minute} {moment.hour} * * *"


def build_scheduler(settings: Config, engine: Engine) -> BackgroundScheduler:
    config = settings.scheduler
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": config.misfire_grace_seconds},
        timezone=config.timezone,
    )


def sync_jobs(scheduler: BackgroundScheduler, settings: Config, jobs: list[PlannedJob]) -> None:
    """Make the store hold exactly `jobs`, keeping the next-run time of every job whose schedule is unchanged."""
    tz = settings.scheduler.timezone
    wanted = {job.name: job for job in jobs}
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            try:
                scheduler.remove_job(stored.id)
            except JobLookupError:
                pass  # another replica removed it first
    for job in jobs:
        trigger = cron_trigger(job.cron, tz)
        args = (job.name, job.target, job.cron, tz)
        stored = scheduler.get_job(job.name)
        if stored is not None and str(stored.trigger) == str(trigger) and tuple(stored.args) == args:
            continue
        scheduler.add_job(run_scheduled, trigger=trigger, args=args, id=job.name, name=job.description,
                          replace_existing=True)


def start(settings: Config, engine: Engine, *, registry: list[JobSpec] | None = None) -> BackgroundScheduler:
    """Start the scheduler in background threads; returns it (call `.shutdown()` to stop)."""
    jobs = planned_jobs(settings, registry)
    set_runtime(settings, engine)
    scheduler = build_scheduler(settings, engine)
    scheduler.start(paused=True)
    sync_jobs(scheduler, settings, jobs)
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.info("任务 %s 下次运行：%s", job.id, job.next_run_time)
    return scheduler


def run_until_stopped(settings: Config, engine: Engine, *, seconds: float | None = None,
                      stop: threading.Event | None = None) -> None:
    """Run the scheduler in the foreground until Ctrl-C, `stop` is set, or `seconds` have passed."""
    scheduler = start(settings, engine)
    stop = stop or threading.Event()
    try:
        stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)
