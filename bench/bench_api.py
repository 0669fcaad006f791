"""Progress API under load: N concurrent clients posting reports through /api/v1/reports for D seconds.

    .venv/bin/pip install -e '.[bench]'    # aiohttp, the load generator
    .venv/bin/python bench/bench_api.py [--clients 50] [--seconds 60] [--think 0] [--client aiohttp|httpx]
    .venv/bin/python bench/bench_api.py --db postgresql --workers 4   # a database of its own on 127.0.0.1:5432
    .venv/bin/python bench/bench_api.py --db sqlite,postgresql --workers 1,2 --repeat 3 --seconds 20

A fresh, migrated store (SQLite in a temporary folder, or `--db postgresql`: a new database created and dropped
on the server the tests use, `KPIWATCH_TEST_POSTGRES`) holds one department, one project and five quantity
indicators per client, one clerk and one bearer token per client. The portal runs in its own process
(`kpiwatch serve`'s app and heap settling, uvicorn, `--workers` processes sharing one port, loopback) so the
clients (one event loop, one connection each) do not share its interpreter. The clients use aiohttp by
default: httpx's async client costs ~0.7 ms of CPU per request, so with 50 of them in one process at ~1,000
requests/s the load generator's own queue made up half the latency it measured (`--client httpx` shows it).
Each client posts a report on one of its own indicators, cycling through values and as-of dates, so the
server stores new facts, revisions of an existing as-of date and, now and then, an unchanged fact: every
path of the recording service. `--think` adds a pause between a client's requests (uniform 0.5–1.5 × think,
clients start out of step; 0 = back to back, a saturation test).
Prints the request count, error count, throughput and latency percentiles; with several stores or runs, each
store's p99s and their median at the end. `--disk-probe DIR` also times a
flush of 8 KB every 10 ms in DIR meanwhile (`bench/disk_probe.py`): a commit waits out the disk's slowest flushes,
and on a disk whose flushes stall now and then, so does every request in flight.

    .venv/bin/python bench/bench_api.py --pages

times the portal pages on the seed data instead (the demo's import and sample reports, in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.disk_probe import DiskProbe  # noqa: E402  (found once ROOT is on the path)
from bench.process_cpu import process_cpu  # noqa: E402  (likewise)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_factory():
    """The portal as `kpiwatch serve` builds it, for uvicorn's --factory (settings from the environment)."""
    from monitor.config import load_config
    from monitor.web import reevaluate
    from monitor.web.app import create_app
    from monitor.web.serve import settle_heap

    app = create_app(load_config())
    started = reevaluate.prepare(app)
    if started is not None:  # measured: a server that is up, its evaluation process too (serve starts it alongside)
        started.result()
    settle_heap()
    return app


def build_store(url: str, clients: int, per_client: int) -> tuple[list[str], list[list[int]], int]:
    from monitor.accounts.passwords import hash_password
    from monitor.accounts.tokens import create_token
    from monitor.store.db import make_engine, session_scope
    from monitor.store.migrate import upgrade
    from monitor.store.models import BudgetYear, Department, Indicator, Project, User
    from rules.targets import parse_target

    upgrade(url)
    engine = make_engine(url)
    year = date.today().year
    tokens, indicators = [], []
    with session_scope(engine) as s:
        by = BudgetYear(year=year)
        dep = Department(code="BENCH", name="压测部门")
        s.add_all([by, dep])
        s.flush()
        project = Project(department_id=dep.id, budget_year_id=by.id, import_key="bench", name="压测项目",
                          annual_funds=Decimal("1000000.00"))
        s.add(project)
        s.flush()
        target = parse_target("≥1000人", year=year, level2="数量指标", name="人数")
        password = hash_password("bench-password")
        for c in range(clients):
            mine = []
            for k in range(per_client):
                row = Indicator(project_id=project.id, half="annual", level1="产出指标", level2="数量指标",
                                name=f"人数{c}-{k}", value_text="≥1000人", position=c * per_client + k, kind="quantity",
                                comparator=">=", target_value=Decimal(1000), unit="人", direction="higher_is_better",
                                target_json=target.to_json())
                s.add(row)
                s.flush()
                mine.append(row.id)
            indicators.append(mine)
            user = User(username=f"bench{c}", display_name=f"bench{c}", password_hash=password, role="clerk",
                        department_id=dep.id)
            s.add(user)
            s.flush()
            tokens.append(create_token(s, user, "bench")[1])
    engine.dispose()
    return tokens, indicators, year


