"""Benchmark: one full evaluation of a province-sized store against only reading the same rows.

    .venv/bin/python bench/generate_province.py --url sqlite:///bench/province.sqlite   # once
    .venv/bin/python bench/bench_evaluate.py --url sqlite:///bench/province.sqlite

Each phase runs in its own process so its peak memory (max RSS) is its own:
- read:      only the queries of the evaluation, chunk by chunk, into DataFrames (the baseline);
- compute:   read + evaluate, nothing written;
- first:     a full evaluation into an empty state table (every state new, so every state is also a change row);
- daily:     the next day's evaluation on top of it (the steady state of the daily job: every state gets the
             new as-of date, rows whose numbers or reason moved — e.g. 已逾期N天 — are rewritten, few changes).
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
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'bench' / 'province.sqlite'}")
    parser.add_argument("--as-of", default="2024-07-31")
    parser.add_argument("--chunk", type=int, default=5000, help="projects per chunk ([evaluation] chunk_projects)")
    parser.add_argument("--phases", default="read,compute,first,daily")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    if args.phase:
        print(json.dumps(_phase(args.phase, args.url, as_of, args.chunk), ensure_ascii=False))
        return
    results = {}
    for name in args.phases.split(","):
        out = subprocess.run([sys.executable, __file__, "--url", args.url, "--as-of", args.as_of, "--chunk",
                              str(args.chunk), "--phase", name], capture_output=True, text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(results[name], ensure_ascii=False), flush=True)
    if "read" in results:
        base, base_cpu = results["read"]["seconds"], results["read"]["cpu_seconds"]
        base_all = base_cpu + results["read"]["server_cpu_seconds"]
        print(f"\nread-only {base:.1f} s wall, {base_cpu:.1f} s CPU, with the server's {base_all:.1f} s "
              f"({results['read']['rows']:,} rows, "
              f"peak {results['read']['peak_mib']} MiB)")
        for name in ("compute", "first", "daily"):
            if name in results:
                r = results[name]
                print(f"{name:<8} {r['seconds']:>6.1f} s wall = {r['seconds'] / base:.2f}× read-only; "
                      f"{r['cpu_seconds']:>6.1f} s CPU = {r['cpu_seconds'] / base_cpu:.2f}×; "
                      f"with the server's {r['cpu_seconds'] + r['server_cpu_seconds']:>6.1f} s CPU = "
                      f"{(r['cpu_seconds'] + r['server_cpu_seconds']) / base_all:.2f}×; peak {r['peak_mib']} MiB")


if __name__ == "__main__":
    main()
