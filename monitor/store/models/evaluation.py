"""What the evaluation concluded, kept with its as-of date so lights have a history and notifications
can react to changes only (the scheduler's own tables are in `jobs.py`).

The three state tables name their indicator, project and run without foreign keys: only the evaluation writes
them, from rows it has just read, and on PostgreSQL the keys' per-row checks were most of a first evaluation's
writing (revision 0015). Whoever removes an indicator or project removes its states (`monitor.store.states`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import computed_field, instant_field, json_field, money_field


class IndicatorState(SQLModel, table=True):
    """The current light of one indicator (or one occurrence of a time-bound one; `occurrence` is its due
    date in ISO form, "" for indicators without occurrences). Its as-of date is its project's
    (`ProjectState.as_of`, written for every project each run): a state is rewritten only when what it says
    changed, and `run_id` is the run that last wrote it."""

    __table_args__ = (UniqueConstraint("indicator_id", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int  # looked up through the unique key's first column
    occurrence: str = Field(default="", max_length=10)
    light: str = Field(max_length=6)  # no index: a million rows are rewritten daily, and readers scan by project
    status: str = Field(max_length=12)
    expected: Decimal | None = computed_field()
    actual: Decimal | None = computed_field()
    ratio: Decimal | None = computed_field()
    forecast: Decimal | None = computed_field()
    likelihood: str | None = Field(default=None, max_length=10)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason_en: str | None = Field(default=None, sa_column=Column(Text))  # NULL: written before reasons had English
    since: date | None = Field(default=None)
    run_id: int | None = None


class IndicatorStateChange(SQLModel, table=True):
    """A light or status that changed, with what it was before: the history a user sees."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(index=True)
    occurrence: str = Field(default="", max_length=10)
    as_of: date
    light: str = Field(max_length=6)
    status: str = Field(max_length=12)
    previous_light: str | None = Field(default=None, max_length=6)
    previous_status: str | None = Field(default=None, max_length=12)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason_en: str | None = Field(default=None, sa_column=Column(Text))  # NULL: written before reasons had English
    run_id: int | None = None


class ProjectState(SQLModel, table=True):
    """A project's worst indicator light and its budget-execution light (双监控)."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(unique=True, index=True)
    as_of: date
    light: str = Field(max_length=6)
    budget_light: str = Field(max_length=6)
    spent: Decimal | None = money_field()
    execution_rate: Decimal | None = computed_field()
    execution_ratio: Decimal | None = computed_field()
    forecast_spent: Decimal | None = money_field()
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason_en: str | None = Field(default=None, sa_column=Column(Text))  # NULL: written before reasons had English
    run_id: int | None = None


class EvaluationRun(SQLModel, table=True):
    """One evaluation over the store or a department. At most one is `running` at a time (a partial unique index),
    so two evaluations never both write states; the running one stamps `heartbeat_at`, and one whose stamp is older
    than `[evaluation] lease_seconds` was killed and is closed as failed by whoever needs the store next."""

    __table_args__ = (Index("uq_evaluationrun_one_running", "status", unique=True,
                            sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),)

    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    started_at: datetime | None = instant_field()
    finished_at: datetime | None = instant_field()
    status: str = Field(default="running", max_length=10)
    host: str | None = Field(default=None, max_length=100)
    heartbeat_at: datetime | None = instant_field()
    indicators: int = Field(default=0)
    counts: dict | None = json_field()
    error: str | None = Field(default=None, sa_column=Column(Text))
