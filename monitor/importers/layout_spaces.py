"""The SPACE layout: cells separated by spaces, long cells wrapped over lines, vertical headings one
character a line (绩/效/指/标), page numbers and running titles mixed in.

Header texts are gathered from a label to the next label. Indicator rows are read as a token stream that
alternates left (实施期) and right (年度) entries, each an optional 二级 label, a name and a value; a label
followed directly by another label is an empty entry. A name glued to its value is split later, when the
other half of the same row is known.
"""

from __future__ import annotations

import re

from monitor.importers.document import Repair
from monitor.importers.layout_tabs import WEIGHT_HEADERS, Item, resolve_level1
from monitor.importers.levels import Label, as_level2, is_header_word, is_level1, split_level2_prefix, squash
from monitor.importers.table_block import (
    TEXT_LABELS,
    YEAR_LINE,
    Cell,
    RawEntry,
    RawTable,
    is_header_label,
    walk_header,
)

PAGE_NUMBER = re.compile(r"^[-—\s]*\d{1,3}[-—\s]*$")
# A 分值 cell after a 指标值, in a table whose header prints the column: a bare number ("15", "12.5", "10分").
WEIGHT_CELL = re.compile(r"^\d+(?:\.\d+)?分?$")
RUNNING_TITLE = re.compile(r"\d{4}年(?:度)?(?:单位|部门)预算公开(?:报告)?$")


def is_furniture(line: str) -> bool:
    s = line.strip()
    if not s:
        return True
    if len(s) == 1 and not s.isdigit():
        return True
    return bool(PAGE_NUMBER.match(s) or RUNNING_TITLE.search(s))


def read_block(lines: list[str], start: int, end: int) -> RawTable:
    table = RawTable(line=start + 1, end_line=end)
    body: list[tuple[int, str]] = []
    for index in range(start + 1, end):
        raw = lines[index]
        if is_furniture(raw):
            continue
        s = raw.strip()
        if (m := YEAR_LINE.match(squash(s))):
            table.year = int(m.group(1))
            continue
        body.append((index + 1, s))
    region = next((i for i, (_, s) in enumerate(body) if is_indicator_header(s)), None)
    footer = next((i for i, (_, s) in enumerate(body) if squash(s).startswith("负责人")), None)
    header_lines = body[: region if region is not None else (footer if footer is not None else len(body))]
    cells = _header_cells(header_lines)
    if footer is not None:
        number, s = body[footer]
        cells.extend(Cell(number, t) for t in s.split())
    walk_header(cells, table)
    if region is not None:
        table.indicator_header = body[region][0]
        table.single_column = sum(1 for t in body[region][1].split() if "指标值" in t) == 1
        stop = footer if footer is not None else len(body)
        table.weighted = any(squash(t) in WEIGHT_HEADERS for t in body[region][1].split())
        _read_indicators(body[region + 1: stop], table)
    return table


def is_indicator_header(line: str) -> bool:
    """The 一级指标 二级指标 … header, also with the merged 绩效指标 label printed in front (pdftotext -layout)."""
    key = squash(line)
    return key.removeprefix("绩效指标").startswith("一级指标二级指标")


def _starts_label(s: str) -> str | None:
    key = squash(s)
    for label in list(TEXT_LABELS) + ["总体目标"]:
        if key.startswith(label):
            return label
    return None


