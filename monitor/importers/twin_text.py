"""A target table printed as text with its 实施期 and 年度 halves side by side, read from the grid's rows.

The template whose header says 主管部门及代码 (both seeds) prints each indicator row twice over, 实施期 left and
年度 right, and extraction keeps no column positions worth trusting: merged cells shift them from row to row.
So a row is read as the sequence of its cells, each a 一级/二级 label or a text, and the halves are told apart by
that sequence. Where the family keeps rows (TAB cells) each row is split into its two halves; where it does not
(space-separated text, long cells wrapped over lines, page furniture mixed in) the cells are one stream that
alternates left and right entries. The header fields before the indicator header are walked the same way for
both (`table_block.walk_header`).
"""

from __future__ import annotations

import re
from typing import Literal

from monitor.importers.document import WEIGHT_HEADERS, Repair
from monitor.importers.grid import Grid
from monitor.importers.levels import (
    Label,
    as_level2,
    is_header_word,
    is_level1,
    looks_like_value,
    split_level2_prefix,
    squash,
)
from monitor.importers.table_block import (
    TEXT_LABELS,
    YEAR_LINE,
    Cell,
    RawEntry,
    RawTable,
    is_header_label,
    is_title,
    walk_header,
)

TITLE_END = "项目支出绩效目标表"  # how the template's title line ends (`table_block.is_title`)
TEMPLATE_WORD = "主管部门及代码"  # printed right below the title by the template this reader is for
INDICATOR_WORDS = ("一级指标", "二级指标", "三级指标", "指标值")
PAGE_NUMBER = re.compile(r"^[-—\s]*\d{1,3}[-—\s]*$")
RUNNING_TITLE = re.compile(r"\d{4}年(?:度)?(?:单位|部门)预算公开(?:报告)?$")
# A 分值 cell after a 指标值, in a table whose header prints the column: a bare number ("15", "12.5", "10分").
WEIGHT_CELL = re.compile(r"^\d+(?:\.\d+)?分?$")

LabelItem = tuple[Literal["L"], Label, int]  # a 二级 label
TextItem = tuple[Literal["T", "1"], str, int]  # a text, or ("1") a 一级 label's key until _resolve_level1 drops it
Item = LabelItem | TextItem  # (kind, what, col)


def read(grid: Grid) -> list[RawTable] | None:
    """Every table of a text grid in this template, one per printed title; None when the grid is not one."""
    if grid.family not in ("tabs", "rowtext"):
        return None
    joiner = "\t" if grid.family == "tabs" else " "
    rows = [r for r in grid.rows if r]
    titles = [i for i, r in enumerate(rows) if r[-1].text.endswith(TITLE_END) and is_title(joiner.join(
        c.text for c in r))]
    if not titles or not _in_template(rows[titles[0]:titles[0] + 40], joiner):
        return None
    tables = []
    for n, start in enumerate(titles):
        stop = titles[n + 1] if n + 1 < len(titles) else len(rows)
        end_line = rows[stop][0].line - 1 if stop < len(rows) else grid.lines
        block = rows[start + 1:stop]
        footer = next((k for k, r in enumerate(block) if _is_footer(r)), None)
        if footer is not None:
            block, end_line = block[:footer + 1], block[footer][0].line
        table = RawTable(line=rows[start][0].line, end_line=end_line, footer_expected=True)
        if grid.family == "tabs":
            _read_rows(block, table)
        else:
            _read_wrapped([(r[0].line, joiner.join(c.text for c in r)) for r in block], table)
        tables.append(table)
    return tables


def _is_footer(row: list[Cell]) -> bool:
    """The 负责人 … 填报日期 row that closes every table of the template."""
    return squash(row[0].text)[:1] == "负" and squash("".join(c.text for c in row)).startswith("负责人")


