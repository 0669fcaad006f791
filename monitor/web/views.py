"""Gathering what a page shows in a handful of queries (no per-row lazy loads), so pages stay fast."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, func, select

from monitor.progress import service
from monitor.progress.schedule import Due, describe_target, next_due, pending
from monitor.progress.validation import IndicatorInfo
from monitor.store import facts
from monitor.store.models import (
    BudgetYear,
    Department,
    Indicator,
    IndicatorState,
    Project,
    ProjectState,
    Report,
    Spending,
    User,
)
from rules.terms import worst_light


@dataclass
class IndicatorView:
    info: IndicatorInfo
    meaning: str
    latest: Report | None
    history: list[Report]
    superseded: set[int]
    light: str | None
    next: Due | None
    occurrences: tuple[date, ...]

    @property
    def indicator(self) -> Indicator:
        return self.info.indicator


@dataclass
class ProjectRow:
    project: Project
    light: str | None
    budget_light: str | None
    next: Due | None
    overdue: list[Due]
    indicators: int
    reported: int


@dataclass
class ProjectPage:
    project: Project
    department: Department
    year: int
    indicators: list[IndicatorView]
    state: ProjectState | None
    spending: list[Spending]
    spending_superseded: set[int]
    spent: Spending | None = None
    users: dict[int, str] = field(default_factory=dict)


def _infos_for_projects(session: Session, project_ids: list[int]) -> dict[int, list[IndicatorInfo]]:
    ids = session.exec(select(Indicator.id).where(col(Indicator.project_id).in_(project_ids))).all() if project_ids else []
    infos = service.load_infos(session, ids)
    grouped: dict[int, list[IndicatorInfo]] = defaultdict(list)
    for info in sorted(infos.values(), key=lambda i: (i.indicator.half, i.indicator.position, i.indicator.id)):
        grouped[info.project.id].append(info)
    return grouped


def department_rows(session: Session, department_id: int, today: date) -> list[ProjectRow]:
    projects = session.exec(select(Project).where(Project.department_id == department_id).order_by(Project.id)).all()
    ids = [p.id for p in projects]
    grouped = _infos_for_projects(session, ids)
    effective = facts.effective_reports(session, [i.indicator.id for infos in grouped.values() for i in infos])
    states = {s.project_id: s for s in session.exec(select(ProjectState).where(col(ProjectState.project_id).in_(ids))).all()} if ids else {}
    rows = []
    for project in projects:
        infos = [i for i in grouped.get(project.id, []) if i.indicator.half == "annual"]
        dues = sorted((d for i in infos for d in pending(i, effective.get(i.indicator.id, []), today)),
                      key=lambda d: d.due)
        upcoming = [d for d in dues if not d.overdue]
        state = states.get(project.id)
        rows.append(ProjectRow(project, state.light if state else None, state.budget_light if state else None,
                               upcoming[0] if upcoming else None, [d for d in dues if d.overdue], len(infos),
                               sum(1 for i in infos if effective.get(i.indicator.id))))
    return rows


def project_page(session: Session, project: Project, today: date) -> ProjectPage:
    infos = _infos_for_projects(session, [project.id]).get(project.id, [])
    ids = [i.indicator.id for i in infos]
    histories = service.histories(session, ids)
    superseded = facts.superseded_ids(r for rows in histories.values() for r in rows)
    # The facts in force are the history minus what was corrected, oldest first: no second query.
    effective = {iid: facts.in_force(rows[::-1]) for iid, rows in histories.items()}
    states: dict[int, list[IndicatorState]] = defaultdict(list)
    if ids:
        for state in session.exec(select(IndicatorState).where(col(IndicatorState.indicator_id).in_(ids))).all():
            states[state.indicator_id].append(state)
    views = []
    for info in infos:
        iid = info.indicator.id
        lights = [s.light for s in states.get(iid, [])]
        views.append(IndicatorView(
            info=info, meaning=describe_target(info), latest=service.latest(effective[iid]), history=histories[iid],
            superseded=superseded, light=worst_light(lights),
            next=next_due(info, effective[iid], today), occurrences=info.occurrence_dues))
    spending = service.spending_history(session, project.id)
    spending_superseded = facts.superseded_ids(spending)
    state = session.exec(select(ProjectState).where(ProjectState.project_id == project.id)).first()
    year = infos[0].year if infos else None
    if year is None:
        year = session.get(BudgetYear, project.budget_year_id).year
    user_ids = {r.user_id for rows in histories.values() for r in rows if r.user_id} | {s.user_id for s in spending if s.user_id}
    users = dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(user_ids))).all()) if user_ids else {}
    return ProjectPage(project=project, department=session.get(Department, project.department_id), year=year,
                       indicators=views, state=state, spending=spending, spending_superseded=spending_superseded,
                       spent=service.latest_spending(facts.in_force(spending)),
                       users=users)


@dataclass
class DepartmentSummary:
    department: Department
    projects: int
    indicators: int
    reports: int
    lights: dict[str, int]


def overview(session: Session, visible: set[int] | None) -> list[DepartmentSummary]:
    """Every department (the finance bureau's view) with counts, in three grouped queries."""
    query = select(Department).where(Department.is_finance_bureau == False).order_by(Department.code)  # noqa: E712
    if visible is not None:
        query = query.where(col(Department.id).in_(visible))
    departments = session.exec(query).all()
    projects = dict(session.exec(select(Project.department_id, func.count(Project.id)).group_by(Project.department_id)).all())
    indicators = dict(session.exec(select(Project.department_id, func.count(Indicator.id))
                                   .join(Indicator, Indicator.project_id == Project.id).group_by(Project.department_id)).all())
    reports = dict(session.exec(select(Project.department_id, func.count(Report.id))
                                .join(Indicator, Indicator.project_id == Project.id)
                                .join(Report, Report.indicator_id == Indicator.id).group_by(Project.department_id)).all())
    lights: dict[int, dict[str, int]] = defaultdict(dict)
    for dep_id, light, count in session.exec(select(Project.department_id, ProjectState.light, func.count(ProjectState.id))
                                             .join(ProjectState, ProjectState.project_id == Project.id)
                                             .group_by(Project.department_id, ProjectState.light)).all():
        lights[dep_id][light] = count
    return [DepartmentSummary(d, projects.get(d.id, 0), indicators.get(d.id, 0), reports.get(d.id, 0), lights.get(d.id, {}))
            for d in departments]
