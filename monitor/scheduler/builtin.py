"""Jobs that come with the scheduler itself."""

from __future__ import annotations

from monitor.evaluation import run_evaluation
from monitor.job_context import JobContext


def daily_evaluation(ctx: JobContext) -> dict:
    """Evaluate the whole store as of the scheduled day, so notifications and reports see fresh lights."""
    summary = run_evaluation(ctx.engine, ctx.settings, as_of=ctx.as_of)
    return {"run_id": summary.run_id, "indicators": summary.indicators, "projects": summary.projects,
            "changes": summary.changes, "lights": summary.lights}
