"""Every workbook kpiwatch exports, as LibreOffice prints it: nothing clipped, nothing overlapping, header rows
on every page, as many pages as the row heights imply, and no typed formula evaluated.

The store is the demo's (both seed disclosures, the sample reports, the evaluation) plus a project whose name,
indicator names, notes, forecasts and deviation causes are formulas, typed into the template and reported
through the progress service. The exports are converted with `soffice --headless` (Debian's libreoffice-calc,
installed by `scripts/install --test`), all files in one call per format, with a private profile so parallel
runs do not collide. From each PDF page the cell borders give every cell's box; the characters inside a box
are that cell's text, so a cell whose text is clipped, spills over its border or lands in a neighbour's box
fails. One SQLite store is enough here: the files do not depend on the backend, and
tests/test_exports_no_formula.py covers both backends on the same paths.

KPIWATCH_RENDER_DOCS=docs writes the first page of each export as a PNG into that folder (the README's images).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import subprocess
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pdfplumber
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pypdf import PdfReader
from rich.console import Console
from sqlmodel import Session, select

from monitor.config import Config
from monitor.demo.context import DemoContext
from monitor.demo.evaluation import evaluate_demo
from monitor.demo.sample_data import seed_portal
from monitor.demo.seeds import import_seeds
from monitor.importers.excel import export_department
from monitor.progress.workbook import build_csv, build_workbook
from monitor.reports import ReportRequest, produce
from monitor.spreadsheets import cells
from monitor.store import audit
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import Department
from tests.conftest import create_database
from tests.test_exports_no_formula import (
    HOSTILE_PROJECT,
    PAYLOADS,
    explain_hostile_selfeval,
    formulas,
    import_hostile_project,
    record_hostile_reports,
)

pytestmark = pytest.mark.slow

AS_OF = date(2024, 7, 31)
DEPARTMENT = "959"  # 晋城市总工会: five projects, one with a 228-character 年度总体目标
PRINTED = ("monitor", "selfeval", "summary", "ranking", "workbook")  # the exports laid out for print
A4_LANDSCAPE = (841.89, 595.28)
EDGE = 0.6  # points a glyph may touch a border by (anti-aliasing, rounding in the PDF)
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"  # UTF-8, every sheet


def soffice(files: list[Path], fmt: str, outdir: Path, profile: Path, infilter: str | None = None) -> None:
    command = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", fmt, "--outdir", str(outdir), *map(str, files)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


@dataclass
class Rendered:
    xlsx: dict[str, Path]
    pdf: dict[str, Path]
    sheet_csv: dict[str, list[Path]]  # LibreOffice's CSV of each sheet of each workbook
    own_csv: dict[str, Path]  # kpiwatch's CSV downloads
    reopened_csv: dict[str, Path]  # those CSVs opened in LibreOffice and saved as .xlsx


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Rendered:
    tmp = tmp_path_factory.mktemp("office")
    url, drop = create_database("sqlite", tmp)
    upgrade(url)
    engine = make_engine(url)
    settings = Config()
    try:
        context = DemoContext(workdir=tmp, settings=settings, engine=engine, as_of=AS_OF,
                              console=Console(file=io.StringIO(), width=200))
        for step in (import_seeds, seed_portal):
            step(context)
        hostile = import_hostile_project(engine, tmp, department_code=DEPARTMENT, department_name="晋城市总工会")
        record_hostile_reports(engine, hostile, f"clerk_{DEPARTMENT}", today=AS_OF)
        explain_hostile_selfeval(engine, hostile, settings)
        evaluate_demo(context)
        out = tmp / "exports"
        out.mkdir()
        with Session(engine) as session:
            department = session.exec(select(Department).where(Department.code == DEPARTMENT)).one()
            files = {
                "monitor": produce(session, ReportRequest("monitor", 2024, "xlsx", through=7, department=DEPARTMENT),
                                   settings),
                "selfeval": produce(session, ReportRequest("selfeval", 2024, "xlsx", department=DEPARTMENT), settings),
                "summary": produce(session, ReportRequest("summary", 2024, "xlsx"), settings),
                "ranking": produce(session, ReportRequest("ranking", 2024, "xlsx"), settings),
                "workbook": build_workbook(session, [department.id]),
            }
            export_department(session, out / "template.xlsx", DEPARTMENT)
            own_csv = {"workbook": build_csv(session, [department.id]),
                       "audit": audit.export_csv(audit.list_events(session, limit=None))}
    finally:
        engine.dispose()
        drop()
    xlsx = {name: out / f"{name}.xlsx" for name in files} | {"template": out / "template.xlsx"}
    for name, data in files.items():
        xlsx[name].write_bytes(data)
    csv_paths = {name: out / f"own-{name}.csv" for name in own_csv}
    for name, text in own_csv.items():
        csv_paths[name].write_text(text, encoding="utf-8")
    profile = tmp / "lo-profile"
    soffice([xlsx[name] for name in PRINTED], "pdf", out / "pdf", profile)
    soffice(list(xlsx.values()), CSV_FILTER, out / "csv", profile)
    soffice(list(csv_paths.values()), "xlsx", out / "reopened", profile, infilter="CSV:44,34,76,1")
    result = Rendered(
        xlsx=xlsx, pdf={name: out / "pdf" / f"{name}.pdf" for name in PRINTED},
        sheet_csv={name: sorted((out / "csv").glob(f"{name}-*.csv")) for name in xlsx}, own_csv=csv_paths,
        reopened_csv={name: out / "reopened" / f"own-{name}.xlsx" for name in csv_paths})
    if os.environ.get("KPIWATCH_RENDER_DOCS"):
        docs = Path(os.environ["KPIWATCH_RENDER_DOCS"])
        for name, pdf in result.pdf.items():
            first = _first_page_of_a_project(result.xlsx[name])
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(first), "-l", str(first), "-singlefile",
                            str(pdf), str(docs / f"export-{name}-1")], check=True)
    return result


def _first_page_of_a_project(path: Path) -> int:
    """The self-evaluation of a department opens with its summary sheet; the picture shows a project's table."""
    page = 1
    for ws in load_workbook(path).worksheets:
        if ws.title not in ("部门汇总", "部门排名"):
            return page
        page += len(ws.row_breaks.brk) + 1
    return 1


