"""What only a person can add to the self-evaluation: the score picked inside a qualitative band and the
偏差原因分析及改进措施 text. Append-only like reports: a change is a new row superseding the old one."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, measure_field


class SelfEvalEntry(SQLModel, table=True):
    """A person's word on one indicator in one year's 自评表: `score` (points, inside the band the reported
    grade allows; None keeps the computed score) and `explanation` (偏差原因分析及改进措施)."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    year: int = Field(index=True)
    revision: int = Field(default=1)
    supersedes_id: int | None = Field(default=None, foreign_key="selfevalentry.id", index=True)
    score: Decimal | None = measure_field()
    explanation: str | None = Field(default=None, sa_column=Column(Text))
    user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = Field(default="portal", max_length=16)
    created_at: datetime | None = instant_field()


class PrintedSelfEvalScore(SQLModel, table=True):
    """What a department printed in its own 自评表, kept as printed so the bureau can compare it with kpiwatch's
    score (自评复核): one row per indicator (`indicator_id`), one for the 预算执行率 row (`row` "execution") and one
    for the 总分 (`row` "total"); a re-import of the table updates them in place. An indicator's printed 实际完成值
    is kept too, so the review can quote one kpiwatch could not read as a report."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id", index=True)
    row: str = Field(max_length=16)  # "indicator" | "execution" | "total"
    name: str = Field(max_length=200)
    points: Decimal | None = measure_field()  # 分值 as printed
    score: Decimal | None = measure_field()  # 得分 as printed
    rate: Decimal | None = measure_field()  # the printed 执行率 in percent (execution row only)
    actual: str | None = Field(default=None, max_length=500)  # 实际完成值 verbatim (indicator rows only)
    source_file: str | None = Field(default=None, max_length=500)
    line: int | None = Field(default=None)  # the row of the table the figures were read from
    imported_at: datetime | None = instant_field()
