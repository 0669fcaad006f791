"""A lease kept alive while its holder works: a background thread that stamps the holder's row every few seconds.

A job or an evaluation holds its claim by a row (a `JobLease`, a running `EvaluationRun`) whose stamp says the
holder was alive a moment ago. When the process dies, however it dies (kill -9, power, OOM), the stamp stops and,
after `lease_seconds`, any other process may declare the claim abandoned and take it over. A thread rather than a
stamp between chunks: one chunk of a province can take longer than a lease, and a long job has no chunks at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from monitor.store.rows import table_of
from monitor.store.types import now

log = logging.getLogger("kpiwatch.store")


def stale_before(lease_seconds: float) -> datetime:
    """The stamp older than which a holder is taken for dead."""
    return now() - timedelta(seconds=lease_seconds)


@contextmanager
def kept_alive(engine: Engine, model: type[SQLModel], row_id: int, stamp: str, *,
               lease_seconds: float) -> Iterator[None]:
    """Stamp column `stamp` of row `row_id` of `model` with the time, every third of a lease, during the block.

    A stamp that fails (a busy store) is logged and tried again at the next beat: two of three beats may be lost
    before the lease lapses."""
    table = table_of(model)
    stop = threading.Event()
    every = max(lease_seconds / 3, 0.05)

    def beat() -> None:
        while not stop.wait(every):
            try:
                with engine.begin() as connection:
                    connection.execute(update(table).where(table.c.id == row_id).values({stamp: now()}))
            except SQLAlchemyError as exc:
                log.warning("续约失败（%s #%s）：%s", table.name, row_id, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{table.name}-{row_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
