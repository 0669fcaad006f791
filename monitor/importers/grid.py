"""Every source as rows of cells: what the header-driven reader (`header_reader.py`) reads, whatever the family.

The text a user gets out of a PDF, a Word file, a spreadsheet or a web page comes in a few families (one cell a
line, row text with spaces, TAB cells with quoted multi-line cells, pipe rows, run-on text). Each builder here
turns one family into `Grid` rows; files with real tables (.docx, .xlsx, .html, ruled PDFs) give rows directly.
A row keeps the line number of its first cell so that every message can name where to look.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from monitor.importers.levels import squash
from monitor.importers.table_block import Cell


@dataclass
class Grid:
    family: str
    rows: list[list[Cell]] = field(default_factory=list)
    marks_empty: bool = False  # empty cells are printed ("|"), so a row's cells keep their columns
    lines: int = 0  # the text's line count, so a table running to the end can say where it ends


_RUNON_HEADER = re.compile(r"一级指标二级指标")


def detect_family(lines: list[str]) -> str:
    """Which text family a document is, judged on its lines (the header row decides between the space families)."""
    pipes = sum(1 for s in lines if s.lstrip().startswith("|") and s.count("|") >= 3)
    if pipes >= 3:
        return "pipes"
    marked = sum(1 for s in lines if s.rstrip().endswith("|"))
    if marked >= max(5, len([s for s in lines if s.strip()]) // 2):
        return "cells_marked"
    if sum(1 for s in lines if "\t" in s) >= 5:
        return "tabs"
    for s in lines:
        key = squash(s)
        if "一级指标" not in key:
            continue
        if key in ("一级指标", "绩效指标一级指标"):
            return "cells"
        if _RUNON_HEADER.search(key) and len(s.split()) <= 2:
            return "runon"
        return "rowtext"
    return "cells"


def build(text: str, family: str | None = None) -> Grid:
    lines = text.splitlines()
    family = family or detect_family(lines)
    if family == "pipes":
        rows = _pipe_rows(lines)
    elif family == "cells_marked":
        rows = _marked_rows(lines)
    elif family == "tabs":
        rows = _tab_rows(text)
    elif family == "cells":
        rows = _cell_rows(lines)
    else:
        rows = _space_rows(lines)
    return Grid(family, rows, marks_empty=family == "cells_marked", lines=len(lines))


def _pipe_rows(lines: list[str]) -> list[list[Cell]]:
    """`| a | b | |||` rows; a row without its closing bar was cut off (kept: the reader reports it)."""
    rows = []
    for number, s in enumerate(lines, 1):
        t = s.strip()
        if not t.startswith("|"):
            if t:
                rows.append([Cell(number, t)])
            continue
        parts = t.split("|")[1:]
        if t.endswith("|"):
            parts = parts[:-1]
        cells = [Cell(number, p.strip(), col) for col, p in enumerate(parts) if p.strip()]
        if cells and not t.endswith("|"):
            cells[-1] = Cell(number, cells[-1].text, -1)  # col -1: the row was cut off after this cell
        if cells:
            rows.append(cells)
    return rows


def _marked_rows(lines: list[str]) -> list[list[Cell]]:
    """One cell a line ending in " |"; a bare "|" is an empty cell, kept so later cells stay in their column."""
    rows = []
    for number, s in enumerate(lines, 1):
        t = s.strip()
        if not t:
            continue
        if t.startswith("|"):  # a bare bar, or a bar starting the next cell's text
            t = t[1:]
        t = t[:-1] if t.endswith("|") else t
        rows.append([Cell(number, t.strip())])
    return rows


def _tab_rows(text: str) -> list[list[Cell]]:
    """TAB cells as Excel copies them: a multi-line cell is quoted (csv handles the quotes and the newlines)."""
    rows = []
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    start = 1
    for record in reader:
        cells = [Cell(start, t, col) for col, c in enumerate(record) if (t := c.strip())]
        if cells:
            rows.append(cells)
        start = reader.line_num + 1
    return rows


def _cell_rows(lines: list[str]) -> list[list[Cell]]:
    """One cell a line; a quoted cell spans lines until its closing quote ("…\\n…")."""
    rows: list[list[Cell]] = []
    open_quote: tuple[int, list[str]] | None = None
    for number, s in enumerate(lines, 1):
        t = s.strip().replace("\f", "")
        if open_quote is not None:
            if t.endswith('"'):
                open_quote[1].append(t[:-1])
                rows.append([Cell(open_quote[0], "\n".join(x for x in open_quote[1] if x))])
                open_quote = None
            else:
                open_quote[1].append(t)
            continue
        if t.startswith('"') and not (len(t) > 1 and t.endswith('"')):
            open_quote = (number, [t[1:]])
            continue
        if t:
            rows.append([Cell(number, t.strip('"'))])
    if open_quote is not None:
        rows.append([Cell(open_quote[0], "\n".join(open_quote[1]))])
    return rows


def _space_rows(lines: list[str]) -> list[list[Cell]]:
    rows = []
    for number, s in enumerate(lines, 1):
        tokens = s.replace("\f", "").split()
        if tokens:
            rows.append([Cell(number, t, col) for col, t in enumerate(tokens)])
    return rows
