"""Gathering what a page shows in a handful of queries (no per-row lazy loads), so pages stay fast."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlmodel import Session, SQLModel, col, select

from monitor.progress import service
from monitor.progress.budget import BudgetFigures, adjustment_history, budget_figures
from monitor.progress.schedule import Due, describe_target, next_due, pending
from monitor.progress.validation import IndicatorInfo
from monitor.store import facts
from monitor.store.models import (
    BudgetAdjustment,
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
from monitor.store.rows import stored_id
from rules.formatting import OverdueCount, count_overdue, fmt_decimal
from rules.terms import SEVERITY, worst_light

M = TypeVar("M", bound=SQLModel)


def referenced(session: Session, model: type[M], key: int) -> M:
    """The row a foreign key points at: the constraint guarantees it is there."""
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key} is referenced but missing")
    return row


def indicator_ids(session: Session, project_ids: Collection[int]) -> list[int]:
    """The ids of the projects' indicators, in one query."""
    if not project_ids:
        return []
    ids = session.exec(select(Indicator.id).where(col(Indicator.project_id).in_(project_ids))).all()
    return [i for i in ids if i is not None]  # a primary key is never NULL; the model types it for new rows


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
    why: LightExplained | None = None

    @property
    def indicator(self) -> Indicator:
        return self.info.indicator


@dataclass(frozen=True)
class LightExplained:
    """Why an indicator shows its light, as the digest says it: the evaluation's reason (in both languages, for the
    page's `reason_of()`) and the figures behind it (labels in Chinese, for the page's `t()`)."""

    light: str
    status: str
    reason: str
    reason_en: str | None
    as_of: date | None
    occurrence: str
    figures: tuple[tuple[str, str], ...]


def explain(states: list[IndicatorState], unit: str | None, as_of: date | None) -> LightExplained | None:
    """The state that sets the indicator's light (the most severe; of equals the earliest occurrence), explained;
    `as_of` is the date its project was evaluated on (a state carries no date of its own)."""
    if not states:
        return None
    state = min(states, key=lambda s: (-SEVERITY.get(s.light, -1), s.occurrence))
    figures = [(label, fmt_decimal(value, "%" if label == "完成率" else unit))
               for label, value in (("序时目标", state.expected), ("实际完成", state.actual),
                                    ("完成率", state.ratio), ("全年预计", state.forecast)) if value is not None]
    return LightExplained(light=state.light, status=state.status, reason=state.reason, reason_en=state.reason_en,
                          as_of=as_of, occurrence=state.occurrence,
                          figures=tuple(figures))


@dataclass
class ProjectRow:
    project: Project
    light: str | None
    budget_light: str | None
    next: Due | None
    overdue: list[Due]
    indicators: int
    reported: int

    @property
    def overdue_count(self) -> OverdueCount:
        return count_overdue(d.indicator_id for d in self.overdue)


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
    budget: BudgetFigures | None = None  # 年初预算数, the adjustments in force today, 全年预算数
    adjustments: list[BudgetAdjustment] = field(default_factory=list)  # every one, corrected ones too, newest first
    adjustments_superseded: set[int] = field(default_factory=set)


def _infos_for_projects(session: Session, project_ids: list[int], today: date) -> dict[int, list[IndicatorInfo]]:
    """The projects' indicators, each with the target in force today."""
    infos = service.load_infos(session, indicator_ids(session, project_ids), today)
    grouped: dict[int, list[IndicatorInfo]] = defaultdict(list)
    for info in sorted(infos.values(), key=lambda i: (i.indicator.half, i.indicator.position, i.indicator.id)):
        grouped[stored_id(info.project)].append(info)
    return grouped


def department_rows(session: Session, department_id: int, today: date) -> list[ProjectRow]:
    projects = session.exec(select(Project).where(Project.department_id == department_id)
                            .order_by(col(Project.id))).all()
    ids = [stored_id(p) for p in projects]
    grouped = _infos_for_projects(session, ids, today)
    effective = facts.effective_reports(session, [stored_id(i.indicator) for infos in grouped.values() for i in infos])
    states = {s.project_id: s for s in session.exec(select(ProjectState)
                                                    .where(col(ProjectState.project_id).in_(ids))).all()} if ids else {}
    rows = []
    for project, project_id in zip(projects, ids, strict=True):
        infos = [i for i in grouped.get(project_id, []) if i.indicator.half == "annual"]
        dues = sorted((d for i in infos for d in pending(i, effective.get(stored_id(i.indicator), []), today)),
                      key=lambda d: d.due)
        upcoming = [d for d in dues if not d.overdue]
        state = states.get(project_id)
        rows.append(ProjectRow(project, state.light if state else None, state.budget_light if state else None,
                               upcoming[0] if upcoming else None, [d for d in dues if d.overdue], len(infos),
                               sum(1 for i in infos if effective.get(stored_id(i.indicator)))))
    return rows


def project_page(session: Session, project: Project, today: date) -> ProjectPage:
    project_id = stored_id(project)
    infos = _infos_for_projects(session, [project_id], today).get(project_id, [])
    ids = [stored_id(i.indicator) for i in infos]
    histories = service.histories(session, ids)
    superseded = facts.superseded_ids(r for rows in histories.values() for r in rows)
    # The facts in force are the history minus what was corrected, oldest first: no second query.
    effective = {iid: facts.in_force(rows[::-1]) for iid, rows in histories.items()}
    states: dict[int, list[IndicatorState]] = defaultdict(list)
    if ids:
        for state in session.exec(select(IndicatorState).where(col(IndicatorState.indicator_id).in_(ids))).all():
            states[state.indicator_id].append(state)
    project_state = session.exec(select(ProjectState).where(ProjectState.project_id == project_id)).first()
    evaluated_on = project_state.as_of if project_state else None
    views = []
    for info in infos:
        iid = stored_id(info.indicator)
        lights = [s.light for s in states.get(iid, [])]
        views.append(IndicatorView(
            info=info, meaning=describe_target(info), latest=service.latest(effective[iid]), history=histories[iid],
            superseded=superseded, light=worst_light(lights),
            next=next_due(info, effective[iid], today), occurrences=info.occurrence_dues,
            why=explain(states.get(iid, []), info.target.unit, evaluated_on)))
    spending = service.spending_history(session, project_id)
    spending_superseded = facts.superseded_ids(spending)
    year = infos[0].year if infos else referenced(session, BudgetYear, project.budget_year_id).year
    adjustments = adjustment_history(session, project_id)
    user_ids = ({r.user_id for rows in histories.values() for r in rows if r.user_id}
                | {s.user_id for s in spending if s.user_id} | {a.user_id for a in adjustments if a.user_id})
    users: dict[int, str] = {}
    if user_ids:
        names = session.exec(select(User.id, User.display_name).where(col(User.id).in_(user_ids))).all()
        users = {uid: name for uid, name in names if uid is not None}  # a primary key is never NULL
    return ProjectPage(project=project, department=referenced(session, Department, project.department_id), year=year,
                       indicators=views, state=project_state, spending=spending,
                       spending_superseded=spending_superseded,
                       spent=service.latest_spending(facts.in_force(spending)),
                       users=users, budget=budget_figures(session, project, today), adjustments=adjustments,
                       adjustments_superseded=facts.superseded_ids(adjustments))
