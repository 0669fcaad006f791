"""Benchmark: one full evaluation of a province-sized store against only reading the same rows.

    .venv/bin/python bench/generate_province.py --url sqlite:///bench/province.sqlite   # once
    .venv/bin/python bench/bench_evaluate.py --url sqlite:///bench/province.sqlite
    .venv/bin/python bench/bench_evaluate.py --url sqlite:///… --url postgresql+psycopg://… --repeat 3   # side by side

Each phase runs in its own process so its peak memory (max RSS) is its own:
- read:      only the queries of the evaluation, chunk by chunk, into DataFrames (the baseline);
- compute:   read + evaluate, nothing written;
- first:     a full evaluation into an empty state table (every state new, so every state is also a change row);
- daily:     the next day's evaluation on top of it (the steady state of the daily job: every state gets the
             new as-of date, rows whose numbers or reason moved — e.g. 已逾期N天 — are rewritten, few changes).
With `read`, the read-only pass runs again after the others and the mean of the two is the baseline.
Targets (issue 5): a full evaluation under 60 s and 4 GiB on SQLite, and at most 3× the read-only time.
Wall time and this process's CPU time are both printed: on a shared machine the wall time of the same phase
varies by 2× with the neighbours' load; CPU time (plus the database's own work, in-process for SQLite) is the
steadier measure. On PostgreSQL the CPU time of the server processes that served the phase is added (read from
/proc, so the server must run on this machine), since that is where the writes cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_cpu import process_cpu  # noqa: E402  (found once ROOT is on the path)


def _phase(name: str, url: str, as_of: date, chunk: int) -> dict:
    from sqlalchemy import text

    from monitor.config import Config, DatabaseConfig
    from monitor.evaluation.load import project_chunks, read_rows
    from monitor.evaluation.run import run_evaluation
    from monitor.store.db import make_engine

    settings = Config(database=DatabaseConfig(url=url))
    engine = make_engine(url)
    backends: set[int] = set()  # PostgreSQL: the server processes that worked for this phase
    if engine.dialect.name == "postgresql":
        from sqlalchemy import event

        def _note_backend(dbapi_connection, _record) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends.add(cursor.fetchone()[0])

        event.listen(engine, "connect", _note_backend)
    if name == "first":  # an empty state table, as a new store has: emptied, not deleted row by row, which on
        with engine.begin() as conn:  # PostgreSQL would leave every row and index entry behind, dead
            tables = ("indicatorstatechange", "indicatorstate", "projectstate", "evaluationrun")
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)}"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
    server_start = {pid: process_cpu(pid) for pid in backends}  # not the emptying above
    started = time.perf_counter()
    cpu_start = time.process_time()
    rows = 0
    if name == "read":
        for lo, hi in project_chunks(engine, chunk):
            with engine.connect() as conn:
                frames = read_rows(conn, lo, hi, halves=("annual",))
                rows += sum(len(f) for f in frames)
        extra = {"rows": rows}
    else:
        day = as_of + timedelta(days=1) if name == "daily" else as_of
        summary = run_evaluation(engine, settings, as_of=day, store=name != "compute", chunk_projects=chunk)
        extra = {"indicator_states": summary.indicators, "projects": summary.projects, "changes": summary.changes,
                 "rewritten": summary.rewritten, "lights": summary.lights}
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_start
    extra["server_cpu_seconds"] = round(sum(process_cpu(pid) - server_start.get(pid, 0.0) for pid in backends), 2)
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB on Linux
    return {"phase": name, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_mib": round(peak),
            **extra}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append",
                        help="the store; given again, each store is run in turn (default: bench/province.sqlite)")
    parser.add_argument("--as-of", default="2024-07-31")
    parser.add_argument("--chunk", type=int, default=5000, help="projects per chunk ([evaluation] chunk_projects)")
    parser.add_argument("--phases", default="read,compute,first,daily")
    parser.add_argument("--repeat", type=int, default=1, help="runs on each store")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    urls = args.url or [f"sqlite:///{ROOT / 'bench' / 'province.sqlite'}"]
    as_of = date.fromisoformat(args.as_of)
    if args.phase:
        print(json.dumps(_phase(args.phase, urls[0], as_of, args.chunk), ensure_ascii=False))
        return
    ratios: dict[str, dict[str, list[float]]] = {url: {} for url in urls}
    for _ in range(args.repeat):
        for url in urls:
            if len(urls) > 1 or args.repeat > 1:
                print(f"\n{url}")
            for name, ratio in _run(url, args).items():
                ratios[url].setdefault(name, []).append(ratio)
    if len(urls) > 1 or args.repeat > 1:
        print()
        for url, found in ratios.items():
            print(url)
            for name, values in found.items():
                print(f"  {name:<8} client + server CPU ÷ read-only: {', '.join(f'{v:.2f}×' for v in values)}; "
                      f"median {statistics.median(values):.2f}×")


def _run(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Every phase on `url`, each in a process of its own, printed; each phase's client + server CPU against the
    read-only pass's (when it ran)."""
    if url.startswith("postgresql"):  # each run on statistics as fresh as the first run's, dead rows cleared
        from monitor.store.db import make_engine

        engine = make_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()
    phases = args.phases.split(",")
    if "read" in phases:  # bracketed: the read-only pass again at the end, since this machine's speed drifts
        phases.append("read again")
    results = {}
    for name in phases:
        out = subprocess.run([sys.executable, __file__, "--url", url, "--as-of", args.as_of, "--chunk",
                              str(args.chunk), "--phase", name.split()[0]], capture_output=True, text=True,
                             check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(results[name], ensure_ascii=False), flush=True)
    if "read" not in results:
        return {}
    reads = (results["read"], results["read again"])
    base = statistics.mean(r["seconds"] for r in reads)
    base_cpu = statistics.mean(r["cpu_seconds"] for r in reads)
    base_all = base_cpu + statistics.mean(r["server_cpu_seconds"] for r in reads)
    before, after = (r["cpu_seconds"] + r["server_cpu_seconds"] for r in reads)
    print(f"\nread-only {base:.1f} s wall, {base_cpu:.1f} s CPU, with the server's {base_all:.1f} s (mean of "
          f"{before:.1f} s before and {after:.1f} s after; "
          f"{results['read']['rows']:,} rows, peak {results['read']['peak_mib']} MiB)")
    ratios = {}
    for name in ("compute", "first", "daily"):
        if name in results:
            r = results[name]
            ratios[name] = (r["cpu_seconds"] + r["server_cpu_seconds"]) / base_all
            print(f"{name:<8} {r['seconds']:>6.1f} s wall = {r['seconds'] / base:.2f}× read-only; "
                  f"{r['cpu_seconds']:>6.1f} s CPU = {r['cpu_seconds'] / base_cpu:.2f}×; "
                  f"with the server's {r['cpu_seconds'] + r['server_cpu_seconds']:>6.1f} s CPU = "
                  f"{ratios[name]:.2f}×; peak {r['peak_mib']} MiB", flush=True)
    return ratios


if __name__ == "__main__":
    main()
