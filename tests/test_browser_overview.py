"""The bureau's overview and the clerk's 待办 in real Chromium: one walk at desktop size (sort, filter, search,
export, drill-down) and one on a phone (the 待办 and a multi-period completion that changes the light at once).
Each takes its screenshots on the way (tests/browser_support.py `screenshot`)."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from monitor.config import Config, DatabaseConfig
from monitor.evaluation import run_evaluation
from monitor.store.db import make_engine, session_scope
from monitor.store.models import Department, Project, Spending
from monitor.web.app import create_app
from tests.browser_support import DESKTOP, PHONE, chromium, new_page, screenshot, serve
from tests.test_progress_world import PASSWORD, TODAY, World, build_world

pytestmark = pytest.mark.browser

MORE = (("EDU", "市教育局", "300000.00", "250000.00"), ("HEALTH", "市卫生健康委员会", "800000.00", "120000.00"),
        ("CULT", "市文化和旅游局", "150000.00", None))


@pytest.fixture
def served(db_url) -> Iterator[tuple[str, World]]:
    engine = make_engine(db_url)
    world = build_world(engine)
    with session_scope(engine) as s:
        year_id = s.get(Project, world.hr_project).budget_year_id
        for month, amount in ((3, "200000.00"), (5, "420000.00"), (7, "600000.00")):
            s.add(Spending(project_id=world.hr_project, amount=Decimal(amount), as_of=TODAY.replace(month=month),
                           channel="cli"))
        for code, name, funds, spent in MORE:
            department = Department(code=code, name=name)
            s.add(department)
            s.flush()
            project = Project(department_id=department.id, budget_year_id=year_id, import_key=code, name=f"{name}项目",
                              annual_funds=Decimal(funds))
            s.add(project)
            s.flush()
            if spent:
                s.add(Spending(project_id=project.id, amount=Decimal(spent), as_of=TODAY, channel="cli"))
    run_evaluation(engine, Config(), as_of=TODAY)
    app = create_app(dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="browser-test"),
                     engine)
    app.state.clock = lambda: TODAY
    with serve(app) as base:
        yield base, world
    engine.dispose()


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def _codes(page: Page) -> list[str]:
    return page.locator("#overview-table tbody tr[data-department]").evaluate_all(
        "rows => rows.map(r => r.dataset.department)")


def test_the_bureau_sorts_filters_searches_exports_and_drills_down(served, tmp_path):
    base, world = served
    with chromium() as browser:
        page = new_page(browser, viewport=DESKTOP)
        _login(page, base, "admin")
        expect(page.get_by_role("heading", name="2024 部门总览")).to_be_visible()
        screenshot(page, tmp_path, "overview-desktop.png")
        page.locator("#overview-table thead a[data-sort=execution]").click()
        assert _codes(page)[0] == "EDU"  # 25万 of 30万: the highest 执行率 first
        page.get_by_label("仅看有逾期的部门").check()
        page.get_by_role("button", name="筛选").click()
        assert _codes(page) == ["HRSS"]
        page.get_by_label("仅看有逾期的部门").uncheck()
        page.get_by_label("搜索部门").fill("卫生")
        page.get_by_role("button", name="筛选").click()
        assert _codes(page) == ["HEALTH"]
        with page.expect_download() as download:
            page.locator("#export-xlsx").click()
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
        assert [r[1] for r in sheet.iter_rows(min_row=3, values_only=True)] == ["市卫生健康委员会"]
        page.get_by_label("搜索部门").fill("")
        page.get_by_role("button", name="筛选").click()
        page.get_by_role("link", name="市人力资源和社会保障局").click()
        page.get_by_role("link", name="职业技能培训项目").click()
        page.locator("#indicator-index").get_by_role("link", name="补贴发放").click()
        assert page.url.endswith(f"#ind-{world.ind['quarterly']}")
        expect(page.locator(f"#ind-{world.ind['quarterly']}")).to_be_in_viewport()
        clerk = new_page(browser, viewport=DESKTOP)
        _login(clerk, base, "clerk_hr")
        expect(clerk.get_by_role("heading", name="待办 2024")).to_be_visible()
        screenshot(clerk, tmp_path, "todo-desktop.png")


def test_a_clerk_completes_two_overdue_periods_from_the_todo_on_a_phone(served, tmp_path):
    base, world = served
    quarterly = world.ind["quarterly"]
    with chromium() as browser:
        page = new_page(browser, viewport=PHONE)
        _login(page, base, "clerk_hr")
        overdue = page.locator("#overdue")
        expect(overdue).to_contain_text("1项逾期（共2期）")
        screenshot(page, tmp_path, "todo-phone.png")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        form = page.locator(f"#complete-overdue-{quarterly}")
        expect(form.get_by_label("2024-03-31")).to_be_checked()
        expect(form.get_by_label("2024-06-30")).to_be_checked()
        form.get_by_role("button", name="记录完成").click()
        expect(page.get_by_role("status")).to_contain_text("2")
        expect(overdue).not_to_contain_text("逾期（共")
        page.goto(f"{base}/projects/{world.hr_project}")
        expect(page.locator(f"#ind-{quarterly} .light").first).not_to_have_text("红灯")
        admin = new_page(browser, viewport=PHONE)
        _login(admin, base, "admin")
        expect(admin.get_by_role("heading", name="2024 部门总览")).to_be_visible()
        assert admin.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(admin, tmp_path, "overview-phone.png")
