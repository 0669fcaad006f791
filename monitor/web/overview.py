"""The finance bureau's overview: every department of a budget year at an as-of date, in a fixed handful of grouped
queries (never one per department), so the page stays fast for a province of 2,000 departments.

Lights, overdue and due-soon counts are the stored evaluation's (the same states the digest and the weekly summary
count, by `OVERDUE_STATUSES`); budget execution is measured at the as-of date against the budget in force then
and against 序时进度 by the evaluation's own settings, as the budget light is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, distinct, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.evaluation.load import query_frame
from monitor.store import facts
from monitor.store.models import (
    AuditEvent,
    BudgetYear,
    Department,
    EvaluationRun,
    Indicator,
    IndicatorState,
    Project,
    ProjectState,
)
from rules import calendar as cal
from rules.formatting import OverdueCount
from rules.terms import EXPECTED_STATUSES, LIGHTS, OVERDUE_STATUSES, REPORTED_STATUSES, EvaluationSettings
from rules.time_progress import progress

# The columns the page and the export sort by, and the key of each (None sorts last whichever way).
SORT_KEYS: tuple[str, ...] = ("code", "name", "projects", "red", "overdue", "due_soon", "execution", "ratio",
                              "completeness", "activity")


@dataclass
class DepartmentLine:
    """One department's row of the overview."""

    id: int
    code: str
    name: str
    projects: int = 0
    lights: dict[str, int] = field(default_factory=dict)  # project lights, by `LIGHTS`
    not_evaluated: int = 0  # projects without any state yet
    overdue: OverdueCount = OverdueCount(0, 0)
    due_soon: int = 0
    expected: int = 0  # periods that should have data by the as-of date (`EXPECTED_STATUSES`)
    reported: int = 0  # of those, the ones that have it
    budget: Decimal | None = None  # 全年预算数 at the as-of date, in 元
    spent: Decimal | None = None  # 执行数 at the as-of date, in 元
    activity: datetime | None = None  # the latest audited change of the department

    @property
    def execution(self) -> Decimal | None:
        """执行率 in percent (a zero budget gives 0, not a division error, as the rule books say)."""
        if self.budget is None:
            return None
        return Decimal(0) if not self.budget else (self.spent or Decimal(0)) / self.budget * 100

    @property
    def completeness(self) -> Decimal | None:
        """填报完整率 in percent: the periods due by the as-of date that have data, as the evaluation judged them."""
        return Decimal(self.reported) / self.expected * 100 if self.expected else None


@dataclass
class MonthPoint:
    """The bureau's cumulative spending at a month end (or the as-of date in its month) against 序时进度."""

    month: int
    day: date
    execution: Decimal  # percent of the budget in force that day
    time_progress: Decimal  # percent


@dataclass
class Overview:
    year: int
    as_of: date
    evaluated_on: date | None  # the latest evaluation's as-of date: the lights and counts are its
    time_progress: Decimal  # 序时进度 at the as-of date, percent
    lines: list[DepartmentLine]
    months: list[MonthPoint]
    years: list[int]

    def ratio(self, line: DepartmentLine) -> Decimal | None:
        """执行率 ÷ 序时进度 in percent: what the budget light measures."""
        if line.execution is None:
            return None
        return line.execution / self.time_progress * 100 if self.time_progress else None


def latest_evaluation(session: Session) -> date | None:
    """The as-of date of the latest evaluation run that finished."""
    return session.exec(select(func.max(EvaluationRun.as_of)).where(EvaluationRun.status == "ok")).one()


def budget_years(session: Session) -> list[int]:
    return list(session.exec(select(BudgetYear.year).order_by(col(BudgetYear.year).desc())).all())


def time_progress_percent(settings: EvaluationSettings, year: int, on: date) -> Decimal:
    """序时进度 of the budget year at `on`, in percent, by the evaluation's mode and curve."""
    share = progress(on, [date(year, 1, 1)], [date(year, 12, 31)], mode=settings.progress_mode,
                     curve=settings.progress_curve or None).exact(0)
    return Decimal(share.numerator) / Decimal(share.denominator) * 100


