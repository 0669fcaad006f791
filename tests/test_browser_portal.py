"""The portal in real Chromium (Playwright, /usr/bin/chromium headless) against uvicorn on a loopback port.

The server runs in a background thread on the per-test database from the `db_url` fixture, so these run on
SQLite and on PostgreSQL like every other store test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from monitor.accounts.tokens import create_token
from monitor.config import Config, DatabaseConfig
from monitor.store.db import make_engine, session_scope
from monitor.store.models import User
from monitor.web.app import create_app
from tests.browser_support import PHONE, chromium, new_page, screenshot, serve
from tests.test_progress_world import PASSWORD, TODAY, World, build_world

pytestmark = pytest.mark.browser

@pytest.fixture
def served(db_url) -> Iterator[tuple[str, World, object]]:
    engine = make_engine(db_url)
    world = build_world(engine)
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="browser-test")
    app = create_app(settings, engine)
    app.state.clock = lambda: TODAY
    with serve(app) as base:
        yield base, world, engine
    engine.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser, viewport=PHONE)


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_clerk_reports_a_value_a_completion_and_a_grade_corrects_one_and_sees_the_history(served, page):
    base, world, _ = served
    _login(page, base, "clerk_hr")
    page.get_by_role("link", name="本部门全部项目").click()  # from the 待办, their home
    expect(page.get_by_role("heading", name="市人力资源和社会保障局")).to_be_visible()
    page.get_by_role("link", name="职业技能培训项目").click()

    count = page.locator(f"#ind-{world.ind['count']}")
    count.locator("summary", has_text="填报").first.click()
    count.get_by_label("数值").fill("1200")
    count.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(count.locator(".latest")).to_contain_text("1200人（截至 2024-07-31）")

    deadline = page.locator(f"#ind-{world.ind['deadline']}")
    deadline.locator("summary", has_text="填报").first.click()
    deadline.get_by_label("完成日期").fill("2024-07-20")
    deadline.get_by_role("button", name="提交").click()
    expect(deadline.locator(".latest")).to_contain_text("期次 2024-10-31：2024-07-20 完成")

    quality = page.locator(f"#ind-{world.ind['quality']}")
    quality.locator("summary", has_text="填报").first.click()
    quality.get_by_label("评价等级").select_option("部分达成年度指标并具有一定效果")
    quality.get_by_label("情况说明").fill("部分学员尚未就业")
    quality.get_by_role("button", name="提交").click()
    expect(quality.locator(".latest")).to_contain_text("部分达成年度指标并具有一定效果")

    count = page.locator(f"#ind-{world.ind['count']}")
    count.locator("summary", has_text="填报历史").click()
    count.locator("summary", has_text="更正此条").click()
    correction = count.locator("details.correct form")
    correction.get_by_label("数值").fill("1250")
    correction.get_by_role("button", name="更正").click()
    expect(count.locator(".latest")).to_contain_text("1250人（截至 2024-07-31）")

    count.locator("summary", has_text="填报历史").click()
    rows = count.locator("details.history tr[data-report]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("r2")
    expect(rows.nth(0)).to_contain_text("1250人")
    expect(rows.nth(0)).to_contain_text("当前有效")
    expect(rows.nth(1)).to_contain_text("1200人")
    expect(rows.nth(1)).to_contain_text("已被更正")
    expect(rows.nth(1)).to_have_class("superseded")


def test_another_departments_clerk_gets_404_on_pages_and_api_and_403_on_admin(served, page):
    base, world, engine = served
    with session_scope(engine) as s:
        token = create_token(s, s.exec(select(User).where(User.username == "clerk_union")).one(), "browser")[1]
    _login(page, base, "clerk_union")
    page.get_by_role("link", name="本部门全部项目").click()  # from the 待办, their home
    expect(page.get_by_role("heading", name="市总工会")).to_be_visible()
    for path in (f"/projects/{world.hr_project}", f"/departments/{world.hr_id}",
                 f"/departments/{world.hr_id}/upload"):
        response = page.goto(f"{base}{path}")
        assert response.status == 404, path
        expect(page.get_by_role("heading")).to_contain_text("404")
        expect(page.locator("main")).not_to_contain_text("职业技能培训项目")
    assert page.goto(f"{base}/admin").status == 403
    headers = {"Authorization": f"Bearer {token}"}
    api = page.request
    assert api.get(f"{base}/api/v1/projects/{world.hr_project}", headers=headers).status == 404
    assert api.get(f"{base}/api/v1/indicators/{world.ind['count']}/history", headers=headers).status == 404
    posted = api.post(f"{base}/api/v1/reports", headers=headers,
                      data={"indicator_id": world.ind["count"], "value": "9", "as_of": "2024-07-01"})
    assert posted.status == 404
    own = api.get(f"{base}/api/v1/projects", headers=headers).json()
    assert [p["id"] for p in own] == [world.union_project]


def test_a_report_changes_the_light_at_once_and_the_page_says_why(served, page, tmp_path):
    from monitor.evaluation import run_evaluation

    base, world, engine = served
    run_evaluation(engine, Config(), as_of=TODAY)  # the morning's scheduled run: nothing reported yet
    _login(page, base, "clerk_hr")
    page.get_by_role("link", name="本部门全部项目").click()  # from the 待办, their home
    page.get_by_role("link", name="职业技能培训项目").click()
    count = page.locator(f"#ind-{world.ind['count']}")
    before = count.locator(".why .light").inner_text()

    count.locator("summary", has_text="填报").first.click()
    count.get_by_label("数值").fill("1200")
    count.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    count = page.locator(f"#ind-{world.ind['count']}")
    expect(count.locator(".why .light")).not_to_have_text(before)
    expect(count.locator(".why .reason")).to_contain_text("1200人")
    expect(count.locator(".why .reason")).to_contain_text("序时目标")
    expect(count.locator(".why")).to_contain_text("评估日期 2024-07-31")
    expect(count.locator("h3 .light")).to_have_text(count.locator(".why .light").inner_text())
    screenshot(count, tmp_path, "light-changed-phone.png")
