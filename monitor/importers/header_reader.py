"""One reader for target tables of any template, driven by the header words the table prints.

Departments publish the same 绩效目标表 under many titles and templates; rather than code per city, the reader
looks for the words: a title (项目支出绩效目标表, 财政项目支出绩效目标申报表, 部门预算项目绩效目标申报表, …), the
header fields (项目名称, 主管部门, 实施单位, funds with their unit), the indicator header (一级指标 二级指标 三级指标
or 指标内容, one 指标值 column or 指标性质 + 指标值 + 度量单位, 权重, …) and then the indicator rows, labels
carried down from merged cells. Its output is the `RawTable`s `twin_text.py` gives for the seeds, so merging, accounting
and storing are shared.
"""

from __future__ import annotations

import re
from decimal import Decimal

from monitor.importers.document import CUT_OFF, ImportFailure, Repair
from monitor.importers.grid import Grid
from monitor.importers.levels import as_level2, split_merged, squash
from monitor.importers.money import read_amount, unit_in
from monitor.importers.table_block import Cell, RawEntry, RawTable, results_of
from monitor.importers.twin_text import read as read_twin_text

TITLE = re.compile(r"(项目支出绩效目标表|绩效目标申报表|绩效目标审批表|绩效目标表公开|项目支出绩效自评表|^绩效目标表)")
YEAR = re.compile(r"(\d{4})\s*年度")
LEVEL1 = {"产出指标": "产出指标", "效益指标": "效益指标", "满意度指标": "满意度指标", "成本指标": "成本指标",
          "项目完成指标": "产出指标", "项目效益指标": "效益指标"}
LEVEL2_EXTRA = {"社会公众或服务对象满意度指标": "服务对象满意度指标", "满意度指标": "服务对象满意度指标",
                "服务对象满意度指标": "服务对象满意度指标"}
JUNK = {"绩效", "指标", "绩效指标", "项目绩效目标", "项目", "目标", "绩效目标"}
# Indicator header words → the column they name, longest first when matched as a prefix.
COLUMN_WORDS = (
    ("一级指标", "level1"), ("二级指标", "level2"), ("三级指标", "name"), ("指标内容", "name"), ("指标名称", "name"),
    ("指标性质", "comparator"), ("度量单位", "unit"), ("计量单位", "unit"), ("权重", "weight"), ("分值", "weight"),
    ("指标方向性", "direction"), ("实际完成值", "actual"), ("全年实际值", "actual"), ("完成值", "actual"),
    ("得分", "score"), ("评（扣）分标准", "standard"), ("评分标准", "standard"), ("未完成原因", "reason"),
    ("偏差原因", "reason"), ("原因", "reason"),
)
PRE_COLUMNS = {"单位名称": "p_unit", "项目名称": "p_name", "预算数": "p_funds", "年度目标": "p_goal"}
FIELD_LABELS = (
    ("主管部门及代码", "department"), ("项目主管部门", "department"), ("主管部门", "department"),
    ("预算单位", "department"), ("项目执行单位", "implementing_unit"), ("实施单位", "implementing_unit"),
    ("项目名称", "name"), ("项目属性", "attribute"), ("项目性质", "attribute"), ("项目类别", "category"),
    ("项目期", "period"), ("计划开始日期", "start"), ("计划完成日期", "end"), ("实施周期", "period"),
    ("实施期资金总额", "total_funds"), ("项目资金总额", "total_funds"), ("年度资金申请总额", "annual_funds"),
    ("年度资金总额", "annual_funds"), ("当年资金总额", "annual_funds"), ("年初预算", "initial_budget"),
    ("总额", "sum_row"), ("年度总体目标", "annual_goal"), ("项目总体目标", "period_goal"), ("年度目标", "annual_goal"),
    ("总体目标", "period_goal"), ("其他资金", "other"), ("项目资金", "skip"), ("资金情况", "skip"),
    ("金额", "skip"), ("其中", "skip"),
)
MONEY_FIELDS = {"total_funds", "annual_funds", "other"}
TEXT_FIELDS = {"name", "department", "implementing_unit", "attribute", "period", "start", "end", "annual_goal",
               "period_goal", "category"}
