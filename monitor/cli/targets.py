"""`kpiwatch parse-target`: show how kpiwatch reads one 指标值, so a user can check a table before importing it."""

from __future__ import annotations

import json
from datetime import datetime

import typer

from monitor.cli.common import load_settings
from rules.calendar import SHANGHAI
from rules.targets import Target, parse_target

_KIND_CN = {
    "quantity": "数量",
    "percent": "百分比",
    "deadline": "截止日期",
    "recurring": "周期性",
    "window": "时间段",
    "qualitative": "定性",
    "unparsed": "无法解析",
}
_DIRECTION_CN = {"higher_is_better": "越高越好", "lower_is_better": "越低越好", "exact": "须恰好达到",
                 "within": "须在区间之内"}
_INFERRED_CN = {"comparator": "比较符", "unit": "单位"}


def describe(target: Target) -> str:
    """One readable Chinese line: what kind of target it is, its normal form, and what was inferred."""
    parts = [f"「{target.text}」→ {_KIND_CN[target.kind]}"]
    if target.measurable:
        parts.append(target.canonical())
        if target.direction:
            parts.append(_DIRECTION_CN[target.direction])
    elif target.scheduled:
        spans = [
            o.due.isoformat() if target.kind == "deadline" else f"{o.start.isoformat()}～{o.due.isoformat()}"
            for o in target.occurrences
        ]
        shown = "，".join(spans[:4]) + (f" 等共{len(spans)}次" if len(spans) > 4 else "")
        parts.append(("截止 " if target.kind == "deadline" else "") + shown)
    if target.inferred:
        parts.append("推断：" + "、".join(_INFERRED_CN.get(i, i) for i in target.inferred))
    if target.reason:
        parts.append(("原因：" if target.kind == "unparsed" else "说明：") + target.reason)
    if target.suspicious:
        parts.append("可疑：" + target.suspicious)
    return "；".join(parts)


def parse_target_command(
    text: str = typer.Argument(..., help="指标值原文，如 \"≥3.9万人\"、\"每月20日前\""),
    year: int = typer.Option(None, "--year", "-y", help="预算年度（默认：上海时间的当前年份）"),
    level2: str = typer.Option(None, "--level2", help="二级指标，如 成本指标、时效指标（影响默认比较符与单位）"),
    name: str = typer.Option(None, "--name", help="三级指标名称；名称中的 \"(%)\" 等括号单位会被采用"),
    strict_month_before: bool = typer.Option(
        None,
        "--strict-month-before/--month-end-before",
        help="\"X月前\" 读作 X月开始之前（默认取配置 [targets] strict_month_before）",
        show_default=False,
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """解析一个指标值并显示结果 (parse one target value)."""
    if year is None:
        year = datetime.now(SHANGHAI).year
    if strict_month_before is None:
        strict_month_before = load_settings().targets.strict_month_before
    target = parse_target(text, year=year, level2=level2, name=name, strict_month_before=strict_month_before)
    if as_json:
        typer.echo(json.dumps(target.to_json(), ensure_ascii=False))
    else:
        typer.echo(describe(target))