# ---- reading a printed page -------------------------------------------------------------------------------

@dataclass
class Page:
    cells: list[str]  # the text inside each bordered box, whitespace removed
    furniture: str  # text outside every box: page header and footer
    spills: list[str]  # glyphs that cross the border of the box they belong to
    overlaps: int  # pairs of glyphs drawn over each other


def _squash(text: str) -> str:
    return "".join(text.split())


def _in_order(chars: list[dict]) -> str:
    return "".join(c["text"] for c in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])))


def _overlaps(chars: list[dict]) -> int:
    chars = sorted(chars, key=lambda c: c["x0"])
    count = 0
    for i, a in enumerate(chars):
        for b in chars[i + 1:]:
            if b["x0"] >= a["x1"] - 1:
                break
            if min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1 and min(a["x1"], b["x1"]) - b["x0"] > 1:
                count += 1
    return count


def read_pdf(path: Path) -> list[Page]:
    pages = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            across = [((ln["top"] + ln["bottom"]) / 2, ln["x0"], ln["x1"]) for ln in page.lines
                      if ln["bottom"] - ln["top"] < 0.3]
            down = [((ln["x0"] + ln["x1"]) / 2, ln["top"], ln["bottom"]) for ln in page.lines
                    if ln["x1"] - ln["x0"] < 0.3]
            boxes: dict[tuple, list[dict]] = defaultdict(list)
            furniture, spills = [], []
            glyphs = [c for c in page.chars if c["text"].strip()]
            for ch in glyphs:
                cx, cy = (ch["x0"] + ch["x1"]) / 2, (ch["top"] + ch["bottom"]) / 2
                left = max((x for x, y0, y1 in down if x <= cx and y0 - EDGE <= cy <= y1 + EDGE), default=None)
                right = min((x for x, y0, y1 in down if x > cx and y0 - EDGE <= cy <= y1 + EDGE), default=None)
                top = max((y for y, x0, x1 in across if y <= cy and x0 - EDGE <= cx <= x1 + EDGE), default=None)
                bottom = min((y for y, x0, x1 in across if y > cy and x0 - EDGE <= cx <= x1 + EDGE), default=None)
                if None in (left, right, top, bottom):
                    furniture.append(ch)
                    continue
                boxes[(round(left), round(top), round(right), round(bottom))].append(ch)
                if (ch["x0"] < left - EDGE or ch["x1"] > right + EDGE or ch["top"] < top - EDGE
                        or ch["bottom"] > bottom + EDGE):
                    spills.append(ch["text"])
            pages.append(Page([_squash(_in_order(chars)) for chars in boxes.values()], _in_order(furniture),
                              spills, _overlaps(glyphs)))
    return pages


