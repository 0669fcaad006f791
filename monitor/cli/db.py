"""`kpiwatch db …`: the schema of the configured store."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from monitor.cli.common import StoreUnavailable, load_settings, shown_url
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
        raise StoreUnavailable(url, exc) from exc
    typer.echo(f"数据库已升级到 {reached} ({shown_url(url)})")


@app.command("current")
def current_command() -> None:
    """Print the schema revision of the configured database."""
    url = load_settings().database.url
    try:
        typer.echo(current_revision(url) or "(空库 / empty)")
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(url, exc) from exc