class AiohttpClient:
    def __init__(self, base: str, token: str) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                             timeout=aiohttp.ClientTimeout(total=30))

    async def post(self, path: str, body: dict) -> tuple[int, str]:
        async with self.session.post(path, json=body) as response:
            return response.status, await response.text()

    async def get(self, path: str) -> int:
        async with self.session.get(path) as response:
            await response.read()
            return response.status

    async def close(self) -> None:
        await self.session.close()


class HttpxClient:
    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    async def post(self, path: str, body: dict) -> tuple[int, str]:
        response = await self.http.post(path, json=body)
        return response.status_code, response.text

    async def get(self, path: str) -> int:
        return (await self.http.get(path)).status_code

    async def close(self) -> None:
        await self.http.aclose()


CLIENTS = {"aiohttp": AiohttpClient, "httpx": HttpxClient}


async def client(n: int, http, indicators: list[int], stop_at: float, think: float,
                 latencies: list[float], errors: list[str]) -> None:
    today = date.today()
    i = 0
    rng = random.Random(n)
    if think:  # clients start out of step, as people do, instead of all firing in the same millisecond
        await asyncio.sleep(rng.uniform(0, think))
    while time.perf_counter() < stop_at:
        body = {"indicator_id": indicators[i % len(indicators)], "value": str(100 + (i * 7) % 900),
                "as_of": (today - timedelta(days=(i // len(indicators)) % 30)).isoformat(),
                "note": f"bench client {n}"}
        started = time.perf_counter()
        try:
            status, text = await http.post("/api/v1/reports", body)
            if status != 201:
                errors.append(f"{status} {text[:200]}")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - started)
        i += 1
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


def connection_split(port: int) -> str:
    """How the clients' connections are spread over the server's processes, e.g. "26/24" (`ss`, where it exists).

    With several uvicorn workers the kernel hands each connection to whichever worker accepts first; 50 clients
    that connect at once have been seen split 26/24 and 38/12, and an uneven run has one worker saturated while
    the other idles: read a run's figures with its split."""
    try:
        listing = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                                 capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (no ss)"
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", listing):
        counts[pid] = counts.get(pid, 0) + 1
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True)) or "none"


