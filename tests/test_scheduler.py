"""The scheduler: jobs from the registry and config.toml, one catch-up run after downtime (not a backlog), and
replicas on one PostgreSQL running each scheduled run once (two real processes)."""

import os
import pickle
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from monitor.config import Config, DatabaseConfig, SchedulerConfig
from monitor.scheduler.jobs import JOBS
from monitor.scheduler.runner import cron_trigger, latest_fire_time, run_once
from monitor.scheduler.service import (
    SchedulerConfigError,
    build_scheduler,
    planned_jobs,
    start,
    sync_jobs,
)
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import EvaluationRun, JobLease, JobRun
from tests.conftest import ROOT, create_database
from tests.evaluation_seed_data import store

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROBE = "tests.scheduler_probe:tick"


def settings_for(url: str, **cron: str) -> Config:
    """Only the jobs named here are scheduled: every other registered job is switched off with ""."""
    return Config(database=DatabaseConfig(url=url),
                  scheduler=SchedulerConfig(cron={**{spec.name: "" for spec in JOBS}, **cron}))


def aware(moment: datetime) -> datetime:
    """SQLite gives back the Shanghai wall-clock time without its offset; PostgreSQL an aware UTC time."""
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def job_runs(engine, job: str) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.job == job).order_by(JobRun.id)).scalars())


def cron(**entries: str) -> Config:
    return Config(scheduler=SchedulerConfig(cron=entries))


def test_planned_jobs_come_from_the_registry_and_config():
    assert {j.name for j in planned_jobs(Config())} == {spec.name for spec in JOBS}  # every registered job
    evaluate_only = [spec for spec in JOBS if spec.name == "evaluate"]
    default = planned_jobs(Config(), evaluate_only)
    assert [(j.name, j.cron) for j in default] == [("evaluate", "30 6 * * *")]
    moved = planned_jobs(Config(scheduler=SchedulerConfig(evaluate_at="05:45")), evaluate_only)
    assert moved[0].cron == "45 5 * * *"
    configured = planned_jobs(cron(evaluate="", **{PROBE: "0 3 * * 1"}), evaluate_only)
    assert [(j.name, j.target, j.cron) for j in configured] == [(PROBE, PROBE, "0 3 * * 1")]
    with pytest.raises(SchedulerConfigError, match="nightly: 不是已登记的任务"):
        planned_jobs(cron(nightly="0 3 * * *"), evaluate_only)
    with pytest.raises(SchedulerConfigError, match="cron 表达式需要5或6个字段"):
        planned_jobs(cron(evaluate="every day"), evaluate_only)


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2024, 7, 31, 10, 0, tzinfo=SHANGHAI), datetime(2024, 7, 31, 6, 30, tzinfo=SHANGHAI)),
    (datetime(2024, 7, 31, 6, 0, tzinfo=SHANGHAI), datetime(2024, 7, 30, 6, 30, tzinfo=SHANGHAI)),
    (datetime(2024, 7, 31, 6, 30, tzinfo=SHANGHAI), datetime(2024, 7, 31, 6, 30, tzinfo=SHANGHAI)),
])
def test_the_scheduled_time_of_a_run_is_the_latest_fire_time(moment, expected):
    assert latest_fire_time(cron_trigger("30 6 * * *", "Asia/Shanghai"), moment) == expected


def shanghai(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("expression", "moment", "expected"), [
    # exactly on a fire time is that fire time, to the second; a second later still is
    ("*/2 * * * * *", shanghai(2024, 7, 31, 10, 0, 0), shanghai(2024, 7, 31, 10, 0, 0)),
    ("*/2 * * * * *", shanghai(2024, 7, 31, 10, 0, 1), shanghai(2024, 7, 31, 10, 0, 0)),
    # month ends: a day some months lack is looked for further back; the leap day a year back
    ("0 6 31 * *", shanghai(2024, 7, 1, 10, 0), shanghai(2024, 5, 31, 6, 0)),
    ("0 6 31 * *", shanghai(2024, 3, 1, 0, 0), shanghai(2024, 1, 31, 6, 0)),
    ("0 0 29 2 *", shanghai(2025, 3, 1, 0, 0), shanghai(2024, 2, 29, 0, 0)),
    ("30 6 * * *", shanghai(2024, 1, 1, 0, 0), shanghai(2023, 12, 31, 6, 30)),
    # no daylight saving in Asia/Shanghai: the days other zones change their clocks are ordinary days
    ("30 6 * * *", shanghai(2024, 3, 31, 10, 0), shanghai(2024, 3, 31, 6, 30)),
    ("30 2 * * *", shanghai(2024, 11, 3, 10, 0), shanghai(2024, 11, 3, 2, 30)),
    # the trigger that fires decides, with APScheduler 3's reading of a crontab (not cron's): weekday 0 is
    # Monday, so 1 is Tuesday; a day and a weekday must both match
    ("0 3 * * 1", shanghai(2024, 7, 31, 10, 0), shanghai(2024, 7, 30, 3, 0)),
    ("0 6 1 * mon", shanghai(2024, 7, 31, 10, 0), shanghai(2024, 7, 1, 6, 0)),
])
def test_the_latest_fire_time_is_the_one_the_trigger_fired(expression, moment, expected):
    trigger = cron_trigger(expression, "Asia/Shanghai")
    fired = latest_fire_time(trigger, moment)
    assert fired == expected and fired.utcoffset() == timedelta(hours=8)
    assert trigger.get_next_fire_time(None, expected) == expected  # it really is a fire time