def _in_template(rows: list[list[Cell]], joiner: str) -> bool:
    """Whether the header right below the title (`rows[0]`) says 主管部门及代码."""
    first = rows[0][0].line
    return any(TEMPLATE_WORD in squash(joiner.join(c.text for c in r)) for r in rows if r[0].line < first + 40)


def _classify(texts: list[tuple[int, str]], *, rows_kept: bool) -> tuple[list[Item], bool]:
    """The row's cells as labels and texts, and whether it is the indicator header row. In a family that keeps
    rows a repaired 二级 label right after another label is a text, and the header's 绩效/指标 are dropped; in
    wrapped text those two words are cells of their own (a vertical heading split over lines)."""
    items: list[Item] = []
    is_header = False
    for col, c in texts:
        key = squash(c)
        if key in INDICATOR_WORDS:
            is_header = True
            continue
        if is_header_word(key) and (rows_kept or key not in ("绩效", "指标")):
            continue
        if is_level1(key):
            items.append(("1", key, col))
            continue
        label = as_level2(c)
        if label is not None and not (rows_kept and label.repaired and items and items[-1][0] == "L"):
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
    return _resolve_level1(items), is_header


def _resolve_level1(items: list[Item]) -> list[Item]:
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


def _entry(table: RawTable, number: int, half: str, row: int, label: Label | None, *, name: str | None = None,
           value: str | None = None, text: str = "", weight: str | None = None) -> RawEntry:
    """One half of one row as printed; a 二级 label printed in a variant form is listed as repaired."""
    if label is not None and label.repaired:
        table.repairs.append(Repair(number, "level2", label.raw, label.canonical, reason="二级指标名称规范化"))
    entry = RawEntry(line=number, half=half, row=row, label=label.canonical if label is not None else None,
                     name=name, value=value, text=text, weight=weight)
    table.entries.append(entry)
    return entry


# ---- TAB cells: one printed row a line -----------------------------------------------------------------------

def _read_rows(block: list[list[Cell]], table: RawTable) -> None:
    """The left (实施期) half comes first, the right (年度) half after the first label that follows a text; the
    header row's 三级指标 columns break the tie for lone pairs."""
    header: list[Cell] = []
    region = False
    left_col: int | None = None
    right_col: int | None = None
    header_columns = 0
    rows: list[tuple[int, bool, list[Item], int | None, int | None]] = []
    for row in block:
        number = row[0].line
        cells = [(c.col or 0, c.text) for c in row]
        if len(cells) == 1 and (m := YEAR_LINE.match(squash(cells[0][1]))):
            table.year = int(m.group(1))
            continue
        if squash(cells[0][1]).startswith("负责人"):
            header.extend(Cell(number, c) for _, c in cells)
            break
        if not region and _starts_region(cells):
            region = True
        if not region:
            header.extend(row)
            continue
        items, is_header = _classify(cells, rows_kept=True)
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
            _emit_half(table, number, "annual", items)
            continue
        left, right = _split_row(items, left_col, right_col, width=3 if table.weighted else 2)
        if sum(1 for it in items if it[0] == "L") >= 3 and not any(it[0] == "T" for it in items):
            table.scrambled = True
        _emit_half(table, number, "period", left)
        _emit_half(table, number, "annual", right)
    walk_header(header, table)


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


