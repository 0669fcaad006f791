"""The header on a phone and on a desktop, in real Chromium: the bureau's thirteen section links must not push
the page down on a phone (they fold into one menu that opens as a list), and stand in the bar on a desktop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.web.app import create_app
from tests.browser_support import DESKTOP, PHONE, chromium, new_page, serve
from tests.rounds_world import PASSWORD, TODAY, build_round_world

pytestmark = pytest.mark.browser

BUREAU_SECTIONS = ("全部部门", "审计日志", "用户", "导入绩效目标表", "联系人", "暂停提醒", "运行状态", "报告",
                   "填报轮次", "整改事项", "目标调整")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('nav') / 'nav.db'}"
    upgrade(url)
    engine = make_engine(url)
    world = build_round_world(engine, url)
    app = create_app(world.settings, engine)
    app.state.clock = lambda: TODAY
    with serve(app) as served:
        yield served
    engine.dispose()


def _signed_in(browser, base: str, viewport: dict[str, int]) -> Page:
    page = new_page(browser, viewport=viewport)
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("bureau")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="bureau")).to_be_visible()
    return page


def test_on_a_phone_the_bureaus_header_stays_short_and_its_menu_opens_to_every_section(base):
    with chromium() as browser:
        page = _signed_in(browser, base, PHONE)
        header = page.locator("header.top").bounding_box()
        assert header is not None and header["height"] < 110, header  # two lines, not four
        expect(page.get_by_role("link", name="审计日志")).to_be_hidden()
        page.locator("header summary", has_text="菜单").click()
        for name in BUREAU_SECTIONS:
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        page.get_by_role("link", name="整改事项").click()
        expect(page.get_by_role("heading", name="整改事项")).to_be_visible()


def test_on_a_desktop_every_section_stands_in_the_bar_without_a_menu_button(base):
    with chromium() as browser:
        page = _signed_in(browser, base, DESKTOP)
        expect(page.locator("header summary", has_text="菜单")).to_be_hidden()
        for name in BUREAU_SECTIONS:
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="退出")).to_be_visible()