def test_each_scheduled_run_happens_once_and_failures_are_logged(engine, db_url):
    settings = settings_for(db_url)
    at = datetime(2024, 7, 31, 6, 30, tzinfo=SHANGHAI)
    assert run_once(engine, settings, job="probe", target=PROBE, scheduled_at=at) == "ran"
    assert run_once(engine, settings, job="probe", target=PROBE, scheduled_at=at) == "skipped"
    assert run_once(engine, settings, job="probe", target=PROBE, scheduled_at=at + timedelta(days=1)) == "ran"
    runs = job_runs(engine, "probe")
    assert [(r.ok, r.counts["as_of"]) for r in runs] == [(True, "2024-07-31"), (True, "2024-08-01")]
    assert all(r.finished_at >= r.started_at for r in runs)
    assert run_once(engine, settings, job="boom", target="tests.scheduler_probe:boom", scheduled_at=at) == "failed"
    (failed,) = job_runs(engine, "boom")
    assert failed.ok is False and "RuntimeError: 探针故障" in failed.error


def test_daily_evaluation_job_evaluates_as_of_the_scheduled_day(engine, db_url):
    store(engine)
    at = datetime(2024, 7, 31, 6, 30, tzinfo=SHANGHAI)
    assert run_once(engine, settings_for(db_url), job="evaluate", target="monitor.scheduler.builtin:daily_evaluation",
                    scheduled_at=at) == "ran"
    (run,) = job_runs(engine, "evaluate")
    with Session(engine) as session:
        evaluation = session.get(EvaluationRun, run.counts["run_id"])
    assert (evaluation.as_of, evaluation.status) == (date(2024, 7, 31), "ok")
    assert run.counts["indicators"] == evaluation.indicators > 0


def test_after_downtime_one_catch_up_run_not_a_backlog(engine, db_url):
    settings = settings_for(db_url, evaluate="", **{PROBE: "0 6 * * *"})
    before = build_scheduler(settings, engine)
    before.start(paused=True)
    sync_jobs(before, settings, planned_jobs(settings))
    before.shutdown(wait=True)
    # what three days of downtime leave in the store: a next-run time that has long passed
    past = datetime.now(SHANGHAI) - timedelta(days=3)
    with engine.begin() as conn:
        state = pickle.loads(conn.execute(text("SELECT job_state FROM apscheduler_jobs WHERE id = :id"),
                                          {"id": PROBE}).scalar_one())
        state["next_run_time"] = past
        conn.execute(text("UPDATE apscheduler_jobs SET job_state = :state, next_run_time = :at WHERE id = :id"),
                     {"state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL), "at": past.timestamp(), "id": PROBE})

    running = start(settings, engine)
    try:
        deadline = time.monotonic() + 20
        while not job_runs(engine, PROBE) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # room for a backlog to show up, if there were one
        next_run = running.get_job(PROBE).next_run_time
    finally:
        running.shutdown(wait=True)
    runs = job_runs(engine, PROBE)
    assert len(runs) == 1 and runs[0].ok
    now = datetime.now(SHANGHAI)
    assert aware(runs[0].scheduled_at) == latest_fire_time(cron_trigger("0 6 * * *", "Asia/Shanghai"), now)
    assert next_run > now  # back on schedule


def test_two_replicas_on_postgresql_run_each_scheduled_run_once(tmp_path):
    url, drop = create_database("postgresql", tmp_path)
    try:
        upgrade(url)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n\n[scheduler.cron]\n' + "".join(f'{spec.name} = ""\n' for spec in JOBS)
            + f'"{PROBE}" = "*/2 * * * * *"\n',
            encoding="utf-8")
        env = {**os.environ, "KPIWATCH_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-c", "from monitor.cli.main import app; app()", "scheduler", "--run-seconds", "10"]
        replicas = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=60)[0] for p in replicas]
        assert [p.returncode for p in replicas] == [0, 0], outputs
        assert all("scheduler started" in out for out in outputs)
        engine = make_engine(url)
        try:
            runs = job_runs(engine, PROBE)
            with Session(engine) as session:
                leases = session.exec(select(func.count()).select_from(JobLease)).scalar_one()
        finally:
            engine.dispose()
        times = [r.scheduled_at for r in runs]
        assert len(times) >= 2, outputs
        assert len(set(times)) == len(times), outputs  # never the same scheduled run twice
        assert leases == len(runs) and all(r.ok for r in runs)
        ran_lines = [line for out in outputs for line in out.splitlines() if line.startswith("ran ")]
        assert len(ran_lines) == len(runs)
        skipped = [line for out in outputs for line in out.splitlines() if line.startswith("skipped ")]
        assert skipped, outputs  # both replicas fired: the lease, not luck, kept the runs single
    finally:
        drop()
