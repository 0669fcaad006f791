"""The overview as an Excel workbook: the rows the page shows, in its order, every cell a value (never a formula:
a department name is text even when it starts with "=", through `spreadsheets.cells.put`)."""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.styles import Font

from monitor.spreadsheets.cells import put
from monitor.spreadsheets.layout import set_column_widths
from monitor.web.overview import DepartmentLine, Overview
from rules.terms import LIGHT_NAMES, LIGHTS, NOT_EVALUATED

HEADERS: tuple[str, ...] = ("部门编码", "部门", "项目数", *(LIGHT_NAMES[light] for light in LIGHTS), NOT_EVALUATED,
                            "逾期项数", "逾期期数", "即将到期", "全年预算数（万元）", "执行数（万元）", "执行率（%）",
                            "执行率÷序时进度（%）", "填报完整率（%）", "最近动态")


def _wan(value) -> float | None:
    """元 → 万元 with two decimals, as the tables print money (a number cell, so it sums in Excel)."""
    return None if value is None else round(float(value) / 10000, 2)


def _percent(value) -> float | None:
    return None if value is None else round(float(value), 1)


def overview_xlsx(overview: Overview, lines: list[DepartmentLine], t: Callable[[str], str]) -> bytes:
    """One sheet: a title line naming the year and dates, the header, one row per department."""
    wb = Workbook()
    ws = wb.active
    ws.title = t("部门总览")
    title = (f"{overview.year} {t('部门总览')} · {t('截至日期')} {overview.as_of.isoformat()} · "
             f"{t('序时进度')} {_percent(overview.time_progress)}%")
    put(ws.cell(1, 1), title).font = Font(bold=True)
    for column, header in enumerate(HEADERS, start=1):
        put(ws.cell(2, column), t(header)).font = Font(bold=True)
    for row, line in enumerate(lines, start=3):
        values = [line.code, line.name, line.projects, *(line.lights.get(light, 0) for light in LIGHTS),
                  line.not_evaluated, line.overdue.items, line.overdue.periods, line.due_soon, _wan(line.budget),
                  _wan(line.spent), _percent(line.execution), _percent(overview.ratio(line)),
                  _percent(line.completeness), line.activity.strftime("%Y-%m-%d %H:%M") if line.activity else ""]
        for column, value in enumerate(values, start=1):
            put(ws.cell(row, column), value)
    ws.freeze_panes = "C3"
    set_column_widths(ws, [10, 30, 7] + [7] * (len(LIGHTS) + 1) + [9, 9, 9, 15, 15, 11, 16, 13, 17], fit=False)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
