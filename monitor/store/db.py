"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production); schema changes are in
`migrate.py`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine


def normalise_url(url: str) -> str:
    """Accept the plain `postgresql://` URLs people paste and run them on psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "reset", _end_open_transaction)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# SQLite has one writer at a time. Threads of one server take turns on a lock; across processes (a server
# and `kpiwatch report-progress`, or several workers) BEGIN IMMEDIATE takes the write lock up front, so a
# read transaction never has to upgrade to a write while another process writes ("database is locked").
_SQLITE_WRITES = threading.Lock()


class WriteTurn:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def __enter__(self) -> None:
        if self.sqlite:
            _SQLITE_WRITES.acquire()
            try:
                connection = self.session.connection()
                sqlite = connection.connection.driver_connection
                assert sqlite is not None  # None only once the pool has invalidated it; this one was just checked out
                if not sqlite.in_transaction:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _SQLITE_WRITES.release()
                raise

    def __exit__(self, *exc: Any) -> None:
        if self.sqlite:
            _SQLITE_WRITES.release()


def write_turn(session: Session) -> WriteTurn:
    """Wrap a whole write (from its first read to commit or rollback) in this; a no-op on PostgreSQL."""
    return WriteTurn(session)


def _end_open_transaction(dbapi_connection, _record, _reset_state) -> None:
    """Roll back whatever SQLite still holds open when a connection goes back to the pool.

    A COMMIT that fails (a deferred constraint, a full disk) leaves SQLite's transaction open, while
    SQLAlchemy counts it as ended and may skip its own rollback: the connection's next user would see
    the uncommitted rows and hold the write lock.
    """
    if dbapi_connection.in_transaction:
        dbapi_connection.rollback()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed if the block finishes, rolled back whole if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
