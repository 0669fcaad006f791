"""The year-end 项目支出绩效自评表 read from a file's cell grid: the targets, and what the department says it did.

A self-evaluation prints, beside each target, the 实际完成值, the 分值 (the indicator's weight in points), the
得分 the department gives itself and its 偏差原因分析及改进措施; per project the 年初预算数, 全年预算数 (调整后) and
全年执行数 with the 分值/执行率/得分 of the budget-execution row, and a 总分. The columns are found by their header
words, as every other reader here does; a figure that is not a number is refused naming its cell, so nothing of
a half-read table is stored.

A file may hold several tables, one after another (each starts at its title), and a table may go on over a page
with its indicator header printed again. A table whose indicator rows run to the end with no 合计/总分 row was cut
off: it is refused naming the line, or with `allow_partial` its complete rows are kept and the rest listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils import get_column_letter

from monitor.importers.document import (
    CUT_OFF,
    PARTIAL_HINT,
    PARTIAL_HINT_EN,
    ImportFailure,
    ParsedDocument,
    ParsedIndicator,
    ParsedProject,
    Rejected,
    level1_of,
)
from monitor.importers.grid import Grid
from monitor.importers.header_reader import CODE_PREFIX, LEVEL1, LEVEL2_EXTRA, YEAR
from monitor.importers.levels import as_level2, squash
from monitor.importers.money import unit_in
from monitor.importers.table_block import Cell
from rules.terms import GRADE_WORDS, GRADES, MEASURED_KINDS, QUALITATIVE, UNPARSED

TITLE = "绩效自评表"
FUND_COLUMNS = (("年初预算", "initial"), ("全年预算", "budget"), ("调整后预算", "budget"), ("全年执行", "spent"),
                ("预算执行数", "spent"), ("分值", "points"), ("权重", "points"), ("执行率", "rate"),
                ("预算执行率", "rate"), ("得分", "score"), ("原因", "reason"))
INDICATOR_COLUMNS = (("一级指标", "level1"), ("二级指标", "level2"), ("三级指标", "name"), ("实际完成值", "actual"),
                     ("全年实际值", "actual"), ("完成值", "actual"), ("年度指标值", "target"), ("指标值", "target"),
                     ("指标性质", "comparator"), ("度量单位", "unit"), ("计量单位", "unit"),
                     ("分值", "points"), ("权重", "points"), ("得分", "score"), ("偏差原因", "reason"),
                     ("未完成原因", "reason"))
TOTAL_WORDS = ("总分", "合计", "得分合计", "总计")
END_WORDS = ("评价结论", "存在问题", "项目负责人", "填报日期")
UNITS = {"万元": Decimal(10000), "元": Decimal(1)}
# An 实际完成值 that is a figure: a number and at most a unit without digits ("450人", "98%", "4.5万人").
MEASURE = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*([^\d\s]*)$")
SCALE = {"万": Decimal(10000), "亿": Decimal(10) ** 8}
# What a page break leaves between two rows of a table printed one cell a line: "第 2 页 共 3 页", "— 2 —", 续表.
PAGE_FURNITURE = re.compile(r"^(第\s*\d+\s*页(\s*[/，,]?\s*共\s*\d+\s*页)?|[-—]+\s*\d{1,3}\s*[-—]+|续表\S{0,6})$")


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
class Reading:
    """What an 实际完成值 reports for an indicator of a kind: a value, a grade (one of rules.terms.GRADES), or
    neither, with `why` (the printed text is kept verbatim and stored as no report). The import names the row
    with `problem`; the review quotes `why` as the reason kpiwatch could not score the row."""

    value: Decimal | None = None
    grade: str | None = None
    actual: str = ""
    why: str | None = None

    @property
    def problem(self) -> str | None:
        return None if self.why is None else f"实际完成值「{self.actual}」{self.why}，按原文保留，未作为填报导入"


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
    funds_unit: str | None = None  # as printed: 元 or 万元
    layout: str | None = None  # the family of the text or file it was read from
    line: int | None = None  # where the table starts (its title)
    import_key: str = ""  # the name, or "name#2" for a second table of the same name in the file
    # rows of a table cut off at the end, left out under allow_partial (reason CUT_OFF), and the line it stops at
    incomplete: list[Rejected] = field(default_factory=list)
    cut_at: int | None = None


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
    """The number an 实际完成值 such as "450人", "98%" or "4.5万人" reports (万 and 亿 expanded, as the target
    grammar expands them), or None for words and for text with more figures in it ("2023年12月")."""
    m = MEASURE.match((text or "").strip().replace(",", ""))
    if m is None:
        return None
    return Decimal(m.group(1)) * SCALE.get(m.group(2)[:1], Decimal(1))


def graded(text: str | None) -> str | None:
    """The grade an 实际完成值 in words is ("优", "达到预期", "按时完成" …, by rules.terms.GRADE_WORDS), or None."""
    return GRADE_WORDS.get((text or "").strip().rstrip("。.；;").strip())


def reading(indicator: SelfEvalIndicator, kind: str) -> Reading:
    """What the printed 实际完成值 of a row reports for an indicator whose target is of `kind`."""
    return read_actual(indicator.actual, indicator.target, kind, indicator.reason)


def read_actual(printed: str | None, target: str, kind: str, reason: str | None) -> Reading:
    """A number for a measured target, a grade for a graded one (qualitative, or unparsed); anything else is
    kept as printed, not guessed. A grade short of the best one needs its 偏差原因分析 (`reason`)."""
    actual = (printed or "").strip()
    if not actual:
        return Reading()
    value, grade = measured(actual), graded(actual)
    if kind in MEASURED_KINDS or (kind == UNPARSED and value is not None):
        if value is not None:
            return Reading(value=value)
        return Reading(actual=actual, why=f"不是数字，而指标值「{target}」是数值")
    if kind in (QUALITATIVE, UNPARSED):
        if grade is None:
            return Reading(actual=actual, why="既不是数字也不是已知的评价等级")
        if grade != GRADES[0] and not (reason or "").strip():
            return Reading(actual=actual, why=f"即「{grade}」，未完全达成却没有偏差原因分析")
        return Reading(grade=grade)
    return Reading(actual=actual, why=f"不是完成日期，指标值「{target}」是完成时限")


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


def _is_title(cell: Cell) -> bool:
    """A table's title cell, not an instruction that mentions one (titles are short)."""
    key = squash(cell.text)
    return TITLE in key and len(key) <= 40


