"""`kpiwatch db …`: the schema of the configured store."""

from __future__ import annotations

import typer

from monitor.cli.common import load_settings
from monitor.store.db import current_revision, upgrade

app = typer.Typer(help="数据库结构 (schema of the store).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
) -> None:
    """Create or migrate the database schema to the newest revision."""
    settings = load_settings()
    upgrade(settings.database.url, revision)
    typer.echo(f"数据库已升级到 {current_revision(settings.database.url)} ({settings.database.url})")


@app.command("current")
def current_command() -> None:
    """Print the schema revision of the configured database."""
    settings = load_settings()
    typer.echo(current_revision(settings.database.url) or "(空库 / empty)")
