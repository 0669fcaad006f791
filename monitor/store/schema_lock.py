"""One schema change at a time per store: replicas that start together, or an operator's `kpiwatch db upgrade`
while the service starts, must not run the same migration twice.

PostgreSQL: a session-level advisory lock on a fixed key, held on a connection of its own (so it ends with the
process, however it ends). SQLite: an exclusive `flock` on a file beside the database, which also ends with the
process. A backup takes the same lock shared: it never copies a schema halfway through a change.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import pool, text
from sqlalchemy.engine import Connection, make_url

from monitor.store.types import now

# pg_advisory_lock takes one bigint: the ASCII of "kpiwatch". pg_locks shows it as classid/objid (high/low half).
LOCK_KEY = int.from_bytes(b"kpiwatch", "big")


class SchemaLockBusy(RuntimeError):
    """Another process is changing the schema (raised only when asked not to wait)."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(f"另一个数据库结构变更正在进行（{holder}） (another schema change is running)")


def lock_file(url: str) -> Path | None:
    """The lock file of a SQLite database (None for an in-memory one, which no other process can see)."""
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:") or parsed.database.startswith("file:"):
        return None
    return Path(f"{parsed.database}.schema-lock")


@contextmanager
def schema_lock(url: str, *, shared: bool = False, wait: bool = True,
                waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the store's schema lock for the block. If another process holds it: wait (calling `waiting` with who
    holds it first), or raise `SchemaLockBusy` when `wait` is false."""
    from monitor.store.db import make_engine, normalise_url

    url = normalise_url(url)
    if url.startswith("sqlite"):
        with _file_lock(lock_file(url), shared=shared, wait=wait, waiting=waiting):
            yield
        return
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            with _advisory_lock(connection, shared=shared, wait=wait, waiting=waiting):
                yield
    finally:
        engine.dispose()


def _holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {now():%Y-%m-%d %H:%M:%S}"


@contextmanager
def _file_lock(path: Path | None, *, shared: bool, wait: bool,
               waiting: Callable[[str], None] | None) -> Iterator[None]:
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(encoding="utf-8").strip() or "another process"
            if not wait:
                raise SchemaLockBusy(holder) from None
            if waiting is not None:
                waiting(holder)
            fcntl.flock(handle, mode)
        try:
            if not shared:
                handle.truncate(0)
                handle.write(_holder())
                handle.flush()
            yield
        finally:
            if not shared:
                handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(connection: Connection, *, shared: bool, wait: bool,
                   waiting: Callable[[str], None] | None) -> Iterator[None]:
    suffix = "_shared" if shared else ""
    connection.execute(text("SELECT set_config('application_name', :name, false)"),
                       {"name": f"kpiwatch {_holder()}"[:63]})
    got = connection.execute(text(f"SELECT pg_try_advisory_lock{suffix}(:key)"), {"key": LOCK_KEY}).scalar()
    if not got:
        holder = _advisory_holder(connection)
        if not wait:
            raise SchemaLockBusy(holder)
        if waiting is not None:
            waiting(holder)
        connection.execute(text(f"SELECT pg_advisory_lock{suffix}(:key)"), {"key": LOCK_KEY})
    try:
        yield
    finally:
        connection.execute(text(f"SELECT pg_advisory_unlock{suffix}(:key)"), {"key": LOCK_KEY})


def _advisory_holder(connection: Connection) -> str:
    row = connection.execute(text(
        "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = :high AND l.objid::bigint = :low "
        "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"),
        {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF}).first()
    if row is None:
        return "another process"
    name, address = row
    return f"{name or 'a session'} from {address or 'a local socket'}"
