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
