"""Bench (issue 7): the self-evaluation of one department with 50 projects, in HTML, Excel and PDF.

Builds a fresh SQLite store in a temporary folder: one department, 50 projects of 12 annual indicators drawn
(seeded) from the real seed 指标值 (`tests/data/seed_target_values.tsv`, 一级指标 from the 二级指标), monthly
spending, and year-end reports for about 90% of indicators (the rest stay 未填报). Then times
`monitor.reports.produce` for each format. Target: all three formats together in < 10 s.

    .venv/bin/python bench/bench_reports.py [projects]
"""

from __future__ import annotations

import io
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import Session

from monitor.config import Config
from monitor.reports import ReportRequest, pdf, produce
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import BudgetYear, Department, Indicator, Project, Report, Spending
from rules.scoring import GRADE_BANDS
from rules.targets import parse_target

ROOT = Path(__file__).resolve().parent.parent
LEVEL1 = {"数量指标": "产出指标", "质量指标": "产出指标", "时效指标": "产出指标", "成本指标": "产出指标",
          "经济效益指标": "效益指标", "社会效益指标": "效益指标", "生态效益指标": "效益指标",
          "可持续影响指标": "效益指标",
          "服务对象满意度": "满意度指标", "服务对象满意度指标": "满意度指标", "满意度指标": "满意度指标"}


def seed_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in (ROOT / "tests/data/seed_target_values.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        level2, name, value = (line.split("\t") + ["", ""])[:3]
        if level2 in LEVEL1:
            rows.append((LEVEL1[level2], level2, name, value))
    return rows


def build(session: Session, projects: int, rng: random.Random) -> None:
    rows = seed_rows()
    by_level = {lvl: [r for r in rows if r[0] == lvl] for lvl in ("产出指标", "效益指标", "满意度指标")}
    dept = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    for i in range(projects):
        funds = Decimal(rng.randrange(50_000, 5_000_000, 100))
        project = Project(department_id=dept.id, budget_year_id=year.id, import_key=f"p{i}",
                          name=f"示例项目{i + 1:02d}", implementing_unit=dept.name, annual_funds=funds,
                          annual_city_county=funds, annual_goal="保障本单位工作正常运转，提高工作效率。")
        session.add(project)
        session.flush()
        picked = rng.sample(by_level["产出指标"], 8) + rng.sample(by_level["效益指标"], 3)
        if rng.random() < 0.8:
            picked += rng.sample(by_level["满意度指标"], 1)
        seen = set()
        for pos, (level1, level2, name, text) in enumerate(picked):
            if (level2, name) in seen:
                continue
            seen.add((level2, name))
            t = parse_target(text, year=2024, level2=level2, name=name)
            ind = Indicator(project_id=project.id, half="annual", level1=level1, level2=level2, name=name,
                            value_text=text, position=pos, kind=t.kind, comparator=t.comparator, target_value=t.value,
                            unit=t.unit, direction=t.direction, target_json=t.to_json())
            session.add(ind)
            session.flush()
            if rng.random() < 0.1:
                continue  # 未填报
            if t.kind in ("quantity", "percent") and t.value is not None:
                value = (t.value * Decimal(rng.uniform(0.6, 1.3))).quantize(Decimal("0.01"))
                session.add(Report(indicator_id=ind.id, value=value, as_of=date(2024, 12, 31), channel="demo"))
            elif t.occurrences:
                for occ in t.occurrences[:12]:
                    late = rng.random() < 0.2
                    done = min(occ.due.replace(day=1) if not late else occ.due, date(2024, 12, 31))
                    session.add(Report(indicator_id=ind.id, occurrence_due=occ.due, completed_on=done,
                                       as_of=done, channel="demo"))
            else:
                session.add(Report(indicator_id=ind.id, grade=rng.choice(list(GRADE_BANDS)), as_of=date(2024, 12, 31),
                                   explanation="按计划推进", channel="demo"))
        for month in range(1, 13):
            spent = (funds * Decimal(month) / 12 * Decimal(rng.uniform(0.5, 1.0))).quantize(Decimal("0.01"))
            session.add(Spending(project_id=project.id, amount=spent,
                                 as_of=date(2024, month, 28), channel="demo"))
    session.commit()


def _cpu() -> float:
    """CPU seconds of this process and of the PDF worker processes (read from /proc): load-independent."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    if pdf._pool.cache_info().currsize:
        for pid in list(pdf._pool()._processes or {}):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                pass
    return total


def main() -> None:
    projects = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    settings = Config()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            build(session, projects, random.Random(7))
        total = cpu_total = 0.0
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        with Session(engine) as session:
            for fmt in ("html", "xlsx", "pdf"):
                start, cpu = time.perf_counter(), _cpu()
                data = produce(session, ReportRequest("selfeval", 2024, fmt, department="144"), settings)
                elapsed, used = time.perf_counter() - start, _cpu() - cpu
                total += elapsed
                cpu_total += used
                (Path(tmp) / f"selfeval.{fmt}").write_bytes(data)
                pages = f"  {len(PdfReader(io.BytesIO(data)).pages)} pages" if fmt == "pdf" else ""
                print(f"selfeval {projects} projects {fmt:5s} {elapsed:6.2f} s wall {used:6.2f} s CPU  "
                      f"{len(data):>10,} bytes{pages}")
        print(f"all three formats: {total:.2f} s wall, {cpu_total:.2f} s CPU (parent + PDF workers) "
              f"(target < 10 s: {'PASS' if total < 10 else 'FAIL'})")
        engine.dispose()


if __name__ == "__main__":
    main()
