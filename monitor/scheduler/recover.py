"""Recovery: what a dead replica left behind is finished by a live one.

Runs every minute on every replica (the `recover` job; its own lease makes one replica do it per minute):
- a job lease neither finished nor renewed for `[scheduler] lease_seconds` is taken over (a compare-and-set on
  its attempt count, so two replicas never both take it), the `JobRun` it left `running` is closed as failed, and
  the job runs again for the same scheduled time; a run that has died `max_attempts` times, or whose time is
  older than `misfire_grace_seconds`, is given up instead, with a failed `JobRun` saying why;
- an evaluation left `running` without a heartbeat is closed as failed (the next evaluation would close it too,
  but `kpiwatch status` and the metrics should not show a dead run as running until then);
- finished leases older than `keep_leases_days` are deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from monitor.config import Config
from monitor.evaluation.run import close_abandoned_runs
from monitor.job_context import JobContext
from monitor.scheduler.runner import HOST, run_leased
from monitor.scheduler.service import planned_jobs
from monitor.store.heartbeat import stale_before
from monitor.store.models.jobs import JobLease, JobRun
from monitor.store.types import now
from monitor.store.uploads import prune_uploads

log = logging.getLogger("kpiwatch.scheduler")


def recover_job(ctx: JobContext) -> dict:
    """The scheduled entry point."""
    return recover(ctx.engine, ctx.settings)


def recover(engine: Engine, settings: Config) -> dict:
    """Take over abandoned runs, close dead evaluations, prune old leases and unconfirmed uploads; what was
    done, as counts."""
    config = settings.scheduler
    targets = {job.name: job.target for job in planned_jobs(settings)}
    counts = {"retried": 0, "given_up": 0, "evaluations_closed": 0, "pruned": 0, "uploads_dropped": 0}
    for lease in _abandoned(engine, config.lease_seconds):
        attempts = _take_over(engine, lease)
        if attempts is None:
            continue  # another replica took it first
        _close_left_running(engine, lease)
        target = targets.get(lease.job)
        too_old = lease.scheduled_at < now() - timedelta(seconds=config.misfire_grace_seconds)
        if target is None or too_old or attempts > config.max_attempts:
            why = ("任务已不在计划中" if target is None else
                   "计划时间已超过补跑期限" if too_old else f"已中断 {attempts - 1} 次")
            _give_up(engine, lease, f"放弃重跑：{why} (given up)")
            counts["given_up"] += 1
            continue
        log.warning("接管任务 %s（计划于 %s，原主机 %s），第 %s 次运行", lease.job, lease.scheduled_at.isoformat(),
                    lease.host, attempts)
        run_leased(engine, settings, lease_id=int(lease.id or 0), job=lease.job, target=target,
                   scheduled_at=lease.scheduled_at)
        counts["retried"] += 1
    counts["evaluations_closed"] = close_abandoned_runs(engine, settings.evaluation.lease_seconds)
    counts["pruned"] = _prune(engine, config.keep_leases_days)
    with engine.begin() as conn:
        counts["uploads_dropped"] = prune_uploads(conn, now())
    return counts


def _abandoned(engine: Engine, lease_seconds: float) -> list[JobLease]:
    stamp = func.coalesce(col(JobLease.renewed_at), col(JobLease.acquired_at))
    with engine.connect() as conn:
        rows = conn.execute(select(JobLease).where(col(JobLease.finished_at).is_(None),
                                                   stamp < stale_before(lease_seconds))
                            .order_by(col(JobLease.scheduled_at))).all()
    return [JobLease.model_validate(row._mapping) for row in rows]


def _take_over(engine: Engine, lease: JobLease) -> int | None:
    """Make this process the lease's holder; its new attempt count, or None if someone else moved first."""
    stamp = now()
    with engine.begin() as conn:
        taken = conn.execute(update(JobLease).where(
            col(JobLease.id) == lease.id, col(JobLease.attempts) == lease.attempts,
            col(JobLease.finished_at).is_(None)).values(
            host=HOST, acquired_at=stamp, renewed_at=stamp, attempts=lease.attempts + 1))
    return lease.attempts + 1 if taken.rowcount == 1 else None


def _close_left_running(engine: Engine, lease: JobLease) -> None:
    with engine.begin() as conn:
        conn.execute(update(JobRun).where(
            col(JobRun.job) == lease.job[:50], col(JobRun.scheduled_at) == lease.scheduled_at,
            col(JobRun.finished_at).is_(None)).values(
            finished_at=now(), ok=False,
            error=f"运行中断：{lease.host} 停止续约，由 {HOST} 接管 (the replica died mid-run)"))


def _give_up(engine: Engine, lease: JobLease, reason: str) -> None:
    stamp = now()
    with engine.begin() as conn:
        conn.execute(update(JobLease).where(col(JobLease.id) == lease.id).values(finished_at=stamp))
        conn.execute(insert(JobRun).values(job=lease.job[:50], started_at=stamp, finished_at=stamp, ok=False,
                                           scheduled_at=lease.scheduled_at, host=HOST, error=reason))
    log.error("任务 %s（计划于 %s）%s", lease.job, lease.scheduled_at.isoformat(), reason)


def _prune(engine: Engine, keep_days: int) -> int:
    with engine.begin() as conn:
        pruned = conn.execute(delete(JobLease).where(col(JobLease.finished_at).is_not(None),
                                                     col(JobLease.scheduled_at) < now() - timedelta(days=keep_days)))
    return pruned.rowcount
