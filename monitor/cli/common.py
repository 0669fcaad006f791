"""What every command needs: the settings (with a readable error for a bad config) and a store to work on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.engine import Engine

from monitor.config import Config, ConfigError, load_config
from monitor.store.db import make_engine, upgrade


def load_settings() -> Config:
    """The configuration, or exit 2 with the file, key and reason on stderr."""
    try:
        return load_config()
    except ConfigError as exc:
        typer.echo(f"配置错误 (config error): {exc}", err=True)
        raise typer.Exit(2) from exc


@contextmanager
def open_store(settings: Config | None = None, *, migrate: bool = True) -> Iterator[Engine]:
    """An engine on the configured database, migrated to the newest schema first unless told not to."""
    settings = settings or load_settings()
    if migrate:
        upgrade(settings.database.url)
    engine = make_engine(settings.database.url)
    try:
        yield engine
    finally:
        engine.dispose()
