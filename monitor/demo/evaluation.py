"""The demo's evaluation step: evaluate what the earlier steps stored, as of the demo's date, and show the
lights per department and project."""

from __future__ import annotations

from rich.table import Table

from monitor.demo.context import DemoContext
from monitor.evaluation.run import run_evaluation
from monitor.evaluation.summary import LIGHT_STYLE, print_summary
from rules.lights import department_summary
from rules.terms import LIGHT_SHORT_NAMES, LIGHTS


def evaluate_demo(context: DemoContext) -> None:
    console = context.console
    console.print(f"\n[bold]评估[/bold]（截至 {context.as_of.isoformat()}，可用 `kpiwatch demo --as-of` 修改）")
    summary = run_evaluation(context.engine, context.settings, as_of=context.as_of, collect=True)
    projects = summary.project_states
    if projects is not None and len(projects):
        counts = department_summary(projects, projects).merge(
            projects[["department_id", "department_code", "department"]].drop_duplicates(), on="department_id")
        table = Table(title="各部门项目灯数")
        for column in ("部门", "项目数", *(LIGHT_SHORT_NAMES[k] for k in LIGHTS),
                       "资金红", "资金黄"):
            table.add_column(column)
        for row in counts.sort_values("department_code").itertuples():
            table.add_row(f"{row.department_code} {row.department}", str(row.projects),
                          *(f"[{LIGHT_STYLE[k]}]{getattr(row, k)}[/]" for k in LIGHTS),
                          str(row.budget_red), str(row.budget_yellow))
        console.print(table)
    print_summary(summary, console)
