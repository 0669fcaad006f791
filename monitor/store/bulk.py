"""Many new rows into one table in one statement: COPY on PostgreSQL, an executemany INSERT elsewhere.

The API stores each batch of posts' reports and their audit events this way. On PostgreSQL, psycopg's
executemany sends every row as a statement of its own in pipeline mode, with a wait on the socket per row, and
under load each wait hands the interpreter to the event loop and takes it back: a fifth of the writer thread's
time (bench/README.md, "Session 12"). COPY sends the batch as one stream, its rows formatted by the driver's C
code. The values are converted exactly as an INSERT of them would be, by the columns' own SQLAlchemy types (aware
instants, JSON, exact decimals), so either path stores the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

_Plan = tuple[str, list[int], list[Callable[[Any], Any] | None]]
_PLANS: dict[tuple[URL, str, tuple[str, ...]], _Plan] = {}  # by store, table and columns


def driver_connection(conn: Connection) -> Any:
    """The DB-API connection under `conn`: sqlite3's or psycopg's, each used only through its own driver's API."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    return raw


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, column names of `table`) in the session's transaction.

    A row that breaks a constraint fails the whole statement, with the error an INSERT of them all would raise
    (`sqlalchemy.exc.IntegrityError`, …)."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    names = tuple(rows[0])
    statement, types, converters = _plan(conn, table, names)
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        with driver_connection(conn).cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row([value if convert is None else convert(value)
                                for value, convert in zip((row[name] for name in names), converters, strict=True)])
    except driver_error as exc:  # raised as SQLAlchemy raises the driver's errors, for the callers' handlers
        raise DBAPIError.instance(statement, None, exc, driver_error, dialect=conn.dialect) from exc


def _plan(conn: Connection, table: Table, names: tuple[str, ...]) -> _Plan:
    """The COPY statement, the columns' type oids as the server reports them (told once, not looked up per
    value) and each column's bind converter, made once per process for each store, table and set of columns."""
    key = (conn.engine.url, table.name, names)
    plan = _PLANS.get(key)
    if plan is None:
        quote = conn.dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in names)
        with driver_connection(conn).cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {quote(table.name)} LIMIT 0")
            types = [description.type_code for description in cursor.description]
        converters = [_converter(conn.dialect, table, name) for name in names]
        plan = _PLANS[key] = (f"COPY {quote(table.name)} ({columns}) FROM STDIN", types, converters)
    return plan


def _converter(dialect: Dialect, table: Table, name: str) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    return column_type.dialect_impl(dialect).bind_processor(dialect)
