"""The audit trail as an auditor uses it, in real Chromium on a desktop and on a phone: filtered by person and
date, read as sentences, and exported to CSV and Excel holding exactly the rows on the page."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from monitor.config import Config, DatabaseConfig
from monitor.store.db import make_engine
from monitor.web.app import create_app
from tests.browser_support import DESKTOP, PHONE, chromium, new_page, screenshot, serve
from tests.test_audit_trail import report
from tests.test_progress_world import PASSWORD, TODAY, build_world
from tests.test_web_portal import login, make_client

pytestmark = pytest.mark.browser


@pytest.fixture
def served(db_url) -> Iterator[str]:
    """A clerk of each department has reported: the trail holds two people's entries of today."""
    engine = make_engine(db_url)
    world = build_world(engine)
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    report(clerk, world, "900")
    report(clerk, world, "950")
    app = create_app(dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="browser-test"),
                     engine)
    app.state.clock = lambda: TODAY
    with serve(app) as base:
        yield base
    engine.dispose()


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{base}/admin/audit")


def _download(page: Page, link: str) -> bytes:
    with page.expect_download() as download:
        page.get_by_role("link", name=link).click()
    return Path(download.value.path()).read_bytes()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_auditor_filters_the_trail_by_person_and_date_and_exports_what_is_shown(served, viewport, tmp_path):
    with chromium() as browser:
        page = new_page(browser, viewport=viewport)
        _sign_in(page, served)
        page.get_by_label("操作人").select_option("clerk_hr")
        page.get_by_label("对象").select_option("report")
        page.get_by_label("从").fill("2020-01-01")
        page.get_by_role("button", name="筛选").click()

        rows = page.locator("ol.trail li[data-event]")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("经由门户更正「职业技能培训项目」的指标「培训人数」：数值从 900 改为 950")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page widens"
        screenshot(page, tmp_path, f"audit-{'phone' if viewport is PHONE else 'desktop'}.png")

        shown = [text.split(" ", 2)[-1] for text in rows.all_inner_texts()]
        exported = list(csv.reader(io.StringIO(_download(page, "导出 CSV").decode("utf-8-sig"))))
        sheet = load_workbook(io.BytesIO(_download(page, "导出 Excel"))).active
        in_csv = [" ".join(row) for row in exported[1:]]
        in_xlsx = [" ".join(str(v) for v in row if v is not None)
                   for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert len(in_csv) == len(in_xlsx) == 2
        for sentence in shown:
            assert any(sentence.split("（")[0] in line for line in in_csv), (sentence, in_csv)
        assert any("改为 950" in line for line in in_csv) and any("改为 950" in line for line in in_xlsx)

        page.get_by_label("到").fill("2020-12-31")  # before anything was entered
        page.get_by_role("button", name="筛选").click()
        expect(rows).to_have_count(0)
