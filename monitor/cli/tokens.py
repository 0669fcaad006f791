"""`kpiwatch tokens create|list|revoke`: bearer tokens for the REST API."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from monitor.accounts import tokens as token_service
from monitor.accounts import users as user_service
from monitor.cli.common import open_store
from monitor.cli.users import cli_actor
from monitor.store.db import session_scope
from monitor.store.models import User

app = typer.Typer(help="API 令牌：创建、列出、吊销 (REST API bearer tokens).", no_args_is_help=True)


@app.command("create")
def create(user: str = typer.Option(..., "--user", "-u", help="令牌所属用户"),
           name: str = typer.Option("", help="用途说明，例如 “财务系统对接”")) -> None:
    """创建令牌；令牌只显示这一次。"""
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                owner = user_service.get_user(session, user)
                row, plain = token_service.create_token(session, owner, name, actor=cli_actor(), channel="cli")
        except (user_service.AccountError, token_service.TokenError) as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"令牌 #{row.id}（只显示一次，请妥善保存）：", err=True)
    typer.echo(plain)


@app.command("list")
def list_(user: str | None = typer.Option(None, "--user", "-u")) -> None:
    """列出令牌（不显示令牌本身）。"""
    with open_store() as engine, session_scope(engine) as session:
        owner = user_service.get_user(session, user) if user else None
        table = Table("#", "用户", "名称", "前缀", "创建", "状态")
        for row in token_service.list_tokens(session, owner):
            u = session.get(User, row.user_id)
            table.add_row(str(row.id), u.username if u else "?", row.name, row.prefix + "…",
                          row.created_at.isoformat(timespec="minutes") if row.created_at else "",
                          "已吊销" if row.revoked_at else "有效")
        Console().print(table)


@app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="令牌编号 (#)")) -> None:
    """吊销令牌，立即失效。"""
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                token_service.revoke_token(session, token_id, actor=cli_actor(), channel="cli")
        except token_service.TokenError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"令牌 #{token_id} 已吊销")
