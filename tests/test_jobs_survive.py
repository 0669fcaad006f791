"""Jobs that survive: a lease left by a dead replica is taken over and its run retried, a run that keeps dying is
given up, evaluations never write twice at once, and a killed evaluation is closed and redone (real processes
killed with SIGKILL)."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import Config, DatabaseConfig, EvaluationConfig, SchedulerConfig
from monitor.evaluation.run import EvaluationBusy, run_evaluation
from monitor.importers.load import store_document
from monitor.scheduler.jobs import JOBS
from monitor.scheduler.recover import recover
from monitor.scheduler.runner import run_once
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import (
    EvaluationRun,
    ImportUpload,
    IndicatorState,
    IndicatorStateChange,
    JobLease,
    JobRun,
)
from monitor.store.types import now
from tests.conftest import ROOT, create_database
from tests.import_seeds import hrss_document, union_document

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROBE = "tests.scheduler_probe:tick"
AS_OF = date(2024, 7, 31)


def settings_for(url: str, *, lease: float = 2, attempts: int = 3, keep_days: int = 7, **cron: str) -> Config:
    return Config(database=DatabaseConfig(url=url),
                  evaluation=EvaluationConfig(lease_seconds=lease, wait_seconds=30),
                  scheduler=SchedulerConfig(cron={**{spec.name: "" for spec in JOBS}, **cron}, lease_seconds=lease,
                                            max_attempts=attempts, keep_leases_days=keep_days))


def dead_replica_lease(engine, job: str, scheduled_at: datetime, *, silent_for: float, attempts: int = 1) -> int:
    """What a replica killed mid-run leaves: a lease it stopped renewing and a run it never finished."""
    stamp = now() - timedelta(seconds=silent_for)
    with engine.begin() as conn:
        key = conn.execute(insert(JobLease).values(job=job, scheduled_at=scheduled_at, acquired_at=stamp,
                                                   renewed_at=stamp, host="dead:1", attempts=attempts))
        conn.execute(insert(JobRun).values(job=job[:50], started_at=stamp, scheduled_at=scheduled_at, host="dead:1"))
    return int(key.inserted_primary_key[0])


def runs_of(engine, job: str) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.job == job[:50]).order_by(JobRun.id)).scalars())


def lease(engine, lease_id: int) -> JobLease:
    with Session(engine) as session:
        return session.get(JobLease, lease_id)


def test_a_lease_left_by_a_dead_replica_is_taken_over_and_the_run_retried(engine, db_url):
    at = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=5)
    lease_id = dead_replica_lease(engine, PROBE, at, silent_for=10)

    counts = recover(engine, settings_for(db_url, **{PROBE: "0 6 * * *"}))

    assert counts["retried"] == 1
    left, retried = runs_of(engine, PROBE)
    assert left.ok is False and "运行中断" in left.error and left.finished_at is not None
    assert retried.ok is True and retried.counts["pid"] == os.getpid()
    taken = lease(engine, lease_id)
    assert taken.attempts == 2 and taken.finished_at is not None and taken.host != "dead:1"


def test_a_lease_still_renewed_is_left_to_its_holder(engine, db_url):
    at = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=5)
    lease_id = dead_replica_lease(engine, PROBE, at, silent_for=0.5)

    assert recover(engine, settings_for(db_url, lease=30, **{PROBE: "0 6 * * *"}))["retried"] == 0

    (running,) = runs_of(engine, PROBE)
    assert running.finished_at is None and lease(engine, lease_id).attempts == 1


def test_a_running_job_renews_its_lease_so_recovery_leaves_it_alone(engine, db_url, monkeypatch):
    settings = settings_for(db_url, lease=0.6, **{"tests.scheduler_probe:slow": "0 6 * * *"})
    at = datetime.now(SHANGHAI).replace(microsecond=0)
    monkeypatch.setenv("KPIWATCH_PROBE_SECONDS", "2.5")
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(run_once(
        engine, settings, job="tests.scheduler_probe:slow", target="tests.scheduler_probe:slow", scheduled_at=at)))
    worker.start()
    retried = 0
    while worker.is_alive():
        retried += recover(engine, settings)["retried"]
        time.sleep(0.2)
    worker.join()
    assert outcome == ["ran"] and retried == 0
    (run,) = runs_of(engine, "tests.scheduler_probe:slow")
    assert run.ok is True


def test_a_run_that_keeps_dying_is_given_up_after_max_attempts(engine, db_url):
    at = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=5)
    lease_id = dead_replica_lease(engine, PROBE, at, silent_for=10, attempts=3)

    counts = recover(engine, settings_for(db_url, attempts=3, **{PROBE: "0 6 * * *"}))

    assert (counts["retried"], counts["given_up"]) == (0, 1)
    runs = runs_of(engine, PROBE)
    assert [run.ok for run in runs] == [False, False]
    assert "已中断 3 次" in runs[-1].error
    assert lease(engine, lease_id).finished_at is not None
    assert recover(engine, settings_for(db_url, **{PROBE: "0 6 * * *"}))["given_up"] == 0  # once, not every minute


def test_a_run_older_than_the_misfire_grace_is_given_up_not_rerun(engine, db_url):
    at = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(days=3)
    dead_replica_lease(engine, PROBE, at, silent_for=10)

    counts = recover(engine, settings_for(db_url, **{PROBE: "0 6 * * *"}))

    assert (counts["retried"], counts["given_up"]) == (0, 1)
    assert "补跑期限" in runs_of(engine, PROBE)[-1].error


def test_finished_leases_older_than_keep_days_are_pruned_and_recent_ones_kept(engine, db_url):
    settings = settings_for(db_url, keep_days=7, **{PROBE: "0 6 * * *"})
    today = datetime.now(SHANGHAI).replace(microsecond=0)
    for days in (30, 8, 1):
        run_once(engine, settings, job=PROBE, target=PROBE, scheduled_at=today - timedelta(days=days))

    assert recover(engine, settings)["pruned"] == 2

    with Session(engine) as session:
        kept = session.exec(select(JobLease.scheduled_at)).scalars().all()
    assert [moment.date() for moment in kept] == [(today - timedelta(days=1)).date()]



def test_recovery_drops_uploads_previewed_a_day_ago_and_never_confirmed(engine, db_url):
    stamp = now()
    with engine.begin() as conn:
        for name, age in (("stale.pdf", timedelta(days=1, minutes=1)), ("fresh.pdf", timedelta(hours=23))):
            conn.execute(insert(ImportUpload).values(sha256=name.ljust(64, "0"), filename=name, data=b"%PDF-1.4",
                                                     uploaded_at=stamp - age))

    assert recover(engine, settings_for(db_url))["uploads_dropped"] == 1

    with Session(engine) as session:
        assert session.exec(select(ImportUpload.filename)).scalars().all() == ["fresh.pdf"]

# --- evaluations ------------------------------------------------------------------------------------------------

def seeded(engine) -> None:
    with Session(engine) as session:
        store_document(session, hrss_document())
        store_document(session, union_document())
        session.commit()


def state_rows(engine) -> list[tuple]:
    with Session(engine) as session:
        rows = session.exec(select(IndicatorState.indicator_id, IndicatorState.occurrence, IndicatorState.light,
                                   IndicatorState.status, IndicatorState.reason)).all()
    return sorted(tuple(row) for row in rows)


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).scalar_one()


def test_two_evaluations_of_one_day_started_together_record_each_change_once(engine, db_url):
    seeded(engine)
    settings = settings_for(db_url)
    summaries = []
    threads = [threading.Thread(target=lambda: summaries.append(run_evaluation(engine, settings, as_of=AS_OF)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(summaries) == 2
    first, second = sorted(summaries, key=lambda summary: summary.run_id)
    assert first.changes > 0 and second.changes == 0  # the second saw the first's states, not the same old ones
    assert count(engine, IndicatorStateChange) == first.changes


def test_an_evaluation_that_waited_too_long_is_refused_naming_the_running_one(engine, db_url):
    seeded(engine)
    with engine.begin() as conn:
        conn.execute(insert(EvaluationRun).values(as_of=AS_OF, started_at=now(), heartbeat_at=now(),
                                                  status="running", indicators=0, host="replica-b:42"))
    settings = Config(database=DatabaseConfig(url=db_url),
                      evaluation=EvaluationConfig(lease_seconds=60, wait_seconds=1))

    with pytest.raises(EvaluationBusy, match="replica-b:42") as refused:
        run_evaluation(engine, settings, as_of=AS_OF)

    assert "另一个评估正在运行" in str(refused.value)
    assert count(engine, IndicatorState) == 0 and count(engine, EvaluationRun) == 1


def test_kpiwatch_evaluate_during_another_evaluation_exits_1_saying_who_runs(engine, db_url, monkeypatch, tmp_path):
    seeded(engine)
    with engine.begin() as conn:
        conn.execute(insert(EvaluationRun).values(as_of=AS_OF, started_at=now(), heartbeat_at=now(),
                                                  status="running", indicators=0, host="replica-b:42"))
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{db_url}"\n\n[evaluation]\nwait_seconds = 1\n',
                                          encoding="utf-8")
    monkeypatch.setenv("KPIWATCH_CONFIG", str(tmp_path / "config.toml"))

    result = CliRunner().invoke(app, ["evaluate", "--as-of", "2024-07-31"])

    assert result.exit_code == 1
    assert "另一个评估正在运行" in result.output and "replica-b:42" in result.output
    assert count(engine, IndicatorState) == 0


HOLD_A_RUN = """
import sys, time
from monitor.cli.main import app
from monitor.config import Config, DatabaseConfig, EvaluationConfig
from monitor.evaluation.run import run_evaluation
from monitor.store.db import make_engine
from datetime import date
url = sys.argv[1]
engine = make_engine(url)
settings = Config(database=DatabaseConfig(url=url),
                  evaluation=EvaluationConfig(lease_seconds=1, chunk_projects=1))
