"""The finance bureau's overview (/admin) for a province of 2,000 departments: wall and CPU time per page.

    .venv/bin/python bench/generate_province.py --url sqlite:///bench/overview.sqlite --scale 0.1 --departments 2000
    .venv/bin/python bench/bench_overview.py --url sqlite:///bench/overview.sqlite [--runs 30]

The store is evaluated once as of 2024-07-31 if it has no finished evaluation (so lights and overdue counts are
real), a bench administrator is added, then the whole page is asked for through FastAPI's TestClient in one
process (routing, the grouped queries, sorting and the template of 2,000 rows): the default view, a sorted and
filtered one, and the Excel export. Three requests warm up before the clock starts; p50 and p95 are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = date(2024, 7, 31)
PASSWORD = "bench-overview-1"
VIEWS = (("default", "/admin"), ("sorted+filtered", "/admin?sort=overdue&order=desc&light=red"),
         ("search", "/admin?q=第19"), ("export", "/admin/overview.xlsx?sort=execution"))


def prepare(url: str) -> None:
    """Evaluate the store once and add the bench's administrator, both only if missing."""
    from sqlmodel import Session, select

    from monitor.accounts.passwords import hash_password
    from monitor.config import Config
    from monitor.evaluation import run_evaluation
    from monitor.store.db import make_engine
    from monitor.store.models import EvaluationRun, User

    engine = make_engine(url)
    with Session(engine) as s:
        evaluated = s.exec(select(EvaluationRun).where(EvaluationRun.status == "ok")).first() is not None
        if s.exec(select(User).where(User.username == "bench_admin")).first() is None:
            s.add(User(username="bench_admin", password_hash=hash_password(PASSWORD), role="admin"))
            s.commit()
    if not evaluated:
        started = time.perf_counter()
        summary = run_evaluation(engine, Config(), as_of=AS_OF)
        print(f"evaluated {summary.indicators} indicators in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    prepare(args.url)

    import dataclasses
    import re

    from fastapi.testclient import TestClient

    from monitor.config import Config, DatabaseConfig
    from monitor.store.db import make_engine
    from monitor.web.app import create_app

    engine = make_engine(args.url)
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=args.url), secret_key="bench-" + "x" * 40)
    app = create_app(settings, engine)
    app.state.clock = lambda: AS_OF
    with TestClient(app) as http:
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)
        http.post("/login", data={"username": "bench_admin", "password": PASSWORD, "next": "/", "csrf_token": token})
        rows = http.get("/admin").text.count("data-department=")
        print(f"{rows} departments on the page; {args.runs} runs per view after 3 warm-ups", flush=True)
        for name, path in VIEWS:
            for _ in range(3):
                assert http.get(path).status_code == 200
            walls, cpus = [], []
            for _ in range(args.runs):
                wall, cpu = time.perf_counter(), time.process_time()
                response = http.get(path)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                assert response.status_code == 200
            q = statistics.quantiles(walls, n=20)
            print(f"{name:<16} wall p50 {statistics.median(walls):6.1f} ms  p95 {q[18]:6.1f} ms   "
                  f"cpu p50 {statistics.median(cpus):6.1f} ms", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
