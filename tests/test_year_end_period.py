"""A report belongs to a period, not to the day it is typed: the year's results entered in the January after it,
through each channel, count in that year's self-evaluation.

The world (tests/test_progress_world.py) has one project of 1,200,000 元 with 产出 count ≥3000人, rate ≥90%,
deadline 2024年10月底前, quarterly 每季度, unparsed XX, and 效益 quality 有效提升. On 10 January 2025 the clerk
enters the 2024 results without dates: 3000人, 88%, the deadline done on 5 January 2025 (late), the grade
部分达成, and 1,080,000 元 spent. By hand, with the default [scoring]:
  预算执行率 1,080,000 ÷ 1,200,000 = 90% → 9.00 of 10;
  产出 50 over five indicators, 10 each: count met 10; rate 10 × 88 ÷ 90 = 9.777… → 9.78; deadline late
  10 × 0.5 = 5; quarterly and unparsed not reported 0;
  效益 30 + 满意度 10 (no 满意度 indicator) = 40 for quality: 部分达成 band 60–80% → [24, 32], drafted at 24;
  total 9 + 10 + 9.78 + 5 + 24 = 57.78.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.progress.entries import read_report, read_spending
from monitor.progress.service import record_reports, record_spending
from monitor.progress.workbook import build_csv
from monitor.reports.data import load_year
from monitor.reports.selfeval import build_selfeval
from monitor.store.db import session_scope
from monitor.store.models import AuditEvent, Report, Spending, User
from rules.calendar import SHANGHAI
from rules.scoring import ScoringRules
from tests.test_api_progress import _auth, _token
from tests.test_progress_workbook import _upload
from tests.test_progress_world import World, build_world
from tests.test_web_portal import csrf, login, make_client

JANUARY = date(2025, 1, 10)
YEAR_END = date(2024, 12, 31)
PARTIAL = "部分达成年度指标并具有一定效果"
NOTICE = "未填截至日期，按 2024 年度年末 2024-12-31 记入该年度"
# what the clerk types, per indicator, as the workbook's columns name it: no 截至日期 anywhere
RESULTS = {"count": {"数值": "3000"}, "rate": {"数值": "88"},
           "deadline": {"完成日期": "2025-01-05"},
           "quality": {"评价等级": PARTIAL, "情况说明": "部分学员尚未就业"}}
FORM = {"数值": "value", "完成日期": "completed_on", "评价等级": "grade", "情况说明": "explanation"}
SPENT = "1080000"
HAND = {"execution": Decimal("9.00"), "count": Decimal("10.00"), "rate": Decimal("9.78"),
        "deadline": Decimal("5.00"), "quarterly": Decimal("0.00"), "unparsed": Decimal("0.00"),
        "quality": Decimal("24.00")}


def _january_client(engine):
    client = make_client(engine)
    client.app.state.clock = lambda: JANUARY
    login(client, "clerk_hr")
    return client


def _portal(engine, world: World, tmp_path) -> list[str]:
    """The project page's forms as a browser posts them: the as-of date the page prefills (31 December)."""
    client = _january_client(engine)
    page = f"/projects/{world.hr_project}"
    html = client.get(page).text
    prefilled = set(re.findall(r'name="as_of" type="date" value="([0-9-]+)"', html))
    assert prefilled == {YEAR_END.isoformat()}
    said = []
    for key, cells in RESULTS.items():
        form = {FORM[header]: value for header, value in cells.items()}
        if "value" in form:
            form["as_of"] = YEAR_END.isoformat()
        response = client.post(f"{page}/indicators/{world.ind[key]}/reports",
                               data=form | {"csrf_token": csrf(client, page)})
        assert response.status_code == 200, response.text
        said.append(response.text)
    response = client.post(f"{page}/spending", data={"amount": SPENT, "csrf_token": csrf(client, page)})
    assert response.status_code == 200
    said.append(response.text)
    return said


