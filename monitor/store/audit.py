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
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from monitor.spreadsheets.cells import csv_row
from monitor.store import bulk
from monitor.store.models import AuditEvent, Indicator, Project, User
from monitor.store.rows import table_of
from monitor.store.types import now
from rules.calendar import shanghai_time

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the settings: the store does not import the config's types

_AUDIT_TABLE = table_of(AuditEvent)
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
    if isinstance(value, datetime):
        return shanghai_time(value).isoformat()
    if isinstance(value, date):
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
    event = AuditEvent(**_event_values(actor, channel=channel, action=action, entity=entity, entity_id=entity_id,
                                       department_id=department_id, before=before, after=after, note=note))
    session.add(event)
    return event


def record_many(session: Session, actor: User | str | None, events: Sequence[dict[str, Any]]) -> None:
    """Store several events by one actor at once, each a dict of `record`'s keywords after `actor`.

    One statement without ORM objects (`bulk.insert_rows`), for paths that write an event per row under load (API
    reports); the events are part of the caller's transaction all the same.
    """
    record_by_actors(session, [(actor, event) for event in events])


def record_by_actors(session: Session, events: Sequence[tuple[User | str | None, dict[str, Any]]]) -> None:
    """`record_many` for events of several actors, (actor, event) each: a batch of API posts in one statement."""
    bulk.insert_rows(session, _AUDIT_TABLE, [_event_values(actor, **event) for actor, event in events])


def _event_values(actor: User | str | None, *, channel: str, action: str, entity: str, entity_id: int | None = None,
                  department_id: int | None = None, before: dict | None = None, after: dict | None = None,
                  note: str | None = None) -> dict[str, Any]:
    if isinstance(actor, User):
        actor_name, actor_id = actor.username, actor.id
    else:
        actor_name, actor_id = actor or "system", None
    return {"at": now(), "actor": actor_name, "actor_user_id": actor_id, "channel": channel, "action": action,
            "entity": entity, "entity_id": entity_id, "department_id": department_id,
            "before": None if before is None else _jsonable(before),
            "after": None if after is None else _jsonable(after), "note": note}


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
        at = e.at.isoformat(timespec="seconds") if e.at else ""
        writer.writerow(csv_row([
            e.id, at, e.actor, e.channel, e.action, e.entity, e.entity_id or "", e.department_id or "",
            "" if e.before is None else json.dumps(e.before, ensure_ascii=False, sort_keys=True),
            "" if e.after is None else json.dumps(e.after, ensure_ascii=False, sort_keys=True),
            e.note or "",
        ]))
    return out.getvalue()


# ---- targets: recorded whoever changes them ------------------------------------------------------------

TARGET_FIELDS = ("half", "level1", "level2", "name", "value_text", "kind", "comparator", "target_value", "unit",
                 "direction", "weight")
# A project's own level weights decide its score as much as its indicators' weights do.
PROJECT_WEIGHT_FIELDS = ("weight_execution", "weight_output", "weight_effect", "weight_satisfaction")


def _changes(obj: Any, fields: Sequence[str]) -> tuple[dict, dict]:
    """(before, after) of the `fields` this flush changes on `obj`."""
    from sqlalchemy import inspect

    state = inspect(obj)
    before, after = {}, {}
    for name in fields:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            before[name], after[name] = old, new
    return before, after


def audit_target_changes(session: Session) -> None:
    """Add audit events for indicators (targets) created, changed or deleted in this flush, and for a project's
    level weights changed in it.

    Runs on every flush (`on_flush`, which `monitor.store` registers), so no code path — importer, portal,
    script — can change a target without a trace. Actor and channel come from `session.info` when the caller set
    them ("actor", "channel"), else "system"/"import". Creation is summarised per project, not per row.
    """
    created: dict[int | None, int] = {}
    changed: list[tuple[Indicator, dict, dict]] = []
    deleted: list[Indicator] = []
    weighed: list[tuple[Project, dict, dict]] = []
    for obj in session.new:
        if isinstance(obj, Indicator):
            created[obj.project_id] = created.get(obj.project_id, 0) + 1
    for obj in session.dirty:
        if isinstance(obj, Project) and obj.id is not None:
            before, after = _changes(obj, PROJECT_WEIGHT_FIELDS)
            if after:
                weighed.append((obj, before, after))
        if not isinstance(obj, Indicator) or obj.id is None:
            continue
        before, after = _changes(obj, TARGET_FIELDS)
        if after:
            changed.append((obj, before, after))
    for obj in session.deleted:
        if isinstance(obj, Indicator):
            deleted.append(obj)
    if not (created or changed or deleted or weighed):
        return
    actor = session.info.get("actor", "system")
    channel = session.info.get("channel", "import")
    # The department goes into the JSON, not the department_id column: a foreign key from the audit trail
    # would stop anyone (a re-import, a clean-up) from deleting a department whose targets ever changed.
    with session.no_autoflush:
        departments: dict[int | None, int | None] = {}

        def department_of(project_id: int | None) -> dict:
            if project_id not in departments:
                project = session.get(Project, project_id) if project_id is not None else None
                departments[project_id] = project.department_id if project is not None else None
            return {"project_id": project_id, "department_id": departments[project_id]}

        for project_id, count in created.items():
            record(session, actor=actor, channel=channel, action="create", entity="indicator", entity_id=None,
                   after=department_of(project_id) | {"indicators": count})
        for obj, before, after in changed:
            record(session, actor=actor, channel=channel, action="update", entity="indicator", entity_id=obj.id,
                   before=before, after=after | department_of(obj.project_id) | {"name": obj.name})
        for obj in deleted:
            record(session, actor=actor, channel=channel, action="delete", entity="indicator", entity_id=obj.id,
                   before=snapshot(obj, ("project_id",) + TARGET_FIELDS))
        for project, before, after in weighed:
            record(session, actor=actor, channel=channel, action="weights", entity="project", entity_id=project.id,
                   before=before, after=after | department_of(project.id) | {"name": project.name})


def on_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    """The `before_flush` listener that `monitor.store` registers on every ORM session."""
    audit_target_changes(session)


# ---- settings: a changed config.toml leaves a trace when the server starts ---------------------------------

def settings_snapshot(settings: DataclassInstance) -> dict[str, Any]:
    """Every configured value except secrets; the database URL without its password."""
    import dataclasses

    from sqlalchemy.engine import make_url

    data = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if not f.metadata.get("env_only")}
    data = _jsonable({k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
                      for k, v in data.items()})
    url = data.get("database", {}).get("url")
    if url:
        try:
            data["database"]["url"] = make_url(url).render_as_string(hide_password=True)
        except Exception:
            pass
    return data


def record_settings(session: Session, settings: DataclassInstance, *, actor: str = "system") -> AuditEvent | None:
    """Record the settings in force if they differ from the last recorded ones (called when a server starts)."""
    current = settings_snapshot(settings)
    last = session.exec(select(AuditEvent).where(AuditEvent.entity == "setting")
                        .order_by(col(AuditEvent.id).desc()).limit(1)).first()
    previous = last.after if last is not None else None
    if previous == current:
        return None
    changed_before = {k: v for k, v in (previous or {}).items() if current.get(k) != v}
    changed_after = {k: v for k, v in current.items() if (previous or {}).get(k) != v}
    return record(session, actor=actor, channel="config", action="change" if previous else "initial", entity="setting",
                  before=changed_before or None, after=current,
                  note=f"{getattr(settings, 'source', '')}: " + ", ".join(sorted(changed_after)))
