"""Files with real tables (.docx, .xlsx/.xls not our template, .html, .pdf with a text layer) as `Grid` rows.

Each reader keeps the document order: paragraphs (where titles and years are printed) become one-cell rows, and
table rows become rows of their cells, so the header-driven reader sees what a person sees. A row's number is
its place in that sequence (a sheet's row number for spreadsheets, the page for PDFs), the thing a message names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.importers.document import ImportFailure
from monitor.importers.grid import Grid
from monitor.importers.header_reader import TITLE, is_grid_title
from monitor.importers.levels import squash
from monitor.importers.table_block import Cell


def _row(number: int, texts: list[str]) -> list[Cell]:
    """The non-empty cells of one table row, with their column."""
    return [Cell(number, t.strip(), col) for col, t in enumerate(texts) if t and t.strip()]


def docx_grid(path: Path) -> Grid:
    """python-docx: body paragraphs and tables in order; a merged cell is one cell object repeated, kept once."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds for a damaged file; to a user they all mean one thing
        raise ImportFailure(f"无法读取Word文件（文件损坏或不是 .docx）：{exc.__class__.__name__}",
                            en=f"cannot read the Word file (damaged, or not .docx): {exc.__class__.__name__}",
                            file=str(path)) from exc
    rows: list[list[Cell]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                rows.append([Cell(len(rows) + 1, block.text.strip())])
        elif isinstance(block, Table):
            for tr in block.rows:
                spans: list[str] = []  # a merged cell is the same <w:tc> repeated over the columns it spans: once
                seen: set[int] = set()
                for c in tr.cells:
                    spans.append("" if id(c._tc) in seen else c.text)
                    seen.add(id(c._tc))
                cells = _row(len(rows) + 1, spans)
                if cells:
                    rows.append(cells)
    return Grid("docx", rows)


def xlsx_grid(path: Path) -> Grid:
    """openpyxl (values, not formulas): a merged range holds its value in its first cell, the others are empty."""
    from openpyxl import load_workbook

    workbook = load_workbook(str(path), read_only=True, data_only=True)
    rows: list[list[Cell]] = []
    for sheet in workbook.worksheets:
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = _row(number, [_text(v) for v in values])
            if cells:
                rows.append(cells)
    workbook.close()
    return Grid("xlsx", rows)


def xls_grid(path: Path) -> Grid:
    """xlrd for the old binary .xls format that departments still save."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
    except xlrd.XLRDError as exc:
        raise ImportFailure(f"无法读取 .xls 文件（文件损坏或不是 .xls）：{exc.__class__.__name__}",
                            en=f"cannot read the .xls file (damaged, or not .xls): {exc.__class__.__name__}",
                            file=str(path)) from exc
    rows: list[list[Cell]] = []
    for sheet in book.sheets():
        for r in range(sheet.nrows):
            cells = _row(r + 1, [_text(v) for v in sheet.row_values(r)])
            if cells:
                rows.append(cells)
    return Grid("xls", rows)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "caption", "div", "span", "td", "th"}


def html_grid(data: bytes, *, spans: bool = False) -> Grid:
    """lxml.html: table rows as rows; the text outside tables (titles, years) as one-cell rows, in order.

    `spans`: a cell's column is where it sits in the table, counting the rowspan/colspan of the cells before and
    above it (as a spreadsheet's would be), for the readers that align a row's cells with its header's."""
    import lxml.html

    root = lxml.html.document_fromstring(_html_text(data))
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    rows: list[list[Cell]] = []
    tables: dict[Any, _Spans] = {}  # with `spans`: each table's rowspans so far
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "tr":
            tds = [c for c in element if c.tag in ("td", "th")]
            if spans:
                cells = _spanned_row(len(rows) + 1, element, tds, tables)
            else:
                cells = _row(len(rows) + 1, [c.text_content() for c in tds])
            if cells:
                rows.append(cells)
        elif element.tag in BLOCKS - {"td", "th"} and not element.xpath("ancestor::table") \
                and not element.xpath(".//table|.//p|.//div|.//h1|.//h2|.//h3"):
            text = " ".join(element.text_content().split())
            if text:
                rows.append([Cell(len(rows) + 1, text)])
    return Grid("html", rows)


@dataclass
class _Spans:
    """One table's rows so far: the next row's index and the columns rowspans above cover in each later row."""

    next_row: int = 0
    covered: dict[int, set[int]] = field(default_factory=dict)


def _spanned_row(number: int, tr: Any, tds: list[Any], tables: dict[Any, _Spans]) -> list[Cell]:
    """One <tr>'s non-empty cells at their true columns; rowspans are remembered for the rows below."""
    spans = tables.setdefault(next(iter(tr.iterancestors("table")), None), _Spans())
    index, spans.next_row = spans.next_row, spans.next_row + 1
    covered = spans.covered.pop(index, set())
    cells, col = [], 0
    for td in tds:
        while col in covered:
            col += 1
        width, height = (_span(td.get(a)) for a in ("colspan", "rowspan"))
        for below in range(index + 1, index + height):
            spans.covered.setdefault(below, set()).update(range(col, col + width))
        text = td.text_content().strip()
        if text:
            cells.append(Cell(number, text, col))
        col += width
    return cells


def _span(raw: str | None) -> int:
    """A colspan/rowspan as browsers read it: its leading digits, 1 when there are none, at most 1000."""
    digits = re.match(r"\s*(\d+)", raw or "")
    return min(max(int(digits.group(1)), 1), 1000) if digits else 1


def _html_text(data: bytes) -> str:
    """A saved page's text: its declared charset, else UTF-8, else GB18030 (what 记事本 and old CMSs save);
    lxml alone would take a page without <meta charset> for Latin-1."""
    declared = re.search(rb"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", data[:4096])
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["utf-8", "gb18030"]:
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
        return re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    return data.decode("utf-8", errors="replace")


def page_texts(path: Path) -> list[str]:
    """Each page's plain text, only to find the pages worth laying out: poppler's `pdftotext` when the machine
    has it (a 100-page disclosure in well under a second), else pypdf (pure Python, several seconds)."""
    tool = shutil.which("pdftotext")
    if tool is not None:
        try:
            done = subprocess.run([tool, "-q", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=120,
                                  check=True)
            return done.stdout.decode("utf-8", errors="replace").split("\f")
        except (subprocess.SubprocessError, OSError):
            pass  # a PDF poppler cannot read may still open in pypdf; its own error is the one to show
    import pypdf

    try:
        return [page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages]
    except Exception as exc:  # pypdf raises many kinds on a damaged file; the user needs one message
        raise ImportFailure(f"PDF文件已损坏，无法读取（{exc.__class__.__name__}）",
                            en=f"the PDF is damaged and cannot be read ({exc.__class__.__name__})",
                            file=str(path)) from exc


def pdf_grid(path: Path) -> Grid:
    """pdfplumber: only the pages whose text names a target-table title are laid out (a disclosure is mostly
    budget tables and prose, and laying a page out costs a hundred times reading its text), and their ruled
    lines give the cells (`extract_tables`), not the flattened text. Each page is let go once read, so memory
    stays that of one page."""
    import pdfplumber

    texts = page_texts(path)
    any_text = any(text.strip() for text in texts)
    candidates = [n for n, text in enumerate(texts) if TITLE.search(squash(text))]
    rows: list[list[Cell]] = []
    with pdfplumber.open(str(path)) as pdf:
        for index in candidates:
            if index >= len(pdf.pages):
                continue
            number, page = index + 1, pdf.pages[index]
            text = page.extract_text() or ""
            if any(is_grid_title(line) for line in text.splitlines()):
                tables = page.find_tables()
                top = min((t.bbox[1] for t in tables), default=page.height)
                above = page.crop((0, 0, page.width, max(top, 1))).extract_text() or ""
                rows.extend([Cell(number, line.strip())] for line in above.splitlines() if line.strip())
                for table in tables:
                    for values in table.extract():
                        cells = _row(number, [re.sub(r"\s*\n\s*", "", v or "") for v in values])
                        if cells:
                            rows.append(cells)
            page.close()
    if not any_text:
        raise ImportFailure("这是扫描件PDF（没有文字层），无法读取其中的表格；请先做文字识别（OCR）或向部门索取电子版",
                            en="this is a scanned PDF (no text layer): its tables cannot be read; run text "
                               "recognition (OCR) first or ask the department for the electronic file",
                            file=str(path))
    if not rows:
        raise ImportFailure("PDF中没有绩效目标表：只有预算表和说明文字（绩效目标表可能另行公开）",
                            en="the PDF holds no target table: only budget tables and prose (the target tables "
                               "may be published separately)", file=str(path))
    return Grid("pdf", rows)
