"""Budgets as the tables have them: 年初预算数, the finance bureau's adjustments (全年预算数 follows), spending split
by source, and 执行率 against the budget in force, in the lights, the scores and the printed tables."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, delete, select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import Config
from monitor.evaluation.run import run_evaluation
from monitor.progress import service
from monitor.progress.budget import record_adjustment
from monitor.progress.entries import read_adjustment, read_spending
from monitor.progress.validation import ValidationFailed
from monitor.reports.data import load_year
from monitor.reports.produce import ReportRequest, produce
from monitor.reports.selfeval import build_selfeval
from monitor.store.db import session_scope
from monitor.store.models import AuditEvent, BudgetAdjustment, Project, ProjectState, Spending, User
from rules.budget import budget_in_force, budgets_in_force
from rules.lights import project_states
from rules.scoring import ScoringRules
from tests.test_api_progress import _auth, _token
from tests.test_progress_workbook import _download, _fill, _upload
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client

SETTINGS = Config()
JANUARY = date(2025, 1, 15)  # the self-evaluation's spending for 31 December is typed after the year
SPLIT = {"执行数(元)": "480000.50", "其中：财政拨款(元)": "300000.50", "其中：其他资金(元)": "150000",
         "其中：上年结转(元)": "30000", "截至日期": "2024-06-30"}
SPLIT_FIELDS = {"执行数(元)": "amount", "其中：财政拨款(元)": "fiscal", "其中：其他资金(元)": "other",
                "其中：上年结转(元)": "carryover", "截至日期": "as_of"}


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def cli_store(db_url, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)


def _user(s: Session, name: str) -> User:
    return s.exec(select(User).where(User.username == name)).one()


def _set_funds(engine, project_id: int, **funds: Decimal | None) -> None:
    with session_scope(engine) as s:
        project = s.get(Project, project_id)
        for name, value in funds.items():
            setattr(project, name, value)


def _adjust(engine, project_id: int, amount: str, on: str, *, source: str = "fiscal", user: str = "admin",
            today: date = JANUARY, supersedes: int | None = None) -> BudgetAdjustment:
    with session_scope(engine) as s:
        entry = read_adjustment(project_id, amount=amount, effective_on=on, reason="年中追加", source=source,
                                supersedes_id=supersedes)
        return record_adjustment(s, _user(s, user), entry, channel="cli", today=today)


def _spend(engine, project_id: int, amount: str | None, on: str, today: date = JANUARY, **parts: str) -> None:
    with session_scope(engine) as s:
        service.record_spending(s, _user(s, "clerk_hr"), [read_spending(project_id, amount, on, **parts)],
                                channel="cli", today=today)


def _selfeval(engine, project_id: int):
    with Session(engine) as s:
        data = load_year(s, 2024, project_id=project_id)
    (project,) = build_selfeval(data, ScoringRules())
    return project


# ---- 执行率 and 得分 against the adjusted budget --------------------------------------------------------------

def test_a_budget_adjusted_mid_year_from_zero_is_executed_at_100_percent_and_scores_10_of_10(engine, world):
    _set_funds(engine, world.hr_project, annual_funds=Decimal("0.00"))
    _adjust(engine, world.hr_project, "33600", "2024-06-15")
    _spend(engine, world.hr_project, "33600", "2024-12-31")
    project = _selfeval(engine, world.hr_project)
    # by hand: 年初 0, 调整后 3.36 万, spent 3.36 万 → 3.36 ÷ 3.36 = 100 %, min(100 % × 10, 10) = 10
    assert (project.budget_start_wan, project.budget_wan, project.spent_wan) == (
        Decimal("0.00"), Decimal("3.36"), Decimal("3.36"))
    assert project.execution_rate == Decimal("100.00")
    assert project.execution_score == Decimal("10.00")


def test_a_cut_budget_is_executed_against_what_is_left(engine, world):
    _adjust(engine, world.hr_project, "-400000", "2024-09-01")  # 120 万 cut by 40 万 to 80 万
    _spend(engine, world.hr_project, "720000", "2024-12-31")
    project = _selfeval(engine, world.hr_project)
    # by hand: 72 ÷ 80 = 90 %, 90 % × 10 = 9 (against the 年初预算数 it would be 60 %, 6 points)
    assert (project.budget_start_wan, project.budget_wan) == (Decimal("120.00"), Decimal("80.00"))
    assert (project.execution_rate, project.execution_score) == (Decimal("90.00"), Decimal("9.00"))


def test_the_light_measures_spending_against_the_budget_in_force_at_the_as_of_date(engine, world):
    _set_funds(engine, world.hr_project, annual_funds=Decimal("0.00"))
    _adjust(engine, world.hr_project, "33600", "2024-06-15", today=date(2024, 7, 31))
    _spend(engine, world.hr_project, "14000", "2024-06-30", today=date(2024, 7, 31))
    run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 31))
    with Session(engine) as s:
        state = s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one()
    # by hand: 1.4 万 ÷ 3.36 万 = 41.67 %; 序时进度 at 30 June 6/12 = 50 %; 41.67 ÷ 50 = 83.33 % → green
    assert state.budget_light == "green"
    assert float(state.execution_rate) == pytest.approx(41.67, abs=0.01)
    assert "全年预算3.36万元" in state.reason
    # before the adjustment took effect the budget was 0: nothing to execute, grey
    run_evaluation(engine, SETTINGS, as_of=date(2024, 6, 14))
    with Session(engine) as s:
        state = s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one()
    assert state.budget_light == "grey" and "全年预算为0" in state.reason


def test_exactly_60_percent_of_progress_against_an_adjusted_budget_is_yellow_not_red():
    # 年初 0.1 + adjustment 0.2 = 0.3 元 exactly; spent 0.09 at 序时进度 50 % is 30 % ÷ 50 % = 60 %: yellow
    projects = pd.DataFrame({"project_id": [1], "year": [2024], "plan_start": [pd.NaT], "plan_end": [pd.NaT],
                             "annual_funds": [0.1]})
    adjustments = pd.DataFrame({"project_id": [1], "amount": [0.2], "effective_on": [pd.Timestamp("2024-01-10")]})
    assert budgets_in_force(projects, adjustments, date(2024, 6, 30))[0] == 0.3
    states = pd.DataFrame(columns=["project_id", "status", "light"])
    spending = pd.DataFrame({"project_id": [1], "amount": [0.09], "as_of": [pd.Timestamp("2024-06-30")]})
    got = project_states(projects, states, spending, as_of=date(2024, 7, 1), adjustments=adjustments)
    assert got["budget_light"].tolist() == ["yellow"]


def test_the_budget_in_force_counts_only_adjustments_dated_by_then():
    moves = [(date(2024, 3, 1), Decimal("500")), (date(2024, 9, 1), Decimal("-200"))]
    assert budget_in_force(Decimal("1000"), moves, date(2024, 2, 28)) == Decimal("1000")
    assert budget_in_force(Decimal("1000"), moves, date(2024, 3, 1)) == Decimal("1500")
    assert budget_in_force(Decimal("1000"), moves, date(2024, 12, 31)) == Decimal("1300")
    assert budget_in_force(None, moves, date(2024, 3, 1)) == Decimal("500")  # 年初 not imported: from 0
    assert budget_in_force(None, [], date(2024, 3, 1)) is None
    frame = pd.DataFrame({"project_id": [1, 2], "annual_funds": [1000.0, np.nan]})
    adjustments = pd.DataFrame({"project_id": [1, 1], "amount": [500.0, -200.0],
                                "effective_on": [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-09-01")]})
    got = budgets_in_force(frame, adjustments, date(2024, 12, 31))
    assert got[0] == 1300.0 and np.isnan(got[1])


# ---- the printed tables --------------------------------------------------------------------------------------

def _funds_rows(ws, first: int = 6) -> dict[str, list]:
    rows = {}
    for r in range(first, ws.max_row + 1):
        label = ws.cell(r, 2).value
        if ws.cell(r, 1).value not in (None, "项目资金（万元）") or label is None:
            break
        rows[label] = [ws.cell(r, c).value for c in range(4, 10)]
    return rows


def test_the_self_evaluation_workbook_fills_the_fiscal_and_other_funds_rows(engine, world):
    _set_funds(engine, world.hr_project, annual_funds=Decimal("1200000"), annual_central=Decimal("200000"),
               annual_city_county=Decimal("800000"), annual_self_raised=Decimal("200000"))
    _adjust(engine, world.hr_project, "-100000", "2024-09-01")  # 财政拨款 100 万 → 90 万
    _spend(engine, world.hr_project, None, "2024-12-31", fiscal="810000", other="150000")
    with session_scope(engine) as s:
        data = produce(s, ReportRequest("selfeval", 2024, "xlsx", project_id=world.hr_project), SETTINGS)
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = _funds_rows(ws)
    # columns: 年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分 (万元; 执行率 as Excel's fraction)
    total, fiscal, other = rows["年度资金总额"], rows["其中：财政拨款"], rows["其他资金"]
    assert total[:3] == [pytest.approx(120), pytest.approx(110), pytest.approx(96)]
    assert total[3:] == [pytest.approx(10), pytest.approx(96 / 110, abs=1e-4), pytest.approx(8.73)]
    assert fiscal[:3] == [pytest.approx(100), pytest.approx(90), pytest.approx(81)]
    assert fiscal[4] == pytest.approx(0.9)
    assert other[:3] == [pytest.approx(20), pytest.approx(20), pytest.approx(15)]
    assert other[4] == pytest.approx(0.75)
    assert "上年结转" not in rows  # none budgeted or spent: the row is left out, as the official table allows


def test_the_monitoring_table_prints_both_budgets_and_the_split_in_html_excel_and_pdf(engine, world, tmp_path):
    _set_funds(engine, world.hr_project, annual_central=Decimal("1000000"), annual_other=Decimal("200000"))
    _adjust(engine, world.hr_project, "50000", "2024-05-10", source="carryover", today=date(2024, 7, 31))
    _spend(engine, world.hr_project, None, "2024-07-31", today=date(2024, 7, 31), fiscal="500000",
           other="60000", carryover="50000")
    request = dict(through=7, project_id=world.hr_project)
    with session_scope(engine) as s:
        xlsx = produce(s, ReportRequest("monitor", 2024, "xlsx", **request), SETTINGS)
        html = produce(s, ReportRequest("monitor", 2024, "html", **request), SETTINGS).decode()
        pdf = produce(s, ReportRequest("monitor", 2024, "pdf", **request), SETTINGS)
    ws = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert [ws.cell(5, c).value for c in range(4, 9)] == ["年初预算数", "全年预算数", "1-7月执行数", "1-7月执行率",
                                                       "全年预计执行数"]
    rows = _funds_rows(ws)
    # by hand: 120 万 + 5 万 上年结转 = 125 万; spent 61 万 = 48.8 %
    assert rows["年度资金总额"][:4] == [pytest.approx(120), pytest.approx(125), pytest.approx(61),
                                    pytest.approx(0.488)]
    assert rows["其中：财政拨款"][:4] == [pytest.approx(100), pytest.approx(100), pytest.approx(50),
                                     pytest.approx(0.5)]
    assert rows["上年结转"][:4] == ["—", pytest.approx(5), pytest.approx(5), pytest.approx(1)]
    assert rows["其他资金"][:4] == [pytest.approx(20), pytest.approx(20), pytest.approx(6), pytest.approx(0.3)]
    for expected in ("全年预算数", "125.00", "48.80%", "上年结转", "100.00%", "30.00%"):
        assert expected in html, expected
    path = tmp_path / "monitor.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("全年预算数", "125.00", "48.80%", "上年结转", "30.00%"):
        assert expected in text, expected


def test_the_self_evaluation_prints_carryover_between_fiscal_and_other_funds_as_the_official_form_does(engine, world):
    _adjust(engine, world.hr_project, "50000", "2024-05-10", source="carryover", today=date(2024, 7, 31))
    project = _selfeval(engine, world.hr_project)
    assert [f.label for f in project.funds] == ["年度资金总额", "其中：财政拨款", "上年结转", "其他资金"]


def test_a_total_reported_alone_leaves_the_source_rows_unreported(engine, world):
    _set_funds(engine, world.hr_project, annual_central=Decimal("1200000"))
    _spend(engine, world.hr_project, "600000", "2024-12-31")
    project = _selfeval(engine, world.hr_project)
    by_label = {f.label: f for f in project.funds}
    assert by_label["年度资金总额"].spent_wan == Decimal("60.00")
    assert by_label["其中：财政拨款"].spent_wan is None  # printed 未填报, never a guess


# ---- spending by source through every channel -----------------------------------------------------------------

def _portal(engine, world, tmp_path) -> None:
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    form = {SPLIT_FIELDS[h]: v for h, v in SPLIT.items()} | {"csrf_token": csrf(client, page)}
    assert client.post(f"{page}/spending", data=form).status_code == 200


def _api(engine, world, tmp_path) -> None:
    client = make_client(engine)
    body = {SPLIT_FIELDS[h]: v for h, v in SPLIT.items()}
    response = client.post(f"/api/v1/projects/{world.hr_project}/spending",
                           headers=_auth(_token(engine, "clerk_hr")), json=body)
    assert response.status_code == 201, response.text


def _workbook(engine, world, tmp_path) -> None:
    client = make_client(engine)
    login(client, "clerk_hr")
    response = _upload(client, world, _fill(_download(client, world), world, {}, SPLIT))
    assert response.status_code == 200, response.text


def _cli(engine, world, tmp_path) -> None:
    table = [["项目编号", *SPLIT], [str(world.hr_project), *SPLIT.values()]]
    out = io.StringIO()
    csv.writer(out).writerows(table)
    (tmp_path / "spending.csv").write_text(out.getvalue(), encoding="utf-8")
    result = CliRunner().invoke(app, ["report-progress", str(tmp_path / "spending.csv"), "--user", "clerk_hr",
                                      "--today", "2024-07-31"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_spending_split_by_source_through_every_channel_stores_the_same_row(engine, world, cli_store, tmp_path):
    stored = {}
    for name, channel in (("portal", _portal), ("api", _api), ("workbook", _workbook), ("cli", _cli)):
        channel(engine, world, tmp_path)
        with session_scope(engine) as s:
            (row,) = s.exec(select(Spending)).all()
            stored[name] = (row.amount, row.fiscal, row.other, row.carryover, row.as_of)
            s.exec(delete(AuditEvent).where(AuditEvent.entity == "spending"))
            s.exec(delete(Spending))
    expected = (Decimal("480000.50"), Decimal("300000.50"), Decimal("150000"), Decimal("30000"), date(2024, 6, 30))
    assert stored == {name: expected for name in ("portal", "api", "workbook", "cli")}


def test_the_parts_alone_make_the_total(engine, world):
    _spend(engine, world.hr_project, None, "2024-06-30", today=date(2024, 7, 31), fiscal="100", carryover="20.5")
    with Session(engine) as s:
        (row,) = s.exec(select(Spending)).all()
    assert (row.amount, row.fiscal, row.other, row.carryover) == (
        Decimal("120.50"), Decimal("100"), Decimal("0"), Decimal("20.5"))


def test_a_total_that_is_not_the_sum_of_its_sources_is_refused_naming_the_field(engine, world):
    client = make_client(engine)
    response = client.post(f"/api/v1/projects/{world.hr_project}/spending",
                           headers=_auth(_token(engine, "clerk_hr")),
                           json={"amount": "1000", "fiscal": "600", "other": "300", "as_of": "2024-06-30"})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]["problems"]
    assert problem["field"] == "amount" and "不等于按来源填报之和 900" in problem["problem"]
    with Session(engine) as s:
        assert s.exec(select(Spending)).all() == []


def test_a_negative_source_is_refused_with_its_own_label(engine, world):
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as caught:
        service.record_spending(s, _user(s, "clerk_hr"),
                                [read_spending(world.hr_project, None, "2024-06-30", other="-5")],
                                channel="cli", today=date(2024, 7, 31))
    assert [(p.field, p.to_json()["label"]) for p in caught.value.problems] == [("other", "其中：其他资金")]


# ---- who adjusts, and how it is kept ---------------------------------------------------------------------------

def _nothing_adjusted(engine) -> bool:
    with Session(engine) as s:
        return (s.exec(select(BudgetAdjustment)).all() == []
                and s.exec(select(AuditEvent).where(AuditEvent.entity == "budget_adjustment")).all() == [])


def test_a_department_cannot_adjust_its_own_budget_in_the_portal(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    assert "记录预算调整" not in client.get(page).text  # no form to begin with
    response = client.post(f"{page}/budget-adjustments", data={
        "amount": "100000", "effective_on": "2024-06-01", "reason": "自行追加", "csrf_token": csrf(client, page)})
    assert response.status_code == 403
    assert _nothing_adjusted(engine)


def test_a_department_cannot_adjust_its_own_budget_through_the_api_or_the_cli(engine, world, cli_store):
    client = make_client(engine)
    response = client.post(f"/api/v1/projects/{world.hr_project}/budget-adjustments",
                           headers=_auth(_token(engine, "clerk_hr")),
                           json={"amount": "100000", "effective_on": "2024-06-01", "reason": "自行追加"})
    assert response.status_code == 403
    result = CliRunner().invoke(app, ["budget", "adjust", "--project", str(world.hr_project), "--amount", "100000",
                                      "--on", "2024-06-01", "--reason", "自行追加", "--user", "clerk_hr",
                                      "--today", "2024-07-31"])
    assert result.exit_code == 1 and "只有财政局管理员可以调整预算" in result.output
    auditor = client.post(f"/api/v1/projects/{world.hr_project}/budget-adjustments",
                          headers=_auth(_token(engine, "auditor")),
                          json={"amount": "100000", "effective_on": "2024-06-01", "reason": "审计"})
    assert auditor.status_code == 403
    assert _nothing_adjusted(engine)


def test_the_finance_bureau_adjusts_a_budget_in_the_portal_and_the_project_page_shows_both_figures(engine, world):
    client = make_client(engine)
    login(client, "admin")
    page = f"/projects/{world.hr_project}"
    response = client.post(f"{page}/budget-adjustments", data={
        "amount": "-200000", "source": "fiscal", "effective_on": "2024-07-01", "reason": "项目压减",
        "csrf_token": csrf(client, page)}, follow_redirects=False)
    assert response.status_code == 303
    text = client.get(page).text
    assert "1,200,000.00" in text and "1,000,000.00" in text and "项目压减" in text and "财政局管理员" in text
    with Session(engine) as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.entity == "budget_adjustment")).all()
    assert (event.action, event.channel, event.after["amount"], event.after["reason"]) == (
        "adjust", "portal", "-200000", "项目压减")


def test_the_bureau_adjusts_through_the_api_and_the_cli_and_each_channel_reads_the_same_budget(
        engine, world, cli_store):
    client = make_client(engine)
    headers = _auth(_token(engine, "admin"))
    response = client.post(f"/api/v1/projects/{world.hr_project}/budget-adjustments", headers=headers,
                           json={"amount": "33600", "effective_on": "2024-06-15", "reason": "追加",
                                 "source": "其他资金"})
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "other"
    result = CliRunner().invoke(app, ["budget", "adjust", "--project", str(world.hr_project), "--amount=-3600",
                                      "--on", "2024-07-01", "--reason", "压减", "--user", "admin",
                                      "--today", "2024-07-31"])
    assert result.exit_code == 0, result.output
    assert "全年预算数 1230000.00 元" in result.output
    budget = client.get(f"/api/v1/projects/{world.hr_project}/budget", headers=headers).json()
    assert (budget["initial"], budget["in_force"]) == ("1200000.00", "1230000.00")
    assert [a["channel"] for a in budget["adjustments"]] == ["cli", "api"]
    project = client.get(f"/api/v1/projects/{world.hr_project}", headers=_auth(_token(engine, "clerk_hr"))).json()
    assert project["budget_in_force"] == "1230000.00"
    shown = CliRunner().invoke(app, ["budget", "show", "--project", str(world.hr_project), "--on", "2024-06-30"])
    assert shown.exit_code == 0 and "2024-06-30 全年预算数 1233600.00 元" in shown.output


def test_a_corrected_adjustment_keeps_its_history_and_only_the_correction_counts(engine, world):
    first = _adjust(engine, world.hr_project, "50000", "2024-06-01")
    _adjust(engine, world.hr_project, "30000", "2024-06-01", supersedes=first.id)
    with Session(engine) as s:
        rows = s.exec(select(BudgetAdjustment).order_by(BudgetAdjustment.id)).all()
        actions = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "budget_adjustment")
                                             .order_by(AuditEvent.id)).all()]
    assert [(r.amount, r.revision, r.supersedes_id) for r in rows] == [
        (Decimal("50000"), 1, None), (Decimal("30000"), 2, first.id)]
    assert actions == ["adjust", "correct"]
    assert _selfeval(engine, world.hr_project).budget_wan == Decimal("123.00")


def test_an_adjustment_is_refused_whole_when_a_field_is_wrong(engine, world):
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as caught:
        entry = read_adjustment(world.hr_project, amount="-2000000", effective_on="2024-08-01", reason=" ",
                                source="中央补助")
        record_adjustment(s, _user(s, "admin"), entry, channel="cli", today=date(2024, 7, 31))
    fields = {p.field for p in caught.value.problems}
    assert fields == {"source", "effective_on", "reason"}
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as caught:
        entry = read_adjustment(world.hr_project, amount="-2000000", effective_on="2024-07-01", reason="压减")
        record_adjustment(s, _user(s, "admin"), entry, channel="cli", today=date(2024, 7, 31))
    (problem,) = caught.value.problems
    assert (problem.field, problem.to_json()["label"]) == ("amount", "调整金额") and "不能为负数" in problem.message
    assert _nothing_adjusted(engine)
