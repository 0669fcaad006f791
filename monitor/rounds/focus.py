"""重点监控: which projects a round asks for when the bureau picks by rules, read from what the evaluation stored
(`projectstate`, `indicatorstate`), never by judging the rules again."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.store.models import Indicator, IndicatorState, Project, ProjectState
from monitor.store.rows import stored_id
from rules.terms import FOCUS_REASONS, FocusRules

QUANTITY_LEVEL2 = "数量指标"
# A budget light below green means spending is behind 序时进度 by the evaluation's own thresholds.
BEHIND_LIGHTS = ("red", "yellow")


def pick_focus(session: Session, projects: Iterable[Project], rules: FocusRules) -> dict[int, list[str]]:
    """The projects among `projects` that at least one rule picks, each with its reasons (FOCUS_REASONS keys, in
    that order). A project the evaluation has not seen yet is picked only for its funds."""
    by_id = {stored_id(p): p for p in projects}
    if not by_id:
        return {}
    ids = list(by_id)
    states = {s.project_id: s for s in session.exec(select(ProjectState).where(col(ProjectState.project_id).in_(ids)))}
    red: set[int] = set()
    off: set[int] = set()
    rows = session.execute(sa_select(col(Indicator.project_id), col(Indicator.level2), col(IndicatorState.light),
                                     col(IndicatorState.actual), col(IndicatorState.expected))
                           .join(IndicatorState, col(IndicatorState.indicator_id) == Indicator.id)
                           .where(col(Indicator.project_id).in_(ids), col(Indicator.half) == "annual")).all()
    for project_id, level2, light, actual, expected in rows:
        if light == "red":
            red.add(project_id)
        if level2 == QUANTITY_LEVEL2 and actual is not None and expected:
            # exact: |actual − expected| × 100 > threshold × expected, no rounded ratio at the threshold
            if abs(actual - expected) * 100 > rules.quantity_deviation_percent * expected:
                off.add(project_id)
    picked: dict[int, list[str]] = {}
    for project_id, project in by_id.items():
        state = states.get(project_id)
        found = {
            "behind_schedule": state is not None and state.budget_light in BEHIND_LIGHTS,
            "red_light": project_id in red or (state is not None and state.light == "red"),
            "no_spending": state is not None and (state.spent is None or state.spent == 0)
            and bool(project.annual_funds),
            "large_funds": (project.annual_funds or Decimal(0)) >= rules.large_funds_yuan,
            "quantity_deviation": project_id in off,
        }
        reasons = [key for key in FOCUS_REASONS if found[key]]
        if reasons:
            picked[project_id] = reasons
    return picked
