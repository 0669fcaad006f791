"""Import speed on a ~10 MB disclosure: parse + dry-run (the full JSON, with every target parsed).

Builds the text from the real 000_* seed: its front matter once, then its 23 绩效目标表 pages repeated with
every project name varied per copy (so nothing merges across copies), and a 表十二 listing every project so
the reconciliation runs in full. Run by hand: `.venv/bin/python bench/bench_import.py [MB]`.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.importers.disclosure import parse_text  # noqa: E402 - needs the sys.path line above (run as a script)
from monitor.importers.output import document_json  # noqa: E402 - likewise

SEED = ROOT / "monitor" / "examples" / "000_65cb778bbbd667b7.txt"


def build(target_bytes: int) -> tuple[str, int]:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    first = next(i for i, s in enumerate(lines) if s.strip().endswith("项目支出绩效目标表"))
    last = max(i for i, s in enumerate(lines) if s.startswith("负责人"))
    front = [s for s in lines[:first] if "项目支出预算表（本年预算）" not in s]
    tables = lines[first:last + 1]
    rows = []  # (name, 万元)
    body: list[str] = []
    size = sum(len(s.encode()) + 1 for s in front)
    copy = 0
    while size < target_bytes:
        copy += 1
        for s in tables:
            if s.startswith("项目名称"):
                s = re.sub(r"^(项目名称\t+)([^\t]+)", rf"\g<1>\g<2>（第{copy}批）", s)
            body.append(s)
            size += len(s.encode()) + 1
    # the 表十二 rows: one per distinct (name, annual funds) table of each copy, amounts from the seed's 表十二
    seed_rows = []
    start = next(i for i, s in enumerate(lines) if s.strip() == "2024年项目支出预算表（本年预算）")
    start = next(i for i in range(start, len(lines)) if lines[i].startswith("1\t2\t3"))
    for s in lines[start + 1:]:
        if not s.strip():
            break
        cells = [c for c in s.split("\t") if c]
        seed_rows.append((cells[0], cells[1]))
    total = 0
    for k in range(1, copy + 1):
        for name, amount in seed_rows[1:]:
            rows.append((f"{name}（第{k}批）", amount))
            total += round(Decimal(amount) * 100)
    table12 = ["2024年项目支出预算表（本年预算）", "", "单位名称：x", "", "单位：万元", "",
               "项目名称\t合计\t2024年财政拨款", "1\t2\t3\t4\t5\t6\t7",
               f"晋城市人力资源和社会保障局\t{total / 100:.2f}\t{total / 100:.2f}"]
    table12 += [f"{n}\t{a}\t{a}" for n, a in rows]
    text = "\n".join(front + table12 + [""] + body) + "\n"
    return text, copy


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    text, copies = build(int(mb * 1024 * 1024))
    t0 = time.perf_counter()
    doc = parse_text(text, source="bench.txt")
    t1 = time.perf_counter()
    payload = json.dumps(document_json(doc), ensure_ascii=False)
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    acc = doc.accounting()
    print(f"input: {len(text.encode()) / 1048576:.1f} MB, {text.count(chr(10))} lines, {copies} copies of the 23 pages")
    print(f"parsed: {len(doc.projects)} projects, {acc['imported']} indicators ({acc['annual']} annual), "
          f"{acc['duplicates']} duplicates, {acc['rejected']} rejected, reconciliation ok={doc.reconciliation.ok}")
    print(f"parse: {t1 - t0:.2f} s; dry-run JSON with targets: {t2 - t1:.2f} s ({len(payload) / 1048576:.1f} MB); "
          f"total {t2 - t0:.2f} s")
    print(f"peak RSS (whole process, incl. the 10 MB text): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
