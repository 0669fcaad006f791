"""A round's status as plain lines, for the command line and the demo (the portal has its own page), and as an
Excel workbook for the bureau."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

from monitor.rounds.service import RoundStatus
from monitor.spreadsheets.cells import put
from rules.terms import ROUND_STATUS_NAMES, TASK_STATUS_NAMES


def status_lines(status: RoundStatus) -> list[str]:
    """The round, its counts by task status, then one line per department (overdue ones marked)."""
    round_ = status.round
    counts = status.counts
    lines = [f"轮次 {round_.id}：{status.title}  报送截止 {round_.due.isoformat()}  "
             f"{ROUND_STATUS_NAMES[round_.status]}",
             "   " + "  ".join(f"{name} {counts[key]}" for key, name in TASK_STATUS_NAMES.items())
             + f"  逾期 {counts['overdue']}"]
    for task in status.tasks:
        overdue = "  逾期" if task.overdue else ""
        lines.append(f"   任务 {task.task_id}  {task.department_code} {task.department_name}：{task.status_name}"
                     f"{overdue}  项目 {task.projects} 个  已上报 {task.versions} 版")
    return lines


STATUS_HEADERS = ("部门代码", "部门", "状态", "逾期", "项目数", "已上报版本", "最近上报时间")


def status_workbook(status: RoundStatus) -> bytes:
    """The round's status by department as an Excel workbook for the bureau: the counts, then one row per
    department. Every cell goes through `cells.put`, so a department or project name starting with = stays text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = "报送情况"
    round_ = status.round
    put(sheet.cell(1, 1), status.title)
    put(sheet.cell(2, 1), "报送截止日期")
    put(sheet.cell(2, 2), round_.due.isoformat())
    put(sheet.cell(2, 3), ROUND_STATUS_NAMES[round_.status])
    counts = status.counts
    for column, (key, name) in enumerate([*TASK_STATUS_NAMES.items(), ("overdue", "逾期")], start=1):
        put(sheet.cell(3, column), name)
        put(sheet.cell(4, column), counts[key])
    for column, header in enumerate(STATUS_HEADERS, start=1):
        put(sheet.cell(6, column), header)
    for row, task in enumerate(status.tasks, start=7):
        values = (task.department_code, task.department_name, task.status_name, "是" if task.overdue else "",
                  task.projects, task.versions,
                  task.last_submitted_at.strftime("%Y-%m-%d %H:%M") if task.last_submitted_at else "")
        for column, value in enumerate(values, start=1):
            put(sheet.cell(row, column), value)
    for letter, width in zip("ABCDEFG", (10, 28, 10, 6, 8, 10, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()
