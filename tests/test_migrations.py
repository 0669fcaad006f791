"""Migrations for real: a store of the previous release upgrades with every row, downgrades where it is safe,
released revisions stay as released, and two schema changes never run at once (two real processes)."""

from __future__ import annotations

import hashlib
import os
import select as select_module
import subprocess
import sys
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.store.db import make_engine
from monitor.store.migrate import MIGRATIONS, current_revision, head_revision, migrate, plan_upgrade, scripts, upgrade
from monitor.store.models import metadata
from tests import release_fixture
from tests.release_fixture import NEXT, lost, snapshot

KPIWATCH = Path(sys.executable).with_name("kpiwatch")
# Revisions that shipped in a release, with the sha256 of their file: never edited again, only followed.
RELEASED = {"0001": "c9eb982f3d83a500089016ee06fe53a4d5847a8d5a5a128fd12e74fcc054d1f0"}


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPIWATCH_")}
    return {**env, "KPIWATCH_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}


def test_a_store_of_the_previous_release_upgrades_to_head_with_every_row(fresh_db_url, tmp_path, monkeypatch):
    inserted = release_fixture.load(fresh_db_url)
    released_tables = set(inspect_tables(fresh_db_url)) - {"alembic_version"}
    assert set(inserted) == released_tables, "the fixture has rows in every table of the release"
    before = snapshot(fresh_db_url)
    assert {name: len(rows) for name, rows in before.items() if name != "alembic_version"} == inserted
    assert {r["status"] for r in before["outboxmessage"]} == {"pending", "sent", "failed"}
    assert any(r["supersedes_id"] for r in before["report"]) and any(r["supersedes_id"] for r in before["spending"])

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", fresh_db_url)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "当前版本 (current): 0001" in result.output and f"目标版本 (target):  {head_revision()}" in result.output

    assert lost(before, snapshot(fresh_db_url)) == []
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as connection:  # the models' own types read every row back
            for table in metadata.sorted_tables:
                assert len(connection.execute(select(table)).all()) == len(before.get(table.name, [])), table.name
    finally:
        engine.dispose()
    evaluated = CliRunner().invoke(app, ["evaluate", "--as-of", "2024-08-07"])
    assert evaluated.exit_code == 0, evaluated.output


def inspect_tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_downgrading_to_the_previous_release_keeps_its_rows(fresh_db_url):
    release_fixture.load(fresh_db_url)
    before = snapshot(fresh_db_url)
    upgrade(fresh_db_url)
    migrate(fresh_db_url, "0001", downgrade=True)
    assert current_revision(fresh_db_url) == "0001"
    assert snapshot(fresh_db_url) == before


def test_base_to_head_to_base_to_head_on_a_fresh_store(fresh_db_url):
    upgrade(fresh_db_url)
    migrate(fresh_db_url, "base", downgrade=True)
    assert current_revision(fresh_db_url) is None
    assert set(inspect_tables(fresh_db_url)) <= {"alembic_version"}
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata) == []
    finally:
        engine.dispose()
    assert current_revision(fresh_db_url) == head_revision()


def test_a_new_revision_upgrades_the_previous_release_and_downgrades_back(fresh_db_url, next_schema):
    release_fixture.load(fresh_db_url)
    before = snapshot(fresh_db_url)
    plan = plan_upgrade(fresh_db_url)
    unreleased = [r.revision for r in reversed(list(scripts().walk_revisions()))
                  if r.revision not in {*RELEASED, NEXT}]
    assert [step.revision for step in plan.steps] == unreleased + [NEXT]  # every revision since the release
    assert plan.describe()[-1] == f"  {NEXT}  example: a table and a column (test-only, after the newest real revision)"

    upgrade(fresh_db_url)
    after = snapshot(fresh_db_url)
    assert lost(before, after) == []
    assert {row["example_flag"] for row in after["department"]} == {False}
    assert after["example_note"] == []

    migrate(fresh_db_url, "0001", downgrade=True)
    assert snapshot(fresh_db_url) == before


def test_the_migrations_have_one_head_and_released_revisions_are_unchanged():
    script = scripts()
    assert len(script.get_heads()) == 1, (
        f"two migrations follow the same revision ({script.get_heads()}): renumber one to follow the other")
    for revision, digest in RELEASED.items():
        path = Path(script.get_revision(revision).path)
        assert path.is_relative_to(MIGRATIONS)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, (
            f"{path.name} shipped in a release: never edit it; add a new revision (README: How to change the schema)")


# --- one schema change at a time, across real processes ------------------------------------------------------

