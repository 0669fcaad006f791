"""A clerk's 待办: across their departments' projects of the year, what is overdue, what is due this week and what
has not been reported yet, each naming its indicator. Read in a few queries for all the projects at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from monitor.progress import service
from monitor.progress.schedule import pending
from monitor.progress.validation import IndicatorInfo
from monitor.store import facts
from monitor.store.models import BudgetYear, Project
from monitor.store.rows import stored_id
from monitor.web.views import indicator_ids
from rules.formatting import OverdueCount, count_overdue
from rules.terms import MEASURED_KINDS, QUALITATIVE, SCHEDULED_KINDS

WEEK = timedelta(days=6)  # "this week": today and the six days after it


@dataclass
class TodoItem:
    """One indicator with something to do: its open periods (overdue or due this week) or no report at all."""

    project_id: int
    project: str
    indicator_id: int
    indicator: str
    kind: str
    dues: list[date] = field(default_factory=list)  # the open periods of this section, earliest first

    @property
    def link(self) -> str:
        return f"/projects/{self.project_id}#ind-{self.indicator_id}"


@dataclass
class Todo:
    today: date
    year: int | None
    overdue: list[TodoItem]
    this_week: list[TodoItem]
    unreported: list[TodoItem]

    @property
    def overdue_count(self) -> OverdueCount:
        return count_overdue(item.indicator_id for item in self.overdue for _ in item.dues)


def _item(info: IndicatorInfo, dues: list[date]) -> TodoItem:
    return TodoItem(stored_id(info.project), info.project.name, info.indicator_id, info.indicator.name, info.kind,
                    dues)


def todo_year(session: Session, today: date) -> int | None:
    """The budget year of today, or the latest one on record (a closed year is still being self-evaluated)."""
    years = list(session.exec(select(BudgetYear.year).order_by(col(BudgetYear.year).desc())).all())
    return today.year if today.year in years else (years[0] if years else None)


def todo(session: Session, departments: set[int], today: date) -> Todo:
    year = todo_year(session, today)
    result = Todo(today, year, [], [], [])
    if year is None or not departments:
        return result
    projects = session.exec(select(Project).join(BudgetYear, col(BudgetYear.id) == Project.budget_year_id)
                            .where(BudgetYear.year == year, col(Project.department_id).in_(departments))
                            .order_by(col(Project.id))).all()
    infos = service.load_infos(session, indicator_ids(session, [stored_id(p) for p in projects]))
    effective = facts.effective_reports(session, list(infos))
    ordered = sorted(infos.values(), key=lambda i: (stored_id(i.project), i.indicator.position, i.indicator_id))
    for info in ordered:
        if info.indicator.half != "annual":
            continue
        reports = effective.get(info.indicator_id, [])
        if info.kind in SCHEDULED_KINDS:
            open_ = [d.due for d in pending(info, reports, today)]
            if late := [d for d in open_ if d < today]:
                result.overdue.append(_item(info, late))
            if soon := [d for d in open_ if today <= d <= today + WEEK]:
                result.this_week.append(_item(info, soon))
        elif (info.kind in MEASURED_KINDS or info.kind == QUALITATIVE) and not reports:
            result.unreported.append(_item(info, []))
    return result
