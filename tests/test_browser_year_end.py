"""The grade form after the year end, in real Chromium: a clerk on 10 January 2025 grades a 2024 qualitative
indicator, the page says the grade is recorded for 31 December 2024, and the self-evaluation counts it.

By hand (tests/test_year_end_period.py's world, nothing else reported): 效益 30 + 满意度 10 = 40 points for the
one 效益 indicator; 部分达成 allows [24, 32]; drafted at 24, then the clerk's 30: the total is 30.00 (差).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from monitor.config import Config, DatabaseConfig
from monitor.store.db import make_engine
from monitor.web.app import create_app
from tests.browser_support import DESKTOP, chromium, new_page, serve
from tests.test_browser_portal import _login
from tests.test_progress_world import World, build_world
from tests.test_year_end_period import JANUARY, NOTICE, PARTIAL

pytestmark = pytest.mark.browser


@pytest.fixture
def january(db_url) -> Iterator[tuple[str, World]]:
    """The portal served on a loopback port with its clock on 10 January 2025."""
    engine = make_engine(db_url)
    world = build_world(engine)
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="browser-test")
    app = create_app(settings, engine)
    app.state.clock = lambda: JANUARY
    with serve(app) as base:
        yield base, world
    engine.dispose()


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser, viewport=DESKTOP)


def test_a_grade_submitted_in_january_counts_in_the_years_self_evaluation(january, browser_page):
    base, world = january
    page = browser_page
    _login(page, base, "clerk_hr")
    page.goto(f"{base}/projects/{world.hr_project}")
    expect(page.locator("p.notice")).to_contain_text("预算年度已结束")
    expect(page.locator("p.notice")).to_contain_text("2024-12-31")

    quality = page.locator(f"#ind-{world.ind['quality']}")
    quality.locator("summary", has_text="填报").first.click()
    quality.get_by_label("评价等级").select_option(PARTIAL)
    quality.get_by_label("情况说明").fill("部分学员尚未就业")
    quality.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text(NOTICE)
    expect(quality.locator(".latest")).to_contain_text(PARTIAL)

    page.goto(f"{base}/reports/selfeval?year=2024&project={world.hr_project}")
    row = page.locator("tr", has_text="就业能力")
    expect(row.locator("td.num").nth(1)).to_have_text("24.00")
    expect(page.locator("td.num.total").first).to_have_text("24.00")
    row.get_by_label("得分 [24.00, 32.00]").fill("30")
    row.get_by_role("button", name="保存").click()
    expect(page.locator("p.notice")).to_contain_text("已保存")
    row = page.locator("tr", has_text="就业能力")
    expect(row.locator("td.num").nth(1)).to_have_text("30.00")
    expect(page.locator("td.num.total").first).to_have_text("30.00")
