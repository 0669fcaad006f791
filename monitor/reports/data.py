"""Read everything a report needs in a handful of set-based queries, as plain values (no ORM lazy loads).

Facts are the effective (never superseded) rows of the append-only tables, taken as of a cut-off date:
the monitoring table reads through the end of month X, the self-evaluation through 31 December.
A fact counts for the date it is for (as-of date, completion, or the day a grade without a date was given),
and never later than 31 December of its budget year: whatever is on record for a year's indicator belongs to
that year, so a result typed (or dated) in January of the next year is the year's result, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ScalarSelect
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.progress.budget import initial_budgets
from monitor.store.facts import not_superseded
from monitor.store.models import (
    BudgetAdjustment,
    BudgetYear,
    Department,
    Indicator,
    IndicatorState,
    Project,
    ProjectState,
    Report,
    SelfEvalEntry,
    Spending,
)
from monitor.store.rows import stored_id
from monitor.store.target_versions import ApprovedVersion, approved_versions, version_on
from rules.budget import budget_in_force
from rules.targets import RANGE
from rules.terms import FUND_SOURCES, worst_light


class ReportError(ValueError):
    """A report that cannot be made as asked (unknown year, department or project); the message says which."""


@dataclass
class ReportFact:
    value: Decimal | None
    as_of: date | None
    occurrence_due: date | None
    completed_on: date | None
    grade: str | None
    explanation: str | None
    forecast: Decimal | None
    forecast_text: str | None
    deviation_causes: dict | None
    likelihood: str | None
    note: str | None
    effective_on: date


@dataclass
class IndicatorData:
    id: int
    level1: str
    level2: str
    name: str
    value_text: str
    kind: str | None
    comparator: str | None
    target: Decimal | None
    unit: str | None
    direction: str | None
    occurrences: list[tuple[date, date]]
    weight: Decimal | None
    reports: list[ReportFact] = field(default_factory=list)  # effective, oldest first
    light: str | None = None
    state_forecast: Decimal | None = None
    state_likelihood: str | None = None
    picked: Decimal | None = None
    selfeval_explanation: str | None = None
    upper: Decimal | None = None  # a range's upper bound (comparator RANGE)
    versions: list[ApprovedVersion] = field(default_factory=list)  # approved target adjustments, oldest first
    original_text: str | None = None  # 原目标, set on the view `in_force` gives when an adjustment is in force

    def in_force(self, on: date) -> IndicatorData:
        """This indicator with the target in force on `on` (`monitor.store.target_versions`): itself while the
        imported target is, else a copy carrying the adjusted target and, in `original_text`, the imported one."""
        version = version_on(self.versions, on)
        if version is None:
            return self
        target = version.target
        return replace(self, value_text=target.text, kind=target.kind, comparator=target.comparator,
                       target=target.value, unit=target.unit, direction=target.direction,
                       occurrences=[(occ.start, occ.due) for occ in target.occurrences],
                       upper=target.upper if target.comparator == RANGE else None, original_text=self.value_text)

    @property
    def target_cell(self) -> str:
        """The 指标值 cell as every table prints it: the target, or 原目标 → 调整后目标 once it was adjusted."""
        if self.original_text is None:
            return self.value_text
        return f"原目标：{self.original_text} → 调整后目标：{self.value_text}"

    def reports_until(self, cutoff: date) -> list[ReportFact]:
        return [r for r in self.reports if r.effective_on <= cutoff]

    def latest(self, cutoff: date) -> ReportFact | None:
        facts = self.reports_until(cutoff)
        return facts[-1] if facts else None

    def completions(self, cutoff: date) -> dict[date, date]:
        """Earliest completion per occurrence due date, matched as the evaluation matches them
        (`rules.evaluation._completions`): a report naming its occurrence counts for that one; one without counts
        for the first occurrence due on or after its completion, or for the last one, late."""
        dues = sorted(due for _start, due in self.occurrences)
        out: dict[date, date] = {}
        for fact in self.reports_until(cutoff):
            if not fact.completed_on or not dues:
                continue
            due = fact.occurrence_due or next((d for d in dues if d >= fact.completed_on), dues[-1])
            if due not in out or fact.completed_on < out[due]:
                out[due] = fact.completed_on
        return out


@dataclass
class ProjectData:
    id: int
    name: str
    department_id: int
    department_code: str
    department_name: str
    implementing_unit: str | None
    annual_funds: Decimal | None  # 年初预算数, as imported
    initial_by_source: dict[str, Decimal | None]  # 年初预算数 per FUND_SOURCES key
    annual_goal: str | None
    spending: list[tuple[date, Decimal]] = field(default_factory=list)  # effective, by date
    # the same rows' split by source (FUND_SOURCES key → 元), None for a row reported as a total only
    spending_split: list[dict[str, Decimal] | None] = field(default_factory=list)
    adjustments: list[tuple[date, Decimal, str]] = field(default_factory=list)  # in force: day, amount, source
    indicators: list[IndicatorData] = field(default_factory=list)
    light: str | None = None
    budget_light: str | None = None
    forecast_spent: Decimal | None = None
    level_weights: dict[str, Decimal | None] = field(default_factory=dict)  # the project's own; None = default

    def indicators_on(self, on: date) -> list[IndicatorData]:
        """The indicators with the targets in force on `on` (the table's cut-off)."""
        return [ind.in_force(on) for ind in self.indicators]

    @property
    def department_label(self) -> str:
        return f"{self.department_code}-{self.department_name}"

    def spent_until(self, cutoff: date) -> Decimal | None:
        amounts = [amount for on, amount in self.spending if on <= cutoff]
        return amounts[-1] if amounts else None

    def split_until(self, cutoff: date) -> dict[str, Decimal] | None:
        """The split by source of the spending figure in force at `cutoff`, None when it gave only the total."""
        splits = [split for (on, _amount), split in zip(self.spending, self.spending_split, strict=True)
                  if on <= cutoff]
        return splits[-1] if splits else None

    def budget_on(self, cutoff: date, source: str | None = None) -> Decimal | None:
        """全年预算数 at `cutoff` (the 年初预算数 plus the adjustments dated by then), of one source if given."""
        initial = self.annual_funds if source is None else self.initial_by_source.get(source)
        moves = [(on, amount) for on, amount, of in self.adjustments if source is None or of == source]
        return budget_in_force(initial, moves, cutoff)


@dataclass
class YearData:
    year: int
    monitor_through_month: int | None
    projects: list[ProjectData]


def _day(moment: datetime | None) -> date | None:
    return None if moment is None else moment.date()


def load_year(
    session: Session,
    year: int,
    *,
    department: str | int | None = None,
    project_id: int | None = None,
    department_ids: set[int] | None = None,
    project_ids: set[int] | None = None,
) -> YearData:
    """All projects of `year` (optionally one department by code or id, one project, only the departments
    in `department_ids`, the portal's scoping, or only the projects in `project_ids`, a round's 重点监控 pick)
    with their annual indicators and effective facts."""
    budget_year = session.exec(select(BudgetYear).where(BudgetYear.year == year)).first()
    if budget_year is None:
        raise ReportError(f"没有 {year} 年度的数据 (no budget year {year} in the store)")
    conditions = [col(Project.budget_year_id) == budget_year.id]
    if department is not None:
        conditions.append(col(Project.department_id) == _find_department(session, department).id)
    if project_id is not None:
        conditions.append(col(Project.id) == project_id)
    if department_ids is not None:
        conditions.append(col(Project.department_id).in_(department_ids or {-1}))
    if project_ids is not None:
        conditions.append(col(Project.id).in_(project_ids or {-1}))
    query = (select(Project, Department).join(Department, col(Department.id) == Project.department_id)
             .where(*conditions))
    rows = session.exec(query.order_by(Department.code, col(Project.id))).all()
    if project_id is not None and not rows:
        raise ReportError(f"{year} 年度没有编号为 {project_id} 的项目 (or it is outside the chosen department)")
    projects = {
        stored_id(p): ProjectData(
            id=stored_id(p), name=p.name, department_id=stored_id(d), department_code=d.code, department_name=d.name,
            implementing_unit=p.implementing_unit, annual_funds=p.annual_funds,
            initial_by_source=initial_budgets(p), annual_goal=p.annual_goal,
            level_weights=p.level_weights(),
        )
        for p, d in rows
    }
    if not projects:
        return YearData(year=year, monitor_through_month=budget_year.monitor_through_month, projects=[])
    # the other tables are filtered by this subquery, not by a list of ids: a whole province's ids would
    # exceed the bound-parameter limits of SQLite and PostgreSQL
    ids = select(col(Project.id)).where(*conditions).scalar_subquery()
    _load_indicators(session, projects, ids, year)
    _load_spending(session, projects, ids, date(year, 12, 31))
    for state in session.exec(select(ProjectState).where(col(ProjectState.project_id).in_(ids))):
        project = projects[state.project_id]
        project.light, project.budget_light, project.forecast_spent = (
            state.light, state.budget_light, state.forecast_spent)
    return YearData(year=year, monitor_through_month=budget_year.monitor_through_month,
                    projects=list(projects.values()))


def _find_department(session: Session, department: str | int) -> Department:
    """An int is a department id (the portal's links); text is a department code (the CLI's --department)."""
    condition = (col(Department.id) == department if isinstance(department, int)
                 else col(Department.code) == department)
    found = session.exec(select(Department).where(condition)).first()
    if found is None:
        raise ReportError(f"没有代码为 {department} 的部门 (unknown department)")
    return found


def _load_indicators(session: Session, projects: dict[int, ProjectData], ids: ScalarSelect[int | None],
                     year: int) -> None:
    indicators: dict[int, IndicatorData] = {}
    query = (select(Indicator).where(col(Indicator.project_id).in_(ids), Indicator.half == "annual")
             .order_by(col(Indicator.project_id), col(Indicator.position), col(Indicator.id)))
    for ind in session.exec(query):
        occurrences = [(occ.start, occ.due) for occ in ind.target.occurrences]
        data = IndicatorData(
            id=stored_id(ind), level1=ind.level1, level2=ind.level2, name=ind.name, value_text=ind.value_text,
            kind=ind.kind, comparator=ind.comparator, target=ind.target_value, unit=ind.unit,
            direction=ind.direction, occurrences=occurrences, weight=ind.weight,
            upper=ind.target.upper if ind.comparator == RANGE else None,
        )
        indicators[data.id] = data
        projects[ind.project_id].indicators.append(data)
    if not indicators:
        return
    ind_ids = (select(col(Indicator.id)).where(col(Indicator.project_id).in_(ids), Indicator.half == "annual")
               .scalar_subquery())
    # plain column tuples, not ORM objects: a province-wide ranking reads hundreds of thousands of reports
    columns = (Report.indicator_id, Report.value, Report.as_of, Report.occurrence_due, Report.completed_on,
               Report.grade, Report.explanation, Report.forecast, Report.forecast_text, Report.deviation_causes,
               Report.likelihood, Report.note, Report.created_at)
    reports = (sa_select(*(col(c) for c in columns))
               .where(col(Report.indicator_id).in_(ind_ids), not_superseded(Report))
               .order_by(col(Report.id)))
    year_end = date(year, 12, 31)
    for (indicator_id, value, as_of, due, completed_on, grade, explanation, forecast, forecast_text, causes,
         likelihood, note, created_at) in session.execute(reports).all():
        indicators[indicator_id].reports.append(ReportFact(
            value=value, as_of=as_of, occurrence_due=due, completed_on=completed_on, grade=grade,
            explanation=explanation, forecast=forecast, forecast_text=forecast_text, deviation_causes=causes,
            likelihood=likelihood, note=note,
            effective_on=min(as_of or completed_on or _day(created_at) or year_end, year_end),
        ))
    for data in indicators.values():
        data.reports.sort(key=lambda f: f.effective_on)
    for indicator_id, versions in approved_versions(session, ind_ids).items():
        indicators[indicator_id].versions = versions
    states = select(IndicatorState).where(col(IndicatorState.indicator_id).in_(ind_ids))
    for state in session.exec(states):
        data = indicators[state.indicator_id]
        data.light = worst_light((data.light, state.light))
        if state.occurrence == "":
            data.state_forecast, data.state_likelihood = state.forecast, state.likelihood
    entries = (select(SelfEvalEntry).where(col(SelfEvalEntry.indicator_id).in_(ind_ids), SelfEvalEntry.year == year,
                                           not_superseded(SelfEvalEntry))
               .order_by(col(SelfEvalEntry.id)))
    for entry in session.exec(entries):
        indicators[entry.indicator_id].picked = entry.score
        indicators[entry.indicator_id].selfeval_explanation = entry.explanation


def _load_spending(session: Session, projects: dict[int, ProjectData], ids: ScalarSelect[int | None],
                   year_end: date) -> None:
    """Spending dated after the year end counts for the year end (as reports do); adjustments as they are dated."""
    query = (sa_select(col(Spending.project_id), col(Spending.as_of), col(Spending.amount), col(Spending.fiscal),
                       col(Spending.other), col(Spending.carryover))
             .where(col(Spending.project_id).in_(ids), not_superseded(Spending))
             .order_by(col(Spending.project_id), col(Spending.as_of), col(Spending.id)))
    for project_id, as_of, amount, *parts in session.execute(query).all():
        project = projects[project_id]
        project.spending.append((min(as_of, year_end), Decimal(amount)))
        split = dict(zip(FUND_SOURCES, parts, strict=True))
        project.spending_split.append(None if all(v is None for v in parts)
                                      else {k: Decimal(v or 0) for k, v in split.items()})
    adjustments = (select(col(BudgetAdjustment.project_id), col(BudgetAdjustment.effective_on),
                          col(BudgetAdjustment.amount), col(BudgetAdjustment.source))
                   .where(col(BudgetAdjustment.project_id).in_(ids), not_superseded(BudgetAdjustment))
                   .order_by(col(BudgetAdjustment.effective_on), col(BudgetAdjustment.id)))
    for project_id, on, amount, source in session.exec(adjustments).all():
        projects[project_id].adjustments.append((on, Decimal(amount), source))
