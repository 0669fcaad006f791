"""Chaos on PostgreSQL, the production store: real processes killed with SIGKILL at random points, an SMTP server
that goes away and comes back. Each run draws its kill points from a seed printed in every assertion, so a failure
can be replayed (`KPIWATCH_CHAOS_SEED=…`).

What each asserts is the documented guarantee: no message lost, repeats only of messages in flight (at most one
per connection per death); no evaluation left running, and the day's states as an uninterrupted run writes them.
The scheduler replica killed mid-run is in tests/test_jobs_survive.py; two replicas in tests/test_scheduler.py and
tests/test_outbox_crash.py.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest
from sqlmodel import Session, select

from monitor.config import Config, DatabaseConfig, EvaluationConfig
from monitor.evaluation.run import run_evaluation
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import EvaluationRun, IndicatorState
from monitor.store.models.notify import OutboxMessage
from tests.conftest import ROOT, create_database
from tests.test_jobs_survive import HOLD_A_RUN, seeded
from tests.test_notify_support import Sink, free_port
from tests.test_outbox_crash import _config_file, _fill, _sender

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
SEED = int(os.environ.get("KPIWATCH_CHAOS_SEED") or random.SystemRandom().randrange(10**6))


@pytest.fixture
def postgresql(tmp_path):
    url, drop = create_database("postgresql", tmp_path)
    upgrade(url)
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        drop()


def test_senders_killed_at_random_points_lose_no_message(postgresql, tmp_path):
    url, engine = postgresql
    rng = random.Random(SEED)
    total, connections = 60, 2
    kills = sorted(rng.sample(range(5, total - 5), 3))
    sink = Sink(delay=0.03).start()
    in_flight_at_deaths: set[str] = set()
    try:
        expected = _fill(engine, total)
        config = _config_file(tmp_path, sink.port, connections=connections, batch=4, lease=2)
        for arrivals in kills:
            sender = _sender(config, url)
            sink.wait_for(arrivals, timeout=90)
            sender.send_signal(signal.SIGKILL)
            sender.wait()
            with Session(engine) as session:
                in_flight_at_deaths |= {m.message_id for m in session.exec(select(OutboxMessage)).all()
                                        if m.status == "sending"}
            time.sleep(2.5)  # the dead sender's claims run out
        last = _sender(config, url)
        output = last.communicate(timeout=180)[0].decode()
        assert last.returncode == 0, f"seed {SEED}: {output}"
        sink.wait_for(total, timeout=20)
    finally:
        sink.stop()
    arrived = Counter(arrival.message["Message-ID"] for arrival in sink.arrivals)
    repeated = {message_id for message_id, count in arrived.items() if count > 1}
    assert set(arrived) == expected, f"seed {SEED}: lost {sorted(expected - set(arrived))[:5]}"
    assert repeated <= in_flight_at_deaths, f"seed {SEED}"
    assert len(repeated) <= connections * len(kills), f"seed {SEED}: {len(repeated)} repeats"
    with Session(engine) as session:
        assert {m.status for m in session.exec(select(OutboxMessage)).all()} == {"sent"}, f"seed {SEED}"


def test_an_smtp_server_that_goes_away_and_comes_back_gets_every_message_once(postgresql, tmp_path):
    url, engine = postgresql
    port = free_port()
    expected = _fill(engine, 20)
    config = _config_file(tmp_path, port, connections=2, batch=5, lease=5)
    config.write_text(config.read_text(encoding="utf-8").replace("backoff_base_seconds = 0", "backoff_base_seconds = 1")
                      .replace("backoff_max_seconds = 0", "backoff_max_seconds = 1"), encoding="utf-8")

    while_down = _sender(config, url)
    output = while_down.communicate(timeout=120)[0].decode()
    with Session(engine) as session:
        statuses = Counter(m.status for m in session.exec(select(OutboxMessage)).all())
    assert statuses.get("sent", 0) == 0 and statuses.get("failed", 0) == 0, output  # kept for retry, not given up

    sink = Sink(port=port).start()
    time.sleep(1.5)  # the retry the first pass scheduled is due
    try:
        back = _sender(config, url)
        output = back.communicate(timeout=120)[0].decode()
        assert back.returncode == 0, output
        sink.wait_for(20, timeout=20)
    finally:
        sink.stop()
    arrived = Counter(arrival.message["Message-ID"] for arrival in sink.arrivals)
    assert set(arrived) == expected and set(arrived.values()) == {1}


def test_an_evaluation_killed_after_a_random_chunk_is_closed_and_the_day_redone(postgresql):
    url, engine = postgresql
    seeded(engine)
    chunks_before_kill = random.Random(SEED).randrange(1, 20)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    victim = subprocess.Popen([sys.executable, "-c", HOLD_A_RUN, url], stdout=subprocess.PIPE, text=True, env=env)
    for _ in range(chunks_before_kill):
        assert victim.stdout.readline().strip() == "chunk", f"seed {SEED}"
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)

    settings = Config(database=DatabaseConfig(url=url), evaluation=EvaluationConfig(lease_seconds=1))
    summary = run_evaluation(engine, settings, as_of=date(2024, 7, 31))

    with Session(engine) as session:
        statuses = {run.id: run.status for run in session.exec(select(EvaluationRun)).all()}
        stored = {(s.indicator_id, s.occurrence): s.light for s in session.exec(select(IndicatorState)).all()}
    assert "running" not in statuses.values() and statuses[summary.run_id] == "ok", f"seed {SEED}"
    assert list(statuses.values()).count("failed") == 1, f"seed {SEED}"
    uninterrupted = run_evaluation(engine, settings, as_of=date(2024, 7, 31), store=False, collect=True).states
    assert stored == {(int(r.indicator_id), r.occurrence or ""): r.light for r in uninterrupted.itertuples()}, (
        f"seed {SEED}")