END_WORDS = ("负责人", "填报日期", "合计", "评价结论", "项目负责人", "附件", "扫一扫", "经办人", "联系电话")
SUBTOTAL = re.compile(r"^[（(][一二三四五][）)]")
CODE_PREFIX = re.compile(r"^\s*(\d{3,}[A-Z]?\d*)\s*[-－—]\s*(.+?)\s*$")
# Run-on text (cells printed without separators) is cut at these words, longest first.
RUNON_WORDS = sorted({w for w, _ in FIELD_LABELS} | {w for w, _ in COLUMN_WORDS} | set(LEVEL1) | set(LEVEL2_EXTRA)
                     | {"指标值", "绩效指标", "数量指标", "质量指标", "时效指标", "经济效益指标", "社会效益指标",
                        "生态效益指标", "可持续影响指标", "经济成本指标", "社会成本指标", "生态环境成本指标"}
                     - {"金额", "其中", "原因", "总额", "项目资金"}, key=len, reverse=True)
_RUNON_SPLIT = re.compile("(" + "|".join(map(re.escape, RUNON_WORDS)) + ")")
TRAILING_WORDS = ("稳步提高", "显著提高", "明显提高", "逐步提高", "有所提高", "提高", "降低", "长期", "合理", "良好")


def is_grid_title(text: str) -> bool:
    key = squash(text)
    return bool(TITLE.search(key)) and len(key) <= 40 and not key.startswith("（")


def read(grid: Grid, source: str) -> list[RawTable]:
    """Every target table of the grid, one `RawTable` per project (a multi-project table gives several)."""
    twin = read_twin_text(grid)  # 实施期 and 年度 side by side in text, where columns cannot be trusted
    if twin is not None:
        return twin
    rows = _runon(grid.rows) if grid.family == "runon" else grid.rows
    if grid.family == "rowtext":
        rows = _interleaved(rows)
    cells = [c for row in rows for c in row]
    row_of = {id(c): r for r, row in enumerate(rows) for c in row}
    titles = [i for i, c in enumerate(cells) if is_grid_title(c.text)]
    if not titles:
        return []
    tables: list[RawTable] = []
    for n, start in enumerate(titles):
        end = titles[n + 1] if n + 1 < len(titles) else len(cells)
        block = cells[start:end]
        header_at = _indicator_header(block)
        if header_at is None and not any(squash(c.text).startswith("项目名称") for c in block):
            continue  # a page heading or a link that repeats the title, not a table
        tables.extend(_read_table(grid, block, header_at, row_of, source))
    if not tables:
        first = cells[titles[0]]
        raise ImportFailure(f"找到了标题「{first.text.strip()}」，但其后既没有「项目名称」也没有「一级指标 二级指标 "
                            "三级指标 指标值」表头，无法识别为绩效目标表",
                            en=f"found the title 「{first.text.strip()}」 but neither 「项目名称」 nor the header "
                               "「一级指标 二级指标 三级指标 指标值」 after it: not a target table as understood",
                            file=source, line=first.line,
                            field_name="项目名称")
    return tables


