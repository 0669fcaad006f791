"""The lights of one evaluation run as a console table: what `kpiwatch evaluate` and the demo print.

It lives with the evaluation, not in the CLI, because the demo shows the same table and must not import
the command line.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from monitor.evaluation.run import RunSummary
from rules.terms import LIGHT_SHORT_NAMES

LIGHT_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green", "blue": "blue", "grey": "dim"}


def print_summary(summary: RunSummary, console: Console) -> None:
    """Lights per department and project: what the demo and `kpiwatch evaluate` show."""
    projects = summary.project_states
    if projects is None or projects.empty:
        console.print(f"评估日期 {summary.as_of.isoformat()}：没有可评估的项目（库中尚无项目）。")
        return
    table = Table(title=f"评估结果（截至 {summary.as_of.isoformat()}）")
    table.add_column("部门")
    table.add_column("项目", no_wrap=True)
    table.add_column("指标")
    table.add_column("资金")
    table.add_column("说明（指标灯计数；资金执行）", overflow="fold")
    for row in projects.sort_values(["department_code", "project_id"]).itertuples():
        table.add_row(
            str(row.department_code), row.project,
            f"[{LIGHT_STYLE[row.light]}]{LIGHT_SHORT_NAMES[row.light]}[/]",
            f"[{LIGHT_STYLE[row.budget_light]}]{LIGHT_SHORT_NAMES[row.budget_light]}[/]", row.reason,
        )
    console.print(table)
    counts = "  ".join(f"{LIGHT_SHORT_NAMES[k]} {v}" for k, v in sorted(summary.lights.items()))
    console.print(f"共 {summary.projects} 个项目、{summary.indicators} 条指标状态（{counts}）；"
                  f"本次变化 {summary.changes} 条；用时 {summary.seconds:.2f} 秒。")
