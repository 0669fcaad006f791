"""One evaluation run over the store (or one department), chunk by chunk, with its `EvaluationRun` row.

Each chunk is read, evaluated and written in its own transaction, so memory stays bounded by the chunk size
and a long run does not hold SQLite's write lock for the whole province. A run that fails part-way is
recorded as failed (with the error); chunks written before the failure keep their new states, each of them
complete.

Only one evaluation writes at a time: the store admits one `running` run (a partial unique index), the runner
keeps it alive with a heartbeat, and a second evaluation waits for it, or is refused after `wait_seconds`. Two
runs of the same day would otherwise both compare against the same previous states and record every change
twice. A run whose process was killed stops beating and is closed as failed by the next one.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from monitor.config import Config
from monitor.evaluation.load import Chunk, load_chunk, previous_states, project_chunks
from monitor.evaluation.load import department_id as find_department
from monitor.evaluation.write import write_states
from monitor.store.heartbeat import kept_alive, stale_before
from monitor.store.models.evaluation import EvaluationRun
from monitor.store.types import now
from rules.evaluation import evaluate

HOST = f"{socket.gethostname()}:{os.getpid()}"[:100]


class UnknownDepartment(LookupError):
    pass


class EvaluationBusy(RuntimeError):
    """Another evaluation kept the store for longer than this one was willing to wait."""

    def __init__(self, running: EvaluationRun, waited: float) -> None:
        self.running = running
        started = running.started_at.strftime("%Y-%m-%d %H:%M:%S") if running.started_at else "?"
        super().__init__(
            f"另一个评估正在运行（评估日期 {running.as_of}，{started} 开始，{running.host or '未知主机'}），"
            f"已等待 {waited:.0f} 秒；请稍后再试")


@dataclass
class RunSummary:
    as_of: date
    run_id: int | None
    indicators: int = 0
    projects: int = 0
    changes: int = 0
    rewritten: int = 0
    lights: dict[str, int] = field(default_factory=dict)
    project_lights: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    states: pd.DataFrame | None = None
    project_states: pd.DataFrame | None = None


def run_evaluation(
    engine: Engine,
    settings: Config,
    *,
    as_of: date,
    department: str | None = None,
    store: bool = True,
    collect: bool = False,
    chunk_projects: int | None = None,
) -> RunSummary:
    """Evaluate every project (or those of department code `department`) as of `as_of`.

    `store=False` computes without writing anything; `collect=True` also returns all states, with project,
    indicator and department names (for the CLI and the demo: keep it off for a whole province).
    """
    started = time.perf_counter()
    config = settings.evaluation
    dept_id = None
    if department is not None:
        dept_id = find_department(engine, department)
        if dept_id is None:
            raise UnknownDepartment(f"没有代码为 {department} 的部门 (unknown department code)")
    if not store:
        return _evaluate(engine, settings, as_of, dept_id, None, collect, chunk_projects, started)
    run_id = _open_run(engine, as_of, config.lease_seconds, config.wait_seconds)
    with kept_alive(engine, EvaluationRun, run_id, "heartbeat_at", lease_seconds=config.lease_seconds):
        return _evaluate(engine, settings, as_of, dept_id, run_id, collect, chunk_projects, started)


def _evaluate(engine: Engine, settings: Config, as_of: date, dept_id: int | None, run_id: int | None,
              collect: bool, chunk_projects: int | None, started: float) -> RunSummary:
    config = settings.evaluation
    summary = RunSummary(as_of=as_of, run_id=run_id)
    lights: Counter[str] = Counter()
    project_lights: Counter[str] = Counter()
    collected, collected_projects = [], []
    try:
        for lo, hi in project_chunks(engine, chunk_projects or config.chunk_projects, department_id=dept_id):
            with engine.begin() as conn:
                chunk = load_chunk(conn, lo, hi, halves=config.halves, department_id=dept_id, as_of=as_of)
                result = evaluate(projects=chunk.projects, indicators=chunk.indicators,
                                  occurrences=chunk.occurrences, reports=chunk.reports, spending=chunk.spending,
                                  adjustments=chunk.adjustments, as_of=as_of, settings=config)
                if run_id is not None:  # storing
                    previous = previous_states(conn, lo, hi, dept_id)
                    counts = write_states(conn, result.indicators, previous, result.projects, as_of=as_of,
                                          run_id=run_id)
                    summary.changes += counts["changes"]
                    summary.rewritten += counts["rewritten"]
            summary.indicators += len(result.indicators)
            summary.projects += len(result.projects)
            lights.update(result.indicators["light"].value_counts().to_dict())
            project_lights.update(result.projects["light"].value_counts().to_dict())
            if collect:
                collected.append(_named(result.indicators, chunk))
                collected_projects.append(result.projects.merge(
                    chunk.projects[["project_id", "project", "department_id", "department_code", "department"]],
                    on="project_id"))
    except BaseException as exc:
        if run_id is not None:
            _close_run(engine, run_id, "failed", summary, error=f"{type(exc).__name__}: {exc}")
        raise
    summary.lights = dict(lights)
    summary.project_lights = dict(project_lights)
    summary.seconds = time.perf_counter() - started
    if run_id is not None:
        _close_run(engine, run_id, "ok", summary)
    if collect:
        summary.states = pd.concat(collected, ignore_index=True) if collected else pd.DataFrame()
        summary.project_states = (pd.concat(collected_projects, ignore_index=True) if collected_projects
                                  else pd.DataFrame())
    return summary


def evaluate_project(conn: Connection, settings: Config, project_id: int, *, as_of: date,
                     through: int | None = None, only: Collection[int] | None = None) -> int:
    """Evaluate one project (or every project from `project_id` to `through`, or of those the ones in `only`) as
    of `as_of` on `conn`, in the caller's transaction; the number of changed lights.

    The same rules and the same writes as a run's chunk, for the project a person has just reported on, so the
    page they return to shows the light their report earned instead of yesterday's. No `EvaluationRun` row is
    written (its states carry no run): the daily run, and the staleness checks that read it, stay as they were.
    A set of projects costs about what one does (the rules work on whole tables), which is how the API
    re-evaluates the projects a burst of reports touched, wherever their ids lie.
    """
    config = settings.evaluation
    hi = project_id if through is None else through
    chunk = load_chunk(conn, project_id, hi, halves=config.halves, as_of=as_of, only=only)
    result = evaluate(projects=chunk.projects, indicators=chunk.indicators, occurrences=chunk.occurrences,
                      reports=chunk.reports, spending=chunk.spending, adjustments=chunk.adjustments, as_of=as_of,
                      settings=config)
    previous = previous_states(conn, project_id, hi, only=only)
    counts = write_states(conn, result.indicators, previous, result.projects, as_of=as_of, run_id=None)
    return counts["changes"]


def _named(states: pd.DataFrame, chunk: Chunk) -> pd.DataFrame:
    names = chunk.indicators[["indicator_id", "name", "level2"]].rename(columns={"name": "indicator"})
    return states.merge(names, on="indicator_id", how="left").merge(
        chunk.projects[["project_id", "project", "department_id", "department_code", "department"]],
        on="project_id", how="left")


def _open_run(engine: Engine, as_of: date, lease_seconds: float, wait_seconds: float) -> int:
    """Insert this run as the one `running` run, waiting while another holds that place."""
    waiting_since = time.monotonic()
    while True:
        close_abandoned_runs(engine, lease_seconds)
        try:
            with engine.begin() as conn:
                stamp = now()
                result = conn.execute(insert(EvaluationRun).values(
                    as_of=as_of, started_at=stamp, heartbeat_at=stamp, status="running", indicators=0, host=HOST))
                key = result.inserted_primary_key
                assert key is not None  # a single-row INSERT always reports its key
                return int(key[0])
        except IntegrityError:
            running = running_evaluation(engine)
            waited = time.monotonic() - waiting_since
            if waited >= wait_seconds and running is not None:
                raise EvaluationBusy(running, waited) from None
            time.sleep(min(1.0, max(wait_seconds - waited, 0.05)))


def running_evaluation(engine: Engine) -> EvaluationRun | None:
    """The evaluation that holds the store now, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(EvaluationRun).where(col(EvaluationRun.status) == "running")).first()
    return EvaluationRun.model_validate(row._mapping) if row is not None else None


def close_abandoned_runs(engine: Engine, lease_seconds: float) -> int:
    """Close as failed every running evaluation whose heartbeat stopped more than a lease ago; how many."""
    beat = func.coalesce(col(EvaluationRun.heartbeat_at), col(EvaluationRun.started_at))
    with engine.begin() as conn:
        closed = conn.execute(update(EvaluationRun).where(
            col(EvaluationRun.status) == "running", beat < stale_before(lease_seconds)).values(
            status="failed", finished_at=now(),
            error=f"评估进程中断：超过 {lease_seconds:g} 秒没有心跳 (no heartbeat: the process was interrupted)"))
    return closed.rowcount


def _close_run(engine: Engine, run_id: int, status: str, summary: RunSummary, error: str | None = None) -> None:
    counts = {"lights": dict(summary.lights), "project_lights": dict(summary.project_lights),
              "projects": summary.projects, "changes": summary.changes, "rewritten": summary.rewritten}
    with engine.begin() as conn:
        conn.execute(update(EvaluationRun).where(col(EvaluationRun.id) == run_id).values(
            finished_at=now(), status=status, indicators=summary.indicators, counts=counts, error=error))
