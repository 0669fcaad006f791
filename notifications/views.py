"""What a message says, as plain data: the application fills these, the templates only lay them out.

Keeping them free of database types lets rendering be tested (and benchmarked) without a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rules.formatting import OverdueCount

SECTION_TITLES: dict[str, str] = {
    "overdue": "已逾期",
    "due_soon": "即将到期",
    "behind": "进度滞后 / 超出成本上限",
    "no_report": "未填报",
    "done": "本期已完成",
}
SECTION_ORDER = tuple(SECTION_TITLES)


@dataclass(frozen=True)
class Item:
    project: str
    indicator: str
    target: str
    latest: str
    reason: str
    link: str
    due: date | None = None
    days_overdue: int | None = None
    days_left: int | None = None
    ack_link: str | None = None
    note: str = ""
    escalation_level: int = 0


@dataclass(frozen=True)
class TaskItem:
    """A department's round task in its digest: due soon, overdue, or returned by the bureau for changes."""

    round: str
    status: str  # 待填报 / 已退回 (the task's status name)
    due: date
    link: str
    days_left: int | None = None
    days_overdue: int | None = None
    returned: bool = False


@dataclass(frozen=True)
class CorrectiveItem:
    """A 整改 the bureau required of the department, in its digest: newly issued, due soon, overdue or reopened."""

    project: str
    indicator: str | None
    requirement: str
    status: str  # 待整改 / 重新整改 (the item's status name)
    due: date
    link: str
    days_left: int | None = None
    days_overdue: int | None = None
    escalated: bool = False


@dataclass(frozen=True)
class RoundStatusRow:
    department: str
    status: str  # the task's status name
    overdue: bool
    versions: int


@dataclass(frozen=True)
class RoundStatusMail:
    """The bureau's status of one open round by department (submitted / pending / returned / overdue)."""

    title: str
    day: date
    due: date
    counts: dict[str, int]  # task status name (and 逾期) -> tasks
    rows: list[RoundStatusRow]
    link: str
    portal_url: str


@dataclass(frozen=True)
class WaivedItem:
    project: str
    indicator: str
    until: date
    reason: str


@dataclass(frozen=True)
class Digest:
    department: str
    day: date
    sections: dict[str, list[Item]]
    portal_url: str
    lead_days: int = 7
    waived: list[WaivedItem] = field(default_factory=list)
    quiet_open: int = 0
    acknowledged: int = 0
    catch_up_from: date | None = None
    overdue_periods: int | None = None  # the overdue periods the items stand for; None: one period each
    tasks: list[TaskItem] = field(default_factory=list)  # round tasks to fill and submit (填报任务)
    correctives: list[CorrectiveItem] = field(default_factory=list)  # 整改 the bureau requires

    def count(self, section: str) -> int:
        return len(self.sections.get(section, ()))

    @property
    def overdue(self) -> OverdueCount:
        items = self.count("overdue")
        return OverdueCount(items, items if self.overdue_periods is None else self.overdue_periods)


@dataclass(frozen=True)
class Escalation:
    department: str
    supervisor: str
    day: date
    level: int
    items: list[Item]
    threshold_days: int
    portal_url: str
    # whom this copy greets when it is not the supervisor: the department's own head gets the copy the bureau gets
    addressee: str | None = None


@dataclass(frozen=True)
class SummaryRow:
    department: str
    lights: dict[str, int]
    overdue: OverdueCount
    unreported: int
    acknowledged: int
    digests: int
    inactive_users: list[str]


@dataclass(frozen=True)
class Summary:
    week: str
    day: date
    rows: list[SummaryRow]
    warnings: list[str]
    failed_messages: int
    portal_url: str
