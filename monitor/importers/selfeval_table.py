"""The year-end 项目支出绩效自评表 read from a file's cell grid: the targets, and what the department says it did.

A self-evaluation prints, beside each target, the 实际完成值, the 分值 (the indicator's weight in points), the
得分 the department gives itself and its 偏差原因分析及改进措施; per project the 年初预算数, 全年预算数 (调整后) and
全年执行数 with the 分值/执行率/得分 of the budget-execution row, and a 总分. The columns are found by their header
words, as every other reader here does; a figure that is not a number is refused naming its cell, so nothing of
a half-read table is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils import get_column_letter

from monitor.importers.document import ImportFailure, ParsedDocument, ParsedIndicator, ParsedProject, level1_of
from monitor.importers.grid import Grid
from monitor.importers.header_reader import CODE_PREFIX, LEVEL1, LEVEL2_EXTRA, YEAR
from monitor.importers.levels import as_level2, squash
from monitor.importers.money import unit_in
from monitor.importers.table_block import Cell

TITLE = "绩效自评表"
FUND_COLUMNS = (("年初预算", "initial"), ("全年预算", "budget"), ("调整后预算", "budget"), ("全年执行", "spent"),
                ("预算执行数", "spent"), ("分值", "points"), ("权重", "points"), ("执行率", "rate"),
                ("预算执行率", "rate"), ("得分", "score"), ("原因", "reason"))
INDICATOR_COLUMNS = (("一级指标", "level1"), ("二级指标", "level2"), ("三级指标", "name"), ("实际完成值", "actual"),
                     ("全年实际值", "actual"), ("完成值", "actual"), ("年度指标值", "target"), ("指标值", "target"),
                     ("指标性质", "comparator"), ("度量单位", "unit"), ("计量单位", "unit"),
                     ("分值", "points"), ("权重", "points"), ("得分", "score"), ("偏差原因", "reason"),
                     ("未完成原因", "reason"))
TOTAL_WORDS = ("总分", "合计")
END_WORDS = ("评价结论", "存在问题", "项目负责人", "填报日期")
UNITS = {"万元": Decimal(10000), "元": Decimal(1)}


@dataclass
class SelfEvalIndicator:
    level1: str
    level2: str
    name: str
    target: str
    actual: str | None
    points: Decimal
    score: Decimal | None
    reason: str | None
    line: int


@dataclass
class SelfEvalTable:
    """One project's self-evaluation as printed; amounts already in 元, the rate in percent."""

    source: str
    year: int
    department_code: str | None
    department_name: str | None
    name: str
    implementing_unit: str | None
    initial_budget: Decimal
    budget: Decimal
    spent: Decimal
    execution_points: Decimal | None
    execution_rate: Decimal | None
    execution_score: Decimal | None
    funds_line: int
    total_score: Decimal | None
    total_line: int | None
    annual_goal: str | None = None
    indicators: list[SelfEvalIndicator] = field(default_factory=list)


def is_selfeval(grid: Grid) -> bool:
    """Whether the grid holds a self-evaluation (its title), so the import reads the year's results too."""
    return any(TITLE in squash(c.text) for row in grid.rows[:10] for c in row)


def _where(cell: Cell) -> str:
    return f"{get_column_letter((cell.col or 0) + 1)}{cell.line}"


def number(cell: Cell, what: str, source: str, *, percent: bool = False) -> Decimal:
    """A printed figure (thousands separators and a % sign allowed); anything else names its cell."""
    text = cell.text.strip().replace(",", "").replace("，", "")
    if percent:
        text = text.removesuffix("%").removesuffix("％")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ImportFailure(f"单元格 {_where(cell)} 的{what}「{cell.text.strip()}」不是数字",
                            en=f"cell {_where(cell)}: 「{what}」 「{cell.text.strip()}」 is not a number", file=source,
                            line=cell.line, field_name=what)
    return value


def measured(text: str | None) -> Decimal | None:
    """The number an 实际完成值 such as "450人" or "98%" reports, or None for words (达成年度指标…)."""
    if not text:
        return None
    m = re.match(r"^\s*([-+]?\d+(?:\.\d+)?)", text.replace(",", ""))
    return Decimal(m.group(1)) if m else None


def _columns(row: list[Cell], words: tuple[tuple[str, str], ...]) -> dict[str, Cell]:
    found: dict[str, Cell] = {}
    for cell in row:
        key = squash(cell.text)
        kind = next((k for w, k in words if key.startswith(w)), None)
        if kind is not None and kind not in found:
            found[kind] = cell
    return found


def _at(row: list[Cell], header: Cell | None) -> Cell | None:
    if header is None:
        return None
    return next((c for c in row if c.col == header.col and c.text.strip()), None)


