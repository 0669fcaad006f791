"""Who is responsible and what they promised: departments, contacts, budget years, projects, indicators."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field, measure_field, money_field
from rules.scoring import LEVEL_WEIGHT_FIELDS
from rules.targets import Target

CONTACT_ROLES = ("负责人", "经办人", "绩效管理员")
HALVES = ("annual", "period")


class Department(SQLModel, table=True):
    """A budget unit (预算单位). `parent_id` is its supervising department (主管部门)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="department.id")
    is_finance_bureau: bool = Field(default=False)


class Contact(SQLModel, table=True):
    """A person who receives messages for a department, in one role (负责人, 经办人 or 绩效管理员)."""

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    role: str = Field(max_length=16)
    active: bool = Field(default=True)


class BudgetYear(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, index=True)
    monitor_through_month: int | None = Field(default=None)


class Project(SQLModel, table=True):
    """One 项目支出绩效目标表: the header, the funds and the texts; indicators hang off it."""

    __table_args__ = (UniqueConstraint("department_id", "budget_year_id", "import_key"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    budget_year_id: int = Field(foreign_key="budgetyear.id", index=True)
    import_key: str = Field(max_length=400)
    name: str = Field(max_length=300)
    implementing_unit: str | None = Field(default=None, max_length=300)
    attribute: str | None = Field(default=None, max_length=100)
    period: str | None = Field(default=None, max_length=50)
    total_funds: Decimal | None = money_field()
    annual_funds: Decimal | None = money_field()
    annual_central: Decimal | None = money_field()
    annual_provincial: Decimal | None = money_field()
    annual_city_county: Decimal | None = money_field()
    annual_self_raised: Decimal | None = money_field()
    annual_other: Decimal | None = money_field()
    total_central: Decimal | None = money_field()
    total_provincial: Decimal | None = money_field()
    total_city_county: Decimal | None = money_field()
    total_self_raised: Decimal | None = money_field()
    total_other: Decimal | None = money_field()
    overview: str | None = Field(default=None, sa_column=Column(Text))
    basis: str | None = Field(default=None, sa_column=Column(Text))
    necessity: str | None = Field(default=None, sa_column=Column(Text))
    measures: str | None = Field(default=None, sa_column=Column(Text))
    plan: str | None = Field(default=None, sa_column=Column(Text))
    period_goal: str | None = Field(default=None, sa_column=Column(Text))
    annual_goal: str | None = Field(default=None, sa_column=Column(Text))
    plan_start: datetime | None = instant_field()
    plan_end: datetime | None = instant_field()
    filled_at: datetime | None = instant_field()
    source_file: str | None = Field(default=None, max_length=500)
    source_line: int | None = Field(default=None)
    source_sha256: str | None = Field(default=None, max_length=64)
    # The project's own level weights (预算执行率 / 产出 / 效益 / 满意度, in points) where its table or the finance
    # bureau set them; NULL is the configured default ([scoring] weight_*). See `level_weights`.
    weight_execution: Decimal | None = measure_field()
    weight_output: Decimal | None = measure_field()
    weight_effect: Decimal | None = measure_field()
    weight_satisfaction: Decimal | None = measure_field()

    def level_weights(self) -> dict[str, Decimal | None]:
        """The stored level weights by the names the tables print (`rules.scoring.LEVEL_WEIGHT_FIELDS`)."""
        return {level: getattr(self, name) for level, name in LEVEL_WEIGHT_FIELDS.items()}


# The longest unit an indicator stores; a longer "unit" is a misreading and is dropped (see `target_columns`).
UNIT_LENGTH = 50


class Indicator(SQLModel, table=True):
    """One 三级指标 row with its verbatim 指标值 and, beside it, what the grammar made of it."""

    __table_args__ = (UniqueConstraint("project_id", "half", "level2", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    half: str = Field(max_length=8)
    level1: str = Field(max_length=50)
    level2: str = Field(max_length=50)
    name: str = Field(max_length=300)
    value_text: str = Field(sa_column=Column(Text, nullable=False))
    position: int = Field(default=0)
    source_line: int | None = Field(default=None)
    kind: str | None = Field(default=None, max_length=16, index=True)
    comparator: str | None = Field(default=None, max_length=2)
    target_value: Decimal | None = measure_field()
    unit: str | None = Field(default=None, max_length=UNIT_LENGTH)
    direction: str | None = Field(default=None, max_length=20)
    target_json: dict | None = json_field()
    parse_reason: str | None = Field(default=None, sa_column=Column(Text))
    weight: Decimal | None = measure_field()

    @property
    def target(self) -> Target:
        """What the grammar made of `value_text` at import, read back from `target_json` (never parsed again: the
        budget year and the reading of "X月前" were the import's). A row written without a reading, which no
        import does, reads as its columns say, without occurrences."""
        if self.target_json is not None:
            return Target.from_json(self.target_json)
        return Target(self.value_text, self.kind or "unparsed", self.comparator, self.target_value, self.unit,
                      self.direction, (), (), self.parse_reason)

    def set_target(self, target: Target) -> None:
        """Store a reading: `target_json` and the query columns beside it, from the same Target."""
        for name, value in self.target_columns(target).items():
            setattr(self, name, value)

    @staticmethod
    def target_columns(target: Target) -> dict[str, Any]:
        """The columns a reading sets: the one place a Target becomes stored values, so the denormalised columns
        (what SQL filters and the evaluation read) never disagree with `target_json`."""
        unit = target.unit if len(target.unit or "") <= UNIT_LENGTH else None
        return {"kind": target.kind, "comparator": target.comparator, "target_value": target.value, "unit": unit,
                "direction": target.direction, "target_json": target.to_json(), "parse_reason": target.reason}


class ImportRun(SQLModel, table=True):
    """What one import read and did, so an auditor can trace every row to its source."""

    id: int | None = Field(default=None, primary_key=True)
    source_file: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    format: str = Field(max_length=16)
    started_at: datetime | None = instant_field()
    finished_at: datetime | None = instant_field()
    department_id: int | None = Field(default=None, foreign_key="department.id")
    year: int | None = Field(default=None)
    summary_json: dict | None = json_field()
