"""`kpiwatch adjust request|approve|reject|list`: target adjustments (目标调整) from the command line, through the
same service as the portal and the API (same refusals, same audit trail; channel "cli")."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

import typer
from sqlmodel import Session

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.cli.common import acting_as, parse_day
from monitor.progress import adjustments as service
from monitor.progress.adjustments import AdjustmentRefused, AdjustmentView
from monitor.store.models import User
from monitor.store.types import SHANGHAI

app = typer.Typer(help="目标调整：部门申请调整指标值，财政局审批。", no_args_is_help=True)

USER = typer.Option(..., "--user", "-u", help="以哪个用户的身份操作（申请：部门经办人/负责人；审批：财政局管理员）")


def act_as(username: str) -> AbstractContextManager[tuple[Session, User]]:
    return acting_as(username, (NotAllowed, NotVisible, AdjustmentRefused))


def line(view: AdjustmentView) -> str:
    """One adjustment as the CLI prints it: id, status, where, 原目标 → 调整后目标, from when, why."""
    text = (f"#{view.id} [{view.status_name}] {view.department_code} {view.project} / {view.indicator}："
            f"{view.original_text} → {view.value_text}，{view.effective_on.isoformat()} 起；理由：{view.reason}")
    if view.flag:
        text += f"（! {view.flag}）"
    if view.decision_note:
        text += f"；审批意见：{view.decision_note}"
    return text


@app.command("request")
def request_command(
    indicator: int = typer.Argument(..., help="指标编号"),
    value: str = typer.Option(..., "--value", help="调整后的指标值，例如 ≥6000人"),
    reason: str = typer.Option(..., "--reason", help="调整理由"),
    effective_on: str | None = typer.Option(None, "--effective-on", help="生效日期 YYYY-MM-DD，默认当天"),
    user: str = USER,
) -> None:
    """部门申请调整一个指标的指标值（财政局批准后自生效日期起生效）。"""
    with act_as(user) as (session, owner):
        row = service.request_adjustment(session, owner, indicator, text=value, reason=reason,
                                         effective_on=parse_day(effective_on, "--effective-on"), channel="cli",
                                         today=datetime.now(SHANGHAI).date())
        typer.echo("已提交目标调整申请：" + line(service.view_of(session, row)))


@app.command("approve")
def approve_command(
    adjustment: int = typer.Argument(..., help="目标调整编号"),
    note: str | None = typer.Option(None, "--note", help="审批意见"),
    effective_on: str | None = typer.Option(None, "--effective-on", help="另定生效日期 YYYY-MM-DD"),
    user: str = USER,
) -> None:
    """财政局批准目标调整。"""
    with act_as(user) as (session, owner):
        row = service.approve_adjustment(session, owner, adjustment, note=note,
                                         effective_on=parse_day(effective_on, "--effective-on"), channel="cli")
        typer.echo("已批准：" + line(service.view_of(session, row)))


@app.command("reject")
def reject_command(
    adjustment: int = typer.Argument(..., help="目标调整编号"),
    note: str = typer.Option(..., "--note", help="驳回理由"),
    user: str = USER,
) -> None:
    """财政局驳回目标调整（须说明理由）。"""
    with act_as(user) as (session, owner):
        row = service.reject_adjustment(session, owner, adjustment, note=note, channel="cli")
        typer.echo("已驳回：" + line(service.view_of(session, row)))


@app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help="proposed | approved | rejected"),
    project: int | None = typer.Option(None, "--project", help="只列出该项目的"),
    user: str = USER,
) -> None:
    """列出目标调整（财政局：全部；部门：本部门的），最新在前。"""
    with act_as(user) as (session, owner):
        views = service.list_adjustments(session, owner, status=status, project_id=project)
        for view in views:
            typer.echo(line(view))
        if not views:
            typer.echo("没有目标调整")
