"""`kpiwatch report-progress FILE --user U`: the upload's rules from the command line."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer

from monitor.accounts import users as user_service
from monitor.accounts.permissions import NotAllowed
from monitor.cli.common import load_settings, open_store
from monitor.progress.workbook import UploadRejected, import_upload, parse_upload
from monitor.store.db import session_scope, write_turn
from monitor.store.types import SHANGHAI


def report_progress_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="填好的 .xlsx 或 .csv（从门户下载的填报表）"),
    user: str = typer.Option(..., "--user", "-u", help="以哪个用户的身份填报（决定可填的部门）"),
    today: str | None = typer.Option(None, help="以此日期为“今天”校验日期 (YYYY-MM-DD)，默认当天"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只校验，不保存"),
) -> None:
    """导入填报表：整表校验，全部保存或全部不保存；重复导入不会重复保存。"""
    try:
        today_date = date.fromisoformat(today) if today else datetime.now(SHANGHAI).date()
    except ValueError as exc:
        raise typer.BadParameter(f"--today: expected YYYY-MM-DD, got {today!r}") from exc
    settings = load_settings()
    parsed = parse_upload(file.name, file.read_bytes(), settings.limits)
    with open_store(settings) as engine:
        try:
            with session_scope(engine) as session, write_turn(session):
                owner = user_service.get_user(session, user)
                if owner.disabled:
                    raise user_service.AccountError(f"用户 {user} 已停用 (user disabled)")
                result = import_upload(session, owner, parsed, channel="cli", today=today_date)
                if dry_run:
                    session.rollback()
        except UploadRejected as exc:
            for problem in exc.problems:
                typer.echo(f"{file}: {problem}", err=True)
            typer.echo(f"{file}: 有 {len(exc.problems)} 处问题，未保存任何内容 (nothing stored)", err=True)
            raise typer.Exit(1) from exc
        except (user_service.AccountError, NotAllowed) as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
    for notice in result.notices:
        typer.echo(f"{file}: {notice}")
    verb = "校验通过（未保存）" if dry_run else "已保存"
    typer.echo(f"{file}: {verb} {result.stored_reports} 条指标填报、{result.stored_spending} 条支出；"
               f"{result.unchanged} 条与已有记录相同")
