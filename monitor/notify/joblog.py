"""Self-monitoring: a JobRun row for every scheduled run and delivery batch, written at start and at end,
so a run that died half-way is visible as started-but-not-finished."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.models import EvaluationRun, JobRun
from monitor.store.types import now


@dataclass
class RunNote:
    counts: dict = field(default_factory=dict)
    error: str | None = None


@contextmanager
def job_run(engine: Engine, job: str) -> Iterator[RunNote]:
    with Session(engine) as session:
        row = JobRun(job=job, started_at=now(), host=socket.gethostname()[:100])
        session.add(row)
        session.commit()
        run_id = row.id
    assert run_id is not None  # committed, so the database has given it its id
    note = RunNote()
    try:
        yield note
    except BaseException as exc:
        _finish(engine, run_id, ok=False, counts=note.counts, error=f"{type(exc).__name__}: {exc}"[:4000])
        raise
    _finish(engine, run_id, ok=note.error is None, counts=note.counts, error=note.error)


def _finish(engine: Engine, run_id: int, *, ok: bool, counts: dict, error: str | None) -> None:
    with Session(engine) as session:
        row = session.get(JobRun, run_id)
        assert row is not None  # written by job_run before the job started; job rows are never deleted
        row.finished_at = now()
        row.ok = ok
        row.counts = counts
        row.error = error
        session.add(row)
        session.commit()


def last_success(session: Session, job: str) -> JobRun | None:
    return session.exec(select(JobRun).where(JobRun.job == job, JobRun.ok == True)  # noqa: E712 - builds SQL; "is True" would not
                        .order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc()).limit(1)).first()


def last_run(session: Session, job: str) -> JobRun | None:
    return session.exec(select(JobRun).where(JobRun.job == job)
                        .order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc()).limit(1)).first()


def last_evaluation(session: Session) -> EvaluationRun | None:
    """The last evaluation that finished without error (issue 5 writes EvaluationRun)."""
    return session.exec(select(EvaluationRun).where(col(EvaluationRun.finished_at).is_not(None),
                                                    col(EvaluationRun.error).is_(None))
                        .order_by(col(EvaluationRun.finished_at).desc()).limit(1)).first()
