"""`kpiwatch backup` and `kpiwatch restore` on both stores: every table comes back row by row, a store with rows
is replaced only when forced, archives of another backend, damaged or of a newer schema are refused, an older
schema is upgraded after restoring, and a SQLite backup taken while another process writes is consistent."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.store.backup import BackupError, pg_tool, read_manifest
from monitor.store.db import make_engine
from monitor.store.migrate import current_revision, head_revision, upgrade
from monitor.store.models import Department
from tests import release_fixture
from tests.conftest import create_database
from tests.release_fixture import NEXT, lost, snapshot


def _kpiwatch(url: str, *args: str):
    env = {k: None for k in os.environ if k.startswith("KPIWATCH_")}
    return CliRunner().invoke(app, list(args), env={**env, "KPIWATCH_DATABASE_URL": url})


@pytest.fixture
def second_db_url(fresh_db_url, tmp_path):
    """Another empty database of the same backend as `fresh_db_url`."""
    url, drop = create_database("sqlite" if fresh_db_url.startswith("sqlite") else "postgresql", tmp_path)
    yield url
    drop()


@pytest.fixture
def filled_db_url(fresh_db_url):
    """The previous release's rows in every table, upgraded to this kpiwatch's newest schema."""
    release_fixture.load(fresh_db_url)
    upgrade(fresh_db_url)
    return fresh_db_url


def test_restore_into_an_empty_store_brings_back_every_table_row_by_row(filled_db_url, second_db_url, tmp_path):
    archive = tmp_path / "backup.tar"
    made = _kpiwatch(filled_db_url, "backup", str(archive))
    assert made.exit_code == 0, made.output
    manifest = read_manifest(archive)
    assert manifest.schema_revision == head_revision() and manifest.kpiwatch_version != "unknown"
    assert manifest.tables["report"] == len(snapshot(filled_db_url)["report"])

    restored = _kpiwatch(second_db_url, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"结构版本 {head_revision()}" in restored.output
    original, copy = snapshot(filled_db_url), snapshot(second_db_url)
    assert set(copy) == set(original)
    for table, rows in original.items():
        assert copy[table] == rows, table

    engine = make_engine(second_db_url)  # the restored store goes on: new rows get new ids
    try:
        with Session(engine) as session:
            session.add(Department(code="NEW", name="恢复后新增"))
            session.commit()
    finally:
        engine.dispose()


def test_a_store_with_rows_is_replaced_only_when_forced(filled_db_url, second_db_url, tmp_path):
    archive = tmp_path / "backup.tar"
    assert _kpiwatch(filled_db_url, "backup", str(archive)).exit_code == 0
    again = _kpiwatch(filled_db_url, "backup", str(archive))
    assert again.exit_code == 1 and "已存在" in again.output

    upgrade(second_db_url)
    engine = make_engine(second_db_url)
    try:
        with Session(engine) as session:
            session.add(Department(code="KEEP", name="已有数据"))
            session.commit()
    finally:
        engine.dispose()
    refused = _kpiwatch(second_db_url, "restore", str(archive))
    assert refused.exit_code == 1 and "--force" in refused.output
    assert [d["code"] for d in snapshot(second_db_url)["department"]] == ["KEEP"]

    forced = _kpiwatch(second_db_url, "restore", str(archive), "--force")
    assert forced.exit_code == 0, forced.output
    assert snapshot(second_db_url) == snapshot(filled_db_url)


def _rewritten(archive: Path, to: Path, *, manifest: dict | None = None, dump: bytes | None = None) -> Path:
    with tarfile.open(archive, "r:*") as source, tarfile.open(to, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json" and manifest is not None:
                data = json.dumps({**json.loads(data), **manifest}).encode()
            elif member.name != "manifest.json" and dump is not None:
                data = dump
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return to


def test_a_damaged_or_foreign_archive_is_refused_and_the_store_left_alone(filled_db_url, second_db_url, tmp_path):
    archive = tmp_path / "backup.tar"
    assert _kpiwatch(filled_db_url, "backup", str(archive)).exit_code == 0
    manifest = read_manifest(archive)
    damaged = _rewritten(archive, tmp_path / "damaged.tar", dump=b"not a dump")
    other = "postgresql" if manifest.backend == "sqlite" else "sqlite"
    foreign = _rewritten(archive, tmp_path / "foreign.tar", manifest={"backend": other})
    (tmp_path / "junk.tar").write_bytes(b"junk")
    cases = [(damaged, "校验和不符"), (foreign, f"这是 {other} 的备份"), (tmp_path / "junk.tar", "不是 kpiwatch 备份")]
    for path, message in cases:
        result = _kpiwatch(second_db_url, "restore", str(path))
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output
    assert current_revision(second_db_url) is None


def test_an_archive_of_an_older_schema_is_upgraded_after_restoring(fresh_db_url, second_db_url, tmp_path,
                                                                   next_schema):
    release_fixture.load(fresh_db_url)  # the previous release's store, at 0001, not upgraded
    archive = tmp_path / "old.tar"
    assert _kpiwatch(fresh_db_url, "backup", str(archive)).exit_code == 0
    assert read_manifest(archive).schema_revision == "0001"

    restored = _kpiwatch(second_db_url, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"  {NEXT}  example" in restored.output
    assert current_revision(second_db_url) == NEXT
    assert lost(snapshot(fresh_db_url), snapshot(second_db_url)) == []


def test_an_archive_of_a_newer_schema_is_refused(fresh_db_url, second_db_url, tmp_path, monkeypatch, next_schema):
    upgrade(fresh_db_url)  # with the test-only revision: a newer kpiwatch's store
    archive = tmp_path / "newer.tar"
    assert _kpiwatch(fresh_db_url, "backup", str(archive)).exit_code == 0
    monkeypatch.undo()  # back to this kpiwatch's own migrations
    assert head_revision() != NEXT

    result = _kpiwatch(second_db_url, "restore", str(archive))
    assert result.exit_code == 1
    assert f"备份的结构版本 {NEXT}" in result.output and "新" in result.output, result.output
    assert current_revision(second_db_url) is None


WRITER = """
import sys
from datetime import datetime
from monitor.store.db import make_engine, session_scope, write_turn
from monitor.store.models import JobRun
engine = make_engine(sys.argv[1])
print("writing", flush=True)
for n in range(int(sys.argv[2])):
    with session_scope(engine) as session, write_turn(session):
        # two rows per transaction: a consistent copy always holds an even number of them
        session.add_all([JobRun(job="writer", counts={"n": n}), JobRun(job="writer", counts={"n": n})])
