"""One printed 绩效目标表 (or one page of it) as the readers read it, before pages are merged into projects.

A reader turns its grid's rows into header cells and indicator entries; the header walker here serves the
template whose labels are printed in one fixed order (`twin_text.py`), however its cells are separated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from monitor.importers.document import ImportFailure, Repair
from monitor.importers.levels import squash
from monitor.importers.money import read_amount, to_yuan, unit_in
from monitor.store.types import SHANGHAI


@dataclass(slots=True)  # a text grid holds one per printed cell of the whole document
class Cell:
    line: int
    text: str
    col: int | None = None

    @property
    def key(self) -> str:
        return squash(self.text)


@dataclass
class RawEntry:
    """One half of one indicator row: its own label (if printed on that row), name and value."""

    line: int
    half: str
    row: int
    label: str | None
    name: str | None = None
    value: str | None = None
    text: str = ""
    problem: str | None = None
    level2: str | None = None
    weight: str | None = None  # the 分值/权重 cell as printed, in a table that has that column
    # a self-evaluation's cells as printed (keys of RESULT_COLUMNS' values), only for columns the table has
    results: dict[str, str | None] = field(default_factory=dict)


@dataclass
class RawTable:
    line: int
    end_line: int
    fields: dict[str, tuple[object, int]] = field(default_factory=dict)
    entries: list[RawEntry] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    scrambled: bool = False
    weighted: bool = False  # the header prints a 分值/权重 column after each 指标值
    complete: bool = False
    year: int | None = None
    amount_units: dict[str, str | None] = field(default_factory=dict)  # field → unit printed in its own cell
    indicator_header: int | None = None  # line of the 一级指标 … header row, once found
    single_column: bool = False  # one 指标值 column: every indicator is the year's, none the period's
    footer_expected: bool = False  # its template ends every table with 负责人…填报日期: without it, it was cut off

    def get(self, name: str):
        found = self.fields.get(name)
        return None if found is None else found[0]

    def line_of(self, name: str) -> int | None:
        found = self.fields.get(name)
        return None if found is None else found[1]


# header-reader column → the key its cell is shown under in `import --dry-run --json`
RESULT_COLUMNS = {"actual": "actual", "weight": "points", "score": "score", "reason": "deviation_reason"}


def results_of(values: dict[str, Cell]) -> dict[str, str | None]:
    """The result cells (实际完成值, 分值/权重, 得分, 偏差原因) of one row, as printed; blank cells are None."""
    return {key: (values[column].text.strip() or None) for column, key in RESULT_COLUMNS.items() if column in values}


TEXT_LABELS = {
    "项目概况": "overview",
    "立项依据": "basis",
    "项目设立必要性": "necessity",
    "保证项目实施的制度、措施": "measures",
    "项目实施计划": "plan",
}
SIMPLE_LABELS = {"项目名称": "name", "实施单位": "implementing_unit", "项目属性": "attribute", "项目期": "period"}
SOURCE_PREFIXES = (
    ("其中：中央财政资金", "central"),
    ("中央财政资金", "central"),
    ("省级财政资金", "provincial"),
    ("市县（区）财政资", "city_county"),
    ("单位自筹", "self_raised"),
    ("其他资金", "other"),
)
SKIP = {"实施期目标", "年度目标", "项目资金（元）", "项目资金（万元）", "项目资金", "（元）", "（万元）", "金"}
TOTAL_LABELS = ("实施期资金总额", "项目资金总额")
ANNUAL_LABELS = ("年度资金总额", "年度资金申请总额", "当年资金总额")
MONEY_LABELS = {"total_funds": "实施期资金总额", "annual_funds": "年度资金总额"}


@lru_cache(maxsize=65536)
def is_header_label(key: str) -> bool:
    if key in TEXT_LABELS or key in SIMPLE_LABELS or key in SKIP or key in ("主管部门及代码", "总体目标"):
        return True
    if key.startswith(TOTAL_LABELS + ANNUAL_LABELS + ("负责人", "经办人", "联系电话", "填报日期")):
        return True
    return any(key.startswith(p) for p, _ in SOURCE_PREFIXES)


def parse_money(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip().replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _take_amount(table: RawTable, name: str, text: str, line: int) -> bool:
    """Record an amount cell as printed (its unit settled later by `settle_amounts`); False if it is not one."""
    found = read_amount(text)
    if found is None:
        return False
    if name not in table.fields:
        table.fields[name] = (found[0], line)
        table.amount_units[name] = found[1]
    return True


def settle_amounts(table: RawTable, source: str) -> None:
    """Every amount to 元, by its own unit or the table's; an amount whose unit cannot be told is refused by cell."""
    unit = table.get("funds_unit")
    for name, unit_of_cell in list(table.amount_units.items()):
        number, line = table.fields[name]
        if number is None:
            continue
        chosen = unit_of_cell or unit
        if chosen is None and name.startswith("part_"):  # a part only checks the total: unknown, it checks nothing
            del table.fields[name], table.amount_units[name]
            continue
        if chosen is None:
            label = MONEY_LABELS.get(name, name)
            raise ImportFailure(f"金额「{number}」的单位无法确定：表头没有「（元）」「（万元）」或「金额单位：…」，"
                                "单元格本身也没有写单位；请在表头注明金额单位后再导入",
                                en=f"the unit of the amount 「{number}」 cannot be told: the header has no "
                                   "「（元）」, 「（万元）」 or 「金额单位：…」 and the cell names none; state "
                                   "the unit in the header and import again", file=source, line=line,
                                field_name=label)
        table.fields[name] = (to_yuan(Decimal(str(number)), chosen), line)


