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
    """A project's spending to date (执行数, cumulative, in 元) as of a date: the budget half of 双监控.

    `amount` is the total. Where the department split it by source (`rules.terms.FUND_SOURCES`), `fiscal`
    (财政拨款), `other` (其他资金) and `carryover` (上年结转) hold the parts and add up to `amount`; a report of the
    total alone leaves all three empty."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    revision: int = Field(default=1)
    supersedes_id: int | None = Field(default=None, foreign_key="spending.id", index=True)
    amount: Decimal = money_field(nullable=False)
    fiscal: Decimal | None = money_field()
    other: Decimal | None = money_field()
    carryover: Decimal | None = money_field()
    as_of: date
    user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = instant_field()


class BudgetAdjustment(SQLModel, table=True):
    """A change to a project's budget (预算调整), recorded by the finance bureau: `amount` in 元, signed (a cut is
    negative), of one fund source (`rules.terms.FUND_SOURCES`), in force from `effective_on`, with the reason and
    who recorded it. The budget in force on a day (全年预算数) is the 年初预算数 (`Project.annual_funds`) plus the
    adjustments in force dated on or before it (`rules.budget`). Append-only: a correction supersedes."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    revision: int = Field(default=1)
    supersedes_id: int | None = Field(default=None, foreign_key="budgetadjustment.id", index=True)
    amount: Decimal = money_field(nullable=False)
    source: str = Field(default="fiscal", max_length=16)
    effective_on: date
    reason: str = Field(sa_column=Column(Text, nullable=False))
    user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = Field(max_length=16)
    created_at: datetime | None = instant_field()
