"""Alembic environment: runs against the URL that `monitor.store.migrate.alembic_config` put in the config."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool

from monitor.store.db import make_engine
from monitor.store.models import metadata  # importing the package registers every table on it
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
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the Alembic config has no sqlalchemy.url (see monitor.store.migrate.alembic_config)")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """An `Instant` column is written into a migration as the plain type it is stored as."""
    if kind == "type" and isinstance(obj, Instant):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True, render_item=_render_item)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, drop, rename); with foreign keys on, dropping a table that
        # other rows point at deletes or refuses. Off for the migration, then every reference is checked.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if broken:
            raise RuntimeError(f"the migration left rows pointing at missing rows (table, rowid, parent): {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
