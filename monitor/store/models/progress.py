"""What actually happened: reported values, completions, grades and spending. Append-only.

A row is never updated or deleted. A correction is a new row whose `supersedes_id` names the row it
replaces and whose `revision` is one more; the effective facts are the rows nobody supersedes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Text
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field, measure_field, money_field


class Report(SQLModel, table=True):
    """One reported fact about an indicator.

    quantity/percent: `value` to date (cumulative for counts and costs, latest measurement for rates) and `as_of`;
    deadline/window/recurring: `occurrence_due` (which occurrence) and `completed_on`;
    qualitative: `grade` and `explanation`. Any kind may add forecast, deviation causes and likelihood.
    """

    # Recording looks up the effective rows of one slot (an as-of date, an occurrence) of an indicator;
    # these keep that an index range however long the indicator's history grows.
    __table_args__ = (Index("ix_report_indicator_as_of", "indicator_id", "as_of"),
                      Index("ix_report_indicator_occurrence", "indicator_id", "occurrence_due"))

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id")
    revision: int = Field(default=1)
    supersedes_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    value: Decimal | None = measure_field()
    as_of: date | None = Field(default=None)
    occurrence_due: date | None = Field(default=None)
    completed_on: date | None = Field(default=None)
    grade: str | None = Field(default=None, max_length=30)
    explanation: str | None = Field(default=None, sa_column=Column(Text))
    forecast: Decimal | None = measure_field()
    forecast_text: str | None = Field(default=None, sa_column=Column(Text))
    deviation_causes: dict | None = json_field()
    likelihood: str | None = Field(default=None, max_length=10)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = instant_field()


class Spending(SQLModel, table=True):
    """A project's spending to date (执行数, cumulative, in 元) as of a date: the budget half of 双监控."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    revision: int = Field(default=1)
    supersedes_id: int | None = Field(default=None, foreign_key="spending.id", index=True)
    amount: Decimal = money_field(nullable=False)
    as_of: date
    user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = instant_field()