def bureau_overview(session: Session, visible: Collection[int] | None, *, year: int, as_of: date,
                    settings: EvaluationSettings) -> Overview:
    """Every department (those in `visible`, or all when None) with its counts for `year` at `as_of`."""
    year_id = session.exec(select(BudgetYear.id).where(BudgetYear.year == year)).first()
    departments = select(Department.id, Department.code, Department.name).where(
        Department.is_finance_bureau == False)  # noqa: E712 - a SQL comparison, not a truth test
    if visible is not None:
        departments = departments.where(col(Department.id).in_(visible))
    lines = {key: DepartmentLine(key, code, name) for key, code, name in session.exec(departments).all()
             if key is not None}  # a primary key is never NULL; the model types it for new rows
    months: list[MonthPoint] = []
    if year_id is not None and lines:
        in_year = col(Project.budget_year_id) == year_id
        if visible is not None:  # the bureau sees every department: no list of 2,000 ids for the planner
            in_year = and_(in_year, col(Project.department_id).in_(list(lines)))
        _projects(session, in_year, lines)
        _lights(session, in_year, lines)
        _states(session, in_year, lines)
        months = _money(session, in_year, lines, year_id, year, as_of, settings, visible)
    _activity(session, lines)
    return Overview(year=year, as_of=as_of, evaluated_on=latest_evaluation(session),
                    time_progress=time_progress_percent(settings, year, as_of),
                    lines=sorted(lines.values(), key=lambda line: line.code), months=months,
                    years=budget_years(session))


def _projects(session: Session, in_year, lines: dict[int, DepartmentLine]) -> None:
    query = select(Project.department_id, func.count(col(Project.id))).where(in_year).group_by(
        col(Project.department_id))
    for dep, count in session.exec(query).all():
        lines[dep].projects = count


def _lights(session: Session, in_year, lines: dict[int, DepartmentLine]) -> None:
    query = (select(Project.department_id, ProjectState.light, func.count(col(ProjectState.id)))
             .join(ProjectState, col(ProjectState.project_id) == Project.id).where(in_year)
             .group_by(col(Project.department_id), col(ProjectState.light)))
    for dep, light, count in session.exec(query).all():
        lines[dep].lights[light] = count
    for line in lines.values():
        line.not_evaluated = line.projects - sum(line.lights.values())


def _states(session: Session, in_year, lines: dict[int, DepartmentLine]) -> None:
    """Per department, from the stored states in one grouped query: overdue items and periods
    (`OVERDUE_STATUSES`, counted as `count_overdue` counts them), due-soon periods, and the periods due by the
    as-of date with and without data (填报完整率). States not yet due are not joined at all."""
    status = col(IndicatorState.status)
    overdue = status.in_(sorted(OVERDUE_STATUSES))
    query = (sa_select(col(Project.department_id),  # six columns: more than sqlmodel's typed select takes
                       func.count(distinct(case((overdue, IndicatorState.indicator_id)))),
                       func.sum(case((overdue, 1), else_=0)),
                       func.sum(case((status == "due_soon", 1), else_=0)),
                       func.sum(case((status.in_(sorted(EXPECTED_STATUSES)), 1), else_=0)),
                       func.sum(case((status.in_(sorted(REPORTED_STATUSES)), 1), else_=0)))
             .join(Indicator, col(Indicator.id) == IndicatorState.indicator_id)
             .join(Project, col(Project.id) == Indicator.project_id)
             .where(in_year, status.in_(sorted(EXPECTED_STATUSES | {"due_soon"})))
             .group_by(col(Project.department_id)))
    for dep, items, periods, soon, expected, reported in session.execute(query).all():
        line = lines[dep]
        line.overdue = OverdueCount(int(items or 0), int(periods or 0))
        line.due_soon, line.expected, line.reported = int(soon or 0), int(expected or 0), int(reported or 0)


def _money(session: Session, in_year, lines: dict[int, DepartmentLine], year_id: int, year: int, as_of: date,
           settings: EvaluationSettings, visible: Collection[int] | None) -> list[MonthPoint]:
    """Budgets in force and spending at `as_of` per department, and the bureau's totals at each month end.

    Whole histories are read straight into frames (`evaluation.load.query_frame`) and the facts in force picked
    in pandas (`facts.in_force_frame`), as the evaluation reads them: a NOT EXISTS per row is what SQLite plans as
    a scan of the table per row once ANALYZE has seen that few rows are corrected. Amounts are summed in whole
    分 (money is stored with two decimals), so every total is exact."""
    funds = session.exec(select(Project.department_id, func.sum(col(Project.annual_funds)))
                         .where(in_year).group_by(col(Project.department_id))).all()
    initial = {dep: Decimal(total or 0) for dep, total in funds}
    scope = "p.budget_year_id = :year_id"
    if visible is not None:
        scope += f" AND p.department_id IN ({', '.join(str(int(i)) for i in lines) or 'NULL'})"
    conn = session.connection()
    adjustments = _in_force(query_frame(
        conn, "SELECT a.id, a.supersedes_id, p.department_id, a.effective_on AS day, a.amount FROM budgetadjustment a "
              f"JOIN project p ON p.id = a.project_id WHERE {scope}", {"year_id": year_id}, "ifiof"), as_of)
    spending = _in_force(query_frame(
        conn, "SELECT s.id, s.supersedes_id, s.project_id, p.department_id, s.as_of AS day, s.amount FROM spending s "
              f"JOIN project p ON p.id = s.project_id WHERE {scope}", {"year_id": year_id}, "ifiiof"), as_of)
    moved = adjustments.groupby("department_id")["cents"].sum()
    for dep, total in initial.items():
        lines[dep].budget = total + Decimal(int(moved.get(dep, 0))) / 100
    spending = spending.sort_values(["project_id", "day", "id"])
    last = spending.groupby("project_id").tail(1)
    for dep, cents in last.groupby("department_id")["cents"].sum().items():
        lines[int(dep)].spent = Decimal(int(cents)) / 100
    return _months(sum(initial.values(), Decimal(0)), adjustments, spending, year, as_of, settings)