async def run_clients(base: str, tokens: list[str], indicators: list[list[int]], seconds: float, think: float,
                      kind: str, split: list[str] | None = None):
    latencies: list[float] = []
    errors: list[str] = []
    # Every client is built before the clock starts (an httpx client takes ~20 ms to build its TLS context).
    https = [CLIENTS[kind](base, token) for token in tokens]
    for http in https:  # every connection open before the clock starts (how they split is printed)
        await http.get("/api/v1/me")
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()

    async def look() -> None:  # once every client has connected
        await asyncio.sleep(min(2.0, seconds / 2))
        if split is not None:
            split.append(await asyncio.to_thread(connection_split, int(base.rsplit(":", 1)[1])))

    try:
        await asyncio.gather(look(), *(client(n, https[n], indicators[n], stop_at, think, latencies, errors)
                                       for n in range(len(tokens))))
    finally:
        elapsed = time.perf_counter() - started
        for http in https:
            await http.close()
    return latencies, errors, elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def time_pages(rounds: int = 20) -> None:
    """Portal pages on the seed data (the demo's import + sample reports), in-process, warm: median and max ms."""
    import re

    from fastapi.testclient import TestClient
    from rich.console import Console
    from sqlmodel import Session, func, select

    from monitor.demo.context import DEFAULT_AS_OF, prepare
    from monitor.demo.sample_data import seed_portal
    from monitor.demo.seeds import import_seeds
    from monitor.store.models import Department, Indicator
    from monitor.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        context = prepare(Path(tmp), DEFAULT_AS_OF, Console(quiet=True))
        import_seeds(context)
        seed_portal(context)
        app = create_app(dataclasses.replace(context.settings, secret_key="bench"), context.engine)
        app.state.clock = lambda: DEFAULT_AS_OF
        client = TestClient(app)
        with Session(context.engine) as s:
            project, size = s.exec(select(Indicator.project_id, func.count()).group_by(Indicator.project_id)
                                   .order_by(func.count().desc())).first()
            department = s.exec(select(Department).order_by(Department.id)).first()
        clerk, password = next((u, p) for u, p, role, _ in context.demo_logins if role == "clerk")
        admin, admin_password = next((u, p) for u, p, role, _ in context.demo_logins if role == "admin")

        def login(username: str, secret: str) -> None:
            client.cookies.clear()
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            client.post("/login", data={"username": username, "password": secret, "csrf_token": token})

        def measure(path: str) -> None:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            print(f"  {path:<32} {len(response.content) / 1024:6.0f} KB  median {statistics.median(times):6.1f} ms  "
                  f"max {max(times):6.1f} ms")

        print(f"portal pages on the seed data ({rounds} warm requests each; largest project has {size} indicators)")
        login(clerk, password)
        for path in (f"/departments/{department.id}", f"/projects/{project}",
                     f"/departments/{department.id}/workbook.xlsx"):
            measure(path)
        login(admin, admin_password)
        for path in ("/admin", "/admin/audit"):
            measure(path)
        context.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", action="store_true", help="time the portal pages on the seed data instead")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between one client's requests")
    parser.add_argument("--per-client", type=int, default=5, help="indicators per client")
    parser.add_argument("--workers", default="1",
                        help="uvicorn worker processes; with several stores, one number each (1,2)")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="aiohttp", help="load generator library")
    parser.add_argument("--db", default="sqlite",
                        help="sqlite, postgresql, or both separated by a comma: run alternately, store by store")
    parser.add_argument("--repeat", type=int, default=1, help="runs on each store")
    parser.add_argument("--disk-probe", metavar="DIR", help="time 8 KB flushes in DIR (the database's disk) meanwhile")
    args = parser.parse_args()
    if args.pages:
        time_pages()
        return
    stores = args.db.split(",")
    workers = [int(w) for w in args.workers.split(",")]
    if not set(stores) <= {"sqlite", "postgresql"} or len(workers) not in (1, len(stores)):
        parser.error("--db: sqlite, postgresql or sqlite,postgresql; --workers: one number, or one a store")
    workers_of = dict(zip(stores, workers * len(stores) if len(workers) == 1 else workers, strict=True))
    p99s: dict[str, list[float]] = {db: [] for db in stores}
    for _ in range(args.repeat):
        for db in stores:
            p99s[db].append(_run(argparse.Namespace(**{**vars(args), "db": db, "workers": workers_of[db]})))
    if args.repeat > 1 or len(stores) > 1:
        for db, found in p99s.items():
            print(f"{db} ({workers_of[db]} worker(s)): p99 {', '.join(f'{p:.1f}' for p in found)} ms; median "
                  f"{statistics.median(found):.1f} ms, {sum(p < 100 for p in found)} of {len(found)} under 100 ms")