def _value_after(rows: list[list[Cell]], label: str) -> Cell | None:
    """The cell after a label: on its row, or the next cell of the stream when a line holds one cell."""
    cells = [c for row in rows for c in row]
    for i, cell in enumerate(cells):
        if squash(cell.text).startswith(label) and i + 1 < len(cells):
            return cells[i + 1]
    return None


def _kind(cell: Cell, words: tuple[tuple[str, str], ...]) -> str | None:
    key = squash(cell.text)
    return next((k for w, k in words if key.startswith(w)), None)


def columnize(grid: Grid) -> list[list[Cell]]:
    """Rows with their columns for text printed one cell a line with every empty cell marked ("|"): the header
    rows tell the width (the label cell before the funds header counts), and the cells after a header are cut
    into rows of that width; every other cell stays a row of its own."""
    rows = [row for row in grid.rows]
    if not grid.marks_empty:
        return rows
    cells = [c for row in rows for c in row]
    out: list[list[Cell]] = []
    i = 0
    while i < len(cells):
        if _kind(cells[i], INDICATOR_COLUMNS) == "level1":
            width = _header_width(cells, i, INDICATOR_COLUMNS)
            i = _cut(cells, i, width, out, stop=TOTAL_WORDS + END_WORDS)
        elif i + 1 < len(cells) and _kind(cells[i + 1], FUND_COLUMNS) == "initial":
            width = 1 + _header_width(cells, i + 1, FUND_COLUMNS)
            i = _cut(cells, i, width, out, rows=2)
        else:
            out.append([Cell(cells[i].line, cells[i].text, 0)])
            i += 1
    return out


def _header_width(cells: list[Cell], start: int, words: tuple[tuple[str, str], ...]) -> int:
    end = start
    while end < len(cells) and _kind(cells[end], words) is not None:
        end += 1
    return end - start


def _cut(cells: list[Cell], start: int, width: int, out: list[list[Cell]], *, stop: tuple[str, ...] = (),
         rows: int | None = None) -> int:
    i, made = start, 0
    while i + width <= len(cells) and (rows is None or made < rows):
        if made and squash(cells[i].text).startswith(stop):
            break
        out.append([Cell(c.line, c.text, col) for col, c in enumerate(cells[i:i + width])])
        i, made = i + width, made + 1
    return i


def read_selfeval(grid: Grid, source: str) -> SelfEvalTable:
    """The one project of a self-evaluation table; an error names the cell or header that could not be read."""
    rows = columnize(grid)
    title_text = next((c.text for row in rows[:10] for c in row if TITLE in squash(c.text)), "")
    year_match = YEAR.search(squash(title_text)) or next(
        (m for row in rows[:10] for c in row if (m := YEAR.search(squash(c.text)))), None)
    if year_match is None:
        raise ImportFailure("自评表中没有年度（如「2024年度」）",
                            en="the self-evaluation names no year (such as 「2024年度」)", file=source,
                            field_name="年度")
    name_cell = _value_after(rows, "项目名称")
    if name_cell is None:
        raise ImportFailure("自评表中没有项目名称", en="the self-evaluation names no project (「项目名称」)",
                            file=source, field_name="项目名称")
    department = _value_after(rows, "主管部门")
    code = dept_name = None
    if department is not None:
        m = re.match(r"^\s*(\d+)\s*[-－—]\s*(.+?)\s*$", department.text)
        code, dept_name = (m.group(1), m.group(2)) if m else (None, department.text.strip())
    unit_cell = _value_after(rows, "实施单位")
    name = name_cell.text.strip()
    if (prefixed := CODE_PREFIX.match(name)) is not None:
        name = prefixed.group(2)
    table = _funds(rows, source, year=int(year_match.group(1)), code=code, dept_name=dept_name, name=name,
                   unit=unit_cell.text.strip() if unit_cell else None)
    _indicators(rows, table, source)
    return table


def _funds(rows: list[list[Cell]], source: str, **known: Any) -> SelfEvalTable:
    """The row under 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分, amounts scaled to 元 by the unit."""
    header_at = next((i for i, row in enumerate(rows) if "initial" in _columns(row, FUND_COLUMNS)
                      and "spent" in _columns(row, FUND_COLUMNS)), None)
    if header_at is None:
        raise ImportFailure("自评表中没有「年初预算数 全年预算数 全年执行数」表头",
                            en="the self-evaluation has no funds header 「年初预算数 全年预算数 全年执行数」",
                            file=source, field_name="年初预算数")
    header = _columns(rows[header_at], FUND_COLUMNS)
    unit = next((u for c in rows[header_at] if (u := unit_in(c.text)) is not None), None)
    if unit not in UNITS:
        raise ImportFailure("资金表头没有写明金额单位（元 或 万元）",
                            en="the funds header does not say its unit (元 or 万元)", file=source,
                            line=rows[header_at][0].line, field_name="项目资金")
    scale = UNITS[unit]
    row = rows[header_at + 1]

    def amount(kind: str, what: str) -> Decimal:
        cell = _at(row, header.get(kind))
        if cell is None:
            raise ImportFailure(f"第{row[0].line}行缺少{what}", en=f"line {row[0].line} has no 「{what}」", file=source,
                                line=row[0].line, field_name=what)
        return (number(cell, what, source) * scale).quantize(Decimal("0.01"))

    def printed(kind: str, what: str, percent: bool = False) -> Decimal | None:
        cell = _at(row, header.get(kind))
        return None if cell is None else number(cell, what, source, percent=percent)

    return SelfEvalTable(
        source=source, year=known["year"], department_code=known["code"], department_name=known["dept_name"],
        name=known["name"], implementing_unit=known["unit"], initial_budget=amount("initial", "年初预算数"),
        budget=amount("budget", "全年预算数"), spent=amount("spent", "全年执行数"),
        execution_points=printed("points", "分值"), execution_rate=printed("rate", "执行率", percent=True),
        execution_score=printed("score", "得分"), funds_line=row[0].line, total_score=None, total_line=None)