def columnize(grid: Grid) -> list[list[Cell]]:
    """Rows with their columns for text printed one cell a line with every empty cell marked ("|"): the header
    rows tell the width (the label cell before the funds header counts), and the cells after a header are cut
    into rows of that width; every other cell stays a row of its own. A row the text ends in, or the next
    table's title interrupts, comes out short, so the reader can tell it was cut off."""
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
            if i < len(cells) and squash(cells[i].text).startswith(TOTAL_WORDS):
                i = _total_row(cells, i, width, out)
        elif i + 1 < len(cells) and _kind(cells[i + 1], FUND_COLUMNS) == "initial":
            width = 1 + _header_width(cells, i + 1, FUND_COLUMNS)
            i = _cut(cells, i, width, out, rows=2)
        else:
            out.append([Cell(cells[i].line, cells[i].text, 0)])
            i += 1
    return out


def _total_row(cells: list[Cell], start: int, width: int, out: list[list[Cell]]) -> int:
    """The 合计 row: its label merged over the first columns, its figures in the last ones (权重, 得分, 原因),
    so the cells after the label are set right-aligned under the header."""
    end = start + 1
    while end < len(cells) and end - start < width and not squash(cells[end].text).startswith(END_WORDS) \
            and not _is_title(cells[end]):
        end += 1
    figures = cells[start + 1:end]
    out.append([Cell(cells[start].line, cells[start].text, 0),
                *(Cell(c.line, c.text, width - len(figures) + n) for n, c in enumerate(figures))])
    return end


def _header_width(cells: list[Cell], start: int, words: tuple[tuple[str, str], ...]) -> int:
    end = start
    while end < len(cells) and _kind(cells[end], words) is not None:
        end += 1
    return end - start