def _header_cells(header_lines: list[tuple[int, str]]) -> list[Cell]:
    cells: list[Cell] = []
    i = 0
    while i < len(header_lines):
        number, s = header_lines[i]
        label = _starts_label(s)
        if label is None:
            tokens = s.split()
            if tokens and squash(tokens[0]) == "项目名称":
                cells.append(Cell(number, tokens[0]))
                if len(tokens) > 1:
                    cells.append(Cell(number, " ".join(tokens[1:])))
            else:
                cells.extend(Cell(number, t) for t in tokens)
            i += 1
            continue
        rest = s.strip()[len(label):].strip() if s.strip().startswith(label) else ""
        texts: list[tuple[int, str]] = [(number, rest)] if rest else []
        j = i + 1
        while j < len(header_lines):
            nn, ss = header_lines[j]
            first = ss.split()[0] if ss.split() else ""
            if _starts_label(ss) or (is_header_label(squash(first)) and squash(first) not in ("金",)):
                break
            texts.append((nn, ss.strip()))
            j += 1
        cells.append(Cell(number, label))
        if label == "总体目标":
            period, annual = split_goal([t for _, t in texts])
            line_of = texts[0][0] if texts else number
            if period:
                cells.append(Cell(line_of, period))
            if annual:
                cells.append(Cell(line_of, annual))
        elif texts:
            cells.append(Cell(texts[0][0], "".join(t for _, t in texts)))
        i = j
    return cells


def split_goal(texts: list[str]) -> tuple[str, str]:
    """Two wrapped columns printed one after the other: the 年度 column starts where a line repeats earlier words."""
    texts = [t for t in texts if t]
    if not texts:
        return "", ""
    for k in range(1, len(texts)):
        head = texts[k][:8]
        if len(head) >= 6 and head in "".join(texts[:k]):
            return "".join(texts[:k]), "".join(texts[k:])
    widest = max(len(t) for t in texts)
    k = len(texts)
    while k > 1 and len(texts[k - 1]) < widest * 0.7:
        k -= 1
    if k == len(texts):
        return "".join(texts), ""
    return "".join(texts[:k]), "".join(texts[k:])


def _read_indicators(body: list[tuple[int, str]], table: RawTable) -> None:
    single = table.single_column
    side = "annual" if single else "period"
    row = 0
    pending: tuple[Label, int] | None = None  # a label not yet followed by its name, and its line
    for number, s in body:
        items: list[Item] = []
        for token in s.split():
            key = squash(token)
            if is_header_word(key) and key not in ("绩效", "指标"):
                continue
            if is_level1(key):
                items.append(("1", key, 0))
                continue
            label = as_level2(token)
            if label is not None:
                items.append(("L", label, 0))
                continue
            split = split_level2_prefix(token)
            if split is not None:
                items.append(("L", split[0], 0))
                items.append(("T", split[1], 0))
                continue
            items.append(("T", token, 0))
        items = resolve_level1(items)
        i = 0
        while i < len(items):
            item = items[i]
            if item[0] == "L":
                if pending is not None:
                    _add(table, pending[1], side, row, pending[0], None, None)
                    side, row = _flip(side, row, single)
                pending = (item[1], number)
                i += 1
                continue
            name = item[1]
            val = weight = None
            following = items[i + 1] if i + 1 < len(items) else None
            if following is not None and following[0] == "T":
                val = following[1]
                i += 2
            else:
                i += 1
            if table.weighted and val is not None and i < len(items) and items[i][0] == "T" \
                    and WEIGHT_CELL.match(str(items[i][1])):
                weight = str(items[i][1])
                i += 1
            _add(table, number, side, row, pending[0] if pending else None, name, val, weight)
            pending = None
            side, row = _flip(side, row, single)
    if pending is not None:
        _add(table, pending[1], side, row, pending[0], None, None)


def _flip(side: str, row: int, single: bool = False) -> tuple[str, int]:
    if single:
        return "annual", row + 1
    return ("annual", row) if side == "period" else ("period", row + 1)


def _add(table: RawTable, number: int, half: str, row: int, label: Label | None, name: str | None,
         value: str | None, weight: str | None = None) -> None:
    if label is not None and label.repaired:
        table.repairs.append(Repair(number, "level2", label.raw, label.canonical, reason="二级指标名称规范化"))
    table.entries.append(RawEntry(line=number, half=half, row=row,
                                  label=label.canonical if label is not None else None, name=name, value=value,
                                  text=" ".join(x for x in (name, value, weight) if x), weight=weight))