def _workbook(engine, world: World, tmp_path) -> list[str]:
    client = _january_client(engine)
    wb = load_workbook(io.BytesIO(client.get(f"/departments/{world.hr_id}/workbook.xlsx").content))
    ws = wb["指标填报"]
    headers = [c.value for c in ws[1]]
    by_id = {world.ind[key]: cells for key, cells in RESULTS.items()}
    for row in ws.iter_rows(min_row=2):
        for header, value in by_id.get(row[0].value, {}).items():
            row[headers.index(header)].value = value
    spending = wb["项目支出"]
    spending.cell(row=2, column=[c.value for c in spending[1]].index("执行数(元)") + 1, value=int(SPENT))
    out = io.BytesIO()
    wb.save(out)
    response = _upload(client, world, out.getvalue())
    assert response.status_code == 200, response.text
    return [response.text]


def _api(engine, world: World, tmp_path) -> list[str]:
    client = make_client(engine)
    client.app.state.clock = lambda: JANUARY
    headers = _auth(_token(engine, "clerk_hr"))
    body = [{"indicator_id": world.ind[key]} | {FORM[h]: v for h, v in cells.items()} for key, cells in RESULTS.items()]
    reports = client.post("/api/v1/reports", headers=headers, json=body)
    spending = client.post(f"/api/v1/projects/{world.hr_project}/spending", headers=headers, json={"amount": SPENT})
    assert (reports.status_code, spending.status_code) == (201, 201), (reports.text, spending.text)
    notices = reports.json()["notices"] + spending.json()["notices"]
    assert {n["index"] for n in reports.json()["notices"]} == {0, 1, 3}  # the values and the grade, not the date
    return [n["problem"] for n in notices]


def _cli(engine, world: World, tmp_path) -> list[str]:
    with Session(engine) as s:
        rows = list(csv.reader(io.StringIO(build_csv(s, [world.hr_id]).lstrip("\ufeff"))))
    header = rows[0]
    by_id = {world.ind[key]: cells for key, cells in RESULTS.items()}
    for row in rows[1:]:
        for column, value in by_id.get(int(row[0]), {}).items():
            row[header.index(column)] = value
    said = []
    spending = [["项目编号", "执行数(元)"], [world.hr_project, SPENT]]
    for name, table in (("reports.csv", rows), ("spending.csv", spending)):
        out = io.StringIO()
        csv.writer(out).writerows(table)
        (tmp_path / name).write_text(out.getvalue(), encoding="utf-8")
        result = CliRunner().invoke(app, ["report-progress", str(tmp_path / name), "--user", "clerk_hr",
                                          "--today", JANUARY.isoformat()], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        said.append(result.output)
    return said


CHANNELS = {"portal": _portal, "workbook": _workbook, "api": _api, "cli": _cli}


@pytest.fixture
def cli_store(db_url, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)


def _selfeval(engine, world: World):
    with Session(engine) as s:
        (project,) = build_selfeval(load_year(s, 2024, project_id=world.hr_project), ScoringRules())
    return project


def _scores(project, world: World) -> dict[str, Decimal]:
    keys = {iid: key for key, iid in world.ind.items()}
    return {"execution": project.execution_score} | {keys[row.indicator_id]: row.score for row in project.rows}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_the_years_results_entered_in_january_count_in_its_self_evaluation(engine, cli_store, tmp_path, channel):
    world = build_world(engine)
    said = CHANNELS[channel](engine, world, tmp_path)

    assert any(NOTICE in text for text in said), said
    project = _selfeval(engine, world)
    assert _scores(project, world) == HAND
    assert project.total == Decimal("57.78")
    assert project.spent_yuan == Decimal(SPENT) and project.execution_rate == Decimal("90.00")
    with Session(engine) as s:
        reports = s.exec(select(Report)).all()
        (spent,) = s.exec(select(Spending)).all()
    assert {r.indicator_id: r.as_of for r in reports if r.completed_on is None} == {
        world.ind["count"]: YEAR_END, world.ind["rate"]: YEAR_END, world.ind["quality"]: YEAR_END}
    assert spent.as_of == YEAR_END


def test_an_entry_typed_after_its_year_ended_is_marked_late_in_the_audit(engine):
    world = build_world(engine)
    with session_scope(engine) as s:
        clerk = s.exec(select(User).where(User.username == "clerk_hr")).one()
        record_reports(s, clerk, [read_report(world.ind["count"], value="1500", as_of="2024-06-30")],
                       channel="api", today=date(2024, 7, 1))
        record_spending(s, clerk, [read_spending(world.hr_project, "500000", "2024-06-30")], channel="api",
                        today=date(2024, 7, 1))
        record_reports(s, clerk, [read_report(world.ind["count"], value="3000")], channel="api", today=JANUARY)
        record_spending(s, clerk, [read_spending(world.hr_project, SPENT)], channel="api", today=JANUARY)
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.entity.in_(("report", "spending")))
                        .order_by(AuditEvent.id)).all()
    assert [(e.entity, e.after["as_of"], bool(e.note)) for e in events] == [
        ("report", "2024-06-30", False), ("spending", "2024-06-30", False),
        ("report", "2024-12-31", True), ("spending", "2024-12-31", True)]
    assert all(e.note.startswith("年度结束后补录：属 2024 年度，2025-01-10 录入") for e in events[2:])