print("done", flush=True)
"""


TRANSACTIONS = 1000


def test_a_sqlite_backup_is_consistent_while_another_process_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    upgrade(url)
    with sqlite3.connect(tmp_path / "live.sqlite") as db:  # some bulk, so a copy takes a while
        db.executemany("INSERT INTO jobrun (job, error) VALUES ('bulk', ?)", [("x" * 4000,) for _ in range(5000)])
    writer = subprocess.Popen([sys.executable, "-c", WRITER, url, str(TRANSACTIONS)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    seen = []
    while writer.poll() is None and len(seen) < 5:
        archive = tmp_path / f"live-{len(seen)}.tar"
        result = _kpiwatch(url, "backup", str(archive))
        assert result.exit_code == 0, result.output
        with tarfile.open(archive) as packed:
            (tmp_path / "copy.sqlite").write_bytes(packed.extractfile("store.sqlite").read())
        with sqlite3.connect(tmp_path / "copy.sqlite") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            (written,) = copy.execute("SELECT count(*) FROM jobrun WHERE job = 'writer'").fetchone()
            assert copy.execute("SELECT count(*) FROM jobrun").fetchone()[0] == read_manifest(archive).tables["jobrun"]
        assert written % 2 == 0, "a backup never holds half a transaction"
        seen.append(written)
        time.sleep(0.05)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0 and "done" in out, err
    assert seen == sorted(seen) and any(0 < n < 2 * TRANSACTIONS for n in seen), f"backups taken while it wrote: {seen}"


def test_pg_tools_must_be_as_new_as_the_server():
    assert pg_tool("pg_dump", "15.4")
    with pytest.raises(BackupError, match="postgresql-client-99"):
        pg_tool("pg_dump", "99.1")
