"""The audit trail of targets: whoever changes an indicator, an event with before and after is stored."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from monitor.store.db import session_scope
from monitor.store.models import AuditEvent, Indicator
from tests.test_progress_world import build_world


def _events(engine, entity="indicator"):
    with Session(engine) as s:
        return s.exec(select(AuditEvent).where(AuditEvent.entity == entity).order_by(AuditEvent.id)).all()


def test_created_targets_are_summarised_per_project_and_flush(engine):
    world = build_world(engine, users=False)  # flushes after each indicator
    events = _events(engine)
    assert {e.action for e in events} == {"create"}
    created: dict[int, int] = {}
    for e in events:
        created[e.after["project_id"]] = created.get(e.after["project_id"], 0) + e.after["indicators"]
    assert created == {world.hr_project: 6, world.union_project: 1}
    assert {e.after["department_id"] for e in events} == {world.hr_id, world.union_id}


def test_a_changed_target_records_before_and_after_and_who(engine):
    world = build_world(engine, users=False)
    with session_scope(engine) as s:
        s.info.update(actor="importer-test", channel="import")
        indicator = s.get(Indicator, world.ind["count"])
        indicator.value_text = "≥3500人"
        indicator.target_value = Decimal("3500")
        indicator.position = 99  # not a target field: not audited
    with session_scope(engine) as s:
        s.get(Indicator, world.ind["rate"]).target_value = Decimal("90")  # same value: no event
    (event,) = [e for e in _events(engine) if e.action == "update"]
    assert event.entity_id == world.ind["count"] and event.actor == "importer-test"
    assert event.before == {"value_text": "≥3000人", "target_value": "3000"}
    assert event.after["value_text"] == "≥3500人" and event.after["target_value"] == "3500"
    assert event.after["department_id"] == world.hr_id


def test_a_deleted_target_keeps_what_it_was(engine):
    world = build_world(engine, users=False)
    with session_scope(engine) as s:
        s.delete(s.get(Indicator, world.ind["unparsed"]))
    (event,) = [e for e in _events(engine) if e.action == "delete"]
    assert event.before["value_text"] == "XX" and event.entity_id == world.ind["unparsed"]


def test_settings_are_recorded_when_they_change_without_secrets(engine):
    import dataclasses
    import json

    from monitor.config import Config, DatabaseConfig, PortalConfig
    from monitor.web.serve import record_settings

    settings = dataclasses.replace(Config(), database=DatabaseConfig(url="postgresql://kp:hunter2@db/kp"),
                                   secret_key="s3cret-key", smtp_password="mail-pass")
    record_settings(engine, settings)
    record_settings(engine, settings)  # unchanged: nothing new
    record_settings(engine, dataclasses.replace(settings, portal=PortalConfig(session_hours=4)))
    events = _events(engine, "setting")
    assert [e.action for e in events] == ["initial", "change"]
    # as stored in JSON, where a tuple of addresses becomes a list
    assert events[1].before == {"portal": json.loads(json.dumps(dataclasses.asdict(PortalConfig())))}
    assert events[1].after["portal"]["session_hours"] == 4
    text = str([e.after for e in events])
    assert "hunter2" not in text and "s3cret-key" not in text and "mail-pass" not in text


def test_a_starting_portal_records_its_settings_once(engine):
    import dataclasses

    from fastapi.testclient import TestClient

    from monitor.config import Config
    from monitor.web.app import create_app

    settings = dataclasses.replace(Config(), secret_key="k")
    for _ in range(2):
        with TestClient(create_app(settings, engine)) as client:  # `with` runs the startup
            assert client.get("/login").status_code == 200
    assert [e.action for e in _events(engine, "setting")] == ["initial"]
