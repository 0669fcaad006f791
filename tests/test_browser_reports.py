"""The monitoring table and the self-evaluation in the portal, in real Chromium on a phone and on a desktop:
laid out as in the PDF, each table scrolling inside its frame (never the page), every cell wide enough to read,
the coloured cells readable (WCAG AA), the link bar readable, and the self-evaluation's score form usable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from monitor.config import Config, DatabaseConfig
from monitor.evaluation import run_evaluation
from monitor.web.app import create_app
from tests.browser_support import DESKTOP, PHONE, chromium, screenshot, serve
from tests.test_reports_portal import PASSWORD, _world

pytestmark = pytest.mark.browser

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
REPORTS = pytest.mark.parametrize("path", ["/reports/monitor?year=2024&through=7", "/reports/selfeval?year=2024"],
                                  ids=["monitor", "selfeval"])


@pytest.fixture
def base(engine, db_url) -> Iterator[str]:
    _world(engine)
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="reports-test")
    run_evaluation(engine, settings, as_of=date(2024, 7, 31))
    app = create_app(settings, engine)
    app.state.clock = lambda: date(2024, 7, 31)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One Chromium for the module (each test opens its own context): a launch costs more than most checks."""
    with chromium() as launched:
        yield launched


def _signed_in(browser, base: str, viewport: dict) -> Page:
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("clerk_hr")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


NARROW_CELLS = """() => [...document.querySelectorAll('.kpi-report table.kpi-table :is(td, th)')]
    .filter(c => c.textContent.trim() && c.clientWidth < 2 * parseFloat(getComputedStyle(c).fontSize))
    .map(c => `${c.textContent.trim().slice(0, 12)}: ${c.clientWidth}px`)"""
BROKEN_MISSING = """() => [...document.querySelectorAll('.kpi-report .missing')].filter(e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
  }).map(e => e.textContent)"""
CONTRAST = """() => {
  const lum = rgb => { const [r, g, b] = rgb.match(/[0-9.]+/g).slice(0, 3).map(v => {
      v = v / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
      if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  return [...document.querySelectorAll('.kpi-report [class*="progress-"]')].map(e => {
    const [a, b] = [lum(getComputedStyle(e).color), lum(background(e))].sort((x, y) => y - x);
    return [e.className, (a + 0.05) / (b + 0.05)]; });
}"""


@VIEWPORTS
@REPORTS
def test_a_report_never_widens_the_page_and_its_tables_scroll_inside_their_frames(base, browser, viewport, path,
                                                                                  tmp_path):
    page = _signed_in(browser, base, viewport)
    page.goto(base + path)
    expect(page.locator(".kpi-report table.kpi-table").first).to_be_visible()
    kind = "monitor" if "monitor" in path else "selfeval"
    screenshot(page, tmp_path, f"portal-{kind}-{'phone' if viewport is PHONE else 'desktop'}.png")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
    frames = page.locator(".kpi-report .table-frame")
    assert frames.count() >= 2
    if viewport is PHONE:
        assert frames.nth(1).evaluate("f => f.scrollWidth > f.clientWidth"), "the table scrolls in its frame"


@VIEWPORTS
@REPORTS
def test_every_report_cell_is_wide_enough_to_read(base, browser, viewport, path):
    page = _signed_in(browser, base, viewport)
    page.goto(base + path)
    expect(page.locator(".kpi-report table.kpi-table").first).to_be_visible()
    assert page.locator(".kpi-report .missing").count() > 0
    assert page.evaluate(NARROW_CELLS) == []
    assert page.evaluate(BROKEN_MISSING) == [], "未填报 stays on one line"


def test_the_coloured_progress_cells_meet_aa_contrast(base, browser):
    page = _signed_in(browser, base, DESKTOP)
    page.goto(base + "/reports/monitor?year=2024&through=7")
    cells = page.evaluate(CONTRAST)
    assert cells, "the evaluated indicators colour their progress cells"
    assert [(name, round(ratio, 2)) for name, ratio in cells if ratio < 4.5] == []


@VIEWPORTS
def test_the_report_link_bar_shows_each_link_apart(base, browser, viewport):
    page = _signed_in(browser, base, viewport)
    page.goto(base + "/reports/selfeval?year=2024")
    links = page.locator("nav.report-links a")
    expect(links).to_have_count(5)
    boxes = [links.nth(i).bounding_box() for i in range(5)]
    for left, right in zip(boxes, boxes[1:], strict=False):
        same_line = abs(left["y"] - right["y"]) < left["height"] / 2
        assert not same_line or right["x"] - (left["x"] + left["width"]) >= 8, "a visible gap between links"
    expect(page.get_by_role("link", name="下载 Excel")).to_be_visible()


def test_a_clerk_scores_a_qualitative_indicator_on_a_phone(base, browser):
    page = _signed_in(browser, base, PHONE)
    page.goto(base + "/reports/selfeval?year=2024")
    form = page.locator("form.entry", has=page.locator("input[name=score]")).first
    form.scroll_into_view_if_needed()
    score = form.locator("input[name=score]")
    box = score.bounding_box()
    assert box["width"] >= 48 and box["height"] >= 24, "the score field is big enough to tap"
    low, high = form.locator("label").inner_text().split("[")[1].split("]")[0].split(",")
    score.fill(str(float(high)))
    form.locator("textarea").fill("满意度调查样本偏少，下年扩大调查范围")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("p.notice")).to_contain_text("已保存")
    expect(page.locator(".kpi-report")).to_contain_text("满意度调查样本偏少，下年扩大调查范围")
    assert float(low) <= float(high)


@VIEWPORTS
def test_the_english_monitoring_table_shows_english_headings_beside_the_departments_chinese_names(base, browser,
                                                                                                  viewport):
    page = _signed_in(browser, base, viewport)
    page.goto(base + "/reports/monitor?year=2024&through=7&lang=en")
    table = page.locator(".kpi-report table.kpi-table").nth(1)
    for heading in ("Level 3", "Annual target", "Progress, months 1–7", "Likelihood", "Note"):
        expect(table.get_by_role("columnheader", name=heading, exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name="二级直线条吊面积", exact=True)).to_be_visible()
    expect(page.locator(".kpi-report .pname")).to_have_text("房屋修缮费用")
    expect(table).to_contain_text("System's light: Green")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
    assert page.evaluate(NARROW_CELLS) == []
