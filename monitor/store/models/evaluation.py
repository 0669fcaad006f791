"""What the evaluation concluded, kept with its as-of date so lights have a history and notifications
can react to changes only; and a log row for every scheduled run and delivery batch (self-monitoring)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Float, LargeBinary, Text, Unicode, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field, measure_field, money_field


class IndicatorState(SQLModel, table=True):
    """The current light of one indicator (or one occurrence of a time-bound one; `occurrence` is its due
    date in ISO form, "" for indicators without occurrences)."""

    __table_args__ = (UniqueConstraint("indicator_id", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id")  # looked up through the unique key's first column
    occurrence: str = Field(default="", max_length=10)
    as_of: date
    light: str = Field(max_length=6)  # no index: a million rows are rewritten daily, and readers scan by project
    status: str = Field(max_length=12)
    expected: Decimal | None = measure_field()
    actual: Decimal | None = measure_field()
    ratio: Decimal | None = measure_field()
    forecast: Decimal | None = measure_field()
    likelihood: str | None = Field(default=None, max_length=10)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    since: date | None = Field(default=None)
    run_id: int | None = Field(default=None, foreign_key="evaluationrun.id")


class IndicatorStateChange(SQLModel, table=True):
    """A light or status that changed, with what it was before: the history a user sees."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    occurrence: str = Field(default="", max_length=10)
    as_of: date = Field(index=True)
    light: str = Field(max_length=6)
    status: str = Field(max_length=12)
    previous_light: str | None = Field(default=None, max_length=6)
    previous_status: str | None = Field(default=None, max_length=12)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    run_id: int | None = Field(default=None, foreign_key="evaluationrun.id")


class ProjectState(SQLModel, table=True):
    """A project's worst indicator light and its budget-execution light (双监控)."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", unique=True, index=True)
    as_of: date
    light: str = Field(max_length=6)
    budget_light: str = Field(max_length=6)
    spent: Decimal | None = money_field()
    execution_rate: Decimal | None = measure_field()
    execution_ratio: Decimal | None = measure_field()
    forecast_spent: Decimal | None = money_field()
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    run_id: int | None = Field(default=None, foreign_key="evaluationrun.id")


class EvaluationRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    started_at: datetime | None = instant_field()
    finished_at: datetime | None = instant_field()
    status: str = Field(default="running", max_length=10)
    indicators: int = Field(default=0)
    counts: dict | None = json_field()
    error: str | None = Field(default=None, sa_column=Column(Text))


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
    wins, every other replica sees the conflict and skips, so each scheduled run happens once."""

    __table_args__ = (UniqueConstraint("job", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=200)
    scheduled_at: datetime = instant_field(nullable=False)
    acquired_at: datetime | None = instant_field()
    host: str | None = Field(default=None, max_length=100)


class SchedulerJob(SQLModel, table=True):
    """APScheduler 3's persistent job store (`SQLAlchemyJobStore`), declared here so the migration creates it
    with the rest of the schema; the column types are exactly the ones APScheduler itself would create."""

    __tablename__ = "apscheduler_jobs"

    id: str = Field(sa_column=Column(Unicode(191), primary_key=True))
    next_run_time: float | None = Field(default=None, sa_column=Column(Float(25), index=True))
    job_state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
