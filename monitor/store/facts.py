"""The facts in force in the append-only tables: reports, spending, budget adjustments and self-evaluation entries.

A row is never updated; a correction is a new row whose `supersedes_id` names the row it replaces. A row is in
force while no row supersedes it. This module is the only place that rule is written, in the three forms its
readers need: an SQL predicate (NOT EXISTS on the indexed `supersedes_id`, for queries), the same over a
complete history already loaded (the portal and API show superseded rows too, so they read it whole), and over
a DataFrame of raw rows (the evaluation reads millions of them; a vectorised filter costs less than a
correlated subquery per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import ColumnElement, bindparam, exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from monitor.store.models import BudgetAdjustment, Report, SelfEvalEntry, Spending

if TYPE_CHECKING:
    import pandas as pd


class Superseding(Protocol):
    id: int | None
    supersedes_id: int | None


Row = TypeVar("Row", bound=Superseding)

HistoryModel = type[Report] | type[Spending] | type[SelfEvalEntry] | type[BudgetAdjustment]

_NEWER: dict[HistoryModel, HistoryModel] = {model: aliased(model)
                                            for model in (Report, Spending, SelfEvalEntry, BudgetAdjustment)}


def not_superseded(model: HistoryModel) -> ColumnElement[bool]:
    """SQL: no row of `model`'s table supersedes this one (correlated to `model` in the enclosing query)."""
    newer = _NEWER[model]
    return ~exists().where(col(newer.supersedes_id) == col(model.id))


def superseded_ids(history: Iterable[Superseding]) -> set[int]:
    """The ids of a complete history (every row of an indicator or project) that a later row supersedes."""
    return {row.supersedes_id for row in history if row.supersedes_id is not None}


def in_force(history: Sequence[Row]) -> list[Row]:
    """The rows of a complete history nothing supersedes, in the history's order."""
    superseded = superseded_ids(history)
    return [row for row in history if row.id not in superseded]


def in_force_frame(rows: pd.DataFrame, id_column: str = "id") -> pd.DataFrame:
    """The rows of a DataFrame (with `id_column` and `supersedes_id`, all of the history) nothing supersedes."""
    if rows.empty or "supersedes_id" not in rows:
        return rows
    superseded = rows["supersedes_id"].dropna()
    if superseded.empty:
        return rows
    return rows[~rows[id_column].isin(superseded.astype(rows[id_column].dtype))]


_EFFECTIVE_REPORTS = (select(Report).where(col(Report.indicator_id).in_(bindparam("ids", expanding=True)))
                      .where(not_superseded(Report)).order_by(col(Report.indicator_id), col(Report.id)))
_EFFECTIVE_SPENDING = (select(Spending).where(col(Spending.project_id).in_(bindparam("ids", expanding=True)))
                       .where(not_superseded(Spending)).order_by(col(Spending.project_id), col(Spending.id)))

_EFFECTIVE_ADJUSTMENTS = (select(BudgetAdjustment)
                          .where(col(BudgetAdjustment.project_id).in_(bindparam("ids", expanding=True)))
                          .where(not_superseded(BudgetAdjustment))
                          .order_by(col(BudgetAdjustment.project_id), col(BudgetAdjustment.effective_on),
                                    col(BudgetAdjustment.id)))


def effective_reports(session: Session, indicator_ids: Iterable[int]) -> dict[int, list[Report]]:
    """The reports in force per indicator, oldest first (every id asked for is a key)."""
    ids = list(set(indicator_ids))
    result: dict[int, list[Report]] = {i: [] for i in ids}
    if ids:
        for report in session.exec(_EFFECTIVE_REPORTS, params={"ids": ids}).all():
            result[report.indicator_id].append(report)
    return result


def effective_spending(session: Session, project_ids: Iterable[int]) -> dict[int, list[Spending]]:
    """The spending rows in force per project, oldest first (every id asked for is a key)."""
    ids = list(set(project_ids))
    result: dict[int, list[Spending]] = {i: [] for i in ids}
    if ids:
        for row in session.exec(_EFFECTIVE_SPENDING, params={"ids": ids}).all():
            result[row.project_id].append(row)
    return result


def effective_adjustments(session: Session, project_ids: Iterable[int]) -> dict[int, list[BudgetAdjustment]]:
    """The budget adjustments in force per project, by effective day (every id asked for is a key)."""
    ids = list(set(project_ids))
    result: dict[int, list[BudgetAdjustment]] = {i: [] for i in ids}
    if ids:
        for row in session.exec(_EFFECTIVE_ADJUSTMENTS, params={"ids": ids}).all():
            result[row.project_id].append(row)
    return result
