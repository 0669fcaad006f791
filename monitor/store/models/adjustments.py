"""Target adjustments (目标调整): a proposed new 指标值 for one indicator, and the bureau's decision on it.

The indicator keeps the target as imported (原目标); an approved adjustment is a version of the target in force
from its `effective_on` day. Which version is in force on a day is `monitor.store.target_versions`' rule."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field
from rules.targets import Target


class TargetAdjustment(SQLModel, table=True):
    """One request to change an indicator's 指标值: the text as proposed (kept verbatim, even when the grammar
    cannot read it), the grammar's reading of it (`target_json`), why, who asked and when, and the bureau's
    decision (ADJUSTMENT_STATUSES) with who, when and its note. `channel` "import" marks a proposal a re-import
    made instead of overwriting the target."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    value_text: str = Field(sa_column=Column(Text, nullable=False))
    target_json: dict | None = json_field()
    previous_text: str | None = Field(default=None, sa_column=Column(Text))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    effective_on: date
    status: str = Field(default="proposed", max_length=10, index=True)
    channel: str = Field(max_length=16)
    requested_by: int | None = Field(default=None, foreign_key="user.id")
    requested_at: datetime | None = instant_field()
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = instant_field()
    decision_note: str | None = Field(default=None, sa_column=Column(Text))

    @property
    def target(self) -> Target:
        """The proposed target as the grammar read it when it was proposed (never parsed again)."""
        if self.target_json is None:
            return Target(self.value_text, "unparsed", None, None, None, None, (), (), None)
        return Target.from_json(self.target_json)
