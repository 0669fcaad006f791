"""The finance bureau's overview (/admin) and its Excel export: counts that agree with the store, the query
string's sort, filter and search, who may see it, and an export whose cells are values, never formulas."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.evaluation import run_evaluation
from monitor.store.db import session_scope
from monitor.store.models import Department, Indicator, IndicatorState, ProjectState, Spending
from rules.formatting import count_overdue
from rules.terms import EXPECTED_STATUSES, LIGHT_NAMES_EN, OVERDUE_STATUSES, REPORTED_STATUSES
from tests.test_progress_world import TODAY, build_world
from tests.test_web_portal import login, make_client


@pytest.fixture
def world(engine):
    world = build_world(engine)
    with session_scope(engine) as s:
        s.add(Spending(project_id=world.hr_project, amount=Decimal("600000.00"), as_of=TODAY, channel="cli"))
        s.add(Department(code="ZZZ", name="=HYPERLINK(\"http://x\")区档案馆"))
    run_evaluation(engine, Config(), as_of=TODAY)
    return world


def _admin(engine):
    client = make_client(engine)
    login(client, "admin")
    return client


def _rows(page: str) -> list[str]:
    """The departments' codes in the order the table lists them."""
    body = page.split('<table id="overview-table">')[1]
    return [chunk.split('"')[0] for chunk in body.split('data-department="')[1:]]


def test_overview_counts_match_the_stored_evaluation(engine, world):
    with Session(engine) as s:
        on_indicator = col(Indicator.id) == IndicatorState.indicator_id
        states = s.exec(select(IndicatorState).join(Indicator, on_indicator)
                        .where(Indicator.project_id == world.hr_project)).all()
        light = s.exec(select(ProjectState.light).where(ProjectState.project_id == world.hr_project)).one()
    expected = count_overdue(st.indicator_id for st in states if st.status in OVERDUE_STATUSES)
    due = [st for st in states if st.status in EXPECTED_STATUSES]
    reported = [st for st in due if st.status in REPORTED_STATUSES]
    row = _admin(engine).get("/admin").text.split('data-department="HRSS"')[1].split("</tr>")[0]
    assert str(expected) == "1项逾期（共2期）" and str(expected) in row
    assert f"{len(reported)}/{len(due)}" in row and len(due) > 0
    assert f'light-{light}">' in row
    assert "50.0%" in row  # 60万 of 120万 spent
    assert "60.00 / 120.00" in row


def test_overview_sorts_filters_and_searches_by_the_query_string(engine, world):
    client = _admin(engine)
    assert _rows(client.get("/admin").text) == ["HRSS", "UNION", "ZZZ"]
    assert _rows(client.get("/admin?sort=code&order=desc").text) == ["ZZZ", "UNION", "HRSS"]
    assert _rows(client.get("/admin?overdue=1").text) == ["HRSS"]
    assert _rows(client.get("/admin?q=工会").text) == ["UNION"]
    assert _rows(client.get("/admin?sort=execution&order=desc").text) == ["HRSS", "UNION", "ZZZ"]  # ZZZ: no budget
    assert _rows(client.get("/admin?sort=nonsense&light=purple").text) == ["HRSS", "UNION", "ZZZ"]


def test_the_overview_is_the_finance_bureaus_home_and_refused_to_clerks(engine, world):
    assert _admin(engine).get("/", follow_redirects=False).headers["location"] == "/admin"
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    assert clerk.get("/admin").status_code == 403
    assert clerk.get("/admin/overview.xlsx").status_code == 403


def test_the_excel_export_holds_the_rows_shown_as_values(engine, world):
    response = _admin(engine).get("/admin/overview.xlsx?sort=code&order=desc")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert "截至日期 2024-07-31" in ws["A1"].value
    header = [c.value for c in ws[2]]
    assert header[:3] == ["部门编码", "部门", "项目数"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)}
    assert list(rows) == ["ZZZ", "UNION", "HRSS"]
    assert rows["HRSS"]["全年预算数（万元）"] == 120 and rows["HRSS"]["执行数（万元）"] == 60
    assert rows["HRSS"]["逾期项数"] == 1 and rows["HRSS"]["逾期期数"] == 2
    name = ws.cell(3, 2)
    assert name.value.startswith("=HYPERLINK") and name.data_type == "s"  # text, not a formula


def test_the_excel_export_follows_the_search(engine, world):
    ws = load_workbook(io.BytesIO(_admin(engine).get("/admin/overview.xlsx?q=工会").content)).active
    assert [r[0] for r in ws.iter_rows(min_row=3, values_only=True)] == ["UNION"]


def test_overview_says_when_its_lights_are_of_an_earlier_evaluation(engine, world):
    page = _admin(engine).get("/admin?as_of=2024-08-31").text
    assert "灯色与逾期为最近一次评估的结果，评估日期 2024-07-31" in page
    assert "序时进度 <strong>66.7%</strong>" in page  # August: 8 of 12 months


def test_the_table_pages_and_keeps_the_choice_across_pages(engine, world, monkeypatch):
    monkeypatch.setattr("monitor.web.pages_overview.PAGE_SIZE", 2)
    client = _admin(engine)
    first = client.get("/admin?sort=code&order=desc").text
    assert _rows(first) == ["ZZZ", "UNION"] and 'href="/admin?sort=code&amp;order=desc&amp;page=2"' in first
    assert _rows(client.get("/admin?sort=code&order=desc&page=2").text) == ["HRSS"]
    assert _rows(client.get("/admin?page=99").text) == ["ZZZ"]  # past the end: the last page


def test_the_overviews_charts_on_an_english_page_say_their_words_in_english(engine, world):
    page = _admin(engine).get("/admin?lang=en").text
    svgs = re.findall(r'<svg class="chart-svg".*?</svg>', page, re.S)
    said = [html.unescape(text) for svg in svgs for text in re.findall(r"<(?:text|title)[^>]*>([^<]*)<", svg)]
    with Session(engine) as s:
        names = sorted((d.name for d in s.exec(select(Department))), key=len, reverse=True)
    clipped = [name[:7] + "…" for name in names]  # a long name cut to fit beside its bar is still the name
    unnamed = [re.sub("|".join(map(re.escape, names + clipped)), "", text) for text in said]
    assert len(svgs) == 2 and any("Execution" in text and "Time progress" in text for text in said)
    assert any(f" {LIGHT_NAMES_EN[light]} " in text for text in said for light in LIGHT_NAMES_EN)
    assert [text for text in unnamed if re.search(r"[\u3400-\u9fff]", text)] == []
