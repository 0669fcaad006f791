"""`kpiwatch report …`: the monitoring table, the self-evaluation, the department summary and the bureau
ranking as HTML, Excel or PDF files; and a person's band score / 偏差原因 text for the self-evaluation."""

from __future__ import annotations

from pathlib import Path

import typer

from monitor.cli.common import load_settings, open_store
from monitor.reports import FORMATS, ReportRequest, produce
from monitor.reports.data import ReportError
from monitor.store.db import session_scope
from rules.scoring import BandError

app = typer.Typer(help="报告：绩效运行监控表、绩效自评表、部门汇总、部门排名。", no_args_is_help=True)

YEAR = typer.Option(..., "--year", help="预算年度，例如 2024")
DEPARTMENT = typer.Option(None, "--department", help="部门代码（例如 144）；默认全部部门")
PROJECT = typer.Option(None, "--project", help="项目编号；默认全部项目")
FORMAT = typer.Option(None, "--format", help="html | xlsx | pdf（默认按 --out 的扩展名）")
OUT = typer.Option(..., "--out", help="输出文件")


def _write(kind: str, year: int, fmt: str | None, out: Path, **scope) -> None:
    fmt = (fmt or out.suffix.lstrip(".") or "html").lower()
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format: 应为 {' | '.join(FORMATS)}，得到 {fmt!r}")
    settings = load_settings()
    try:
        with open_store(settings) as engine, session_scope(engine) as session:
            data = produce(session, ReportRequest(kind, year, fmt, **scope), settings)
    except (ReportError, ValueError) as exc:
        typer.echo(f"无法生成报告：{exc}", err=True)
        raise typer.Exit(1) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(f"已生成 {out}（{len(data):,} 字节）")


@app.command("monitor")
def monitor_command(year: int = YEAR,
                    through: int = typer.Option(None, "--through", min=1, max=12,
                                                help="数据截至月份（默认：年度设置，"
                                                     "否则 config.toml 的 reports.monitor_through_month）"),
                    department: str = DEPARTMENT, project: int = PROJECT, fmt: str = FORMAT, out: Path = OUT) -> None:
    """项目支出绩效目标执行监控表（1-X月）。"""
    _write("monitor", year, fmt, out, through=through, department=department, project_id=project)


@app.command("selfeval")
def selfeval_command(year: int = YEAR, department: str = DEPARTMENT, project: int = PROJECT, fmt: str = FORMAT,
                     out: Path = OUT) -> None:
    """项目支出绩效自评表（按 config.toml 的 scoring 一节计分）。"""
    _write("selfeval", year, fmt, out, department=department, project_id=project)


@app.command("summary")
def summary_command(year: int = YEAR, department: str = DEPARTMENT, fmt: str = FORMAT, out: Path = OUT) -> None:
    """部门项目绩效自评汇总（每个部门一张表）。"""
    _write("summary", year, fmt, out, department=department)


@app.command("ranking")
def ranking_command(year: int = YEAR, fmt: str = FORMAT, out: Path = OUT) -> None:
    """财政局视图：各部门自评平均得分排名。"""
    _write("ranking", year, fmt, out)


@app.command("score")
def score_command(year: int = YEAR, indicator: int = typer.Option(..., "--indicator", help="指标编号"),
                  score: str = typer.Option(None, "--score", help="定性指标的人工得分（须在等级区间内）"),
                  explanation: str = typer.Option(None, "--explanation", help="偏差原因分析及改进措施")) -> None:
    """记录定性指标的人工得分和/或偏差原因分析及改进措施（追加新版本，不覆盖旧记录）。"""
    from monitor.reports.entries import record_entry

    settings = load_settings()
    try:
        with open_store(settings) as engine, session_scope(engine) as session:
            entry = record_entry(session, indicator_id=indicator, year=year, rules=settings.scoring, score=score,
                                 explanation=explanation, channel="cli")
            typer.echo(f"已保存（第 {entry.revision} 版）")
    except (BandError, ReportError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@app.command("cutoff")
def cutoff_command(year: int = YEAR,
                   month: int = typer.Option(None, "--month", min=1, max=12,
                                             help="该年度监控表的数据截至月份；不填则显示当前设置"),
                   clear: bool = typer.Option(False, "--clear",
                                              help="取消该年度的设置，回到 config.toml 的默认值")) -> None:
    """查看或设置某一年度监控表的数据截至月份（各地做法不同：1-6月、1-7月、1-8月……）。"""
    from sqlmodel import select

    from monitor.store.models import BudgetYear

    settings = load_settings()
    with open_store(settings) as engine, session_scope(engine) as session:
        budget_year = session.exec(select(BudgetYear).where(BudgetYear.year == year)).first()
        if budget_year is None:
            typer.echo(f"没有 {year} 年度的数据", err=True)
            raise typer.Exit(1)
        if clear or month is not None:
            budget_year.monitor_through_month = None if clear else month
            session.add(budget_year)
        current = budget_year.monitor_through_month
    default = settings.reports.monitor_through_month
    typer.echo(f"{year} 年度监控表数据截至 {current or default} 月底" + ("" if current else "（默认值）"))


@app.command("review")
def review_command(year: int = YEAR, department: str = DEPARTMENT,
                   fmt: str = typer.Option("json", "--format", help="html | xlsx | json（默认 json）"),
                   out: Path | None = typer.Option(None, "--out", help="输出文件；json 默认输出到屏幕")) -> None:
    """自评复核：按 kpiwatch 规则重新计分，与部门自评得分逐项对比并列出每处不一致及原因。"""
    import json

    from monitor.reports.review import build_review, review_html, review_json, review_xlsx

    fmt = fmt.lower()
    if fmt not in ("html", "xlsx", "json"):
        raise typer.BadParameter(f"--format: 应为 html | xlsx | json，得到 {fmt!r}")
    if fmt != "json" and out is None:
        raise typer.BadParameter("--out: html 和 xlsx 需要输出文件")
    settings = load_settings()
    try:
        with open_store(settings) as engine, session_scope(engine) as session:
            projects = build_review(session, year, settings.scoring, department=department)
    except ReportError as exc:
        typer.echo(f"无法生成复核：{exc}", err=True)
        raise typer.Exit(1) from exc
    if fmt == "json":
        text = json.dumps(review_json(projects), ensure_ascii=False)
        if out is None:
            typer.echo(text)
            return
        data = text.encode()
    else:
        data = review_xlsx(projects, year) if fmt == "xlsx" else review_html(projects, year).encode()
    assert out is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(f"已生成 {out}（{len(data):,} 字节）")
