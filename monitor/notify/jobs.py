"""Scheduled jobs (registered in `monitor/scheduler/jobs.py`): the runner logs each run as a JobRun, so these
call the unlogged cores and return their counts (the notify counts carry `as_of`, which the catch-up logic
reads back)."""

from __future__ import annotations

from monitor.job_context import JobContext
from monitor.notify.compose import run_notify
from monitor.notify.sender import SendingStopped, send_pending


def notify(ctx: JobContext) -> dict:
    _plan, counts = run_notify(ctx.engine, ctx.settings, ctx.as_of, log=False)
    try:
        counts.update(send_pending(ctx.engine, ctx.settings, log=False).as_dict())
    except SendingStopped as stopped:  # the digests are queued: a failed notify run would mean a catch-up
        counts.update(stopped.stats.as_dict(), send_stopped=str(stopped))
    return counts


def send(ctx: JobContext) -> dict:
    return send_pending(ctx.engine, ctx.settings, log=False).as_dict()