# ---- what each sheet should print ---------------------------------------------------------------------------

def shown(cell) -> str:
    """The cell's value as Excel and LibreOffice display it with its number format."""
    value, fmt = cell.value, cell.number_format
    if isinstance(value, str):
        return value
    if fmt == "#,##0.00":
        return f"{value:,.2f}"
    if fmt == "0.00%":
        return f"{value * 100:.2f}%"
    if fmt == "0.00":
        return f"{value:.2f}"
    return str(int(value)) if float(value).is_integer() else f"{value:.10g}"


def sheet_texts(ws, rows: range | None = None) -> list[str]:
    hidden = {(r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
              for c in range(m.min_col, m.max_col + 1) if (r, c) != (m.min_row, m.min_col)}
    return [_squash(shown(c)) for row in ws.iter_rows() for c in row
            if c.value not in (None, "") and (c.row, c.column) not in hidden and (rows is None or c.row in rows)
            and _squash(shown(c))]


def body_height(ws) -> float:
    """Points of rows one printed page holds: A4 landscape between the sheet's margins, at its zoom."""
    margins = ws.page_margins
    widths = sum(ws.column_dimensions[get_column_letter(c)].width for c in range(1, ws.max_column + 1))
    printable = (A4_LANDSCAPE[0] - 72 * (margins.left + margins.right)) / 5.25  # Excel's column unit in points
    zoom = min(100, math.floor(100 * printable / widths)) / 100
    return (A4_LANDSCAPE[1] - 72 * (margins.top + margins.bottom)) / zoom


def title_rows(ws) -> range | None:
    if not ws.print_title_rows:
        return None
    first, last = (int(n) for n in re.findall(r"\d+", ws.print_title_rows))
    return range(first, last + 1)


def check_breaks(ws) -> list[str]:
    """Each manual page end is where the row heights put it: the page's rows (after the first page, under the
    repeated header) fit on the page, and the row after them would not."""
    heights = {r: ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)}
    repeat = title_rows(ws)
    limit = body_height(ws)
    ends = [b.id for b in ws.row_breaks.brk] + [ws.max_row]
    problems, start = [], 1
    for page, end in enumerate(ends):
        used = sum(heights[r] for r in range(start, end + 1))
        if page and repeat and start > repeat.stop - 1:
            used += sum(heights[r] for r in repeat)
        if used > limit:
            problems.append(f"{ws.title}: rows {start}-{end} take {used:.0f} pt, a page holds {limit:.0f}")
        if end < ws.max_row and used + heights[end + 1] <= limit * 0.99 and not (repeat and end + 1 in repeat):
            problems.append(f"{ws.title}: row {end + 1} would still fit on the page ending at row {end}")
        start = end + 1
    return problems


