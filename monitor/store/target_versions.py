"""The target in force on a day: the one rule for which version of an indicator's 指标值 applies.

The indicator keeps its target as imported (原目标). An approved target adjustment replaces it from its
`effective_on` day; of several, the latest effective day wins (the later decision on the same day). Before any
approved adjustment takes effect, the imported target is in force. This module is the only place that rule is
written, in the two forms its readers need: for one indicator (the portal, the API, the service), and batched for
many indicators at once (the evaluation's chunks and the reports' year, one query each).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ScalarSelect, Select, and_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from monitor.store.models import Indicator, TargetAdjustment
from rules.targets import Target


@dataclass(frozen=True)
class TargetVersion:
    """The 指标值 in force: its verbatim text and reading, and the approved adjustment it comes from (None for the
    target as imported, whose text is then also `original_text`)."""

    text: str
    target: Target
    original_text: str
    adjustment_id: int | None = None
    effective_on: date | None = None

    @property
    def adjusted(self) -> bool:
        return self.adjustment_id is not None


@dataclass(frozen=True)
class ApprovedVersion:
    """One approved adjustment as the batched reader gives it (plain values, no ORM object)."""

    adjustment_id: int
    indicator_id: int
    text: str
    target_json: dict | None
    effective_on: date

    @property
    def target(self) -> Target:
        if self.target_json is None:
            return Target(self.text, "unparsed", None, None, None, None, (), (), None)
        return Target.from_json(self.target_json)


def version_on(versions: Sequence[ApprovedVersion], on: date) -> ApprovedVersion | None:
    """The rule itself: of one indicator's approved versions (oldest first, as `approved_versions` gives them), the
    last one effective on or before `on`; None while the imported target is in force."""
    in_force = None
    for version in versions:
        if version.effective_on <= on:
            in_force = version
    return in_force


# An approved version's columns and the order of one indicator's versions: what `approved_versions` reads, and
# what `joined_versions` adds to a query of indicators.
_COLUMNS = (col(TargetAdjustment.id), col(TargetAdjustment.indicator_id), col(TargetAdjustment.value_text),
            col(TargetAdjustment.target_json), col(TargetAdjustment.effective_on))
_ORDER = (col(TargetAdjustment.effective_on), col(TargetAdjustment.decided_at), col(TargetAdjustment.id))
_APPROVED = col(TargetAdjustment.status) == "approved"


def approved_versions(conn: Connection | Session, indicator_ids: Iterable[int] | ScalarSelect[int | None]
                      ) -> dict[int, list[ApprovedVersion]]:
    """Every approved adjustment per indicator, oldest effective day first (then by decision, then by id), for
    the indicators that have one. `indicator_ids` may be a subquery, so a whole province's ids never become bound
    parameters."""
    ids = indicator_ids if isinstance(indicator_ids, ScalarSelect) else list(indicator_ids)
    query = (sa_select(*_COLUMNS).where(col(TargetAdjustment.indicator_id).in_(ids), _APPROVED)
             .order_by(col(TargetAdjustment.indicator_id), *_ORDER))
    found: dict[int, list[ApprovedVersion]] = {}
    for row in conn.execute(query).all():
        version = version_of_row(row)
        assert version is not None  # an inner read: every row is an adjustment
        found.setdefault(version.indicator_id, []).append(version)
    return found


def joined_versions(query: Select, indicator_id: Mapped[int | None]) -> Select:
    """`query`, which reads one row per indicator, with each indicator's approved versions joined on: one row per
    version in `approved_versions`' order, or one row whose version columns are NULL for an indicator with none
    (`version_of_row` reads them). Saves a round trip where the indicators are read anyway."""
    return (query.add_columns(*_COLUMNS)
            .outerjoin(TargetAdjustment, and_(col(TargetAdjustment.indicator_id) == indicator_id, _APPROVED))
            .order_by(indicator_id, *_ORDER))


def version_of_row(row: Sequence) -> ApprovedVersion | None:
    """The version in the last columns of a row of `approved_versions` or `joined_versions`, if any."""
    adjustment_id, indicator_id, text, target_json, effective_on = row[-len(_COLUMNS):]
    if adjustment_id is None:
        return None
    return ApprovedVersion(adjustment_id, indicator_id, text, target_json, effective_on)


def adjusted_targets(conn: Connection | Session, indicator_ids: Iterable[int] | ScalarSelect[int | None],
                     on: date) -> dict[int, ApprovedVersion]:
    """The batched form: the approved adjustment in force on `on` per indicator, for the indicators that have
    one (the others are not keys: their imported target is in force)."""
    found = {}
    for indicator_id, versions in approved_versions(conn, indicator_ids).items():
        version = version_on(versions, on)
        if version is not None:
            found[indicator_id] = version
    return found


def target_in_force(session: Session, indicator: Indicator, on: date) -> TargetVersion:
    """The target of one indicator in force on `on`: the latest approved adjustment effective by then, else the
    target as imported."""
    assert indicator.id is not None  # read from the store
    version = adjusted_targets(session, [indicator.id], on).get(indicator.id)
    if version is None:
        return TargetVersion(indicator.value_text, indicator.target, indicator.value_text)
    return TargetVersion(version.text, version.target, indicator.value_text, version.adjustment_id,
                         version.effective_on)


__all__ = ["ApprovedVersion", "TargetVersion", "adjusted_targets", "approved_versions", "joined_versions",
           "target_in_force", "version_of_row", "version_on"]