def _in_force(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The rows in force dated by `as_of`, with their day as datetime64[D] and the amount in whole 分."""
    frame = facts.in_force_frame(frame)
    frame = frame.assign(day=pd.to_datetime(frame["day"]).to_numpy().astype("datetime64[D]"),
                         cents=np.rint(frame["amount"].to_numpy(dtype=np.float64) * 100).astype(np.int64))
    return frame[frame["day"] <= np.datetime64(as_of, "D")]


def _months(base: Decimal, adjustments: pd.DataFrame, spending: pd.DataFrame, year: int, as_of: date,
            settings: EvaluationSettings) -> list[MonthPoint]:
    points = []
    last_month = as_of.month if as_of.year == year else (12 if as_of.year > year else 0)
    for month in range(1, last_month + 1):
        day = min(cal.month_end(year, month), as_of)
        cutoff = np.datetime64(day, "D")
        budget = base + Decimal(int(adjustments.loc[adjustments["day"] <= cutoff, "cents"].sum())) / 100
        upto = spending[spending["day"] <= cutoff]
        spent = Decimal(int(upto.groupby("project_id").tail(1)["cents"].sum())) / 100
        execution = spent / budget * 100 if budget else Decimal(0)
        points.append(MonthPoint(month, day, execution, time_progress_percent(settings, year, day)))
    return points


def _activity(session: Session, lines: dict[int, DepartmentLine]) -> None:
    if not lines:
        return
    query = (select(AuditEvent.department_id, func.max(AuditEvent.at))
             .where(col(AuditEvent.department_id).in_(list(lines))).group_by(col(AuditEvent.department_id)))
    for dep, at in session.exec(query).all():
        if dep is not None:
            lines[dep].activity = at


# ------------------------------------------------------------------------------------------ sort, filter, search


@dataclass(frozen=True)
class Choice:
    """What the bureau asked the overview for, from the query string (so it works without JavaScript)."""

    sort: str = "code"
    descending: bool = False
    light: str = ""  # only departments with at least one project of this light
    overdue_only: bool = False
    q: str = ""


def read_choice(params) -> Choice:
    """The query string read leniently: an unknown sort or light is the default, never an error page."""
    sort = params.get("sort", "code")
    light = params.get("light", "")
    return Choice(sort=sort if sort in SORT_KEYS else "code", descending=params.get("order") == "desc",
                  light=light if light in LIGHTS else "", overdue_only=params.get("overdue") == "1",
                  q=(params.get("q") or "").strip()[:100])


def chosen(overview: Overview, choice: Choice) -> list[DepartmentLine]:
    """The lines the choice keeps, in its order; lines without a value for the sort key come last either way."""
    lines = [line for line in overview.lines
             if (not choice.light or line.lights.get(choice.light))
             and (not choice.overdue_only or line.overdue.items)
             and (not choice.q or choice.q.casefold() in line.name.casefold() or choice.q in line.code)]
    key = {"code": lambda line: line.code, "name": lambda line: line.name, "projects": lambda line: line.projects,
           "red": lambda line: line.lights.get("red", 0),
           "overdue": lambda line: (line.overdue.items, line.overdue.periods),
           "due_soon": lambda line: line.due_soon, "execution": lambda line: line.execution,
           "ratio": overview.ratio, "completeness": lambda line: line.completeness,
           "activity": lambda line: line.activity}[choice.sort]
    present = [line for line in lines if key(line) is not None]
    missing = [line for line in lines if key(line) is None]
    present.sort(key=lambda line: line.code)
    present.sort(key=key, reverse=choice.descending)  # stable: equal values stay in code order
    return present + missing


def light_totals(lines: list[DepartmentLine]) -> dict[str, int]:
    """Project lights summed over the lines, in `LIGHTS` order."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        for light, count in line.lights.items():
            totals[light] += count
    return {light: totals[light] for light in LIGHTS}
