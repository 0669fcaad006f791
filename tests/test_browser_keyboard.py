"""The portal with the keyboard alone (WCAG 2.1.1, 2.4.1, 2.4.7), in Chromium: a clerk tabs to the skip link,
signs in, jumps past the header to the content and reports a value, seeing where the focus is at every step."""

from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import Page

from monitor.config import Config, DatabaseConfig
from monitor.store.db import make_engine
from monitor.web.app import create_app
from tests.browser_support import DESKTOP, chromium, new_page, serve
from tests.test_progress_world import PASSWORD, TODAY, build_world

pytestmark = pytest.mark.browser

FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e), box = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), name: e.getAttribute('name'), id: e.id, text: e.textContent.trim(),
          ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, top: box.top,
          indicator: e.closest('[data-indicator]')?.dataset.indicator || null}; }"""


def _tab_to(page: Page, wanted: dict[str, object], presses: int = 80) -> dict:
    """Press Tab until the focused element has the `wanted` properties; each stop must show a focus ring."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["ring"], f"no visible focus on {focused}"
        if all(focused[k] == v for k, v in wanted.items()):
            return focused
    raise AssertionError(f"Tab never reached {wanted}")


def test_a_clerk_signs_in_and_reports_with_the_keyboard_alone(db_url):
    engine = make_engine(db_url)
    world = build_world(engine)
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=db_url), secret_key="keyboard-test")
    app = create_app(settings, engine)
    app.state.clock = lambda: TODAY
    try:
        with serve(app) as base, chromium() as browser:
            page = new_page(browser, viewport=DESKTOP)
            page.goto(f"{base}/login")
            page.keyboard.press("Tab")
            skip = page.evaluate(FOCUSED)
            assert (skip["text"], skip["ring"]) == ("跳到正文", True) and skip["top"] >= 0  # shown when focused
            _tab_to(page, {"name": "username"})
            page.keyboard.type("clerk_hr")
            _tab_to(page, {"name": "password"})
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/todo")  # a clerk starts from the 待办

            page.goto(f"{base}/projects/{world.hr_project}")
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")  # the skip link: the focus moves to the content, past the header's links
            assert page.evaluate("document.activeElement.id") == "main"
            _tab_to(page, {"tag": "summary", "indicator": str(world.ind["count"])})
            page.keyboard.press("Enter")  # opens the report form
            _tab_to(page, {"name": "value", "indicator": str(world.ind["count"])})
            page.keyboard.type("1200")
            page.keyboard.press("Enter")
            page.wait_for_load_state()
            latest = page.locator(f'[data-indicator="{world.ind["count"]}"] .latest')
            assert "1200人" in latest.inner_text()
    finally:
        engine.dispose()
