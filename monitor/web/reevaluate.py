"""A report's project evaluated again right after the transaction that stored it, by the daily run's rules."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import Request
from sqlmodel import Session

from monitor.evaluation import evaluate_project
from monitor.store.db import write_turn
from monitor.web.auth import today

log = logging.getLogger(__name__)


def reevaluate(request: Request, project_ids: Iterable[int]) -> None:
    """The projects' lights anew on the portal's today, so the page a clerk returns to after reporting shows the
    light their report earned, with its reason, instead of the one of the last scheduled run.

    Called after the report's transaction committed: what was stored stays stored if this fails, and the next
    scheduled run then brings the light up to date. Each project is its own short transaction.
    """
    engine = request.app.state.engine
    for project_id in project_ids:
        try:
            with Session(engine) as session, write_turn(session):
                evaluate_project(session.connection(), request.app.state.settings, project_id,
                                 as_of=today(request))
                session.commit()
        except Exception:
            log.exception("re-evaluating project %s after a report failed; the next evaluation run catches up",
                          project_id)
