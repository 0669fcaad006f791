"""Rounds through the command line and the REST API: the same steps and refusals as the portal."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.accounts.tokens import create_token
from monitor.cli.main import app
from monitor.store.models import AuditEvent, Round, RoundSubmission, RoundTask
from monitor.web.app import create_app
from tests.rounds_world import TODAY, build_round_world, user


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)
    return invoke


def test_round_open_status_submit_review_and_close_on_the_command_line(run, engine, db_url):
    world = build_round_world(engine, db_url)
    opened = run("round", "open", "--kind", "monitor", "--year", "2024", "--through", "7", "--due", "2024-08-31",
                 "--department", "144", "--department", "959", "--user", "bureau", "--today", "2024-08-10")
    assert opened.exit_code == 0, opened.output
    assert "2024年度年中绩效监控（1-7月）" in opened.output and "待填报 2" in opened.output
    with Session(engine) as s:
        task_id = s.exec(select(RoundTask.id).where(RoundTask.department_id == world.hr_id)).one()
    submitted = run("round", "submit", str(task_id), "--user", "head_144")
    assert submitted.exit_code == 0 and "第 1 版" in submitted.output, submitted.output
    returned = run("round", "review", str(task_id), "--verdict", "returned", "--user", "bureau",
                   "--project-comment", f"{world.hr_project}=请补充资金执行说明")
    assert returned.exit_code == 0, returned.output
    status = run("round", "status", "--user", "bureau", "--today", "2024-09-02")
    assert "已退回 1" in status.output and "逾期 2" in status.output, status.output
    closed = run("round", "close", "1", "--user", "bureau")
    assert closed.exit_code == 0 and "已关闭" in closed.output


def test_a_department_opening_a_round_on_the_command_line_exits_1_with_the_reason(run, engine, db_url):
    build_round_world(engine, db_url)
    refused = run("round", "open", "--kind", "monitor", "--year", "2024", "--through", "7", "--due", "2024-08-31",
                  "--user", "head_144")
    assert refused.exit_code == 1 and "只有财政局管理员可以发起轮次" in refused.output
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Round)).one() == 0


def _api(engine, world, username: str) -> TestClient:
    application = create_app(dataclasses.replace(world.settings, secret_key="api-test"), engine)
    application.state.clock = lambda: TODAY
    with Session(engine) as s:
        token = create_token(s, user(s, username), "rounds")[1]
        s.commit()
    return TestClient(application, headers={"Authorization": f"Bearer {token}"})


def test_the_api_runs_a_round_and_answers_refusals_with_403_404_and_409(engine, db_url):
    world = build_round_world(engine, db_url)
    bureau, head, other = (_api(engine, world, name) for name in ("bureau", "head_144", "head_959"))
    assert head.post("/api/v1/rounds", json={"kind": "monitor", "year": 2024, "through_month": 7,
                                             "due": "2024-08-31"}).status_code == 403
    opened = bureau.post("/api/v1/rounds", json={"kind": "monitor", "year": 2024, "through_month": 7,
                                                 "due": "2024-08-31"})
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["title"] == "2024年度年中绩效监控（1-7月）" and body["counts"]["pending"] == 2
    hr_task = next(t["task_id"] for t in body["tasks"] if t["department_code"] == "144")
    assert other.get(f"/api/v1/rounds/tasks/{hr_task}").status_code == 404
    assert [t["department_code"] for t in other.get(f"/api/v1/rounds/{body['id']}").json()["tasks"]] == ["959"]
    filled = head.post(f"/api/v1/rounds/tasks/{hr_task}/fill",
                       json={"indicator_id": world.reported, "deviation_causes": {"经费保障": "资金下达较晚"},
                             "likelihood": "有可能"})
    assert filled.status_code == 200, filled.text
    submitted = head.post(f"/api/v1/rounds/tasks/{hr_task}/submit")
    assert submitted.status_code == 200 and submitted.json()["versions"][0]["version"] == 1
    again = head.post(f"/api/v1/rounds/tasks/{hr_task}/submit")
    assert again.status_code == 409 and "已上报的版本不能修改" in again.json()["detail"]
    reviewed = bureau.post(f"/api/v1/rounds/tasks/{hr_task}/review", json={
        "verdict": "returned", "comments": [{"text": "请写明资金到位时间", "indicator_id": world.reported}]})
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "returned"
    assert reviewed.json()["versions"][0]["comments"][0]["indicator_id"] == world.reported
    assert bureau.post(f"/api/v1/rounds/{body['id']}/close").json()["status"] == "closed"
    late = head.post(f"/api/v1/rounds/tasks/{hr_task}/submit")
    assert late.status_code == 409 and "已关闭" in late.json()["detail"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(RoundSubmission)).one() == 1
        channels = set(s.exec(select(AuditEvent.channel).where(AuditEvent.entity.in_(("round", "roundtask")))))
    assert channels == {"api"}


def test_the_rounds_api_is_documented_in_openapi(engine, db_url):
    world = build_round_world(engine, db_url)
    schema = _api(engine, world, "bureau").get("/api/v1/openapi.json").json()
    assert {"/api/v1/rounds", "/api/v1/rounds/{round_id}", "/api/v1/rounds/tasks/{task_id}/review"} <= set(
        schema["paths"])
    assert "RoundStatusOut" in schema["components"]["schemas"]
