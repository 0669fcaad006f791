"""The bureau's rounds (监控任务 / 自评任务): a round, one task per department, each submitted version frozen with
the document as it was submitted, and the bureau's review comments on a version."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from sqlalchemy import LargeBinary, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field
from rules.terms import ROUND_KIND_NAMES, ROUND_KIND_NAMES_EN


class Round(SQLModel, table=True):
    """One round of one budget year: its kind (ROUND_KINDS), the data cut-off (end of `through_month`), the
    报送截止日期 and which departments and projects it asks for (`selection`: departments, scope, focus rules)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    year: int = Field(index=True)
    through_month: int
    due: date
    status: str = Field(default="open", max_length=8)
    selection: dict | None = json_field()
    opened_by: int | None = Field(default=None, foreign_key="user.id")
    opened_at: datetime | None = instant_field()
    closed_by: int | None = Field(default=None, foreign_key="user.id")
    closed_at: datetime | None = instant_field()

    def title(self, *, english: bool = False) -> str:
        """The round's name as people say it: "2024年度年中绩效监控（1-7月）", or its English for the English portal;
        the portal, the API, the CLI and the digests all name a round by it."""
        if english:
            period = "whole year" if self.kind == "selfeval" else f"Jan-{calendar.month_abbr[self.through_month]}"
            return f"{self.year} {ROUND_KIND_NAMES_EN.get(self.kind, self.kind)} ({period})"
        period = "全年" if self.kind == "selfeval" else f"1-{self.through_month}月"
        return f"{self.year}年度{ROUND_KIND_NAMES.get(self.kind, self.kind)}（{period}）"


# A task the department may still fill and submit; past the round's due date such a task is overdue.
EDITABLE_TASK_STATUSES: tuple[str, ...] = ("pending", "returned")
# A 整改 waiting for the department's answer; past its due date such an item is overdue.
ANSWERABLE_CORRECTIVE_STATUSES: tuple[str, ...] = ("open", "reopened")


def task_overdue(round_: Round, task: RoundTask, today: date) -> bool:
    """The one rule for an overdue task, for the status pages, the summary and the digests alike: its round is
    open, the department has not submitted (or not resubmitted after a return), and the due date is past."""
    return round_.status == "open" and task.status in EDITABLE_TASK_STATUSES and today > round_.due


class RoundTask(SQLModel, table=True):
    """A department's part of a round: its status (TASK_STATUSES) and the projects it must report on
    (`projects`: {"ids": [...], "reasons": {id: [FOCUS_REASONS key, ...]}})."""

    __table_args__ = (UniqueConstraint("round_id", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    status: str = Field(default="pending", max_length=10)
    projects: dict | None = json_field()
    updated_at: datetime | None = instant_field()


class RoundSubmission(SQLModel, table=True):
    """One submitted version of a task: the document's bytes as produced at submission (never produced again)
    and a JSON snapshot of its rows; the review's verdict (REVIEW_VERDICTS) is added once, by the bureau."""

    __table_args__ = (UniqueConstraint("task_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="roundtask.id", index=True)
    version: int
    submitted_by: int | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime | None = instant_field()
    xlsx: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    html: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    xlsx_sha256: str = Field(max_length=64)
    snapshot: dict | None = json_field()
    verdict: str | None = Field(default=None, max_length=10)
    reviewed_by: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = instant_field()
    review_note: str | None = Field(default=None, sa_column=Column(Text))


class ReviewComment(SQLModel, table=True):
    """The bureau's comment on a submitted version, on one project or one indicator of it (or on the whole)."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="roundsubmission.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id")
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime | None = instant_field()


class CorrectiveAction(SQLModel, table=True):
    """A 整改 the bureau requires of a department, from a review (round and submission named) or from a light
    (neither): the 整改要求和建议 with a due date, the department's 整改结果和结论, and the bureau's acceptance or
    reopening (CORRECTIVE_STATUSES), each step with who and when."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int | None = Field(default=None, foreign_key="round.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="roundsubmission.id")
    department_id: int = Field(foreign_key="department.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id")
    requirement: str = Field(sa_column=Column(Text, nullable=False))
    due: date
    status: str = Field(default="open", max_length=10)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    issued_by: int | None = Field(default=None, foreign_key="user.id")
    issued_at: datetime | None = instant_field()
    answered_by: int | None = Field(default=None, foreign_key="user.id")
    answered_at: datetime | None = instant_field()
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = instant_field()
    decision_note: str | None = Field(default=None, sa_column=Column(Text))

    def days_overdue(self, today: date) -> int | None:
        """Days past the due date while the department still owes its answer; None when not overdue (the one rule
        for digests, escalation, pages and the API)."""
        if self.status in ANSWERABLE_CORRECTIVE_STATUSES and today > self.due:
            return (today - self.due).days
        return None
