"""`kpiwatch db …`: the schema of the configured store."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from monitor.cli.common import StoreUnavailable, load_settings, shown_url
from monitor.store.migrate import Plan, SchemaError, current_revision, migrate
from monitor.store.schema_lock import SchemaLockBusy

app = typer.Typer(help="数据库结构 (schema of the store).", no_args_is_help=True)

WAIT = typer.Option(True, "--wait/--no-wait", help="另一个结构变更正在进行时等待它结束（默认）；--no-wait 则立即退出")


def _show(plan: Plan) -> None:
    for line in plan.describe():
        typer.echo(line)


def _waiting(holder: str) -> None:
    typer.echo(f"另一个数据库结构变更正在进行（{holder}），等待它结束… (another schema change is running; waiting)")


def _change(revision: str, *, downgrade: bool, wait: bool, dry_run: bool) -> Plan:
    url = load_settings().database.url
    try:
        return migrate(url, revision, downgrade=downgrade, show=_show, wait=wait, waiting=_waiting, dry_run=dry_run)
    except SchemaLockBusy as exc:
        typer.echo(f"{exc}；未做任何变更 (nothing changed)", err=True)
        raise typer.Exit(1) from exc
    except SchemaError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(url, exc) from exc


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
    wait: bool = WAIT,
    dry_run: bool = typer.Option(False, "--dry-run", help="只显示将执行的变更 (show the plan, change nothing)"),
) -> None:
    """Create or migrate the database schema to the newest revision; prints the plan first."""
    plan = _change(revision, downgrade=False, wait=wait, dry_run=dry_run)
    if not dry_run:
        url = load_settings().database.url
        typer.echo(f"数据库已升级到 {plan.target} ({shown_url(url)})")


@app.command("downgrade")
def downgrade_command(
    revision: str = typer.Argument(..., help="Revision to go back to ('base' = drop every table)."),
    yes: bool = typer.Option(False, "--yes", help="确认：撤销会删除这些版本加入的表和列及其数据"),
    wait: bool = WAIT,
) -> None:
    """Undo revisions down to REVISION; what they added is dropped with its data, so back up first."""
    if not yes:
        _change(revision, downgrade=True, wait=wait, dry_run=True)
        typer.echo("撤销会删除这些版本加入的表和列及其数据：请先 kpiwatch backup，再加 --yes 运行 "
                   "(a downgrade drops data: back up first, then pass --yes)", err=True)
        raise typer.Exit(1)
    plan = _change(revision, downgrade=True, wait=wait, dry_run=False)
    typer.echo(f"数据库已退回到 {plan.target or '(空库 / empty)'} ({shown_url(load_settings().database.url)})")


@app.command("current")
def current_command() -> None:
    """Print the schema revision of the configured database."""
    url = load_settings().database.url
    try:
        typer.echo(current_revision(url) or "(空库 / empty)")
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(url, exc) from exc
