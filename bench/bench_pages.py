"""Every portal page's time on the seed data: p50/p95 per page over repeated GETs, in one process.

    .venv/bin/python bench/bench_pages.py [repeats] [zh|en] [path prefix]

The store is the seed world of the tests (both seed disclosures, a user per role, a few reports, evaluated as
of 2024-07-31, one round open). The pages are found as a person finds them, by following links from the home
pages (tests/page_walk.py), once per kind of page, as the bureau's admin and as a department's clerk; each is
then fetched `repeats` times (default 20) through Starlette's TestClient, so the time is the server's own work
(routing, queries, rendering) without a network. Target: p95 < 200 ms for every page. Beside the wall clock it
prints the process's CPU time per request (every thread: the test client runs the app in its own), which a
machine shared with other work inflates far less than the wall clock. The pages are read in Chinese unless `en`
is given; a path prefix (`/reports`) times only the pages under it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 200.0


def _p95(sorted_times: list[float]) -> float:
    return sorted_times[min(len(sorted_times) - 1, round(0.95 * (len(sorted_times) - 1)))]


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    lang = sys.argv[2] if len(sys.argv) > 2 else "zh"
    prefix = sys.argv[3] if len(sys.argv) > 3 else "/"
    from sqlmodel import Session

    from monitor.rounds import service
    from monitor.store.db import make_engine
    from monitor.store.migrate import upgrade
    from tests.page_walk import walk
    from tests.rounds_world import build_round_world, user
    from tests.test_one_language import STARTS, _signed_in

    url = f"sqlite:///{tempfile.mkdtemp()}/pages.sqlite"
    upgrade(url)
    engine = make_engine(url)
    world = build_round_world(engine, url)
    with Session(engine) as s:
        service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7, due=date(2024, 8, 31))
        s.commit()
    rows = []
    for username in ("bureau", "clerk_144"):
        client = _signed_in(engine, world, username, lang)
        client.__enter__()  # the app's start-up (lifespan), as a server runs it before its first request
        for page in (page for page in walk(client, STARTS) if page.startswith(prefix)):
            client.get(page)  # warm: templates compiled, caches filled
            times, cpu = [], []
            for _ in range(repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                answer = client.get(page)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                assert answer.status_code == 200, page
            times.sort()
            cpu.sort()
            rows.append((username, page, statistics.median(times), _p95(times), statistics.median(cpu), _p95(cpu),
                         len(answer.content)))
    print(f"| as | page | wall p50 ms | wall p95 ms | CPU p50 ms | CPU p95 ms | size | < {TARGET_MS:.0f} ms |")
    print("|---|---|---|---|---|---|---|---|")
    for username, page, p50, p95, cpu50, cpu95, size in rows:
        verdict = "pass" if p95 < TARGET_MS else "**fail**"
        print(f"| {username} | `{page}` | {p50:.1f} | {p95:.1f} | {cpu50:.1f} | {cpu95:.1f} | {size:,} | {verdict} |")
    slow = [r for r in rows if r[3] >= TARGET_MS]
    print(f"\n{len(rows)} pages, {len(slow)} at or over {TARGET_MS:.0f} ms at p95")


if __name__ == "__main__":
    main()
