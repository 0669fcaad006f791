"""A report through the API re-evaluates its project right after its answer, as the portal does: the light a
following page or call shows is the one the report earned, and projects named many times while an evaluation
runs are evaluated once, together, next."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from monitor.config import Config
from monitor.evaluation import run, run_evaluation
from monitor.evaluation.projects import evaluate_projects
from monitor.store.models import IndicatorState, Project, ProjectState
from monitor.web import reevaluate
from monitor.web.reevaluate import reevaluations
from tests.test_api_progress import _auth, _token
from tests.test_budgets import _adjust, _set_funds
from tests.test_progress_world import TODAY, build_world
from tests.test_web_portal import login, make_client


def _state(engine, indicator_id: int) -> IndicatorState:
    with Session(engine) as s:
        return s.exec(select(IndicatorState).where(IndicatorState.indicator_id == indicator_id)).one()


def _evaluated_on(engine, project_id: int) -> date:
    """States are dated by their project's state (written by every evaluation of it)."""
    with Session(engine) as s:
        return s.exec(select(ProjectState.as_of).where(ProjectState.project_id == project_id)).one()


def test_an_api_report_relights_its_indicator_right_after_its_answer(engine):
    world = build_world(engine)
    run_evaluation(engine, Config(), as_of=TODAY)
    client = make_client(engine)
    answer = client.post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")),
                         json={"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-07-31"})
    assert answer.status_code == 201
    assert reevaluations(client.app).settled(timeout=60)
    relit = _state(engine, world.ind["count"])
    assert relit.status != "no_report" and "1200人" in relit.reason
    assert _evaluated_on(engine, world.hr_project) == TODAY
    login(client, "clerk_hr")
    assert "1200人" in client.get(f"/projects/{world.hr_project}").text


def test_api_spending_updates_the_projects_budget_state_at_once(engine):
    world = build_world(engine)
    run_evaluation(engine, Config(), as_of=TODAY)
    answer = make_client(engine).post(f"/api/v1/projects/{world.hr_project}/spending",
                                      headers=_auth(_token(engine, "clerk_hr")),
                                      json={"amount": "400000", "as_of": "2024-07-31"})
    assert answer.status_code == 201
    with Session(engine) as s:
        state = s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one()
    assert state.spent is not None and int(state.spent) == 400000


def test_api_spending_is_measured_against_the_adjusted_budget_as_the_daily_run_does(engine):
    world = build_world(engine)
    _set_funds(engine, world.hr_project, annual_funds=Decimal("0.00"))
    _adjust(engine, world.hr_project, "33600", "2024-06-15", today=TODAY)
    answer = make_client(engine).post(f"/api/v1/projects/{world.hr_project}/spending",
                                      headers=_auth(_token(engine, "clerk_hr")),
                                      json={"amount": "14000", "as_of": "2024-06-30"})
    assert answer.status_code == 201
    with Session(engine) as s:
        relit = s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one()
    # by hand: 1.4 万 of the 3.36 万 in force (年初 0) = 41.67 %, against 50 % 序时进度 → green, not grey
    assert relit.budget_light == "green" and "全年预算3.36万元" in relit.reason
    run_evaluation(engine, Config(), as_of=TODAY)
    with Session(engine) as s:
        daily = s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one()
    assert (daily.budget_light, daily.reason) == (relit.budget_light, relit.reason)


def test_projects_named_during_an_evaluation_are_evaluated_once_together_next(engine, monkeypatch):
    world = build_world(engine)
    batches: list[list[int]] = []
    first_running, release = threading.Event(), threading.Event()
    real = reevaluate.evaluate_projects

    def held(engine_, settings, project_ids, as_of: date) -> None:
        batches.append(sorted(project_ids))
        if len(batches) == 1:
            first_running.set()
            release.wait(30)
        real(engine_, settings, project_ids, as_of)

    monkeypatch.setattr(reevaluate, "evaluate_projects", held)
    monkeypatch.setattr(reevaluate.ELSEWHERE, "submit", _refuse)  # on PostgreSQL too, evaluated in this process
    waiting = reevaluate.Reevaluations(engine, Config(), share=1.0)
    waiting.submit([world.hr_project], TODAY)
    assert first_running.wait(30)
    for _ in range(3):
        waiting.submit([world.hr_project, world.union_project, world.hr_project], TODAY)
    release.set()
    assert waiting.settled(timeout=60)
    waiting.close()
    assert batches == [[world.hr_project], sorted([world.hr_project, world.union_project])]
    assert _state(engine, world.ind["count"]).status == "no_report"  # evaluated: nothing is reported yet
    assert _evaluated_on(engine, world.hr_project) == TODAY


def test_stopping_does_not_wait_out_the_pause_between_evaluations(engine, monkeypatch):
    world = build_world(engine)
    evaluating = threading.Event()

    def slow(engine_, settings, project_ids, as_of: date) -> None:
        evaluating.set()
        time.sleep(0.2)

    monkeypatch.setattr(reevaluate, "evaluate_projects", slow)
    monkeypatch.setattr(reevaluate.ELSEWHERE, "submit", _refuse)
    waiting = reevaluate.Reevaluations(engine, Config(), share=0.01)  # 0.2 s of work, then a 19.8 s pause
    waiting.submit([world.hr_project], TODAY)
    assert evaluating.wait(30)
    waiting.submit([world.union_project], TODAY)  # waiting when the first ends: the pause begins
    started = time.monotonic()
    waiting.close()
    assert time.monotonic() - started < 5
    assert waiting.settled(timeout=0)


def _refuse(*_args, **_kwargs):
    raise RuntimeError("no evaluation process in this test")


def test_projects_far_apart_are_evaluated_together_and_none_between_them(engine, monkeypatch):
    world = build_world(engine)
    with Session(engine) as s:
        first = s.get(Project, world.hr_project)
        assert first is not None
        far = Project(department_id=first.department_id, budget_year_id=first.budget_year_id, import_key="far",
                      name="远处的项目", annual_funds=Decimal("1000.00"))
        s.add(far)
        s.commit()
        far_id = far.id
    assert far_id is not None and far_id - world.hr_project > 1 and world.union_project < far_id
    loads: list[int] = []
    real = run.load_chunk

    def counting(*args, **kwargs):
        loads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(run, "load_chunk", counting)
    evaluate_projects(engine, Config(), [far_id, world.hr_project], TODAY)
    assert loads == [1]  # one evaluation for both
    with Session(engine) as s:
        evaluated = set(s.exec(select(ProjectState.project_id)).all())
    assert evaluated == {world.hr_project, far_id}  # not the union's project, whose id lies between them