def _cut(cells: list[Cell], start: int, width: int, out: list[list[Cell]], *, stop: tuple[str, ...] = (),
         rows: int | None = None) -> int:
    """Rows of `width` cells from `start`; the indicator header printed again (a page break) is passed over, and
    a row the cells run out in, or the next table's title interrupts, is kept short."""
    i, made = start, 0
    while i < len(cells) and (rows is None or made < rows):
        if made and (squash(cells[i].text).startswith(stop) or _is_title(cells[i])):
            break
        if made and rows is None and PAGE_FURNITURE.match(cells[i].text.strip()):
            i += 1
            continue
        if made and rows is None and _kind(cells[i], INDICATOR_COLUMNS) == "level1" and \
                _header_width(cells, i, INDICATOR_COLUMNS) == width:
            i += width
            continue
        end = min(i + width, len(cells))
        if made:
            end = next((j for j in range(i + 1, end) if _is_title(cells[j])), end)
        if end - i < width and rows is not None:
            break
        out.append([Cell(c.line, c.text, col) for col, c in enumerate(cells[i:end])])
        short = end - i < width
        i, made = end, made + 1
        if short:
            break
    return i


def read_selfevals(grid: Grid, source: str, *, allow_partial: bool = False) -> list[SelfEvalTable]:
    """Every table of the grid, one per project, each starting at its title (a title printed again over a page
    without a 项目名称 goes on with the table before); an error names the cell or header that could not be read.
    `allow_partial` keeps the complete rows of a table cut off at the end."""
    rows = columnize(grid)
    starts = [i for i, row in enumerate(rows) if any(_is_title(c) for c in row)] or [0]
    blocks: list[tuple[int, list[list[Cell]]]] = []
    for n, start in enumerate(starts):
        block = rows[0 if n == 0 else start:starts[n + 1] if n + 1 < len(starts) else len(rows)]
        if blocks and not any(squash(c.text).startswith("项目名称") for row in block for c in row):
            blocks[-1][1].extend(block)
        else:
            blocks.append((start, block))
    tables: list[SelfEvalTable] = []
    names: dict[str, int] = {}
    for start, block in blocks:
        table = _read_table(block, source, marks_empty=grid.marks_empty, allow_partial=allow_partial,
                            year=tables[-1].year if tables else None)
        table.layout, table.line = grid.family, rows[start][0].line if rows else None
        names[table.name] = names.get(table.name, 0) + 1
        table.import_key = table.name if names[table.name] == 1 else f"{table.name}#{names[table.name]}"
        tables.append(table)
    return tables


def _read_table(rows: list[list[Cell]], source: str, *, marks_empty: bool, allow_partial: bool,
                year: int | None) -> SelfEvalTable:
    title_text = next((c.text for row in rows[:10] for c in row if TITLE in squash(c.text)), "")
    year_match = YEAR.search(squash(title_text)) or next(
        (m for row in rows[:10] for c in row if (m := YEAR.search(squash(c.text)))), None)
    if year_match is None and year is None:
        raise ImportFailure("自评表中没有年度（如「2024年度」）",
                            en="the self-evaluation names no year (such as 「2024年度」)",
                            file=source, line=rows[0][0].line if rows else None,
                            field_name="年度")
    name_cell = _value_after(rows, "项目名称")
    if name_cell is None:
        raise ImportFailure("自评表中没有项目名称", en="the self-evaluation names no project (「项目名称」)",
                            file=source, line=rows[0][0].line if rows else None,
                            field_name="项目名称")
    department = _value_after(rows, "主管部门")
    code = dept_name = None
    if department is not None:
        m = re.match(r"^\s*(\d+)\s*[-－—]\s*(.+?)\s*$", department.text)
        code, dept_name = (m.group(1), m.group(2)) if m else (None, department.text.strip())
    unit_cell = _value_after(rows, "实施单位")
    name = name_cell.text.strip()
    if (prefixed := CODE_PREFIX.match(name)) is not None:
        name = prefixed.group(2)
    table = _funds(rows, source, year=int(year_match.group(1)) if year_match else year, code=code,
                   dept_name=dept_name, name=name, unit=unit_cell.text.strip() if unit_cell else None)
    _indicators(rows, table, source, marks_empty=marks_empty, allow_partial=allow_partial)
    return table