def walk_header(cells: list[Cell], table: RawTable) -> None:
    """Read label → value pairs in print order; the first of each fund source is the period's, the second the year's."""
    i = 0
    seen_sources: dict[str, int] = {}
    side_of = _source_sides(cells)
    goals: list[Cell] = []
    in_goal = False
    while i < len(cells):
        cell = cells[i]
        key = cell.key
        if "funds_unit" not in table.fields and (unit := unit_in(cell.text)) is not None:
            table.fields["funds_unit"] = (unit, cell.line)
        nxt = cells[i + 1] if i + 1 < len(cells) else None
        value = nxt if nxt is not None and not is_header_label(nxt.key) else None  # the next cell, unless a label
        if key == "总体目标":
            in_goal = True
            i += 1
            continue
        if in_goal and not is_header_label(key):
            goals.append(cell)
            i += 1
            continue
        in_goal = False
        if key in SIMPLE_LABELS:
            if value is not None:
                table.fields.setdefault(SIMPLE_LABELS[key], (value.text.strip(), value.line))
                i += 2
                continue
        elif key == "主管部门及代码":
            if value is not None:
                m = re.match(r"^\s*(\d+)\s*[-－—]\s*(.+?)\s*$", value.text)
                if m:
                    table.fields.setdefault("department_code", (m.group(1), value.line))
                    table.fields.setdefault("department_name", (m.group(2), value.line))
                else:
                    table.fields.setdefault("department_name", (value.text.strip(), value.line))
                i += 2
                continue
        elif key in TEXT_LABELS:
            if value is not None:
                table.fields.setdefault(TEXT_LABELS[key], (value.text.strip(), value.line))
                i += 2
                continue
        elif key.startswith(TOTAL_LABELS + ANNUAL_LABELS):
            name = "total_funds" if key.startswith(TOTAL_LABELS) else "annual_funds"
            rest = key.split("：", 1)[1] if "：" in key else ""
            if rest and _take_amount(table, name, rest, cell.line):
                pass
            elif nxt is not None and _take_amount(table, name, nxt.text, nxt.line):
                i += 2
                continue
        elif key.startswith("填报日期"):
            rest = key.split("：", 1)[1] if "：" in key else ""
            raw = rest or (value.text.strip() if value is not None else "")
            stamp = _parse_stamp(raw)
            if stamp is not None:
                table.fields.setdefault("filled_at", (stamp, cell.line))
            table.complete = True
            i += 2 if (not rest and value is not None) else 1
            continue
        else:
            for prefix, source in SOURCE_PREFIXES:
                if key.startswith(prefix):
                    count = seen_sources.get(source, 0)
                    seen_sources[source] = count + 1
                    half = side_of.get(id(cell)) or ("total" if count == 0 else "annual")
                    if f"{half}_{source}" not in table.fields:
                        if nxt is not None and _take_amount(table, f"{half}_{source}", nxt.text, nxt.line):
                            i += 2
                            break
                        table.fields.setdefault(f"{half}_{source}", (None, cell.line))
                    i += 1
                    break
            else:
                i += 1
            continue
        i += 1
    if goals:
        table.fields["period_goal"] = (goals[0].text.strip(), goals[0].line)
        if len(goals) >= 2:
            table.fields["annual_goal"] = (goals[1].text.strip(), goals[1].line)
        else:
            table.fields["annual_goal"] = (goals[0].text.strip(), goals[0].line)
            table.repairs.append(Repair(goals[0].line, "annual_goal", "", "（同实施期总体目标）",
                                        reason="表中只有一个总体目标单元格，年度目标取同一文字"))


def _source_label(key: str) -> bool:
    return any(key.startswith(p) for p, _ in SOURCE_PREFIXES)


def _source_sides(cells: list[Cell]) -> dict[int, str]:
    """Which half each fund-source label is in: by order when a line prints both, else by its column."""
    by_line: dict[int, list[Cell]] = {}
    for cell in cells:
        if _source_label(cell.key):
            by_line.setdefault(cell.line, []).append(cell)
    cols = next(((row[0].col, row[-1].col) for row in by_line.values()
                 if len(row) >= 2 and row[0].col is not None and row[-1].col is not None), None)
    sides: dict[int, str] = {}
    for row in by_line.values():
        if len(row) >= 2:
            sides[id(row[0])], sides[id(row[-1])] = "total", "annual"
        elif cols is not None and row[0].col is not None:
            left, right = cols
            sides[id(row[0])] = "annual" if abs(row[0].col - right) < abs(row[0].col - left) else "total"
    return sides


def _parse_stamp(raw: str) -> datetime | None:
    digits = re.sub(r"\D", "", raw)
    for fmt, size in (("%Y%m%d%H%M%S", 14), ("%Y%m%d", 8)):
        if len(digits) >= size:
            try:
                return datetime.strptime(digits[:size], fmt).replace(tzinfo=SHANGHAI)
            except ValueError:
                continue
    return None


YEAR_LINE = re.compile(r"^[（(]\s*(\d{4})\s*年度\s*[）)]$")


def is_title(line: str) -> bool:
    s = line.strip()
    return s.endswith("项目支出绩效目标表") and not s.startswith(("（", "("))
