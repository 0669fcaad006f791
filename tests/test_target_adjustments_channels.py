"""Target adjustments through the command line and the REST API: the same steps and refusals as the service."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.accounts.tokens import create_token
from monitor.cli.main import app
from monitor.config import Config, DatabaseConfig
from monitor.store.models import TargetAdjustment, User
from monitor.web.app import create_app
from tests.test_progress_world import build_world


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)
    return invoke


def _statuses(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.exec(select(TargetAdjustment.status).order_by(TargetAdjustment.id)))


def test_adjust_request_list_and_approve_on_the_command_line(run, engine, world):
    asked = run("adjust", "request", str(world.ind["count"]), "--value", "≥6000人", "--reason", "上级追加任务",
                "--effective-on", "2024-07-15", "--user", "clerk_hr")
    assert asked.exit_code == 0, asked.output
    assert "[待审核]" in asked.output and "≥3000人 → ≥6000人，2024-07-15 起" in asked.output
    own = run("adjust", "approve", "1", "--user", "clerk_hr")
    assert own.exit_code == 1 and "只有财政局管理员可以审批目标调整" in own.output
    approved = run("adjust", "approve", "1", "--note", "同意", "--user", "admin")
    assert approved.exit_code == 0 and "[已批准]" in approved.output, approved.output
    listed = run("adjust", "list", "--status", "approved", "--user", "clerk_hr")
    assert listed.output.count("#1 [已批准]") == 1 and "审批意见：同意" in listed.output
    assert "没有目标调整" in run("adjust", "list", "--user", "clerk_union").output
    assert _statuses(engine) == ["approved"]


def test_adjust_reject_without_a_note_is_refused_by_typer_and_with_one_rejects(run, engine, world):
    run("adjust", "request", str(world.ind["count"]), "--value", "≥2000人", "--reason", "资金压减",
        "--effective-on", "2024-07-15", "--user", "clerk_hr")
    assert run("adjust", "reject", "1", "--user", "admin").exit_code == 2  # --note is required
    rejected = run("adjust", "reject", "1", "--note", "依据不足", "--user", "admin")
    assert rejected.exit_code == 0 and "[已驳回]" in rejected.output
    twice = run("adjust", "approve", "1", "--user", "admin")
    assert twice.exit_code == 1 and "已驳回，不能再次审批" in twice.output
    assert _statuses(engine) == ["rejected"]


def _api(engine, db_url, username: str) -> TestClient:
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="api-test")
    application = create_app(settings, engine)
    with Session(engine) as s:
        owner = s.exec(select(User).where(User.username == username)).one()
        token = create_token(s, owner, "adjust")[1]
        s.commit()
    return TestClient(application, headers={"Authorization": f"Bearer {token}"})


def test_the_api_requests_approves_and_answers_refusals_with_403_404_and_409(engine, db_url, world):
    clerk, other, admin = (_api(engine, db_url, name) for name in ("clerk_hr", "clerk_union", "admin"))
    body = {"indicator_id": world.ind["count"], "value_text": "≥6000人", "reason": "上级追加任务",
            "effective_on": "2024-07-15"}
    assert other.post("/api/v1/target-adjustments", json=body).status_code == 404
    assert admin.post("/api/v1/target-adjustments", json=body).status_code == 403
    asked = clerk.post("/api/v1/target-adjustments", json=body)
    assert asked.status_code == 201, asked.text
    made = asked.json()
    assert (made["original_text"], made["value_text"], made["status"], made["requested_by"]) == (
        "≥3000人", "≥6000人", "proposed", "clerk_hr")
    assert clerk.post("/api/v1/target-adjustments", json=body).status_code == 409  # one pending at a time
    assert clerk.post(f"/api/v1/target-adjustments/{made['id']}/approve", json={}).status_code == 403
    assert other.get(f"/api/v1/target-adjustments/{made['id']}").status_code == 404
    approved = admin.post(f"/api/v1/target-adjustments/{made['id']}/approve", json={"note": "同意"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = admin.post(f"/api/v1/target-adjustments/{made['id']}/approve", json={})
    assert again.status_code == 409 and "不能再次审批" in again.json()["detail"]
    assert [a["id"] for a in clerk.get("/api/v1/target-adjustments?status=approved").json()] == [made["id"]]
    project = clerk.get(f"/api/v1/projects/{world.hr_project}").json()
    (count,) = (i for i in project["indicators"] if i["id"] == world.ind["count"])
    assert (count["target_text"], count["target_value"]) == ("≥6000人", "6000")  # in force after 15 July 2024
    assert other.get("/api/v1/target-adjustments").json() == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(TargetAdjustment)).one() == 1