def _indicators(rows: list[list[Cell]], table: SelfEvalTable, source: str) -> None:
    header_at = next((i for i, row in enumerate(rows) if "level1" in _columns(row, INDICATOR_COLUMNS)), None)
    if header_at is None:
        raise ImportFailure("自评表中没有「一级指标 二级指标 三级指标」表头",
                            en="the self-evaluation has no indicator header 「一级指标 二级指标 三级指标」",
                            file=source, field_name="一级指标")
    header = _columns(rows[header_at], INDICATOR_COLUMNS)
    line = rows[header_at][0].line
    for kind, word in (("name", "三级指标"), ("target", "年度指标值"), ("actual", "实际完成值"), ("points", "分值"),
                       ("score", "得分")):
        if kind not in header:
            raise ImportFailure(f"指标表头（第{line}行）中没有「{word}」列",
                                en=f"the indicator header (line {line}) has no 「{word}」 column", file=source,
                                line=line, field_name=word)
    level1 = level2 = ""
    for row in rows[header_at + 1:]:
        if squash(row[0].text).startswith(TOTAL_WORDS):
            cell = _at(row, header["score"])
            table.total_score = None if cell is None else number(cell, "总分", source)
            table.total_line = row[0].line
            break
        if (cell := _at(row, header.get("level1"))) is not None:
            level1 = LEVEL1.get(squash(cell.text), squash(cell.text))
        if (cell := _at(row, header.get("level2"))) is not None:
            label = as_level2(squash(cell.text))
            level2 = label.canonical if label else LEVEL2_EXTRA.get(squash(cell.text), squash(cell.text))
        name = _at(row, header["name"])
        if name is None:
            continue
        points = _at(row, header["points"])
        if points is None:
            raise ImportFailure(f"第{name.line}行「{name.text}」没有分值",
                                en=f"line {name.line}: 「{name.text}」 has no points (分值)", file=source,
                                line=name.line, field_name="分值")
        score = _at(row, header["score"])
        target = "".join(c.text.strip() for k in ("comparator", "target", "unit")
                         if (c := _at(row, header.get(k))) is not None)
        actual, reason = (_at(row, header.get(k)) for k in ("actual", "reason"))
        table.indicators.append(SelfEvalIndicator(
            level1=level1 or level1_of(level2), level2=level2, name=name.text.strip(),
            target=target, actual=actual.text.strip() if actual else None,
            points=number(points, "分值", source), score=None if score is None else number(score, "得分", source),
            reason=reason.text.strip() if reason else None, line=name.line))
    if not table.indicators:
        raise ImportFailure(f"指标表头（第{line}行）之后没有读到任何指标",
                            en=f"no indicator was read after the indicator header (line {line})", file=source,
                            line=line, field_name="三级指标")


def as_document(table: SelfEvalTable, sha256: str, fmt: str) -> ParsedDocument:
    """The targets and weights of the table as the target importer stores them (年初预算数 as the annual funds)."""
    project = ParsedProject(name=table.name, import_key=table.name, implementing_unit=table.implementing_unit,
                            annual_funds=table.initial_budget, department_code=table.department_code,
                            department_name=table.department_name, annual_goal=table.annual_goal, layout="selfeval",
                            line=table.funds_line)
    for position, ind in enumerate(table.indicators, 1):
        project.indicators.append(ParsedIndicator(half="annual", level1=ind.level1, level2=ind.level2,
                                                  name=ind.name, value=ind.target, line=ind.line,
                                                  position=position, weight=ind.points, weighted=True))
    doc = ParsedDocument(source_file=table.source, sha256=sha256, format=fmt, layout="selfeval",
                         department_code=table.department_code, department_name=table.department_name,
                         year=table.year, projects=[project], table_count=1, indicator_rows=len(table.indicators))
    return doc
