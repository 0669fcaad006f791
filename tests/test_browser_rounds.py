"""One monitoring round on the seed data in real Chromium, phone-sized: the bureau opens it, the clerk fills,
the head submits, the bureau returns one project with a comment, the clerk fixes it and the head resubmits,
the bureau approves and closes; the submitted Excel stays byte for byte what it was after a later report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from monitor.progress import service as progress
from monitor.progress.entries import read_report
from monitor.store.db import make_engine
from monitor.store.models import Project, RoundSubmission, RoundTask
from monitor.web.app import create_app
from tests.browser_support import PHONE, chromium, new_page, serve
from tests.rounds_world import PASSWORD, TODAY, RoundWorld, build_round_world, user

pytestmark = pytest.mark.browser


@pytest.fixture
def served(db_url) -> Iterator[tuple[str, RoundWorld, object]]:
    engine = make_engine(db_url)
    world = build_round_world(engine, db_url)
    app = create_app(world.settings, engine)
    app.state.clock = lambda: TODAY
    with serve(app) as base:
        yield base, world, engine
    engine.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        # a submission produces a department's whole table: on a busy machine that may take longer than 30 s
        yield new_page(browser, viewport=PHONE, timeout_ms=120_000)


def _login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name=username)).to_be_visible()


def _my_task(page: Page, base: str, username: str) -> None:
    _login(page, base, username)
    page.goto(f"{base}/rounds")
    page.get_by_role("link", name="2024年度年中绩效监控（1-7月）").click()
    expect(page.get_by_role("heading", name="2024年度年中绩效监控（1-7月）")).to_be_visible()


def _fill(page: Page, indicator_id: int, cause: str) -> None:
    card = page.locator(f"#ind-{indicator_id}")
    card.locator("summary", has_text="填写").click()
    card.get_by_label("偏差原因：经费保障").fill(cause)
    card.get_by_label("完成目标可能性").select_option("有可能")
    card.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(page.locator(f"#ind-{indicator_id} .filled").first).to_contain_text(cause)


def _submit(page: Page, version: int) -> None:
    page.get_by_role("button", name="上报").click()
    expect(page.get_by_role("status")).to_contain_text(f"已上报（版本 {version}）")
    expect(page.locator("p .task-status")).to_have_text("已上报")


def test_a_monitoring_round_runs_from_opening_to_closing_in_the_browser(served, page):
    base, world, engine = served
    with Session(engine) as s:
        project_name = s.get(Project, world.hr_project).name

    _login(page, base, "bureau")
    page.goto(f"{base}/rounds")
    form = page.locator("form.open-round")
    form.get_by_label("轮次类型").select_option(label="年中绩效监控")
    form.get_by_label("数据截至月份").fill("7")
    form.get_by_label("报送截止日期").fill("2024-08-31")
    form.get_by_label("部门代码（逗号分隔，留空为全部）").fill("144")
    form.get_by_role("button", name="发起").click()
    expect(page.get_by_role("status")).to_contain_text("已发起")
    expect(page.locator("tr[data-task]")).to_have_count(1)
    expect(page.locator("tr[data-task] .task-status")).to_have_text("待填报")

    _my_task(page, base, "clerk_144")
    expect(page.get_by_role("button", name="上报")).to_have_count(0)  # the clerk fills, the head submits
    _fill(page, world.reported, "资金下达较晚")

    _my_task(page, base, "head_144")
    _submit(page, 1)
    expect(page.locator(".fill")).to_have_count(0)  # a submitted version cannot be edited

    _login(page, base, "bureau")
    page.goto(f"{base}/rounds")
    page.get_by_role("link", name="2024年度年中绩效监控（1-7月）").click()
    page.locator("tr[data-task] a").click()
    review = page.locator("form.review")
    review.get_by_label("审核结论").select_option(label="退回")
    review.get_by_label(f"对项目的意见：{project_name}").fill("偏差原因请写明资金到位时间")
    review.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("status")).to_contain_text("已审核")
    expect(page.locator("p .task-status")).to_have_text("已退回")

    _my_task(page, base, "clerk_144")
    project = page.locator(f"#project-{world.hr_project}")
    expect(project.locator(".review-comment")).to_contain_text("偏差原因请写明资金到位时间")
    expect(page.locator(".review-comment")).to_have_count(1)  # shown where it applies, nowhere else
    _fill(page, world.reported, "资金6月20日到位，下达较晚")

    _my_task(page, base, "head_144")
    _submit(page, 2)
    expect(page.locator("tr[data-version]")).to_have_count(2)

    _login(page, base, "bureau")
    page.goto(f"{base}/rounds")
    page.get_by_role("link", name="2024年度年中绩效监控（1-7月）").click()
    page.locator("tr[data-task] a").click()
    page.locator("form.review").get_by_label("审核结论").select_option(label="通过")
    page.locator("form.review").get_by_role("button", name="提交审核").click()
    expect(page.locator("p .task-status")).to_have_text("已通过")
    page.get_by_role("link", name="2024年度年中绩效监控（1-7月）").click()
    page.get_by_role("button", name="关闭轮次").click()
    expect(page.get_by_role("status")).to_contain_text("已关闭")

    with Session(engine) as s:
        task_id = s.exec(select(RoundTask.id)).one()
        first = s.exec(select(RoundSubmission).where(RoundSubmission.task_id == task_id,
                                                     RoundSubmission.version == 1)).one()
        frozen = first.xlsx
        progress.record_reports(s, user(s, "clerk_144"), [read_report(world.unreported, value="7",
                                                                      as_of="2024-07-31")],
                                channel="portal", today=TODAY)
        s.commit()
    downloaded = page.request.get(f"{base}/rounds/tasks/{task_id}/versions/1.xlsx")
    assert downloaded.status == 200 and downloaded.body() == frozen
    today_table = page.request.get(f"{base}/reports/monitor?year=2024&through=7&department=144&format=xlsx")
    assert today_table.status == 200 and today_table.body() != frozen


def test_a_department_sees_neither_the_open_form_nor_another_departments_task(served, page):
    base, world, engine = served
    _login(page, base, "bureau")
    page.goto(f"{base}/rounds")
    form = page.locator("form.open-round")
    form.get_by_label("报送截止日期").fill("2024-08-31")
    form.get_by_role("button", name="发起").click()
    expect(page.locator("tr[data-task]")).to_have_count(2)
    with Session(engine) as s:
        hr_task = s.exec(select(RoundTask).where(RoundTask.department_id == world.hr_id)).one()

    _login(page, base, "head_959")
    page.goto(f"{base}/rounds")
    expect(page.locator("form.open-round")).to_have_count(0)
    expect(page.locator("tr[data-task]")).to_have_count(1)
    response = page.goto(f"{base}/rounds/tasks/{hr_task.id}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text("晋城市人力资源和社会保障局")
