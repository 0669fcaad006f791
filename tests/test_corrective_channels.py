"""整改 through the REST API, the command line and the portal, the same steps and refusals as the service; and
the bureau's round status exported to Excel with every cell a value, never a formula."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.accounts.tokens import create_token
from monitor.cli.main import app
from monitor.rounds import corrective, service
from monitor.rounds.corrective import Origin
from monitor.store.models import CorrectiveAction, Department, RoundTask
from monitor.web.app import create_app
from tests.rounds_world import TODAY, RoundWorld, build_round_world, signed_in, user

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(engine, db_url) -> RoundWorld:
    return build_round_world(engine, db_url)


def _api(engine, world: RoundWorld, username: str) -> TestClient:
    application = create_app(dataclasses.replace(world.settings, secret_key="api-test"), engine)
    application.state.clock = lambda: TODAY
    with Session(engine) as s:
        token = create_token(s, user(s, username), "corrective")[1]
        s.commit()
    return TestClient(application, headers={"Authorization": f"Bearer {token}"})


def _count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(CorrectiveAction)).one()


def test_the_api_issues_answers_and_accepts_and_refuses_with_403_404_and_409(engine, world):
    bureau, clerk, other = (_api(engine, world, name) for name in ("bureau", "clerk_144", "clerk_959"))
    item = {"project_id": world.hr_project, "indicator_id": world.reported, "requirement": "加快进度",
            "due": "2024-09-30"}
    assert clerk.post("/api/v1/corrective-actions", json=item).status_code == 403 and _count(engine) == 0
    issued = bureau.post("/api/v1/corrective-actions", json=item)
    assert issued.status_code == 201, issued.text
    action = issued.json()
    assert (action["status"], action["requirement"], action["overdue_days"]) == ("open", "加快进度", None)
    assert other.get(f"/api/v1/corrective-actions/{action['id']}").status_code == 404
    assert other.get("/api/v1/corrective-actions").json() == []
    answered = clerk.post(f"/api/v1/corrective-actions/{action['id']}/answer", json={"answer": "已加快"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    again = clerk.post(f"/api/v1/corrective-actions/{action['id']}/answer", json={"answer": "再答一次"})
    assert again.status_code == 409 and "等待财政局验收" in again.json()["detail"]
    assert clerk.post(f"/api/v1/corrective-actions/{action['id']}/accept").status_code == 403
    accepted = bureau.post(f"/api/v1/corrective-actions/{action['id']}/accept", json={"note": "到位"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert "/api/v1/corrective-actions/{action_id}/reopen" in bureau.get("/api/v1/openapi.json").json()["paths"]


def test_the_command_line_issues_answers_and_accepts_and_a_department_issuing_exits_1(engine, world, db_url,
                                                                                      monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)
    refused = run("corrective", "issue", "--project", str(world.hr_project), "--requirement", "x",
                  "--due", "2024-09-30", "--user", "head_144", "--today", "2024-08-10")
    assert refused.exit_code == 1 and "只有财政局管理员可以发起整改" in refused.output and _count(engine) == 0
    issued = run("corrective", "issue", "--project", str(world.hr_project), "--requirement", "补充绩效佐证材料",
                 "--due", "2024-09-30", "--user", "bureau", "--today", "2024-08-10")
    assert issued.exit_code == 0 and "待整改" in issued.output, issued.output
    with Session(engine) as s:
        action_id = s.exec(select(CorrectiveAction.id)).one()
    answered = run("corrective", "answer", str(action_id), "--result", "已补充", "--user", "clerk_144")
    assert answered.exit_code == 0, answered.output
    accepted = run("corrective", "accept", str(action_id), "--user", "bureau", "--today", "2024-08-10")
    assert accepted.exit_code == 0, accepted.output
    listed = run("corrective", "list", "--user", "clerk_959")
    assert listed.output.strip() == "没有整改事项"
    mine = run("corrective", "list", "--user", "clerk_144", "--today", "2024-08-10")
    assert "已验收" in mine.output and "结果：已补充" in mine.output


def test_the_portal_issues_from_a_light_and_the_department_answers_on_its_phone_page(engine, world):
    bureau, token = signed_in(engine, world, "bureau", "/corrective")
    form = bureau.get(f"/corrective?project={world.hr_project}&indicator={world.reported}")
    assert "issue-corrective" in form.text
    without_token = bureau.post("/corrective", data={"project_id": world.hr_project, "requirement": "x",
                                                     "due": "2024-09-30"}, follow_redirects=False)
    assert without_token.status_code == 403 and _count(engine) == 0
    issued = bureau.post("/corrective", data={"project_id": world.hr_project, "indicator_id": world.reported,
                                              "requirement": "<b>加快</b>进度", "due": "2024-09-30",
                                              "csrf_token": token})
    assert issued.status_code == 200 and "已发起整改" in issued.text and "&lt;b&gt;加快&lt;/b&gt;" in issued.text
    clerk, clerk_token = signed_in(engine, world, "clerk_144", "/corrective")
    with Session(engine) as s:
        action_id = s.exec(select(CorrectiveAction.id)).one()
    answered = clerk.post(f"/corrective/{action_id}/answer", data={"answer": "已加快", "csrf_token": clerk_token})
    assert answered.status_code == 200 and "已答复" in answered.text
    foreign, foreign_token = signed_in(engine, world, "clerk_959", "/corrective")
    assert foreign.post(f"/corrective/{action_id}/answer", data={"answer": "x", "csrf_token": foreign_token},
                        follow_redirects=False).status_code == 404


def test_an_open_item_shows_on_the_departments_next_round_task_page(engine, world):
    with Session(engine) as s:
        corrective.issue(s, user(s, "bureau"), Origin(world.hr_project), requirement="上一轮的整改要求",
                         due=date(2024, 9, 30), today=TODAY)
        service.open_round(s, user(s, "bureau"), kind="second_monitor", year=2024, through_month=9,
                           due=date(2024, 10, 31), department_codes=["144"])
        s.commit()
        task_id = s.exec(select(RoundTask.id)).one()
    clerk, _token = signed_in(engine, world, "clerk_144", "/corrective")
    page = clerk.get(f"/rounds/tasks/{task_id}").text
    assert "本部门未完成的整改" in page and "上一轮的整改要求" in page


def test_the_round_status_exports_to_excel_with_its_counts_and_no_formula(engine, world):
    with Session(engine) as s:
        s.get(Department, world.union_id).name = "=HYPERLINK(\"http://x\")工会"
        round_ = service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7,
                                    due=date(2024, 8, 31), department_codes=["144", "959"])
        s.commit()
        task_id = s.exec(select(RoundTask.id).where(RoundTask.department_id == world.hr_id)).one()
        service.submit_task(s, user(s, "head_144"), task_id, settings=world.settings)
        s.commit()
        round_id = round_.id
    bureau, _token = signed_in(engine, world, "bureau", "/corrective")
    assert f"/rounds/{round_id}/status.xlsx" in bureau.get(f"/rounds/{round_id}").text
    export = bureau.get(f"/rounds/{round_id}/status.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[2][:5] == ["待填报", "已上报", "已退回", "已通过", "逾期"] and rows[3][:5] == [1, 1, 0, 0, 0]
    by_code = {r[0]: r for r in rows[6:]}
    assert (by_code["144"][2], by_code["144"][5], by_code["959"][2]) == ("已上报", 1, "待填报")
    union = sheet.cell(6 + 1 + list(by_code).index("959"), 2)
    assert union.data_type == "s" and union.value.startswith("=HYPERLINK")
    clerk, _ = signed_in(engine, world, "clerk_959", "/corrective")
    only_own = load_workbook(BytesIO(clerk.get(f"/rounds/{round_id}/status.xlsx").content)).active
    assert [r[0].value for r in only_own.iter_rows(min_row=7)] == ["959"]
