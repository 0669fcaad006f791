"""On PostgreSQL the API's re-evaluations run in a process of their own, so a project's pandas work does not hold up
the requests the server is answering meanwhile; reports relight their indicators even after that process died."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlmodel import Session, select

from monitor.config import Config
from monitor.store.models import IndicatorState
from monitor.web import reevaluate
from monitor.web.reevaluate import ELSEWHERE, reevaluations
from tests.test_api_progress import _auth, _token
from tests.test_progress_world import TODAY, build_world
from tests.test_web_portal import make_client

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _reason(engine, indicator_id: int) -> str:
    with Session(engine) as s:
        return s.exec(select(IndicatorState.reason).where(IndicatorState.indicator_id == indicator_id)).one()


def _post(client, engine, indicator_id: int, value: str) -> None:
    answer = client.post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")),
                         json={"indicator_id": indicator_id, "value": value, "as_of": "2024-07-31"})
    assert answer.status_code == 201, answer.text
    assert reevaluations(client.app).settled(timeout=60)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:  # killed but not yet reaped by its pool
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_the_evaluation_process_is_another_process_and_writes_the_lights(db_url, engine):
    world = build_world(engine)
    child = ELSEWHERE.submit(db_url, Config(), [world.hr_project], TODAY).result(timeout=120)
    assert child != os.getpid()
    assert _reason(engine, world.ind["count"])  # evaluated there, stored here


def test_reports_relight_their_indicator_after_the_evaluation_process_was_killed(db_url, engine, caplog):
    world = build_world(engine)
    child = ELSEWHERE.submit(db_url, Config(), [world.hr_project], TODAY).result(timeout=120)
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _gone(child):
        assert time.monotonic() < deadline, "the killed evaluation process is still there"
        time.sleep(0.05)
    client = make_client(engine)
    _post(client, engine, world.ind["count"], "1300")
    assert "1300人" in _reason(engine, world.ind["count"])
    assert "evaluating projects" in caplog.text and "in the server" in caplog.text  # that batch, here
    _post(client, engine, world.ind["count"], "1400")
    assert "1400人" in _reason(engine, world.ind["count"])
    successor = ELSEWHERE.submit(db_url, Config(), [world.hr_project], TODAY).result(timeout=120)
    assert successor not in (child, os.getpid())


def _children() -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as children:
            found.update(map(int, children.read().split()))
    return found


def test_a_server_starts_its_evaluation_process_before_the_first_report(db_url, engine):
    # Started by the first report instead, the process's imports took the cores from the first seconds' answers.
    world = build_world(engine)
    client = make_client(engine)
    reevaluate.stop(client.app)  # no process left over from an earlier test
    started = reevaluate.prepare(client.app)
    assert started is not None
    child = started.result(timeout=120)
    assert child in _children() and child != os.getpid()
    _post(client, engine, world.ind["count"], "1300")
    assert "1300人" in _reason(engine, world.ind["count"])
    assert ELSEWHERE.submit(db_url, Config(), [world.hr_project], TODAY).result(timeout=120) == child
