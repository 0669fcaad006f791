"""The one way browser tests serve the portal and open Chromium.

`serve(app)` runs the app under uvicorn on a free loopback port in a thread and yields its base URL;
`chromium()` launches Debian's Chromium headless through Playwright; `new_page(browser, viewport=…)` opens a page
in the zh-CN locale at a phone or desktop size. Each browser test used to carry its own copy of these.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Locator, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app: object, *, start_within: float = 15) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields "http://127.0.0.1:PORT"."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_within
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, *, viewport: dict[str, int] = PHONE, locale: str = "zh-CN",
             timeout_ms: float | None = None) -> Page:
    page = browser.new_context(viewport=viewport, locale=locale).new_page()
    if timeout_ms is not None:
        page.set_default_timeout(timeout_ms)
    return page


def screenshot(page: Page | Locator, fallback: Path, name: str) -> Path:
    """A screenshot of a whole page (or of one element), taken on the way through a test: into
    `KPIWATCH_SCREENSHOTS` when set (the README links the copies in docs/, made with
    `KPIWATCH_SCREENSHOTS=docs`), else into the test's own folder."""
    path = Path(os.environ.get("KPIWATCH_SCREENSHOTS") or fallback) / name
    if isinstance(page, Locator):
        page.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    return path
