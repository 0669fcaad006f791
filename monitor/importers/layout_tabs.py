"""The TAB layout: one printed table row a line, cells separated by TABs, empty cells as runs of TABs.

Column positions are unreliable (merged cells shift them from row to row), so a row is read as the sequence
of its non-empty cells: level labels and texts. The left (实施期) half comes first, the right (年度) half after
the first label that follows a text; the header row's 三级指标 columns break the tie for lone pairs.
"""

from __future__ import annotations

from typing import Literal

from monitor.importers.document import Repair
from monitor.importers.levels import (
    Label,
    as_level2,
    is_header_word,
    is_level1,
    looks_like_value,
    split_level2_prefix,
    squash,
)
from monitor.importers.table_block import YEAR_LINE, Cell, RawEntry, RawTable, walk_header

WEIGHT_HEADERS = ("分值", "权重")  # the header of a column printing each indicator's points
LabelItem = tuple[Literal["L"], Label, int]  # a 二级 label
TextItem = tuple[Literal["T", "1"], str, int]  # a text, or ("1") a 一级 label's key until resolve_level1 drops it
Item = LabelItem | TextItem  # (kind, what, col)


def read_block(lines: list[str], start: int, end: int) -> RawTable:
    """`lines` is the whole document (0-based list); the block is lines[start:end], start being the title."""
    table = RawTable(line=start + 1, end_line=end)
    header: list[Cell] = []
    region = False
    left_col: int | None = None
    right_col: int | None = None
    header_columns = 0
    rows: list[tuple[int, bool, list[Item], int | None, int | None]] = []  # (line, header?, items, columns)
    for index in range(start + 1, end):
        number = index + 1
        raw = lines[index]
        cells = [(col, c) for col, c in enumerate(raw.split("\t")) if c.strip()]
        if not cells:
            continue
        if len(cells) == 1 and (m := YEAR_LINE.match(squash(cells[0][1]))):
            table.year = int(m.group(1))
            continue
        first = squash(cells[0][1])
        if first.startswith("负责人"):
            header.extend(Cell(number, c) for _, c in cells)
            break
        if not region and _starts_region(cells):
            region = True
        if not region:
            header.extend(Cell(number, c, col) for col, c in cells)
            continue
        items, is_header = _items(cells, number, table)
        if is_header and any(squash(c) in WEIGHT_HEADERS for _, c in cells):
            table.weighted = True
            items = [it for it in items if not (it[0] == "T" and squash(str(it[1])) in WEIGHT_HEADERS)]
        if is_header:
            table.indicator_header = table.indicator_header or number
            cols = [col for col, c in cells if squash(c) == "三级指标"]
            if cols:
                left_col = cols[0]
                right_col = cols[1] if len(cols) > 1 else None
                header_columns = len(cols)
            labels = [it for it in items if it[0] == "L"]
            if labels:
                rows.append((number, True, [labels[0], labels[-1]], left_col, right_col))
            continue
        rows.append((number, False, items, left_col, right_col))
    # One 指标值 column in the header and no row printing a second half: every indicator is the year's. (A header
    # printed with one half while its rows have two is a truncated print, not a single-column table.)
    table.single_column = header_columns == 1 and not any(_two_halves(items) for _, h, items, _, _ in rows if not h)
    for number, is_header, items, left_col, right_col in rows:
        if is_header:
            first_label, last_label = items
            if not table.single_column:
                _emit(table, number, "period", [first_label], [])  # type: ignore[list-item]  # header rows hold labels
            _emit(table, number, "annual", [last_label], [])  # type: ignore[list-item]  # header rows hold labels
            continue
        if table.single_column:
            _emit_half(table, number, "annual", items, [])
            continue
        left, right = split_row(items, left_col, right_col, width=3 if table.weighted else 2)
        if sum(1 for it in items if it[0] == "L") >= 3 and not any(it[0] == "T" for it in items):
            table.scrambled = True
        _emit_half(table, number, "period", left, right)
        _emit_half(table, number, "annual", right, left)
    walk_header(header, table)
    return table


def _two_halves(items: list[Item]) -> bool:
    """A row that prints an 实施期 and a 年度 half: a 二级 label after a text, or more than one name and value."""
    texts = [i for i, it in enumerate(items) if it[0] == "T"]
    if len(texts) >= 3:
        return True
    return bool(texts) and any(it[0] == "L" for it in items[texts[0] + 1:])


