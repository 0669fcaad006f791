"""`kpiwatch budget`: the finance bureau's budget adjustments (预算调整) from the command line."""

from __future__ import annotations

from datetime import date, datetime

import typer
from sqlmodel import Session

from monitor.accounts import users as user_service
from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.cli.common import open_store
from monitor.progress.budget import adjustment_history, budget_figures, record_adjustment
from monitor.progress.entries import read_adjustment
from monitor.progress.validation import ValidationFailed
from monitor.store import facts
from monitor.store.db import session_scope, write_turn
from monitor.store.models import Project, User
from monitor.store.types import SHANGHAI
from rules.terms import FUND_SOURCES

app = typer.Typer(help="项目预算：年初预算数、预算调整、全年预算数 (budgets and their adjustments)",
                  no_args_is_help=True)


def _today(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else datetime.now(SHANGHAI).date()
    except ValueError as exc:
        raise typer.BadParameter(f"--today: expected YYYY-MM-DD, got {text!r}") from exc


def _user(session: Session, name: str) -> User:
    owner = user_service.get_user(session, name)
    if owner.disabled:
        raise user_service.AccountError(f"用户 {name} 已停用 (user disabled)")
    return owner


@app.command("adjust")
def adjust(
    project: int = typer.Option(..., "--project", "-p", help="项目编号"),
    amount: str = typer.Option(..., "--amount", help="调整金额（元），调减为负数，如 --amount=-5000"),
    effective_on: str = typer.Option(..., "--on", help="调整生效日期 (YYYY-MM-DD)"),
    reason: str = typer.Option(..., "--reason", help="调整原因"),
    source: str = typer.Option("财政拨款", "--source", help=f"资金来源：{' / '.join(FUND_SOURCES.values())}"),
    supersedes: str | None = typer.Option(None, "--supersedes", help="更正哪一条调整（记录编号）；改为 0 即撤销"),
    user: str = typer.Option(..., "--user", "-u", help="财政局管理员的用户名"),
    today: str | None = typer.Option(None, help="以此日期为“今天”校验日期 (YYYY-MM-DD)，默认当天"),
) -> None:
    """记录一笔预算调整（仅财政局管理员）：保存并记入审计日志，有误则不保存。"""
    today_date = _today(today)
    entry = read_adjustment(project, amount=amount, effective_on=effective_on, reason=reason, source=source,
                            supersedes_id=supersedes)
    with open_store() as engine:
        try:
            with session_scope(engine) as session, write_turn(session):
                row = record_adjustment(session, _user(session, user), entry, channel="cli", today=today_date)
                figures = budget_figures(session, session.get_one(Project, project), today_date)
                typer.echo(f"已保存预算调整 #{row.id}：{FUND_SOURCES[row.source]} {row.amount} 元，"
                           f"{row.effective_on.isoformat()} 起；全年预算数 {figures.in_force} 元"
                           f"（年初预算数 {figures.initial if figures.initial is not None else '—'} 元）")
        except ValidationFailed as exc:
            for problem in exc.problems:
                typer.echo(f"错误：{problem}", err=True)
            typer.echo("未保存任何内容 (nothing stored)", err=True)
            raise typer.Exit(1) from exc
        except (user_service.AccountError, NotAllowed, NotVisible) as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc


@app.command("show")
def show(
    project: int = typer.Option(..., "--project", "-p", help="项目编号"),
    on: str | None = typer.Option(None, "--on", help="哪一天的全年预算数 (YYYY-MM-DD)，默认当天"),
) -> None:
    """一个项目的年初预算数、每笔预算调整（含已更正的）和某日的全年预算数。"""
    day = _today(on)
    with open_store() as engine, session_scope(engine) as session:
        found = session.get(Project, project)
        if found is None:
            typer.echo(f"错误：项目 {project} 不存在 (no such project)", err=True)
            raise typer.Exit(1)
        figures = budget_figures(session, found, day)
        history = adjustment_history(session, project)
        superseded = facts.superseded_ids(history)
        typer.echo(f"{found.name}：年初预算数 {figures.initial if figures.initial is not None else '—'} 元；"
                   f"{day.isoformat()} 全年预算数 {figures.in_force if figures.in_force is not None else '—'} 元")
        for row in reversed(history):
            state = "已被更正" if row.id in superseded else "当前有效"
            typer.echo(f"  #{row.id} r{row.revision} {row.effective_on.isoformat()} {FUND_SOURCES[row.source]} "
                       f"{row.amount} 元 {row.reason}（{state}）")