def _runon(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Cut glued cells at the header and level words they contain ("项目名称农村…" → 项目名称 | 农村…)."""
    out = []
    for row in rows:
        cells: list[Cell] = []
        for cell in row:
            cells.extend(Cell(cell.line, piece) for piece in _cut(squash(cell.text)) if piece.strip("：:"))
        out.append(cells)
    return out


def _cut(text: str) -> list[str]:
    """The cell cut before and after every header or level word in it (longest word first at each place)."""
    return [piece.strip("：:") for piece in _RUNON_SPLIT.split(text) if piece and piece.strip("：:")]


def _indicator_header(block: list[Cell]) -> int | None:
    for i, c in enumerate(block):
        key = squash(c.text)
        if key.removeprefix("绩效指标") == "一级指标" or key.startswith("一级指标"):
            return i
    return None


def _column_of(text: str) -> str | None:
    key = squash(text)
    if "指标值" in key:
        return "value"
    return next((kind for word, kind in COLUMN_WORDS if key.startswith(word)), None)


def _field_of(text: str) -> tuple[str, str] | None:
    key = squash(text)
    key = re.sub(r"^其中：", "", key) if key.startswith("其中：") and len(key) > 3 else key
    for word, name in FIELD_LABELS:
        if key.startswith(word):
            return name, key[len(word):].lstrip("：:").strip()
    if "财政拨款" in key or "财政资金" in key or key.startswith("上年结转") or SUBTOTAL.match(key):
        return "detail", ""
    return None


def _read_table(grid: Grid, block: list[Cell], header_at: int | None, row_of: dict[int, int],
                source: str) -> list[RawTable]:
    title = block[0]
    base = RawTable(line=title.line, end_line=block[-1].line)
    year = YEAR.search(squash(title.text)) or (YEAR.search(squash(block[1].text)) if len(block) > 1 else None)
    base.year = int(year.group(1)) if year else None
    head = block[1: header_at if header_at is not None else len(block)]
    _read_fields(_split_header_cells(head), base, wrapped=grid.family == "cells")
    if header_at is None:
        return [base]
    base.indicator_header = block[header_at].line
    base.single_column = True
    columns, first = _columns(block, header_at, row_of)
    missing = [word for word, kind in (("三级指标（或指标内容）", "name"), ("指标值", "value")) if kind not in columns]
    if missing:
        raise ImportFailure(f"无法识别的表格版式：指标表头「{block[header_at].text.strip()}」中认不出"
                            f"{'、'.join(missing)}列（单元格之间应以TAB、空格、换行或「|」分隔）",
                            en=f"layout not understood: the indicator header 「{block[header_at].text.strip()}」 "
                               f"shows no {', '.join(f'「{m}」' for m in missing)} column (cells should be "
                               "separated by TABs, spaces, line breaks or 「|」)", file=source,
                            line=block[header_at].line, field_name="一级指标")
    pre = [c for c in columns if c in PRE_COLUMNS.values()]
    after = columns[columns.index("name") + 1:] if "name" in columns else ["value"]
    body = block[first:]
    stop = next((i for i, c in enumerate(body) if squash(c.text).startswith(END_WORDS)), len(body))
    for c in body[stop:]:
        if squash(c.text).startswith(("负责人", "填报日期", "项目负责人")):
            base.complete = True
    body = body[:stop]
    if pre:
        return _read_projects(base, body, pre, after, row_of, source)
    split = _half_split(block, header_at, row_of, columns)
    if split is not None:
        base.single_column = False
        _read_halves(base, body, split, row_of)
        return [base]
    if grid.marks_empty:
        _read_fixed(base, body, columns)
    else:
        rows_known = grid.family != "cells"
        _read_stream(base, [c for c in body if c.text.strip()], after, row_of if rows_known else None)
    return [base]


def _half_split(block: list[Cell], at: int, row_of: dict[int, int], columns: list[str]) -> int | None:
    """The column where the 年度 half starts, when the header prints two halves (实施期 | 年度) and the cells
    keep their columns (a file's table, not text); None for a one-column table."""
    if columns.count("name") < 2:
        return None
    row = row_of.get(id(block[at]))
    header = [c for c in block[at:] if row_of.get(id(c)) == row]
    kinds = [(c, _column_of(c.text)) for c in header]
    if any(c.col is None for c, _ in kinds):
        return None
    second = [c for c, kind in kinds if kind == "level2"][1:] or [c for c, kind in kinds if kind == "name"][1:]
    return second[0].col if second else None


def _read_halves(table: RawTable, body: list[Cell], split: int, row_of: dict[int, int]) -> None:
    """Each row is an 实施期 half left of `split` and a 年度 half right of it, each with its own labels."""
    rows: dict[int, list[Cell]] = {}
    for c in body:
        rows.setdefault(row_of.get(id(c), c.line), []).append(c)
    level2: dict[str, str | None] = {"period": None, "annual": None}
    for number, cells in enumerate(rows.values()):
        for half, mine in (("period", [c for c in cells if (c.col or 0) < split]),
                           ("annual", [c for c in cells if (c.col or 0) >= split])):
            i = 0
            while i < len(mine) and (label := _label(mine, i)) is not None:
                if label[0] == "2":
                    level2[half] = label[1]
                elif label[1] == "满意度指标":
                    level2[half] = "服务对象满意度指标"
                i += label[2]
            rest = [c for c in mine[i:] if squash(c.text) not in JUNK]
            if not rest:
                continue
            name, value = rest[0], (rest[1].text.strip() if len(rest) > 1 else None)
            table.entries.append(RawEntry(line=name.line, half=half, row=number, label=level2[half],
                                          name=name.text.strip(), value=value,
                                          text=" ".join(c.text for c in rest)))
            for extra in rest[2:]:
                table.entries.append(RawEntry(line=extra.line, half=half, row=number, label=None, name=None,
                                              value=extra.text, text=extra.text,
                                              problem="多余的单元格，无法归入指标名称或指标值"))


def _interleaved(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Row text of cells that wrap: a row of labels only ("主管部门 实施单位") between the first and the second
    halves of their values ("普陀区城市管理行政执 上海市…执" / "法局执法大队 法大队") is put back together."""
    out: list[list[Cell]] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        if (len(row) >= 2 and all(_field_of(c.text) is not None for c in row) and out and i + 1 < len(rows)
                and len(out[-1]) == len(row) == len(rows[i + 1])
                and not any(_field_of(c.text) for c in out[-1] + rows[i + 1])):
            above, below = out.pop(), rows[i + 1]
            merged: list[Cell] = []
            for label, top, bottom in zip(row, above, below, strict=True):
                merged += [label, Cell(top.line, top.text + bottom.text)]
            out.append(merged)
            i += 2
            continue
        out.append(row)
        i += 1
    return out


def _split_header_cells(cells: list[Cell]) -> list[Cell]:
    """A cell line holding several header cells ("10,308,000.00 年度资金申请总额") is cut at its spaces."""
    out: list[Cell] = []
    for cell in cells:
        parts = cell.text.split()
        if len(parts) > 1 and any(read_amount(p) is not None or _field_of(p) is not None for p in parts):
            out.extend(Cell(cell.line, p) for p in parts)
        else:
            out.append(cell)
    return out


def _read_fields(cells: list[Cell], table: RawTable, *, wrapped: bool) -> None:
    """Label → value(s) in print order; amounts keep their printed unit until `settle_amounts`."""
    subtotals: list[tuple[Decimal, str | None, int]] = []
    others: list[tuple[tuple[Decimal, str | None], int]] = []
    unit_cell = next((c for c in cells if unit_in(c.text) is not None), None)
    if unit_cell is not None:
        table.fields["funds_unit"] = (unit_in(unit_cell.text), unit_cell.line)
    i = 0
    while i < len(cells):
        cell = cells[i]
        found = _field_of(cell.text)
        if found is None:
            i += 1
            continue
        name, rest = found
        rest = re.sub(r"^[（(]盖章[）)]", "", rest)
        j = i + 1
        values: list[Cell] = [Cell(cell.line, rest)] if rest else []
        while j < len(cells) and _field_of(cells[j].text) is None:
            values.append(cells[j])
            j += 1
            if name in MONEY_FIELDS | {"detail", "sum_row", "initial_budget"} and values:
                break
        i = j
        if name in MONEY_FIELDS | {"sum_row"}:
            amount = next(((read_amount(v.text), v.line) for v in values if read_amount(v.text) is not None),
                          None)
            if name == "other" and amount is not None and amount[0] is not None:
                others.append((amount[0], amount[1]))
            key = {"other": "annual_other", "sum_row": "annual_funds"}.get(name, name)
            if name == "sum_row" and "initial_budget" not in table.fields:
                continue
            if amount is not None and amount[0] is not None and key not in table.fields:
                table.fields[key] = (amount[0][0], amount[1])
                table.amount_units[key] = amount[0][1]
            continue
        if name == "initial_budget":
            table.fields.setdefault("initial_budget", (None, cell.line))
            continue
        if name == "detail":
            if SUBTOTAL.match(squash(cell.text)) and values and (a := read_amount(values[0].text)) is not None:
                subtotals.append((a[0], a[1], values[0].line))
                _keep_part(table, f"part_sub_{len(subtotals)}", (a, values[0].line))
            elif values and (a := read_amount(values[0].text)) is not None and (part := _part_of(cell.text)):
                _keep_part(table, part, (a, values[0].line))
            continue
        # one cell a line wraps a long cell over several; every other family prints a value in one cell
        kept = [v for v in values if v.text.strip() and unit_in(v.text) is None and squash(v.text) != "（盖章）"]
        text = "".join(v.text.replace("\n", "").strip() for v in (kept if wrapped else kept[:1]))
        if name in TEXT_FIELDS and text and name not in table.fields:
            table.fields[name] = (text, values[0].line)
    if len(others) == 2:  # 其他资金 printed under both halves: the project's, then the year's
        _keep_part(table, "part_other_total", others[0])
        _keep_part(table, "part_other_annual", others[1])
    elif len(others) == 1 and "part_fiscal_total" not in table.fields:
        _keep_part(table, "part_other_annual", others[0])
    _settle_fields(table, subtotals)


def _part_of(text: str) -> str | None:
    """Which printed part of the funds a label names (its half told by its words), for the fund check."""
    key = squash(text).removeprefix("其中：").removeprefix("其中:")
    if key.startswith("上年结转"):
        return "part_carryover"
    if "财政拨款" in key:
        return "part_fiscal_annual"
    if key.startswith("财政资金"):
        return "part_fiscal_total"
    return None


def _keep_part(table: RawTable, name: str, found: tuple[tuple[Decimal, str | None], int]) -> None:
    """A printed part of the funds, its unit settled with the table's other amounts."""
    (number, unit), line = found
    if name not in table.fields:
        table.fields[name] = (number, line)
        table.amount_units[name] = unit


def _settle_fields(table: RawTable, subtotals: list[tuple[Decimal, str | None, int]]) -> None:
    name = table.get("name")
    if isinstance(name, str) and (m := CODE_PREFIX.match(name)):
        table.fields["name"] = (m.group(2), table.line_of("name") or table.line)
    department = table.get("department")
    if isinstance(department, str):
        line = table.line_of("department") or table.line
        if (m := re.match(r"^\s*(\d+)\s*[-－—]\s*(.+?)\s*$", department)):
            table.fields["department_code"] = (m.group(1), line)
            table.fields["department_name"] = (m.group(2), line)
        else:
            table.fields["department_name"] = (department, line)
    start, end = table.get("start"), table.get("end")
    if start and end and not table.get("period"):
        table.fields["period"] = (f"{start}至{end}", table.line_of("start") or table.line)
    if "annual_funds" not in table.fields and subtotals:
        units = {u for _, u, _ in subtotals}
        total = sum((a for a, _, _ in subtotals), Decimal(0))
        table.fields["annual_funds"] = (total, subtotals[0][2])
        table.amount_units["annual_funds"] = units.pop() if len(units) == 1 else None
        table.repairs.append(Repair(subtotals[0][2], "annual_funds", "", format(total, "f"),
                                    reason="表中没有年度资金总额金额，取各资金来源小计之和"))


def _columns(block: list[Cell], at: int, row_of: dict[int, int]) -> tuple[list[str], int]:
    """The indicator columns named by the header cells from `at`, and where the rows start."""
    columns: list[str] = []
    row = row_of.get(id(block[at]))
    same_row = [c for c in block[at:] if row_of.get(id(c)) == row]
    # a header row that starts with project columns (单位名称 | 项目名称 | 预算数 | 年度目标 | 一级指标 …)
    before = [c for c in block[:at] if row_of.get(id(c)) == row and row is not None]
    for c in before:
        key = squash(c.text)
        if key in PRE_COLUMNS:
            columns.append(PRE_COLUMNS[key])
    i = at
    if len(same_row) > 1:
        for c in same_row:
            kind = _column_of(c.text) if squash(c.text) != "绩效指标" else None
            if kind is not None:
                columns.append(kind)
        return columns, at + len(same_row)
    while i < len(block):
        key = squash(block[i].text)
        kind = _column_of(block[i].text) if key not in ("绩效指标",) else None
        if kind is None:
            if not block[i].text.strip() and columns:
                break
            if key == "绩效指标" or not key:
                i += 1
                continue
            break
        columns.append(kind)
        i += 1
    return columns, i


def _label(cells: list[Cell], i: int) -> tuple[str, str, int] | None:
    """(level, canonical name, cells used) when cells[i] (maybe joined with the next one) is a level label."""
    for used in (1, 2):
        if i + used > len(cells):
            break
        key = "".join(squash(c.text) for c in cells[i:i + used])
        if used == 2 and not squash(cells[i + 1].text).startswith("指标"):
            break
        if key == "成本指标":  # 一级 when the 2021 framework's cost labels follow, else the classic 二级
            following = _label(cells, i + used) if i + used < len(cells) else None
            if following is not None and following[1].endswith("成本指标") and following[1] != "成本指标":
                return "1", "成本指标", used
            return "2", "成本指标", used
        if key in LEVEL1:
            return "1", LEVEL1[key], used
        label = as_level2(key)
        if label is not None:
            return "2", label.canonical, used
        if key in LEVEL2_EXTRA:
            return "2", LEVEL2_EXTRA[key], used
    return None


def _read_stream(table: RawTable, cells: list[Cell], after: list[str], row_of: dict[int, int] | None) -> None:
    """Labels, then a name and its value cell(s), again and again; the labels of merged cells carry down.

    With `row_of` (the family keeps rows) a value is only taken from the name's own row; a name alone on its row
    is a name glued to its value (run-on text), split where the value starts."""
    level1: str | None = None
    level2: str | None = None
    value_columns = [c for c in after if c in ("comparator", "value", "unit")] or ["value"]
    i = 0
    row = 0
    while i < len(cells):
        cell = cells[i]
        key = squash(cell.text)
        if key in JUNK:
            i += 1
            continue
        label = _label(cells, i)
        if label is not None:
            kind, name, used = label
            if kind == "1":
                level1, level2 = name, (level2 if level1 == name else None)
                if name == "满意度指标":
                    level2 = "服务对象满意度指标"
            else:
                level2 = name
            i += used
            continue
        parts: list[str] = []
        j = i + 1
        while j < len(cells) and len(parts) < len(value_columns) and _label(cells, j) is None \
                and squash(cells[j].text) not in JUNK \
                and (row_of is None or row_of.get(id(cells[j])) == row_of.get(id(cell))):
            parts.append(cells[j].text.strip())
            j += 1
        value = "".join(parts) if parts else None
        indicator_name = cell.text.strip()
        if value is None:
            split = split_merged(indicator_name, counterpart_value=None, known_names=[]) or _split_trailing(
                indicator_name)
            if split is not None:
                table.repairs.append(Repair(cell.line, "name/value", indicator_name, f"{split[0]} | {split[1]}",
                                            reason=split[2]))
                indicator_name, value = split[0], split[1]
        label2 = level2 or _default_level2(level1)
        table.entries.append(RawEntry(line=cell.line, half="annual", row=row, label=label2, name=indicator_name,
                                      value=value, text=" ".join(x for x in (cell.text.strip(), *parts) if x)))
        row += 1
        i = j


def _split_trailing(text: str) -> tuple[str, str, str] | None:
    for word in TRAILING_WORDS:
        if text.endswith(word) and len(text) > len(word) + 1:
            return text[: -len(word)], word, "在末尾的定性指标值处拆分"
    return None


def _default_level2(level1: str | None) -> str | None:
    return "服务对象满意度指标" if level1 == "满意度指标" else None


def _read_fixed(table: RawTable, cells: list[Cell], columns: list[str]) -> None:
    """Empty cells printed: every row is exactly one cell per column (a blank label is the merged one above)."""
    width = len(columns)
    level2: str | None = None
    row = 0
    for start in range(0, len(cells) - width + 1, width):
        values = dict(zip(columns, cells[start:start + width], strict=True))
        if "level2" in values and values["level2"].text.strip():
            label = _label([values["level2"]], 0)
            level2 = label[1] if label is not None else values["level2"].text.strip()
        name = values.get("name")
        if name is None or not name.text.strip():
            continue
        value = "".join(values[c].text.strip() for c in ("comparator", "value", "unit") if c in values)
        table.entries.append(RawEntry(line=name.line, half="annual", row=row, label=level2,
                                      name=name.text.strip(), value=value or None, text=name.text,
                                      results=results_of(values)))
        row += 1


def _read_projects(base: RawTable, body: list[Cell], pre: list[str], after: list[str], row_of: dict[int, int],
                   source: str) -> list[RawTable]:
    """Many projects in one table: 单位/项目/预算数/年度目标 printed only on each project's first row."""
    rows: dict[int, list[Cell]] = {}
    for c in body:
        rows.setdefault(row_of.get(id(c), c.line), []).append(c)
    tables: list[RawTable] = []
    current: RawTable | None = None
    unit_name: str | None = None
    for cells in rows.values():
        at = next((i for i in range(len(cells)) if _label(cells, i) is not None), None)
        if at is None:
            first = squash(cells[0].text)
            if (m := re.match(r"^(\d+)[-－—](.+)$", first)):
                base.fields.setdefault("department_code", (m.group(1), cells[0].line))
                base.fields.setdefault("department_name", (m.group(2), cells[0].line))
                total = next((a for c in cells[1:] if (a := read_amount(c.text)) is not None), None)
                if total is not None and "unit_total" not in base.fields:  # the unit's row: 单位名称 | 预算数
                    base.fields["unit_total"] = (total[0], cells[0].line)
                    base.amount_units["unit_total"] = total[1]
            continue
        lead = cells[:at]
        named = dict(zip(pre[len(pre) - len(lead):], lead, strict=True)) if len(lead) <= len(pre) else {}
        if "p_unit" in named:
            unit_name = named["p_unit"].text.strip()
        if "p_name" in named:
            current = RawTable(line=named["p_name"].line, end_line=base.end_line, year=base.year,
                               indicator_header=base.indicator_header, single_column=True)
            current.fields = {k: v for k, v in base.fields.items() if k not in ("name",)}
            current.amount_units = dict(base.amount_units)
            current.fields["name"] = (named["p_name"].text.strip(), named["p_name"].line)
            if unit_name:
                m = re.match(r"^\d+[-－—](.+)$", unit_name)
                current.fields["implementing_unit"] = (m.group(1) if m else unit_name, named["p_name"].line)
            if "p_funds" in named and (a := read_amount(named["p_funds"].text)) is not None:
                current.fields["annual_funds"] = (a[0], named["p_funds"].line)
                current.amount_units["annual_funds"] = a[1]
            if "p_goal" in named:
                current.fields["annual_goal"] = (named["p_goal"].text.strip(), named["p_goal"].line)
            current.complete = True
            tables.append(current)
        if current is None:
            raise ImportFailure("指标行之前没有项目名称",
                                en="indicator rows come before any project name (「项目名称」)", file=source,
                                line=cells[0].line, field_name="项目名称")
        rest = cells[at:]
        if rest and rest[-1].col == -1:
            current.complete = False
            printed = " ".join(c.text for c in rest)
            current.entries.append(RawEntry(line=rest[-1].line, half="annual", row=len(current.entries), label=None,
                                            name=None, value=printed, text=printed,
                                            problem=CUT_OFF))
            continue
        _read_row(current, rest, after)
    for t in tables:
        t.fields.update({k: v for k, v in base.fields.items() if k in ("department_code", "department_name")
                         and k not in t.fields})
    return tables


def _read_row(table: RawTable, cells: list[Cell], after: list[str]) -> None:
    """One indicator row whose cells sit in their columns: labels, name, then the columns after the name."""
    i = 0
    level2 = None
    while i < len(cells) and (label := _label(cells, i)) is not None:
        if label[0] == "2":
            level2 = label[1]
        i += label[2]
    if i >= len(cells):
        return
    name = cells[i]
    values = dict(zip(after, cells[i + 1:], strict=False))
    value = "".join(values[c].text.strip() for c in ("comparator", "value", "unit") if c in values)
    table.entries.append(RawEntry(line=name.line, half="annual", row=len(table.entries), label=level2,
                                  name=name.text.strip(), value=value or None,
                                  text=" ".join(c.text for c in cells), results=results_of(values)))
