"""Generate a province-sized store for the evaluation benchmark.

    .venv/bin/python bench/generate_province.py --url sqlite:///bench/province.sqlite            # full size
    .venv/bin/python bench/generate_province.py --url sqlite:///bench/small.sqlite --scale 0.01  # 1%

Full size: 2,000 departments, 50,000 projects, 1,000,000 indicators (20 a project, all annual targets, so all
are evaluated), 5,000,000 reports (5 an indicator, about 8% of them corrections that supersede an earlier row)
and 200,000 spending rows. Targets are the real 指标值 of the seed documents (tests/data/seed_target_values.tsv)
put through the real grammar, so the mix of kinds is the real one. Rows go in with the driver's executemany
in large batches (SQLite) or COPY (PostgreSQL), not through the ORM. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.store.db import make_engine  # noqa: E402 - needs the sys.path line above (run as a script)
from monitor.store.migrate import upgrade  # noqa: E402 - likewise
from rules.targets import parse_target_cached  # noqa: E402 - likewise
from rules.terms import GRADES  # noqa: E402 - likewise

YEAR = 2024
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED_VALUES = ROOT / "tests" / "data" / "seed_target_values.tsv"
LEVEL1 = {"数量": "产出", "质量": "产出", "时效": "产出", "成本": "产出", "满意": "满意度"}
REPORT_COLUMNS = ("id", "indicator_id", "revision", "supersedes_id", "value", "as_of", "occurrence_due",
                  "completed_on", "grade", "forecast", "channel", "created_at")


def seed_targets() -> list[tuple]:
    rows = []
    for line in SEED_VALUES.read_text(encoding="utf-8").splitlines()[1:]:
        level2, name, value = line.split("\t")
        t = parse_target_cached(value, YEAR, level2, name)
        level1 = next((v for k, v in LEVEL1.items() if k in level2), "效益")
        rows.append((level1, level2, name, value, t, json.dumps(t.to_json(), ensure_ascii=False)))
    return rows


def _copy(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def generate(url: str, scale: float, seed: int, batch_projects: int = 2000,
             departments: int | None = None) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    n_depts = departments or max(1, round(2000 * scale))
    n_projects = max(1, round(50000 * scale))
    per_project, per_indicator = 20, 5
    upgrade(url)
    engine = make_engine(url)
    targets = seed_targets()
    created = datetime(2024, 8, 1, 9, tzinfo=SHANGHAI)
    created_value = created.strftime("%Y-%m-%d %H:%M:%S.%f") if url.startswith("sqlite") else created
    counts = {"departments": n_depts, "projects": n_projects, "indicators": 0, "reports": 0, "spending": 0}
    month_ends = [date(YEAR, m + 1, 1) - timedelta(days=1) for m in range(1, 12)] + [date(YEAR, 12, 31)]
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        _copy(conn, "budgetyear", ("id", "year"), [(1, YEAR)])
        _copy(conn, "department", ("id", "code", "name", "is_finance_bureau"),
              [(d, f"D{d:05d}", f"第{d}预算单位", False) for d in range(1, n_depts + 1)])
    indicator_id = report_id = spending_id = 0
    for first in range(1, n_projects + 1, batch_projects):
        last = min(first + batch_projects - 1, n_projects)
        projects, indicators, reports, spending = [], [], [], []
        for pid in range(first, last + 1):
            funds = int(rng.integers(5, 2000)) * 10000
            projects.append((pid, (pid - 1) % n_depts + 1, 1, f"项目{pid}", f"项目{pid}", funds, funds, "bench"))
            for k, pick in enumerate(rng.integers(0, len(targets), per_project)):
                indicator_id += 1
                level1, level2, name, value, t, tj = targets[pick]
                indicators.append((indicator_id, pid, "annual", level1, level2, f"{name}-{k}", value, k, t.kind,
                                   t.comparator, None if t.value is None else str(t.value), t.unit, t.direction,
                                   tj, t.reason))
                reports.extend(_reports(rng, indicator_id, t, month_ends, report_id, per_indicator))
                report_id += per_indicator
            for month in (3, 6, 9, 12):
                spending_id += 1
                spent = funds * month / 12 * float(rng.uniform(0.3, 1.2))
                spending.append((spending_id, pid, 1, None, f"{spent:.2f}", month_ends[month - 1].isoformat(),
                                 "bench"))
        reports = [r + ("bench", created_value) for r in reports]
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
            _copy(conn, "project", ("id", "department_id", "budget_year_id", "import_key", "name", "total_funds",
                                    "annual_funds", "source_file"), projects)
            _copy(conn, "indicator", ("id", "project_id", "half", "level1", "level2", "name", "value_text",
                                      "position", "kind", "comparator", "target_value", "unit", "direction",
                                      "target_json", "parse_reason"), indicators)
            _copy(conn, "report", REPORT_COLUMNS, reports)
            _copy(conn, "spending", ("id", "project_id", "revision", "supersedes_id", "amount", "as_of", "channel"),
                  spending)
        counts["indicators"] += len(indicators)
        counts["reports"] += len(reports)
        counts["spending"] += len(spending)
        print(f"  projects {last:>6}/{n_projects}  indicators {counts['indicators']:>8}  reports "
              f"{counts['reports']:>8}", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("budgetyear", "department", "project", "indicator", "report", "spending"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return counts


def _reports(rng, indicator_id: int, t, month_ends: list[date], base: int, n: int) -> list[tuple]:
    """`n` report rows for one indicator (ids base+1 … base+n); the last row corrects its predecessor 40% of
    the time (append-only revision)."""
    out = []
    correction = rng.random() < 0.4
    plain = n - 1 if correction else n
    if t.kind in ("quantity", "percent") and t.value is not None:
        target = float(t.value)
        first = int(rng.integers(1, 14 - plain)) if plain <= 12 else 1
        months = range(first, first + plain)
        pace = float(rng.uniform(0.3, 1.5))
        for i, m in enumerate(months):
            share = m / 12 if t.kind == "quantity" and t.direction != "lower_is_better" else 1
            value = max(0.0, target * share * pace * float(rng.uniform(0.9, 1.1)))
            out.append((base + i + 1, indicator_id, 1, None, f"{value:.2f}", month_ends[m - 1].isoformat(), None, None,
                        None, None))
    elif t.kind in ("deadline", "window", "recurring") and t.occurrences:
        for i in range(plain):
            occ = t.occurrences[i % len(t.occurrences)]
            done = occ.due - timedelta(days=int(rng.integers(-5, 10)))
            out.append((base + i + 1, indicator_id, 1, None, None, None, occ.due.isoformat(), done.isoformat(),
                        None, None))
    else:
        for i in range(plain):
            grade = GRADES[int(rng.integers(0, 3))] if t.kind == "qualitative" else None
            day = month_ends[int(rng.integers(0, 12))]
            out.append((base + i + 1, indicator_id, 1, None, None if grade else "1", day.isoformat(), None, None,
                        grade, None))
    if correction:
        prev = list(out[-1])
        prev[0], prev[2], prev[3] = base + n, 2, base + plain
        if prev[4] is not None:
            prev[4] = f"{float(prev[4]) * 1.05:.2f}"
        out.append(tuple(prev))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'bench' / 'province.sqlite'}")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full province (default 1.0)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--departments", type=int, default=None,
                        help="departments instead of the scaled count (the overview's benchmark: all 2,000 of a "
                             "province over fewer projects)")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.url, args.scale, args.seed, departments=args.departments)
    print(json.dumps(counts), f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
