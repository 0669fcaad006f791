"""Group commit: concurrent write jobs share transactions, yet each keeps its own outcome (SQLite; the last
tests also on PostgreSQL, where the API batches its writes too).

What a caller relies on: its job's result or exception, never a neighbour's; nothing half-stored; a result
only once the write is committed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import wait
from pathlib import Path

import pytest
from sqlalchemy import event, text

from monitor.store.db import make_engine
from monitor.store.group_commit import GroupCommit
from tests.conftest import create_database


@pytest.fixture
def store(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/jobs.sqlite")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    writer = GroupCommit(engine)
    yield engine, writer
    writer.close()
    engine.dispose()


def _insert(body: str):
    def job(session):
        return session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body}).lastrowid
    return job


def _bodies(engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT body FROM note ORDER BY id"))]


def _held(writer: GroupCommit):
    """A job that keeps the writer busy until released, so the jobs queued meanwhile form one batch."""
    started, release = threading.Event(), threading.Event()

    def job(session):
        started.set()
        release.wait(10)

    future = writer.submit(job)
    started.wait(10)
    return future, release


def test_jobs_queued_together_are_committed_in_one_transaction_each_with_its_own_result(store):
    engine, writer = store
    blocker, release = _held(writer)
    futures = [writer.submit(_insert(f"note {n}")) for n in range(30)]
    release.set()
    wait([blocker, *futures], timeout=10)
    assert [f.result() for f in futures] == sorted({f.result() for f in futures})  # 30 distinct ids, in order
    assert _bodies(engine) == [f"note {n}" for n in range(30)]
    assert writer.batches == 2  # the blocker alone, then all thirty together


def test_a_job_refused_before_writing_gets_its_exception_and_its_neighbours_are_stored(store):
    engine, writer = store

    def refused(session):
        raise ValueError("no such indicator")

    blocker, release = _held(writer)
    futures = [writer.submit(_insert("before")), writer.submit(refused), writer.submit(_insert("after"))]
    release.set()
    wait(futures, timeout=10)
    assert futures[0].result() and futures[2].result()
    with pytest.raises(ValueError, match="no such indicator"):
        futures[1].result()
    assert _bodies(engine) == ["before", "after"]


def test_a_job_that_fails_after_writing_leaves_nothing_and_its_neighbours_are_still_stored(store):
    engine, writer = store

    def half_done(session):
        session.execute(text("INSERT INTO note (body) VALUES ('half')"))
        raise RuntimeError("failed midway")

    blocker, release = _held(writer)
    futures = [writer.submit(_insert("before")), writer.submit(half_done), writer.submit(_insert("after"))]
    release.set()
    wait(futures, timeout=10)
    with pytest.raises(RuntimeError, match="failed midway"):
        futures[1].result()
    assert futures[0].result() and futures[2].result()
    assert _bodies(engine) == ["before", "after"]


def test_a_job_whose_commit_fails_reports_the_failure_and_stores_nothing(store):
    engine, writer = store

    def violates_a_deferred_rule(session):
        session.execute(text("INSERT INTO note (body) VALUES ('kept only if committed')"))
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        session.execute(text("CREATE TABLE IF NOT EXISTS child (parent INTEGER REFERENCES note(id))"))
        session.execute(text("INSERT INTO child VALUES (999999)"))  # checked only at COMMIT
        return "stored?"

    with pytest.raises(Exception, match="FOREIGN KEY"):
        writer.submit(violates_a_deferred_rule).result(timeout=10)
    assert _bodies(engine) == []


def test_a_database_locked_by_another_process_fails_the_waiting_jobs_once_not_once_each(tmp_path):
    import sqlite3
    import time

    from sqlalchemy import event

    path = tmp_path / "locked.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=300"))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, e.g. a long import
    writer = GroupCommit(engine)
    try:
        started = time.monotonic()
        futures = [writer.submit(_insert(f"note {n}")) for n in range(6)]
        for future in futures:
            with pytest.raises(Exception, match="database is locked"):
                future.result(timeout=10)
        assert time.monotonic() - started < 1.4  # two batches of one 0.3 s wait each, not one per job
    finally:
        other.rollback()
        other.close()
        writer.close()
        engine.dispose()


def test_a_result_arrives_only_once_its_write_is_visible_to_other_connections(store):
    engine, writer = store
    seen, checked = [], threading.Event()

    def check_from_outside(future):  # runs the moment the caller is told
        seen.append(_bodies(engine))
        checked.set()

    future = writer.submit(_insert("committed first"))
    future.add_done_callback(check_from_outside)
    assert checked.wait(10)
    assert seen == [["committed first"]]


class _Counted:
    """A job class with prepare_batch: records which jobs each call saw, and what each job saw prepared."""

    prepared: list[list[str]] = []

    def __init__(self, body: str) -> None:
        self.body, self.ready = body, False

    @classmethod
    def prepare_batch(cls, session, jobs):
        cls.prepared.append([job.body for job in jobs])
        for job in jobs:
            job.ready = True

    def __call__(self, session):
        return self.ready


def test_a_job_class_prepares_each_batch_once_before_any_of_its_jobs_runs(store):
    engine, writer = store
    _Counted.prepared = []
    blocker, release = _held(writer)
    futures = [writer.submit(_Counted(f"job {n}")) for n in range(4)]
    release.set()
    assert all(f.result(timeout=10) for f in futures)
    assert _Counted.prepared == [["job 0", "job 1", "job 2", "job 3"]]


def test_close_finishes_the_queued_jobs_first(store):
    engine, writer = store
    blocker, release = _held(writer)
    futures = [writer.submit(_insert(f"queued {n}")) for n in range(5)]
    release.set()
    writer.close()
    assert all(f.done() for f in futures)
    assert len(_bodies(engine)) == 5


def test_a_database_that_cannot_be_reached_fails_the_waiting_jobs_once_not_once_each(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/no such folder/jobs.sqlite")
    attempts: list[int] = []
    first_attempt, release = threading.Event(), threading.Event()

    def connecting(*_) -> None:
        attempts.append(1)
        first_attempt.set()
        release.wait(10)

    event.listen(engine, "do_connect", connecting)
    writer = GroupCommit(engine)
    try:
        first = writer.submit(_insert("first"))
        first_attempt.wait(10)
        waiting = [writer.submit(_insert(f"note {n}")) for n in range(5)]
        release.set()
        wait([first, *waiting], timeout=10)
    finally:
        writer.close()
        engine.dispose()
    for future in (first, *waiting):
        with pytest.raises(Exception, match="unable to open database file"):
            future.result()
    assert len(attempts) == 2  # the first job's batch, then the five waiting together


# --- both stores: PostgreSQL batches the API's writes too ----------------------------------------------------

@pytest.fixture
def either_store(fresh_db_url):
    engine = make_engine(fresh_db_url)
    key = "SERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE note (id {key}, body TEXT NOT NULL)")
    writer = GroupCommit(engine)
    yield engine, writer
    writer.close()
    engine.dispose()


def _insert_body(body: str):
    def job(session):
        session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})
        return body
    return job


def test_on_either_store_concurrent_jobs_share_one_transaction(either_store):
    engine, writer = either_store
    blocker, release = _held(writer)
    futures = [writer.submit(_insert_body(f"note {n}")) for n in range(10)]
    release.set()
    wait([blocker, *futures], timeout=10)
    assert [f.result() for f in futures] == [f"note {n}" for n in range(10)]
    assert _bodies(engine) == [f"note {n}" for n in range(10)]
    assert writer.batches == 2  # the blocker alone, then all ten together


def test_on_either_store_a_failed_job_leaves_nothing_and_its_neighbours_are_stored(either_store):
    engine, writer = either_store

    def refused(session):
        raise ValueError("no such indicator")

    def half_done(session):
        session.execute(text("INSERT INTO note (body) VALUES ('half')"))
        raise RuntimeError("failed midway")

    blocker, release = _held(writer)
    futures = [writer.submit(job) for job in (_insert_body("before"), refused, half_done, _insert_body("after"))]
    release.set()
    wait(futures, timeout=10)
    with pytest.raises(ValueError, match="no such indicator"):
        futures[1].result()
    with pytest.raises(RuntimeError, match="failed midway"):
        futures[2].result()
    assert (futures[0].result(), futures[3].result()) == ("before", "after")
    assert _bodies(engine) == ["before", "after"]


def test_batches_in_quick_succession_share_one_connection_and_an_idle_writer_takes_a_fresh_one(either_store,
                                                                                               monkeypatch):
    """A connection in use a moment ago is used again without the pool's ping; one idle longer goes back."""
    import monitor.store.group_commit as group_commit

    engine, writer = either_store
    monkeypatch.setattr(group_commit, "KEEP_SECONDS", 0.5)
    checkouts: list[int] = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    for n in range(5):
        writer.submit(_insert_body(f"note {n}")).result(10)
    quick = len(checkouts)
    time.sleep(0.7)
    writer.submit(_insert_body("after a pause")).result(10)
    assert quick == 1
    assert len(checkouts) == 2
    assert _bodies(engine) == [f"note {n}" for n in range(5)] + ["after a pause"]


def test_a_batch_whose_kept_connection_the_server_dropped_runs_again_on_a_fresh_one(tmp_path):
    """PostgreSQL ended the writer's connection between two batches (a restart, an idle timeout): the next job
    is stored all the same, once."""
    url, drop = create_database("postgresql", tmp_path)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id SERIAL PRIMARY KEY, body TEXT NOT NULL)")
    writer = GroupCommit(engine)
    try:
        def first(session):
            session.execute(text("INSERT INTO note (body) VALUES ('first')"))
            return session.execute(text("SELECT pg_backend_pid()")).scalar_one()

        pid = writer.submit(first).result(10)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        assert writer.submit(_insert_body("second")).result(10) == "second"
        assert _bodies(engine) == ["first", "second"]
    finally:
        writer.close()
        engine.dispose()
        drop()
