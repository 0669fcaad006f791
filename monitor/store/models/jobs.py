"""The scheduler's tables: a log row for every scheduled run and delivery batch (self-monitoring), the lease
that makes each scheduled run happen once across replicas, and APScheduler's own job store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, LargeBinary, Text, Unicode, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field


class JobRun(SQLModel, table=True):
    """One run of a scheduled job or delivery batch: when it started and finished, what it did, what failed."""

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=50, index=True)
    started_at: datetime | None = instant_field(index=True)
    finished_at: datetime | None = instant_field()
    ok: bool | None = Field(default=None)
    counts: dict | None = json_field()
    error: str | None = Field(default=None, sa_column=Column(Text))
    host: str | None = Field(default=None, max_length=100)
    scheduled_at: datetime | None = instant_field()


class JobLease(SQLModel, table=True):
    """Who runs one scheduled run of a job. The unique key makes replicas race for it: the first insert
    wins, every other replica sees the conflict and skips, so each scheduled run happens once.

    The holder stamps `renewed_at` while the job runs and sets `finished_at` when it ends (well or not). A lease
    that is neither finished nor renewed within `[scheduler] lease_seconds` belongs to a dead process: another
    replica (or the next start) takes it over, counting `attempts`, and runs the job again for the same time."""

    __table_args__ = (UniqueConstraint("job", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=200)
    scheduled_at: datetime = instant_field(nullable=False)
    acquired_at: datetime | None = instant_field()
    host: str | None = Field(default=None, max_length=100)
    renewed_at: datetime | None = instant_field()
    finished_at: datetime | None = instant_field()
    attempts: int = Field(default=1)


class SchedulerJob(SQLModel, table=True):
    """APScheduler 3's persistent job store (`SQLAlchemyJobStore`), declared here so the migration creates it
    with the rest of the schema; the column types are exactly the ones APScheduler itself would create."""

    __tablename__ = "apscheduler_jobs"

    id: str = Field(sa_column=Column(Unicode(191), primary_key=True))
    next_run_time: float | None = Field(default=None, sa_column=Column(Float(25), index=True))
    job_state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