def _starts_region(cells: list[tuple[int, str]]) -> bool:
    for _, c in cells:
        key = squash(c)
        if key in ("一级指标", "绩效指标", "三级指标") or is_level1(key) or as_level2(c) is not None:
            return True
    return False


def _items(cells: list[tuple[int, str]], number: int, table: RawTable) -> tuple[list[Item], bool]:
    items: list[Item] = []
    is_header = False
    for col, c in cells:
        key = squash(c)
        if key in ("一级指标", "二级指标", "三级指标", "指标值"):
            is_header = True
            continue
        if is_header_word(key):
            continue
        if is_level1(key):
            items.append(("1", key, col))
            continue
        label = as_level2(c)
        if label is not None and not (label.repaired and items and items[-1][0] == "L"):
            items.append(("L", label, col))
            continue
        if label is not None:
            items.append(("T", c.strip(), col))
            continue
        split = split_level2_prefix(c)
        if split is not None:
            items.append(("L", split[0], col))
            items.append(("T", split[1], col))
            continue
        items.append(("T", c.strip(), col))
    return resolve_level1(items), is_header


def resolve_level1(items: list[Item]) -> list[Item]:
    """一级指标 labels say nothing the 二级 label doesn't, except a lone 满意度指标 standing for its only 二级."""
    out: list[Item] = []
    for i, it in enumerate(items):
        if it[0] != "1":
            out.append(it)
            continue
        following = items[i + 1] if i + 1 < len(items) else None
        if it[1] == "满意度指标" and (following is None or following[0] != "L"):
            out.append(("L", Label("服务对象满意度指标", "满意度指标"), it[2]))
    return out


def split_row(items: list[Item], left_col: int | None, right_col: int | None,
              width: int = 2) -> tuple[list[Item], list[Item]]:
    """The row's two halves; `width` is the texts of one half (name and value, and its 分值 when printed)."""
    texts = [i for i, it in enumerate(items) if it[0] == "T"]
    if texts:
        for j in range(texts[0] + 1, len(items)):
            if items[j][0] == "L":
                return items[:j], items[j:]
    labels: list[Item] = [it for it in items if it[0] == "L"]
    ts = [it for it in items if it[0] == "T"]
    if not ts:
        if len(labels) >= 2:
            return [labels[0]], [labels[-1]]
        return labels, list(labels)
    if len(ts) >= 2 * width:
        return labels[:1] + ts[:width], (labels[-1:] if len(labels) >= 2 else []) + ts[width:]
    if len(ts) == 3 and width == 2:
        if looks_like_value(ts[1][1]):
            return labels[:1] + ts[:2], (labels[-1:] if len(labels) >= 2 else []) + ts[2:]
        return labels[:1] + ts[:1], (labels[-1:] if len(labels) >= 2 else []) + ts[1:]
    if len(labels) >= 2:
        return [labels[0]], [labels[-1]] + ts
    col = ts[0][2]
    if right_col is not None and left_col is not None and abs(col - right_col) < abs(col - left_col):
        return [], labels + ts
    return labels + ts, []


def _emit_half(table: RawTable, number: int, half: str, mine: list[Item], other: list[Item]) -> None:
    labels = [it for it in mine if it[0] == "L"]
    texts = [it[1] for it in mine if it[0] == "T"]
    _emit(table, number, half, labels, texts)


def _emit(table: RawTable, number: int, half: str, labels: list[LabelItem], texts: list[str]) -> None:
    label = labels[-1][1] if labels else None
    if label is not None and label.repaired:
        table.repairs.append(Repair(number, "level2", label.raw, label.canonical, reason="二级指标名称规范化"))
    entry = RawEntry(line=number, half=half, row=number, label=label.canonical if label else None,
                     text="\t".join(texts))
    if not texts:
        table.entries.append(entry)
        return
    entry.name = texts[0]
    if len(texts) >= 2:
        entry.value = texts[1]
    if table.weighted and len(texts) >= 3:
        entry.weight, texts = texts[2], texts[:2] + texts[3:]
    table.entries.append(entry)
    for extra in texts[2:]:
        if extra == entry.value:
            table.repairs.append(Repair(number, "cell", extra, "", reason="指标值单元格重复打印，已忽略重复的一格"))
            continue
        table.entries.append(RawEntry(line=number, half=half, row=number, label=None, name=None, value=extra,
                                      text=extra, problem="多余的单元格，无法归入指标名称或指标值"))
