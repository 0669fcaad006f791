"""Import speed on documents (issue 12): a 100-page PDF disclosure, and the 10 MB text again.

The PDF is made here with WeasyPrint, as a department's disclosure looks: mostly budget tables (ruled, numbers)
and prose, with a 财政项目支出绩效目标申报表 (the official 拆违经费 layout of tests/test_import_files.py, each copy
its own project) on a few pages. It is written by a child process, so the peak RSS measured is the import's own:
`kpiwatch import FILE --dry-run --json` as a function (parse + the full JSON). Run by hand:
`.venv/bin/python bench/bench_import_documents.py [pages] [table pages]`; the 10 MB text is `bench_import.py`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.importers.output import document_json, parse_any  # noqa: E402 - needs the sys.path line above
from tests.test_import_files import ROWS, TITLE, YEAR  # noqa: E402 - the one printed target table, reused

STYLE = ("<style>@page{size:A4;margin:15mm}body{font-family:'Noto Serif CJK SC';font-size:8pt}"
         "table{border-collapse:collapse;width:100%}td,th{border:0.6pt solid black;padding:1.5pt}"
         ".page{page-break-after:always}</style>")
PROSE = ("本部门严格执行预算法及其实施条例，坚持过紧日子的思想，压减一般性支出，优化支出结构，"
         "保障重点领域和刚性支出需要。预算安排遵循统筹兼顾、勤俭节约、量力而行、讲求绩效的原则。") * 12


def _budget_page(n: int) -> str:
    """A page of a budget table: 40 ruled rows of a classification code, a name and six amounts in 万元."""
    head = "<tr><th>科目编码</th><th>科目名称</th>" + "".join(
        f"<th>{w}</th>" for w in ("合计", "基本支出", "项目支出", "财政拨款", "事业收入", "其他收入")) + "</tr>"
    rows = "".join(f"<tr><td>2{n:02d}{r:04d}</td><td>一般公共服务支出第{r}款</td>"
                   + "".join(f"<td>{(n * 37 + r * k) % 9000 + 0.25:,.2f}</td>" for k in range(1, 7)) + "</tr>"
                   for r in range(40))
    return f"<div class='page'><p>表{n % 12 + 1} 部门支出总表</p><p>单位：万元</p><table>{head}{rows}</table></div>"


def _prose_page(n: int) -> str:
    return f"<div class='page'><h2>第{n}部分 部门预算情况说明</h2><p>{PROSE}</p><p>{PROSE}</p></div>"


def _target_page(copy: int) -> str:
    rows = [[f"拆违经费（第{copy}批）" if (r, c) == (0, 1) else text for c, text in enumerate(row)]
            for r, row in enumerate(ROWS)]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class='page'><p>{TITLE}</p><p>{YEAR}</p><table>{body}</table></div>"


def html(pages: int, table_pages: int) -> str:
    every = max(1, pages // max(1, table_pages))
    parts, copies = [], 0
    for n in range(1, pages + 1):
        if copies < table_pages and n % every == every // 2:
            copies += 1
            parts.append(_target_page(copies))
        else:
            parts.append(_prose_page(n) if n % 3 == 0 else _budget_page(n))
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{STYLE}</head><body>{''.join(parts)}</body></html>"


def make(path: Path, pages: int, table_pages: int) -> None:
    from weasyprint import HTML

    HTML(string=html(pages, table_pages)).write_pdf(str(path))


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    table_pages = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "disclosure.pdf"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--make", str(path), str(pages), str(table_pages)], check=True)
        made = time.perf_counter() - t0
        import pypdf

        printed = len(pypdf.PdfReader(str(path)).pages)
        t1 = time.perf_counter()
        doc = parse_any(path)
        t2 = time.perf_counter()
        payload = json.dumps(document_json(doc, department_code="000"), ensure_ascii=False)
        t3 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = path.stat().st_size / 1048576
    acc = doc.accounting()
    print(f"input: {printed} pages ({size:.1f} MB), {table_pages} with a target table; made in {made:.1f} s")
    print(f"parsed: {len(doc.projects)} projects, {acc['imported']} indicators, {acc['rejected']} rejected")
    print(f"parse: {t2 - t1:.2f} s; JSON: {t3 - t2:.2f} s ({len(payload)} characters); total {t3 - t1:.2f} s; "
          f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--make":
        make(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
