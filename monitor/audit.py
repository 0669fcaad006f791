"""The audit trail: every change to targets, reports, users, tokens and settings, with before and after.

Recording happens inside the caller's transaction, so a change and its audit event are stored together
or not at all. Secrets (password hashes, token hashes) never enter an event.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from monitor.store.models import AuditEvent, User
from monitor.store.types import SHANGHAI, now

SECRET_FIELDS = {"password_hash", "token_hash", "password", "token"}
EXPORT_COLUMNS = ("id", "at", "actor", "channel", "action", "entity", "entity_id", "department_id",
                  "before", "after", "note")


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A JSON-safe copy of a model's columns (or of `fields`), without secrets."""
    data = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
    if fields is not None:
        data = {k: data.get(k) for k in fields}
    return {k: _jsonable(v) for k, v in data.items() if k not in SECRET_FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Session,
    *,
    actor: User | str | None,
    channel: str,
    action: str,
    entity: str,
    entity_id: int | None = None,
    department_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str | None = None,
) -> AuditEvent:
    """Add one event to `session` (the caller commits it with the change it describes)."""
    if isinstance(actor, User):
        actor_name, actor_id = actor.username, actor.id
    else:
        actor_name, actor_id = actor or "system", None
    event = AuditEvent(
        at=now(), actor=actor_name, actor_user_id=actor_id, channel=channel, action=action, entity=entity,
        entity_id=entity_id, department_id=department_id,
        before=None if before is None else _jsonable(before), after=None if after is None else _jsonable(after),
        note=note)
    session.add(event)
    return event


def list_events(
    session: Session,
    *,
    entity: str | None = None,
    actor: str | None = None,
    department_id: int | None = None,
    since: datetime | None = None,
    limit: int | None = 500,
) -> Sequence[AuditEvent]:
    """Newest first."""
    query = select(AuditEvent)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if department_id is not None:
        query = query.where(AuditEvent.department_id == department_id)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if limit:
        query = query.limit(limit)
    return session.exec(query).all()


def export_csv(events: Iterable[AuditEvent]) -> str:
    """UTF-8 CSV with a BOM so Excel opens the Chinese text correctly; before/after as JSON."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for e in events:
        at = e.at.astimezone(SHANGHAI).isoformat(timespec="seconds") if e.at else ""
        writer.writerow([
            e.id, at, e.actor, e.channel, e.action, e.entity, e.entity_id or "", e.department_id or "",
            "" if e.before is None else json.dumps(e.before, ensure_ascii=False, sort_keys=True),
            "" if e.after is None else json.dumps(e.after, ensure_ascii=False, sort_keys=True),
            e.note or "",
        ])
    return out.getvalue()
