"""The shapes of the API's answers, so the OpenAPI document describes every 2xx response field by field.

Numbers that are Decimal in the store (values, forecasts, amounts in 元) travel as exact decimal text
("1200", "35.5"), never as floats; dates as YYYY-MM-DD; instants as ISO 8601 with the +08:00 offset.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

DECIMAL = "exact decimal as text"


class Me(BaseModel):
    username: str
    display_name: str | None
    role: str = Field(description="clerk / head / admin / auditor")
    department_id: int | None = Field(description="None for the finance bureau (sees every department)")


class ReportOut(BaseModel):
    """One stored report, as recorded (a correction is a new revision that supersedes the old one)."""

    id: int
    indicator_id: int
    revision: int
    supersedes_id: int | None
    value: str | None = Field(description=f"quantity/percent: value to date ({DECIMAL})")
    as_of: date | None
    occurrence_due: date | None
    completed_on: date | None
    grade: str | None
    explanation: str | None
    forecast: str | None = Field(description=f"全年预计完成情况 ({DECIMAL})")
    forecast_text: str | None
    deviation_causes: dict[str, str] | None
    likelihood: str | None
    channel: str = Field(description="portal / upload / api / cli")
    note: str | None
    user_id: int | None
    created_at: str | None = Field(description="when it was recorded (ISO 8601, Asia/Shanghai)")


class HistoryReport(ReportOut):
    effective: bool = Field(description="false once a later revision superseded it")


class Notice(BaseModel):
    """What was assumed for an entry (a year-end result without a date is recorded for 31 December)."""

    index: int | None = Field(description="position in the batch")
    field: str
    label: str
    problem: str = Field(description="the notice, in words")


class RecordedReports(BaseModel):
    stored: list[ReportOut]
    unchanged: list[int] = Field(description="positions in the batch already on record (nothing stored again)")
    notices: list[Notice] = Field(default_factory=list, description="what was assumed, per entry")


class SpentToDate(BaseModel):
    id: int
    amount: str = Field(description=f"spending to date in 元 ({DECIMAL})")
    as_of: date


class IndicatorOut(BaseModel):
    id: int
    level1: str
    level2: str
    name: str
    half: str
    target_text: str = Field(description="指标值 in force today: as published, or as an approved adjustment set it")
    kind: str = Field(description="quantity / percent / deadline / window / recurring / qualitative / unparsed")
    kind_label: str
    meaning: str = Field(description="the parsed meaning in one line of Chinese")
    comparator: str | None
    target_value: str | None = Field(description=DECIMAL)
    unit: str | None
    occurrences: list[date] = Field(description="due dates of the occurrences in the budget year")
    latest: ReportOut | None = Field(description="the latest report in force")


class ProjectOut(BaseModel):
    id: int
    name: str
    department_id: int
    annual_funds: str | None = Field(description=f"年初预算数 (年度资金总额) in 元 ({DECIMAL})")
    budget_in_force: str | None = Field(None, description=f"全年预算数 today, after adjustments, in 元 ({DECIMAL})")
    spent: SpentToDate | None
    indicators: list[IndicatorOut]


class SpendingOut(BaseModel):
    id: int
    project_id: int
    revision: int
    supersedes_id: int | None
    amount: str = Field(description=f"spending to date in 元 ({DECIMAL})")
    fiscal: str | None = Field(None, description=f"of which 财政拨款 ({DECIMAL}); null when given as a total only")
    other: str | None = Field(None, description=f"of which 其他资金 ({DECIMAL})")
    carryover: str | None = Field(None, description=f"of which 上年结转 ({DECIMAL})")
    as_of: date
    channel: str
    note: str | None


class SpendingHistoryRow(SpendingOut):
    effective: bool
    created_at: str | None


class RecordedSpending(BaseModel):
    stored: list[SpendingOut]
    unchanged: list[int]
    notices: list[Notice] = Field(default_factory=list, description="what was assumed, per entry")


class AdjustmentOut(BaseModel):
    """One budget adjustment (append-only; a correction supersedes the old row)."""

    id: int
    project_id: int
    revision: int
    supersedes_id: int | None
    amount: str = Field(description=f"signed change in 元, a cut negative ({DECIMAL})")
    source: str = Field(description="fiscal / other / carryover")
    source_name: str
    effective_on: date
    reason: str | None
    channel: str
    user_id: int | None
    created_at: str | None
    effective: bool | None = Field(None, description="history only: false once superseded")


class BudgetOut(BaseModel):
    initial: str | None = Field(description=f"年初预算数 in 元 ({DECIMAL})")
    in_force: str | None = Field(description=f"全年预算数 today in 元 ({DECIMAL})")
    adjustments: list[AdjustmentOut]
