"""A round's status as plain lines, for the command line and the demo (the portal has its own page)."""

from __future__ import annotations

from monitor.rounds.service import RoundStatus
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
