"""`kpiwatch db …`: the schema of the configured store."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.cli.common import load_settings
from monitor.store.db import current_revision, upgrade

app = typer.Typer(help="数据库结构 (schema of the store).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
) -> None:
    """Create or migrate the database schema to the newest revision."""
    url = load_settings().database.url
    try:
        upgrade(url, revision)
        reached = current_revision(url)
    except (SQLAlchemyError, OSError) as exc:
        _unreachable(url, exc)
    typer.echo(f"数据库已升级到 {reached} ({_shown(url)})")


@app.command("current")
def current_command() -> None:
    """Print the schema revision of the configured database."""
    url = load_settings().database.url
    try:
        typer.echo(current_revision(url) or "(空库 / empty)")
    except (SQLAlchemyError, OSError) as exc:
        _unreachable(url, exc)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _unreachable(url: str, exc: Exception) -> None:
    """Exit 1 with the store (password hidden) and the driver's first line, instead of a traceback."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    typer.echo(f"无法打开数据库 {_shown(url)}：{type(exc).__name__}: {detail}", err=True)
    raise typer.Exit(1) from exc
