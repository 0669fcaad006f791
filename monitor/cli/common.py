"""What every command needs: the settings (with a readable error for a bad config) and a store to work on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from monitor.accounts import users as user_service
from monitor.config import Config, ConfigError, load_config
from monitor.store.db import make_engine, session_scope
from monitor.store.migrate import SchemaError, upgrade
from monitor.store.models import User


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


def parse_day(text: str | None, name: str) -> date | None:
    """A YYYY-MM-DD option (None when not given); anything else is refused naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{name}: 应为 YYYY-MM-DD，得到 {text!r}") from exc


@contextmanager
def acting_as(username: str, refusals: tuple[type[Exception], ...]) -> Iterator[tuple[Session, User]]:
    """A unit of work as `username`, for the commands that act as a person (rounds, 整改, 目标调整): a disabled
    user or any of the service's `refusals` is one line on stderr and exit 1, with nothing stored."""
    with open_store() as engine:
        try:
            with session_scope(engine) as session:
                owner = user_service.get_user(session, username)
                if owner.disabled:
                    raise user_service.AccountError(f"用户 {username} 已停用 (user disabled)")
                yield session, owner
        except Exception as exc:
            if not isinstance(exc, (user_service.AccountError, *refusals)):
                raise
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