def _split_row(items: list[Item], left_col: int | None, right_col: int | None,
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


def _emit_half(table: RawTable, number: int, half: str, mine: list[Item]) -> None:
    labels = [it for it in mine if it[0] == "L"]
    texts = [it[1] for it in mine if it[0] == "T"]
    _emit(table, number, half, labels, texts)


def _emit(table: RawTable, number: int, half: str, labels: list[LabelItem], texts: list[str]) -> None:
    label = labels[-1][1] if labels else None
    if not texts:
        _entry(table, number, half, number, label, text="")
        return
    weight = None
    if table.weighted and len(texts) >= 3:
        weight, texts = texts[2], texts[:2] + texts[3:]
    entry = _entry(table, number, half, number, label, name=texts[0], value=texts[1] if len(texts) >= 2 else None,
                   text="\t".join(texts if weight is None else [*texts[:2], weight, *texts[2:]]), weight=weight)
    for extra in texts[2:]:
        if extra == entry.value:
            table.repairs.append(Repair(number, "cell", extra, "", reason="指标值单元格重复打印，已忽略重复的一格"))
            continue
        table.entries.append(RawEntry(line=number, half=half, row=number, label=None, name=None, value=extra,
                                      text=extra, problem="多余的单元格，无法归入指标名称或指标值"))


# ---- space-separated text: long cells wrapped over lines, page furniture mixed in ------------------------------

def _is_furniture(line: str) -> bool:
    s = line.strip()
    if not s:
        return True
    if len(s) == 1 and not s.isdigit():
        return True
    return bool(PAGE_NUMBER.match(s) or RUNNING_TITLE.search(s))


def _is_indicator_header(line: str) -> bool:
    """The 一级指标 二级指标 … header, also with the merged 绩效指标 label printed in front (pdftotext -layout)."""
    return squash(line).removeprefix("绩效指标").startswith("一级指标二级指标")


def _read_wrapped(block: list[tuple[int, str]], table: RawTable) -> None:
    """Header texts are gathered from a label to the next label; indicator rows are one stream of entries."""
    body: list[tuple[int, str]] = []
    for number, text in block:
        if _is_furniture(text):
            continue
        if (m := YEAR_LINE.match(squash(text))):
            table.year = int(m.group(1))
            continue
        body.append((number, text.strip()))
    region = next((i for i, (_, s) in enumerate(body) if _is_indicator_header(s)), None)
    footer = next((i for i, (_, s) in enumerate(body) if squash(s).startswith("负责人")), None)
    header_lines = body[: region if region is not None else (footer if footer is not None else len(body))]
    cells = _header_cells(header_lines)
    if footer is not None:
        number, s = body[footer]
        cells.extend(Cell(number, t) for t in s.split())
    walk_header(cells, table)
    if region is not None:
        words = body[region][1].split()
        table.indicator_header = body[region][0]
        table.single_column = sum(1 for t in words if "指标值" in t) == 1
        table.weighted = any(squash(t) in WEIGHT_HEADERS for t in words)
        _read_stream(body[region + 1: footer if footer is not None else len(body)], table)


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
            period, annual = _split_goal([t for _, t in texts])
            line_of = texts[0][0] if texts else number
            if period:
                cells.append(Cell(line_of, period))
            if annual:
                cells.append(Cell(line_of, annual))
        elif texts:
            cells.append(Cell(texts[0][0], "".join(t for _, t in texts)))
        i = j
    return cells


def _split_goal(texts: list[str]) -> tuple[str, str]:
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


def _read_stream(body: list[tuple[int, str]], table: RawTable) -> None:
    """Entries alternate left (实施期) and right (年度), each an optional 二级 label, a name and a value; a label
    followed directly by another label is an empty entry. A name glued to its value is split later, when the
    other half of the same row is known."""
    single = table.single_column
    side = "annual" if single else "period"
    row = 0
    pending: tuple[Label, int] | None = None  # a label not yet followed by its name, and its line
    for number, s in body:
        items, _ = _classify([(0, token) for token in s.split()], rows_kept=False)
        i = 0
        while i < len(items):
            item = items[i]
            if item[0] == "L":
                if pending is not None:
                    _entry(table, pending[1], side, row, pending[0], text="")
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
            _entry(table, number, side, row, pending[0] if pending else None, name=name, value=val,
                   text=" ".join(x for x in (name, val, weight) if x), weight=weight)
            pending = None
            side, row = _flip(side, row, single)
    if pending is not None:
        _entry(table, pending[1], side, row, pending[0], text="")


def _flip(side: str, row: int, single: bool = False) -> tuple[str, int]:
    if single:
        return "annual", row + 1
    return ("annual", row) if side == "period" else ("period", row + 1)