HOLDER = """
import sys
from monitor.store.schema_lock import schema_lock
with schema_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def _hold_the_lock(url: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=_env(url))
    assert _line(holder, 60) == "locked"
    return holder


def _line(process: subprocess.Popen, seconds: float) -> str:
    ready, _, _ = select_module.select([process.stdout], [], [], seconds)
    assert ready, "no output in time"
    return process.stdout.readline().strip()


def test_a_second_upgrade_waits_for_the_schema_change_under_way(fresh_db_url, tmp_path):
    holder = _hold_the_lock(fresh_db_url)
    try:
        waiter = subprocess.Popen([str(KPIWATCH), "db", "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=_env(fresh_db_url), cwd=tmp_path)
        first = _line(waiter, 60)
        assert first.startswith("另一个数据库结构变更正在进行（") and f"pid {holder.pid} " in first, first
        time.sleep(1)
        assert waiter.poll() is None, "it waits while the other change holds the lock"
        assert current_revision(fresh_db_url) is None
    finally:
        holder.communicate("\n", timeout=30)
    rest, _ = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, rest
    assert f"  {head_revision()}  " in rest and "数据库已升级到" in rest
    assert current_revision(fresh_db_url) == head_revision()


def test_an_upgrade_told_not_to_wait_exits_with_a_clear_message(fresh_db_url, tmp_path):
    holder = _hold_the_lock(fresh_db_url)
    try:
        result = subprocess.run([str(KPIWATCH), "db", "upgrade", "--no-wait"], capture_output=True, text=True,
                                env=_env(fresh_db_url), cwd=tmp_path, timeout=120)
    finally:
        holder.communicate("\n", timeout=30)
    assert result.returncode == 1
    assert "另一个数据库结构变更正在进行" in result.stderr and "未做任何变更" in result.stderr
    assert current_revision(fresh_db_url) is None


def test_two_upgrades_started_together_apply_each_revision_once(fresh_db_url, tmp_path):
    processes = [subprocess.Popen([str(KPIWATCH), "db", "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=_env(fresh_db_url), cwd=tmp_path) for _ in range(2)]
    outputs = [p.communicate(timeout=180)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sum("将执行 (to apply)" in output for output in outputs) == 1, outputs
    assert sum("无需变更 (nothing to do)" in output for output in outputs) == 1, outputs
    assert current_revision(fresh_db_url) == head_revision()


def test_db_upgrade_dry_run_shows_the_plan_and_changes_nothing(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", fresh_db_url)
    result = CliRunner().invoke(app, ["db", "upgrade", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == ["当前版本 (current): (空库 / empty)",
                                              f"目标版本 (target):  {head_revision()}", "将执行 (to apply):"]
    assert current_revision(fresh_db_url) is None


def test_db_downgrade_needs_yes_and_a_store_newer_than_the_code_is_refused(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", fresh_db_url)
    upgrade(fresh_db_url)
    refused = CliRunner().invoke(app, ["db", "downgrade", "base"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert current_revision(fresh_db_url) == head_revision()
    done = CliRunner().invoke(app, ["db", "downgrade", "base", "--yes"])
    assert done.exit_code == 0, done.output
    assert current_revision(fresh_db_url) is None

    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO alembic_version (version_num) VALUES ('9999_future')")
    finally:
        engine.dispose()
    newer = CliRunner().invoke(app, ["db", "upgrade"])
    assert newer.exit_code == 1
    assert "结构版本 9999_future 比此 kpiwatch" in newer.output and "Traceback" not in newer.output


def test_printed_scores_imported_before_0013_upgrade_without_an_actual_and_review_as_before(fresh_db_url, tmp_path):
    """An import stored by the release before 0013 (made here by importing, then going back one revision) keeps
    every printed score; after the upgrade their 实际完成值 is NULL and 社区覆盖情况 (大部分覆盖, printed 9) reads
    as it did then: 得分不同：未填报，应得 0.00, with no actual quoted."""
    from datetime import date

    from sqlmodel import Session

    from monitor.importers.selfeval_load import read_file, store_selfevals
    from monitor.reports.review import build_review, review_json
    from monitor.store.models import User
    from rules.scoring import ScoringRules
    from tests.selfeval_sample import GRADED, write

    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    try:
        with Session(engine) as session:
            user = User(username="bureau", password_hash="x", role="admin")
            session.add(user)
            session.flush()
            store_selfevals(session, user, read_file(write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5")),
                            today=date(2025, 3, 10))
            session.commit()
        migrate(fresh_db_url, scripts().get_revision("0013").down_revision, downgrade=True)
        assert "actual" not in {c["name"] for c in inspect(engine).get_columns("printedselfevalscore")}
        upgrade(fresh_db_url)
        with engine.connect() as connection:
            actuals = connection.exec_driver_sql("SELECT actual FROM printedselfevalscore").all()
        assert [a for (a,) in actuals] == [None] * 7  # 预算执行率, five indicators, 总分
        with Session(engine) as session:
            [project] = review_json(build_review(session, 2024, ScoringRules()))["projects"]
    finally:
        engine.dispose()
    [row] = [r for r in project["rows"] if r["name"] == "社区覆盖情况"]
    assert (row["actual"], row["department_score"], row["kpiwatch_score"], row["reason"]) == (
        None, "9.00", "0.00", "得分不同：未填报，应得 0.00")
    assert (project["department_total"], project["kpiwatch_total"]) == ("91.50", "80.00")
