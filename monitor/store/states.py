"""Removing what the evaluation derived for indicators and projects that are themselves being removed.

The state tables keep no foreign keys (`monitor.store.models.evaluation`), so they neither stop a removal nor
follow it: the remover calls `forget` in its own transaction, before it deletes the rows.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete
from sqlmodel import Session, col

from monitor.store.models import IndicatorState, IndicatorStateChange, ProjectState


def forget(session: Session, *, indicator_ids: Collection[int] = (), project_ids: Collection[int] = ()) -> None:
    """Delete the current states and the light history of these indicators, and the states of these projects."""
    if indicator_ids:
        ids = sorted(indicator_ids)
        session.execute(delete(IndicatorStateChange).where(col(IndicatorStateChange.indicator_id).in_(ids)))
        session.execute(delete(IndicatorState).where(col(IndicatorState.indicator_id).in_(ids)))
    if project_ids:
        session.execute(delete(ProjectState).where(col(ProjectState.project_id).in_(sorted(project_ids))))
