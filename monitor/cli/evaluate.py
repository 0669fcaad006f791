"""`kpiwatch evaluate`: evaluate once, store the lights, and print them (a table, or JSON for scripts)."""

from __future__ import annotations

import json
import math
from datetime import date

import typer
from rich.console import Console

from monitor.cli.common import load_settings, open_store
from monitor.evaluation.run import EvaluationBusy, RunSummary, UnknownDepartment, run_evaluation
from monitor.evaluation.summary import print_summary
from monitor.store.types import now


def evaluate_command(
    as_of: str = typer.Option(None, "--as-of", help="评估日期 YYYY-MM-DD（默认：北京时间今天）"),
    department: str = typer.Option(None, "--department", help="只评估该部门代码，例如 144"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出每个指标的结果"),
    store: bool = typer.Option(True, "--store/--no-store", help="保存结果（默认），或 --no-store 只显示不保存"),
) -> None:
    """评估一次：计算每个指标的红黄绿灯并保存。"""
    try:
        day = date.fromisoformat(as_of) if as_of else now().date()
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of：日期应写成 YYYY-MM-DD（例如 2024-02-29），得到 {as_of!r}") from exc
    settings = load_settings()
    with open_store(settings) as engine:
        try:
            summary = run_evaluation(engine, settings, as_of=day, department=department, store=store, collect=True)
        except (UnknownDepartment, EvaluationBusy) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(to_json(summary), ensure_ascii=False, indent=2))
    else:
        print_summary(summary, Console())


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)


def to_json(summary: RunSummary) -> dict:
    states = summary.states
    items = []
    if states is not None and len(states):
        for row in states.sort_values(["department_id", "project_id", "indicator_id", "occurrence"]).itertuples():
            items.append({
                "department": row.department_code, "project": row.project, "indicator": row.indicator,
                "occurrence": row.occurrence or None,
                "light": row.light, "status": row.status, "expected": _number(row.expected),
                "actual": _number(row.actual), "ratio": _number(row.ratio), "forecast": _number(row.forecast),
                "likelihood": row.likelihood if isinstance(row.likelihood, str) else None, "reason": row.reason,
                "indicator_id": int(row.indicator_id), "project_id": int(row.project_id),
            })
    return {"as_of": summary.as_of.isoformat(), "run_id": summary.run_id, "lights": summary.lights,
            "project_lights": summary.project_lights, "indicators": items}
