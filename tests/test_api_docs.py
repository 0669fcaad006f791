"""/api/docs (Swagger UI) and /api/redoc (ReDoc) in real Chromium: everything they load comes from the portal.

The portal runs on intranets that reach no public host, where a viewer loaded from a CDN is a blank page.
These pages never touch the store, so one SQLite store serves them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from monitor.config import Config, DatabaseConfig
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.web.app import create_app
from monitor.web.templating import STATIC_DIR
from tests.browser_support import DESKTOP, chromium, new_page, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'docs.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    app = create_app(dataclasses.replace(Config(), database=DatabaseConfig(url=url), secret_key="docs-test"), engine)
    with serve(app) as base:
        yield base
    engine.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser, viewport=DESKTOP)


def _hosts_requested(page: Page) -> tuple[set[str], list[str]]:
    """Every host the page reaches, and every request that failed, filled in as the page loads.

    A request the page's Content-Security-Policy stops never leaves the browser, so it reaches no host.
    """
    hosts: set[str] = set()
    failed: list[str] = []
    page.on("requestfinished", lambda request: hosts.add(urlsplit(request.url).netloc)
            if request.url.startswith("http") else None)
    page.on("requestfailed", lambda request: failed.append(f"{request.failure} {request.url}")
            if request.failure not in ("csp", "net::ERR_BLOCKED_BY_CSP") else None)
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return hosts, failed


def test_swagger_ui_page_names_no_other_host(base):
    """What a browser without Internet access is given: every script, style and icon is on the portal."""
    import httpx

    html = httpx.get(f"{base}/api/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html


def test_swagger_ui_renders_the_api_from_files_the_portal_serves(base, page):
    hosts, failed = _hosts_requested(page)
    page.goto(f"{base}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("kpiwatch API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/reports").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(base).netloc}
    assert failed == []


def test_redoc_renders_the_api_from_files_the_portal_serves(base, page):
    hosts, failed = _hosts_requested(page)
    page.goto(f"{base}/api/redoc")
    expect(page.locator("h1", has_text="kpiwatch API")).to_be_visible(timeout=20000)
    expect(page.get_by_text("/api/v1/reports").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(base).netloc}
    assert failed == []


def test_the_vendored_viewers_ship_with_their_licences():
    vendor = STATIC_DIR / "vendor"
    for viewer in ("swagger-ui", "redoc"):
        licence = (vendor / viewer / "LICENSE").read_text(encoding="utf-8")
        assert "Apache License" in licence if viewer == "swagger-ui" else "MIT License" in licence