def test_during_the_year_an_undated_value_is_still_refused(engine):
    world = build_world(engine)
    with session_scope(engine) as s:
        clerk = s.exec(select(User).where(User.username == "clerk_hr")).one()
        with pytest.raises(ValueError, match="请填写截至日期"):
            record_reports(s, clerk, [read_report(world.ind["count"], value="1500")], channel="api",
                           today=date(2024, 11, 30))
        with pytest.raises(ValueError, match="请填写截至日期"):
            record_spending(s, clerk, [read_spending(world.hr_project, "500000")], channel="api",
                            today=date(2024, 11, 30))


def test_a_grade_stored_undated_in_january_counts_for_the_year_it_belongs_to(engine):
    """The issue's case: a grade typed on 5 January, stored without an as-of date (as before dates defaulted),
    once scored 0 as 未填报; it is the year's grade and counts as 24 of 40."""
    world = build_world(engine)
    with session_scope(engine) as s:
        s.add(Report(indicator_id=world.ind["quality"], channel="portal", grade=PARTIAL, explanation="部分未就业",
                     created_at=datetime(2025, 1, 5, 9, 0, tzinfo=SHANGHAI)))
    scores = _scores(_selfeval(engine, world), world)
    assert scores["quality"] == Decimal("24.00")


def _score(world: World, key: str, *extra: str):
    return CliRunner().invoke(app, ["report", "score", "--year", "2024", "--indicator", str(world.ind[key]), *extra],
                              catch_exceptions=False)


def test_report_score_says_why_a_score_is_refused_for_each_case(engine, cli_store):
    world = build_world(engine)
    no_grade = _score(world, "quality", "--score", "30")
    measured = _score(world, "count", "--score", "5")
    timed = _score(world, "deadline", "--score", "5")
    assert (no_grade.exit_code, measured.exit_code, timed.exit_code) == (1, 1, 1)
    assert "就业能力指标尚未填报 2024 年度的评价等级" in no_grade.output
    assert "由系统按实际完成值计分" not in no_grade.output
    assert "培训人数指标由系统按实际完成值计分，无需人工评分" in measured.output
    assert "完成时间指标由系统按完成情况计分，无需人工评分" in timed.output


def test_report_score_takes_a_score_for_a_grade_entered_after_the_year_end(engine, cli_store, tmp_path):
    """The grade entered on 10 January through the portal; the person's 30 (inside [24, 32]) replaces the draft's
    24: total 57.78 − 24 + 30 = 63.78."""
    world = build_world(engine)
    _portal(engine, world, tmp_path)
    outside = _score(world, "quality", "--score", "33")
    inside = _score(world, "quality", "--score", "30", "--explanation", "部分学员尚未就业，明年加强跟踪")
    assert outside.exit_code == 1 and "就业能力指标的实际得分区间为[24, 32]" in outside.output
    assert inside.exit_code == 0 and "已保存" in inside.output
    project = _selfeval(engine, world)
    assert _scores(project, world)["quality"] == Decimal("30.00")
    assert project.total == Decimal("63.78")
