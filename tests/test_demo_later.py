"""`kpiwatch demo` as a new user meets it: on a machine whose matplotlib font cache predates fonts-noto-cjk, and
then `kpiwatch serve` on the demo store after the demo has exited (its email links, its date).

One demo run (a subprocess, as the user runs it) serves every test of this module.
"""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from pathlib import Path

import httpx
import pytest

from tests.browser_support import free_port
from tests.deploy_support import wait_for_port

pytestmark = pytest.mark.slow

KPIWATCH = str(Path(sys.executable).with_name("kpiwatch"))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STALE_CACHE = """
import sys
from matplotlib import font_manager as fm
fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist if "CJK" not in f.name and "CJK" not in f.fname]
fm.json_dump(fm.fontManager, sys.argv[1])
"""


def _cache_file(mpl_dir: Path) -> Path:
    [cache] = mpl_dir.glob("fontlist-v*.json")
    return cache


def _cjk_faces(cache: Path) -> list[str]:
    return [f["name"] for f in json.loads(cache.read_text(encoding="utf-8"))["ttflist"] if "CJK" in f["name"]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[tuple[Path, dict[str, str], int, subprocess.CompletedProcess]]:
    """A demo run in an empty folder with a font cache written as if before fonts-noto-cjk was installed."""
    root = tmp_path_factory.mktemp("demo-later")
    mpl = root / "mpl"
    mpl.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPIWATCH_")} | {"MPLCONFIGDIR": str(mpl)}
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True)  # a cache, as usual
    subprocess.run([sys.executable, "-c", STALE_CACHE, str(_cache_file(mpl))], env=env, check=True)
    assert _cjk_faces(_cache_file(mpl)) == []
    port = free_port()
    run = subprocess.run([KPIWATCH, "demo", "--no-serve", "--port", str(port)], cwd=root, env=env,
                         capture_output=True, text=True, timeout=580)
    yield root / "kpiwatch-demo", env, port, run


@pytest.fixture(scope="module")
def served(demo) -> Iterator[tuple[str, Path]]:
    """`kpiwatch serve` on the demo store, started after the demo exited, with no KPIWATCH_SECRET_KEY."""
    folder, env, port, run = demo
    assert run.returncode == 0, run.stderr[-3000:]
    env = env | {"KPIWATCH_DATABASE_URL": f"sqlite:///{folder / 'kpiwatch.sqlite'}"}
    process = subprocess.Popen([KPIWATCH, "serve", "--port", str(port)], cwd=folder.parent, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}", folder
    finally:
        process.terminate()
        process.wait(30)


def test_the_demo_runs_to_the_end_on_a_font_cache_written_before_the_cjk_font(demo):
    folder, _env, _port, run = demo
    assert run.returncode == 0, run.stderr[-3000:]
    assert "fonts-noto-cjk" not in run.stdout + run.stderr
    assert {p.suffix for p in (folder / "reports").iterdir()} >= {".html", ".xlsx", ".pdf"}
    assert "Noto Sans CJK SC" in _cjk_faces(_cache_file(folder.parent / "mpl")), "the cache was written anew"


def test_email_links_of_the_demo_work_on_a_portal_served_after_it(served):
    base, folder = served
    digest = next(folder.glob("emails/*digest*.eml"))
    text = email.message_from_bytes(digest.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/notify/ack/\S+)", text).group(1)
    assert link.startswith(base + "/"), "the links point at the demo's portal"
    answer = httpx.get(link)
    assert answer.status_code == 200, answer.text[:500]
    assert "未配置" not in answer.text
    assert "提交说明" in answer.text


def test_a_portal_served_after_the_demo_lives_on_the_demo_date(served):
    base, folder = served
    username, password = folder.joinpath("demo-logins.txt").read_text(encoding="utf-8").splitlines()[1].split()[:2]
    with httpx.Client(base_url=base, follow_redirects=True) as client:
        token = CSRF.search(client.get("/login").text).group(1)
        page = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert page.status_code == 200
        assert "截至日期 2024-07-31" in page.text
