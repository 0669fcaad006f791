"""`kpiwatch users add|list|disable|enable|set-password|set-role`: portal and API accounts."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import select

from monitor.accounts import users as user_service
from monitor.accounts.passwords import WeakPassword
from monitor.cli.common import open_store
from monitor.store.db import session_scope
from monitor.store.models import Department
from monitor.store.models.accounts import USER_ROLES

app = typer.Typer(help="用户账号：添加、列出、停用 (portal and API accounts).", no_args_is_help=True)


def cli_actor() -> str:
    """Who did it, for the audit trail: the operating-system account running the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


@app.command("add")
def add(
    username: str = typer.Argument(..., help="登录名"),
    role: str = typer.Option("clerk", help=f"角色：{' / '.join(USER_ROLES)}"),
    department: str | None = typer.Option(None, "--department", "-d", help="部门代码（经办人、负责人必填）"),
    name: str = typer.Option("", help="显示名称"),
    email: str | None = typer.Option(None, help="电子邮箱"),
    password: str = typer.Option(..., prompt="密码 (password)", hide_input=True, confirmation_prompt=True,
                                 help="至少 8 个字符；不给则交互输入"),
) -> None:
    """添加用户。"""
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                user = user_service.create_user(session, username=username, password=password, role=role,
                                                department_code=department, display_name=name, email=email,
                                                actor=cli_actor(), channel="cli")
                typer.echo(f"已添加用户 {user.username}（{user.role}）")
        except (user_service.AccountError, WeakPassword) as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc


@app.command("list")
def list_(all_: bool = typer.Option(True, "--all/--active", help="包括已停用的账号")) -> None:
    """列出用户。"""
    with open_store() as engine, session_scope(engine) as session:
        names = dict(session.exec(select(Department.id, Department.code)).all())
        table = Table("用户名", "名称", "角色", "部门", "状态", "最近登录")
        for u in user_service.list_users(session):
            if u.disabled and not all_:
                continue
            table.add_row(u.username, u.display_name, u.role, names.get(u.department_id, "—"),
                          "停用" if u.disabled else "有效",
                          u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "—")
        Console().print(table)


def _set_disabled(username: str, disabled: bool) -> None:
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                user_service.set_disabled(session, username, disabled, actor=cli_actor(), channel="cli")
        except user_service.AccountError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"{username} 已{'停用' if disabled else '启用'}")


@app.command("disable")
def disable(username: str) -> None:
    """停用用户（其所有会话立即结束，令牌失效）。"""
    _set_disabled(username, True)


@app.command("enable")
def enable(username: str) -> None:
    """重新启用用户。"""
    _set_disabled(username, False)


@app.command("set-password")
def set_password(username: str, password: str = typer.Option(..., prompt="新密码 (new password)", hide_input=True,
                                                              confirmation_prompt=True)) -> None:
    """重设密码（其所有会话立即结束，登录失败计数清零）。"""
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                user_service.set_password(session, username, password, actor=cli_actor(), channel="cli")
        except (user_service.AccountError, WeakPassword) as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"{username} 的密码已更新")


@app.command("set-role")
def set_role(
    username: str,
    role: str = typer.Argument(..., help=f"新角色：{' / '.join(USER_ROLES)}"),
    department: str | None = typer.Option(None, "--department", "-d", help="部门代码（经办人、负责人；不给则不变）"),
) -> None:
    """更改角色（及部门）；其所有会话立即结束。"""
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                user = user_service.set_role(session, username, role, department_code=department,
                                             actor=cli_actor(), channel="cli")
                typer.echo(f"{user.username} 的角色已改为 {user.role}")
        except user_service.AccountError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
