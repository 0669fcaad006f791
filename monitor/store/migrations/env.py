"""Alembic environment: runs against the URL that `monitor.store.db.alembic_config` put in the config."""

from alembic import context
from sqlalchemy import pool

import monitor.store.models  # noqa: F401  (registers every table)
from monitor.store.db import make_engine
from monitor.store.models import metadata
from monitor.store.types import Instant

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _render_item(kind: str, obj, autogen_context) -> str | bool:
    """An `Instant` column is written into a migration as the plain type it is stored as."""
    if kind == "type" and isinstance(obj, Instant):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