def _run(args: argparse.Namespace) -> float:
    """One run on `args.db` with `args.workers` workers, printed; its p99 in milliseconds."""
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url, drop = f"sqlite:///{tmp}/bench.sqlite", None
        else:
            from tests.conftest import create_database

            url, drop = create_database("postgresql", Path(tmp))
        try:
            cpu: dict[str, Any] = {}
            stored, audited, latencies, errors, elapsed = _serve_and_load(args, url, cpu)
        finally:
            if drop:
                drop()
    ms = [x * 1000 for x in latencies]
    print(f"clients {args.clients} ({args.client}), {args.seconds:.0f} s, think {args.think} s, {args.db}, "
          f"{args.workers} uvicorn worker(s), connections per process {cpu['split']}")
    print(f"requests {len(ms)} ({len(ms) / elapsed:.0f}/s), errors {len(errors)}, reports stored {stored}, "
          f"audit events {audited}")
    print(f"latency ms: p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}  p99 {percentile(ms, 99):.1f}  "
          f"max {max(ms):.1f}  mean {statistics.mean(ms):.1f}")
    print(f"CPU per request: server {1000 * cpu['server'] / len(ms):.2f} ms, database "
          f"{1000 * cpu['database'] / len(ms):.2f} ms (load {os.getloadavg()[0]:.1f})", flush=True)
    if cpu["disk"]:
        print(cpu["disk"])
    for line in errors[:5]:
        print("  error:", line)
    return percentile(ms, 99)


def _children(pid: int) -> list[int]:
    """The server's processes: uvicorn's supervisor and every process below it (its workers, and theirs: the
    evaluation process each worker starts on PostgreSQL)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        found.append(stack.pop())
        stack.extend(parents.get(found[-1], []))
    return found


def _database_cpu(url: str) -> float:
    """PostgreSQL: the CPU seconds of the server processes serving the benchmark's database (they start with the
    run's pool connections, so all of it is the run's); 0 for SQLite, whose work is in the server's processes."""
    if not url.startswith("postgresql"):
        return 0.0
    from sqlalchemy import text

    from monitor.store.db import make_engine

    engine = make_engine(url)
    with engine.connect() as c:
        pids = c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                              "AND pid <> pg_backend_pid()")).scalars().all()
    engine.dispose()
    return sum(map(process_cpu, pids))


def _serve_and_load(args: argparse.Namespace, url: str, cpu: dict[str, Any]
                    ) -> tuple[int, int, list[float], list[str], float]:
    """Build the store at `url`, serve it, run the clients; (reports stored, audit events, latencies, errors,
    elapsed seconds), and the CPU seconds the server's processes and the database's spent on the run in `cpu`."""
    tokens, indicators, _ = build_store(url, args.clients, args.per_client)
    port = _free_port()
    env = dict(os.environ, KPIWATCH_DATABASE_URL=url, KPIWATCH_SECRET_KEY="bench",
               KPIWATCH_CONFIG=str(ROOT / "config.toml"))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench_api:app_factory", "--app-dir", str(ROOT / "bench"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
         "--backlog", "256"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/api/v1/openapi.json", timeout=1)
                break
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start") from exc
                time.sleep(0.2)
        before = {pid: process_cpu(pid) for pid in _children(server.pid)}
        split: list[str] = []
        with DiskProbe(args.disk_probe) if args.disk_probe else contextlib.nullcontext() as probe:
            latencies, errors, elapsed = asyncio.run(run_clients(base, tokens, indicators, args.seconds, args.think,
                                                                 args.client, split))
        cpu["disk"] = probe.summary() if probe is not None else None
        cpu["split"] = split[0] if split else "unknown"
        cpu["server"] = sum(process_cpu(pid) - before.get(pid, 0.0) for pid in _children(server.pid))
        cpu["database"] = _database_cpu(url)
    finally:
        server.terminate()
        server.wait(10)
    from sqlalchemy import text

    from monitor.store.db import make_engine
    engine = make_engine(url)
    with engine.connect() as c:
        stored = c.execute(text("select count(*) from report")).scalar_one()
        audited = c.execute(text("select count(*) from auditevent where entity = 'report'")).scalar_one()
    engine.dispose()
    return stored, audited, latencies, errors, elapsed


if __name__ == "__main__":
    main()