def _funds(rows: list[list[Cell]], source: str, **known: Any) -> SelfEvalTable:
    """The row under 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分, amounts scaled to 元 by the unit."""
    header_at = next((i for i, row in enumerate(rows) if "initial" in _columns(row, FUND_COLUMNS)
                      and "spent" in _columns(row, FUND_COLUMNS)), None)
    if header_at is None:
        raise ImportFailure(f"自评表「{known['name']}」中没有「年初预算数 全年预算数 全年执行数」表头",
                            en=f"the self-evaluation 「{known['name']}」 has no funds header 「年初预算数 全年预算数 "
                               "全年执行数」", file=source,
                            line=rows[0][0].line, field_name="年初预算数")
    header = _columns(rows[header_at], FUND_COLUMNS)
    unit = next((u for c in rows[header_at] if (u := unit_in(c.text)) is not None), None)
    if unit not in UNITS:
        raise ImportFailure("资金表头没有写明金额单位（元 或 万元）",
                            en="the funds header does not say its unit (元 or 万元)",
                            file=source, line=rows[header_at][0].line,
                            field_name="项目资金")
    scale = UNITS[unit]
    if header_at + 1 >= len(rows):
        line = rows[header_at][-1].line
        raise ImportFailure(f"资金表头（第{line}行）之后没有资金行",
                            en=f"no funds row follows the funds header (line {line})",
                            file=source, line=line, field_name="年初预算数")
    row = rows[header_at + 1]

    def amount(kind: str, what: str) -> Decimal:
        cell = _at(row, header.get(kind))
        if cell is None:
            raise ImportFailure(f"第{row[0].line}行缺少{what}", en=f"line {row[0].line} has no 「{what}」",
                                file=source, line=row[0].line, field_name=what)
        return (number(cell, what, source) * scale).quantize(Decimal("0.01"))

    def printed(kind: str, what: str, percent: bool = False) -> Decimal | None:
        cell = _at(row, header.get(kind))
        return None if cell is None else number(cell, what, source, percent=percent)

    return SelfEvalTable(
        source=source, year=known["year"], department_code=known["code"], department_name=known["dept_name"],
        name=known["name"], implementing_unit=known["unit"], initial_budget=amount("initial", "年初预算数"),
        budget=amount("budget", "全年预算数"), spent=amount("spent", "全年执行数"),
        execution_points=printed("points", "分值"), execution_rate=printed("rate", "执行率", percent=True),
        execution_score=printed("score", "得分"), funds_line=row[0].line, total_score=None, total_line=None,
        funds_unit=unit)


def _indicators(rows: list[list[Cell]], table: SelfEvalTable, source: str, *, marks_empty: bool,
                allow_partial: bool) -> None:
    """The rows under the indicator header up to the 合计/总分 row. Without that row (nor a closing row such as
    评价结论) the table was cut off: refused naming the line, or under `allow_partial` the complete rows are
    kept and a last row that stops short is listed as incomplete."""
    header_at = next((i for i, row in enumerate(rows) if "level1" in _columns(row, INDICATOR_COLUMNS)), None)
    if header_at is None:
        raise ImportFailure(f"自评表「{table.name}」中没有「一级指标 二级指标 三级指标」表头",
                            en=f"the self-evaluation 「{table.name}」 has no indicator header 「一级指标 二级指标 "
                               "三级指标」", file=source,
                            line=rows[-1][-1].line, field_name="一级指标")
    header = _columns(rows[header_at], INDICATOR_COLUMNS)
    width = len(rows[header_at])
    line = rows[header_at][0].line
    for kind, word in (("name", "三级指标"), ("target", "年度指标值"), ("actual", "实际完成值"), ("points", "分值"),
                       ("score", "得分")):
        if kind not in header:
            raise ImportFailure(f"指标表头（第{line}行）中没有「{word}」列",
                                en=f"the indicator header (line {line}) has no 「{word}」 column",
                                file=source, line=line, field_name=word)
    level1 = level2 = ""
    body = rows[header_at + 1:]
    closed = False
    for index, row in enumerate(body):
        first = squash(row[0].text)
        if first.startswith(TOTAL_WORDS):
            cell = _at(row, header["score"])
            table.total_score = None if cell is None else number(cell, "总分", source)
            table.total_line = row[0].line
            closed = True
            break
        if first.startswith(END_WORDS):
            closed = True
            break
        found = _columns(row, INDICATOR_COLUMNS)
        if ("level1" in found and "name" in found) or any(_is_title(c) for c in row):
            continue  # the title or the header printed again where the table goes on over a page
        last = index == len(body) - 1
        name = _at(row, header["name"])
        points = _at(row, header["points"])
        if last and ((marks_empty and len(row) < width) or (name is not None and points is None)):
            table.incomplete.append(Rejected(line=row[0].line, text=" ".join(c.text for c in row if c.text),
                                             reason=CUT_OFF, project=table.name))
            break
        if (cell := _at(row, header.get("level1"))) is not None:
            level1 = LEVEL1.get(squash(cell.text), squash(cell.text))
        if (cell := _at(row, header.get("level2"))) is not None:
            label = as_level2(squash(cell.text))
            level2 = label.canonical if label else LEVEL2_EXTRA.get(squash(cell.text), squash(cell.text))
        if name is None:
            continue
        if points is None:
            raise ImportFailure(f"第{name.line}行「{name.text}」没有分值",
                                en=f"line {name.line}: 「{name.text}」 has no points (分值)",
                                file=source, line=name.line, field_name="分值")
        score = _at(row, header["score"])
        target = "".join(c.text.strip() for k in ("comparator", "target", "unit")
                         if (c := _at(row, header.get(k))) is not None)
        actual, reason = (_at(row, header.get(k)) for k in ("actual", "reason"))
        table.indicators.append(SelfEvalIndicator(
            level1=level1 or level1_of(level2), level2=level2, name=name.text.strip(),
            target=target, actual=actual.text.strip() if actual else None,
            points=number(points, "分值", source), score=None if score is None else number(score, "得分", source),
            reason=reason.text.strip() if reason else None, line=name.line))
    if not closed:
        table.cut_at = rows[-1][-1].line
        if not allow_partial:
            raise ImportFailure(f"自评表「{table.name}」在第{table.cut_at}行被截断：指标行之后没有「合计」或「总分」行"
                                + PARTIAL_HINT,
                                en=f"the self-evaluation 「{table.name}」 is cut off at line {table.cut_at}: no "
                                   "「合计」 or 「总分」 row after its indicator rows" + PARTIAL_HINT_EN,
                                file=source, line=table.cut_at, field_name="合计")
    if not table.indicators:
        raise ImportFailure(f"指标表头（第{line}行）之后没有读到任何完整的指标",
                            en=f"no complete indicator was read after the indicator header (line {line})",
                            file=source, line=line,
                            field_name="三级指标")


def plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def as_document(tables: list[SelfEvalTable], sha256: str, fmt: str) -> ParsedDocument:
    """The targets and weights of the tables as the target importer stores them (年初预算数 as the annual funds),
    each indicator with its printed results and each cut-off row listed, so a dry run shows what the file says.
    The projects of one file belong to one department: a table naming another is refused."""
    first = tables[0]
    doc = ParsedDocument(source_file=first.source, sha256=sha256, format=fmt, layout=first.layout,
                         department_code=first.department_code, department_name=first.department_name,
                         year=first.year, table_count=len(tables))
    for table in tables:
        if table.year != first.year or (table.department_code or first.department_code) != first.department_code:
            raise ImportFailure(f"自评表「{table.name}」（第{table.line}行起）与第一张表的年度或主管部门不同；"
                                "请分成两个文件导入",
                                en=f"the self-evaluation 「{table.name}」 (from line {table.line}) names another "
                                   "year or department than the first table: import them as two files",
                                file=table.source, line=table.line, field_name="主管部门")
        project = ParsedProject(name=table.name, import_key=table.import_key or table.name,
                                implementing_unit=table.implementing_unit, annual_funds=table.initial_budget,
                                department_code=table.department_code, department_name=table.department_name,
                                annual_goal=table.annual_goal, layout=table.layout, funds_unit=table.funds_unit,
                                line=table.funds_line)
        for position, ind in enumerate(table.indicators, 1):
            results = {"actual": ind.actual or None, "points": plain(ind.points), "score": plain(ind.score),
                       "deviation_reason": ind.reason or None}
            project.indicators.append(ParsedIndicator(half="annual", level1=ind.level1, level2=ind.level2,
                                                      name=ind.name, value=ind.target, line=ind.line,
                                                      position=position, weight=ind.points, weighted=True,
                                                      results=results))
        doc.projects.append(project)
        doc.rejected += [Rejected(r.line, r.text, r.reason, project=project.import_key) for r in table.incomplete]
        if table.cut_at is not None:
            doc.warnings.append(f"自评表「{table.name}」在第{table.cut_at}行被截断（没有合计行）：只导入了完整的 "
                                f"{len(table.indicators)} 个指标，不完整的行 {len(table.incomplete)} 行")
        doc.indicator_rows += len(table.indicators) + len(table.incomplete)
    return doc
