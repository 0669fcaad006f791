"""Benchmark (issue 3): parse one million 指标值 drawn from the seed documents' values.

Run by hand: `.venv/bin/python bench/bench_parse_targets.py [N]`. The target is < 10 s for 1,000,000 strings
with results cached per distinct text (`parse_target_cached`); the uncached cost per distinct text is
printed too, because a first import of an unfamiliar document pays it once per distinct value.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from rules.targets import _parse_cached, parse_target, parse_target_cached

ROOT = Path(__file__).resolve().parent.parent
SEED_VALUES = ROOT / "tests" / "data" / "seed_target_values.tsv"


def seed_rows() -> list[tuple[str | None, str, str]]:
    rows = []
    for line in SEED_VALUES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            level2, name, value = line.split("\t")
            rows.append((level2 or None, name, value))
    return rows


def main(n: int = 1_000_000) -> None:
    rows = seed_rows()
    rng = random.Random(2024)
    drawn = rng.choices(rows, k=n)

    start = time.perf_counter()
    for level2, name, value in rows:
        parse_target(value, year=2024, level2=level2, name=name)
    uncached = (time.perf_counter() - start) / len(rows)

    _parse_cached.cache_clear()
    kinds: dict[str, int] = {}
    start = time.perf_counter()
    for level2, name, value in drawn:
        target = parse_target_cached(value, 2024, level2, name)
        kinds[target.kind] = kinds.get(target.kind, 0) + 1
    elapsed = time.perf_counter() - start
    info = _parse_cached.cache_info()

    print(f"seed rows: {len(rows)}, distinct texts: {len({r[2] for r in rows})}")
    print(f"uncached parse_target: {uncached * 1e6:.1f} µs per text")
    print(f"{n:,} cached parses: {elapsed:.2f} s ({n / elapsed:,.0f}/s); "
          f"cache {info.hits:,} hits, {info.misses} misses")
    print("kinds:", ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    print("PASS" if elapsed < 10 * n / 1_000_000 else "FAIL", "(target: < 10 s per million)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
