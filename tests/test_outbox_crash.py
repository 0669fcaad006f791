"""The delivery guarantee under kill -9 and under concurrency, with real processes, a real SMTP server and
both databases: nothing is lost; nothing arrives twice except the documented in-flight messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.notify.outbox import NewMessage, enqueue_many
from monitor.store.models.notify import OutboxMessage
from tests.conftest import ROOT
from tests.test_notify_support import Sink

KPIWATCH = str(Path(sys.executable).with_name("kpiwatch"))


def _config_file(tmp_path: Path, port: int, *, connections: int, batch: int, lease: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[smtp]
port = {port}
sender = "kpiwatch <kpiwatch@example.org>"
max_connections = {connections}
batch_size = {batch}
claim_timeout_seconds = {lease}
backoff_base_seconds = 0
backoff_max_seconds = 0
max_attempts = 50
""", encoding="utf-8")
    return path


def _sender(config: Path, db_url: str) -> subprocess.Popen:
    env = {**os.environ, "KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url}
    return subprocess.Popen([KPIWATCH, "outbox", "send"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _fill(engine, count: int) -> set[str]:
    with Session(engine) as session:
        enqueue_many(session, [NewMessage(f"digest|d{i}@example.org|2024-07-31", [f"d{i}@example.org"],
                                          f"【绩效提醒】部门{i}：1项逾期", f"第{i}封", f"<p>第{i}封</p>",
                                          kind="digest", period="2024-07-31") for i in range(count)],
                     sender="kpiwatch <kpiwatch@example.org>")
        session.commit()
        return {m.message_id for m in session.exec(select(OutboxMessage)).all()}


@pytest.mark.slow
def test_sender_killed_mid_batch_loses_nothing_and_repeats_only_in_flight(engine, db_url, tmp_path):
    sink = Sink(delay=0.05).start()
    try:
        expected = _fill(engine, 40)
        config = _config_file(tmp_path, sink.port, connections=2, batch=4, lease=2)
        first = _sender(config, db_url)
        sink.wait_for(12, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait()
        with Session(engine) as session:
            rows = session.exec(select(OutboxMessage)).all()
        in_flight = {r.message_id for r in rows if r.status == "sending"}
        sent_before = {r.message_id for r in rows if r.status == "sent"}
        arrived_before = Counter(a.message["Message-ID"] for a in sink.arrivals)
        assert 12 <= sum(arrived_before.values()) < 40, "the kill must land in the middle of the batch"
        assert sent_before <= set(arrived_before)

        time.sleep(2.5)  # the killed sender's lease runs out
        second = _sender(config, db_url)
        output = second.communicate(timeout=120)[0].decode()
        assert second.returncode == 0, output
        sink.wait_for(40, timeout=10)
    finally:
        sink.stop()
    arrived = Counter(a.message["Message-ID"] for a in sink.arrivals)
    repeated = {mid for mid, n in arrived.items() if n > 1}
    assert set(arrived) == expected
    assert max(arrived.values()) <= 2
    assert repeated <= in_flight and len(repeated) <= 2  # at most one per connection, and only in-flight ones
    with Session(engine) as session:
        assert {r.status for r in session.exec(select(OutboxMessage)).all()} == {"sent"}


@pytest.mark.slow
def test_two_senders_on_one_outbox_send_every_message_exactly_once(engine, db_url, tmp_path):
    sink = Sink(delay=0.03).start()
    try:
        expected = _fill(engine, 80)
        config = _config_file(tmp_path, sink.port, connections=2, batch=3, lease=300)
        senders = [_sender(config, db_url), _sender(config, db_url)]
        outputs = [s.communicate(timeout=180)[0].decode() for s in senders]
        assert [s.returncode for s in senders] == [0, 0], outputs
    finally:
        sink.stop()
    arrived = Counter(a.message["Message-ID"] for a in sink.arrivals)
    assert set(arrived) == expected and set(arrived.values()) == {1}
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    workers = Counter(r.claimed_by.rsplit(":", 1)[0] for r in rows)
    assert {r.status for r in rows} == {"sent"}
    assert len(workers) == 2 and min(workers.values()) > 0, workers


@pytest.mark.slow
def test_two_senders_against_a_slow_server_send_each_message_once_and_burn_no_attempt(engine, db_url, tmp_path):
    """A server taking a second per message, 40 messages, two dedicated senders of four connections and a lease of
    three seconds: far less than one sender's share takes. Each message arrives exactly once, in one attempt:
    a sender claims only what its connections take next, renews a claim right before sending and while the
    server takes its time, and leaves a message another sender has taken to it."""
    sink = Sink(delay=1.0).start()
    config = _config_file(tmp_path, sink.port, connections=4, batch=50, lease=3)
    env = {**os.environ, "KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url}
    senders = []
    try:
        expected = _fill(engine, 40)
        senders = [subprocess.Popen([KPIWATCH, "outbox", "send", "--loop", "--poll", "0.2"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Session(engine) as session:
                rows = session.exec(select(OutboxMessage)).all()
            if {r.status for r in rows} == {"sent"}:
                break
            time.sleep(0.2)
        time.sleep(2.5)  # a second copy of the last messages would arrive by now
    finally:
        for sender in senders:
            sender.terminate()
        for sender in senders:
            sender.wait(20)
        sink.stop()
    arrived = Counter(a.message["Message-ID"] for a in sink.arrivals)
    twice = sum(1 for n in arrived.values() if n > 1)
    assert (len(expected - set(arrived)), twice) == (0, 0), "(messages missing, messages sent more than once)"
    assert set(arrived) == expected and set(arrived.values()) == {1}
    assert {r.status for r in rows} == {"sent"}
    assert [r.last_error for r in rows if r.attempts != 1] == [], "an attempt was counted without a send"
    workers = Counter(r.claimed_by.rsplit(":", 1)[0] for r in rows)
    assert len(workers) == 2 and min(workers.values()) >= 8, workers  # both senders shared the work


@pytest.mark.slow
def test_a_dedicated_sender_picks_up_new_messages_and_logs_its_passes(engine, db_url, tmp_path):
    from monitor.store.models import JobRun

    sink = Sink().start()
    config = _config_file(tmp_path, sink.port, connections=2, batch=10, lease=60)
    env = {**os.environ, "KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url}
    sender = subprocess.Popen([KPIWATCH, "outbox", "send", "--loop", "--poll", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        expected = _fill(engine, 5)
        arrived = sink.wait_for(5, timeout=60)
        assert {a.message["Message-ID"] for a in arrived} == expected
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(engine) as session:
                runs = session.exec(select(JobRun).where(JobRun.job == "send")).all()
            if sum((r.counts or {}).get("sent", 0) for r in runs) == 5:
                break
            time.sleep(0.2)
        assert sum((r.counts or {}).get("sent", 0) for r in runs) == 5 and all(r.ok for r in runs)
    finally:
        sender.terminate()
        sender.wait(10)
        sink.stop()
