"""What every command needs: the settings (with a readable error for a bad config) and a store to work on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import Config, ConfigError, load_config
from monitor.store.db import make_engine
from monitor.store.migrate import SchemaError, upgrade


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
        try:
            upgrade(settings.database.url)
        except (SQLAlchemyError, OSError, SchemaError) as exc:
            raise StoreUnavailable(settings.database.url, exc) from exc
    engine = make_engine(settings.database.url)
    try:
        yield engine
    finally:
        engine.dispose()


class StoreUnavailable(typer.Exit):
    """The configured database cannot be opened: one line on stderr and exit 1 instead of a traceback, for every
    command that opens the store. The URL is shown with its password hidden."""

    def __init__(self, url: str, exc: BaseException) -> None:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        self.message = f"无法打开数据库 {shown_url(url)}：{type(exc).__name__}: {detail}"
        typer.echo(self.message, err=True)
        super().__init__(1)


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
