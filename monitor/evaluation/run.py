"""One evaluation run over the store (or one department), chunk by chunk, with its `EvaluationRun` row.

Each chunk is read, evaluated and written in its own transaction, so memory stays bounded by the chunk size
and a long run does not hold SQLite's write lock for the whole province. A run that fails part-way is
recorded as failed (with the error); chunks written before the failure keep their new states, each of them
complete.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from monitor.config import Config
from monitor.evaluation.load import Chunk, load_chunk, previous_states, project_chunks
from monitor.evaluation.load import department_id as find_department
from monitor.evaluation.write import write_states
from monitor.store.models.evaluation import EvaluationRun
from monitor.store.types import now
from rules.evaluation import evaluate


class UnknownDepartment(LookupError):
    pass


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
    run_id = _open_run(engine, as_of) if store else None
    summary = RunSummary(as_of=as_of, run_id=run_id)
    lights: Counter[str] = Counter()
    project_lights: Counter[str] = Counter()
    collected, collected_projects = [], []
    try:
        for lo, hi in project_chunks(engine, chunk_projects or config.chunk_projects, department_id=dept_id):
            with engine.begin() as conn:
                chunk = load_chunk(conn, lo, hi, halves=config.halves, department_id=dept_id)
                result = evaluate(projects=chunk.projects, indicators=chunk.indicators,
                                  occurrences=chunk.occurrences, reports=chunk.reports, spending=chunk.spending,
                                  adjustments=chunk.adjustments, as_of=as_of, settings=config)
                if run_id is not None:  # storing
                    previous = previous_states(conn, lo, hi, dept_id)
                    counts = write_states(conn, result.indicators, previous, result.projects, as_of=as_of,
                                          run_id=run_id, lo=lo, hi=hi, department_id=dept_id)
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


def _named(states: pd.DataFrame, chunk: Chunk) -> pd.DataFrame:
    names = chunk.indicators[["indicator_id", "name", "level2"]].rename(columns={"name": "indicator"})
    return states.merge(names, on="indicator_id", how="left").merge(
        chunk.projects[["project_id", "project", "department_id", "department_code", "department"]],
        on="project_id", how="left")


def _open_run(engine: Engine, as_of: date) -> int:
    with engine.begin() as conn:
        result = conn.execute(insert(EvaluationRun).values(as_of=as_of, started_at=now(), status="running",
                                                           indicators=0))
        key = result.inserted_primary_key
        assert key is not None  # a single-row INSERT always reports its key
        return int(key[0])


def _close_run(engine: Engine, run_id: int, status: str, summary: RunSummary, error: str | None = None) -> None:
    counts = {"lights": dict(summary.lights), "project_lights": dict(summary.project_lights),
              "projects": summary.projects, "changes": summary.changes, "rewritten": summary.rewritten}
    with engine.begin() as conn:
        conn.execute(update(EvaluationRun).where(col(EvaluationRun.id) == run_id).values(
            finished_at=now(), status=status, indicators=summary.indicators, counts=counts, error=error))