@pytest.mark.parametrize("name", PRINTED)
def test_every_cell_prints_whole_inside_its_border_with_headers_on_every_page(rendered, name):
    wb = load_workbook(rendered.xlsx[name])
    pages = read_pdf(rendered.pdf[name])
    expected_pages = [len(ws.row_breaks.brk) + 1 for ws in wb.worksheets]
    assert len(pages) == sum(expected_pages), (name, len(pages), expected_pages)
    assert PdfReader(rendered.pdf[name]).pages and not any(
        "/Annots" in p for p in PdfReader(rendered.pdf[name]).pages), "a live link in the PDF"
    problems: list[str] = []
    at = 0
    for ws, count in zip(wb.worksheets, expected_pages, strict=True):
        mine = pages[at:at + count]
        at += count
        problems += check_breaks(ws)
        printed = [text for page in mine for text in page.cells]
        for text in sheet_texts(ws):
            if text not in printed:
                problems.append(f"{ws.title}: «{text}» is not printed whole in one cell")
        repeat = title_rows(ws)
        header = _squash(ws.oddHeader.left.text.replace("&&", "&"))
        for number, page in enumerate(mine, start=1):
            if page.spills or page.overlaps:
                problems.append(f"{ws.title} page {number}: spills {''.join(page.spills)[:40]!r}, "
                                f"{page.overlaps} overlapping glyphs")
            if header not in _squash(page.furniture) or not re.search(r"第\d+页，共\d+页", _squash(page.furniture)):
                problems.append(f"{ws.title} page {number}: page header/footer missing: {page.furniture[:80]!r}")
            if repeat and number > 1:
                missing = [t for t in sheet_texts(ws, repeat) if t not in page.cells]
                if missing:
                    problems.append(f"{ws.title} page {number}: header row not repeated: {missing}")
    assert problems == []


def test_a_long_goal_and_long_notes_get_their_own_lines_and_several_pages(rendered):
    """The 228-character 年度总体目标 of the union's seed project is printed whole (see above) in a row
    sized for it; the monitoring table needs more than one page per project and says so in the footer."""
    wb = load_workbook(rendered.xlsx["monitor"])
    goal = max(((ws, c) for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)),
               key=lambda pair: len(pair[1].value))
    ws, cell = goal
    assert len(cell.value) >= 200 and ws.row_dimensions[cell.row].height >= 60
    assert sum(len(w.row_breaks.brk) for w in wb.worksheets) >= 1
    furniture = [p.furniture for p in read_pdf(rendered.pdf["monitor"])]
    assert all(f"共{len(furniture)}页" in _squash(f) for f in furniture)


def _fields(paths: list[Path]) -> list[str]:
    return [f for path in paths for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) for f in row]


def test_libreoffice_shows_what_was_typed_and_evaluates_nothing(rendered):
    """LibreOffice's own CSV of each sheet holds the typed text literally: =2+3 is "=2+3", never 5, and the
    HYPERLINK is text, in every export that carries user text."""
    for name, path in rendered.xlsx.items():
        assert formulas(path.read_bytes()) == [], name
    every = {name: _fields(paths) for name, paths in rendered.sheet_csv.items()}
    assert all(every.values()), {name: len(f) for name, f in every.items()}
    for name in ("monitor", "selfeval", "workbook", "template", "summary"):
        assert any(f == HOSTILE_PROJECT or f.endswith(HOSTILE_PROJECT) for f in every[name]), name
    monitor = every["monitor"]
    for payload in PAYLOADS:
        assert any(f == payload or f.startswith(payload + "；") for f in monitor), payload
    assert "click" not in monitor  # what the HYPERLINK would have shown
    for name in ("selfeval", "template"):
        assert "=2+3" in every[name], name
    # and every risky text in the workbooks reaches LibreOffice as text: its CSV field is the cell's text
    for name, path in rendered.xlsx.items():
        risky = {c.value for ws in load_workbook(path).worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and cells.starts_like_formula(c.value)}
        assert risky <= set(every[name]) | {r for r in risky if "\n" in r}, name


def test_kpiwatch_csv_downloads_open_in_libreoffice_as_text(rendered):
    """LibreOffice evaluates a CSV field "=2+3" on opening; kpiwatch's downloads quote every risky text, so the
    reopened sheet has no formula and shows the text with its leading quote."""
    for name, path in rendered.reopened_csv.items():
        data = path.read_bytes()
        assert formulas(data) == [], name
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            strings = z.read("xl/sharedStrings.xml").decode("utf-8")
        if name == "workbook":
            assert "&apos;=HYPERLINK(&quot;http://evil.example/x&quot;,&quot;click&quot;)" in strings
            assert "&apos;=2+3" in strings and "&apos;@SUM(1)" in strings