import monitor.evaluation.run as run
real = run.write_states
def slow(*args, **kwargs):
    result = real(*args, **kwargs)
    print("chunk", flush=True)
    time.sleep(0.3)
    return result
run.write_states = slow
run_evaluation(engine, settings, as_of=date(2024, 7, 31))
print("finished", flush=True)
"""


@pytest.mark.chaos
def test_an_evaluation_killed_mid_run_is_closed_as_failed_and_the_next_one_completes_the_day(db_url):
    """SIGKILL after a few chunks were written: the dead run stops beating, the next evaluation closes it as failed
    and writes the states an uninterrupted run would have written."""
    engine = make_engine(db_url)
    try:
        seeded(engine)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        victim = subprocess.Popen([sys.executable, "-c", HOLD_A_RUN, db_url], stdout=subprocess.PIPE, text=True,
                                  env=env)
        for _ in range(3):
            assert victim.stdout.readline().strip() == "chunk"
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        (dead,) = [run for run in runs(engine) if run.status == "running"]

        summary = run_evaluation(engine, settings_for(db_url, lease=1), as_of=AS_OF)

        closed = {run.id: run for run in runs(engine)}[dead.id]
        assert closed.status == "failed" and "没有心跳" in closed.error
        assert {run.id: run for run in runs(engine)}[summary.run_id].status == "ok"
        expected = run_evaluation(engine, settings_for(db_url), as_of=AS_OF, store=False, collect=True).states
        assert len(state_rows(engine)) == len(expected) > 0
        stored = {(row[0], row[1]): row[2] for row in state_rows(engine)}
        assert stored == {(int(r.indicator_id), r.occurrence or ""): r.light for r in expected.itertuples()}
    finally:
        engine.dispose()


def runs(engine) -> list[EvaluationRun]:
    with Session(engine) as session:
        return list(session.exec(select(EvaluationRun).order_by(EvaluationRun.id)).scalars())


# --- a real scheduler replica killed with SIGKILL mid-run, on PostgreSQL -------------------------------------

@pytest.mark.chaos
def test_a_scheduler_replica_killed_mid_run_has_its_run_finished_by_the_other(tmp_path):
    url, drop = create_database("postgresql", tmp_path)
    try:
        upgrade(url)
        fire = datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(seconds=20)  # after start-up, loaded or not
        marker = tmp_path / "attempts"
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n\n[scheduler]\nlease_seconds = 2\n\n[scheduler.cron]\n'
            + "".join(f'{spec.name} = ""\n' for spec in JOBS if spec.name != "recover")
            + 'recover = "*/2 * * * * *"\n'
            + f'"tests.scheduler_probe:first_attempt_hangs" = "{fire.second} {fire.minute} {fire.hour} * * *"\n',
            encoding="utf-8")
        env = {**os.environ, "KPIWATCH_CONFIG": str(config), "PYTHONPATH": str(ROOT),
               "KPIWATCH_PROBE_MARKER": str(marker)}
        command = [sys.executable, "-c", "from monitor.cli.main import app; app()", "scheduler"]
        log = (tmp_path / "first.log").open("w")
        first = subprocess.Popen(command + ["--run-seconds", "90"], cwd=tmp_path, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        second = subprocess.run(command + ["--run-seconds", "12"], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=90)
        assert second.returncode == 0, second.stdout + second.stderr

        engine = make_engine(url)
        try:
            job = "tests.scheduler_probe:first_attempt_hangs"
            runs_ = runs_of(engine, job)
            with Session(engine) as session:
                (held,) = session.exec(select(JobLease).where(JobLease.job == job)).scalars().all()
        finally:
            engine.dispose()
        assert [run.ok for run in runs_] == [False, True], second.stdout
        assert "运行中断" in runs_[0].error
        assert len({run.scheduled_at for run in runs_}) == 1
        assert held.attempts == 2 and held.finished_at is not None
        assert marker.read_text().split() == ["1", "2"]  # run twice in all: the killed attempt and the retry
    finally:
        drop()
