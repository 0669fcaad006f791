"""A report re-evaluates its project at once (portal form, spending, workbook upload): the lights the clerk
sees next are the ones the daily run would give, and the daily run's own record stays as it was."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from monitor.config import Config
from monitor.evaluation import run_evaluation
from monitor.store.models import EvaluationRun, IndicatorState, ProjectState
from tests.test_progress_workbook import _download, _fill, _upload
from tests.test_progress_world import TODAY, build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    return build_world(engine)


def _state(engine, indicator_id: int) -> IndicatorState:
    with Session(engine) as s:
        return s.exec(select(IndicatorState).where(IndicatorState.indicator_id == indicator_id)).one()


def _runs(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(EvaluationRun)).one()


def test_a_report_in_the_portal_gives_the_light_the_daily_run_would(engine, world):
    run_evaluation(engine, Config(), as_of=TODAY)
    assert _state(engine, world.ind["count"]).status == "no_report"
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/indicators/{world.ind['count']}/reports",
                data={"value": "1200", "as_of": "2024-07-31", "csrf_token": csrf(client, page)})
    relit = _state(engine, world.ind["count"])
    assert relit.status != "no_report" and "1200人" in relit.reason
    with Session(engine) as s:
        assert s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one().as_of == TODAY
    run_evaluation(engine, Config(), as_of=TODAY)
    daily = _state(engine, world.ind["count"])
    assert (daily.light, daily.status, daily.reason) == (relit.light, relit.status, relit.reason)


def test_a_re_evaluation_is_not_taken_for_the_daily_run(engine, world):
    run_evaluation(engine, Config(), as_of=TODAY)
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/indicators/{world.ind['count']}/reports",
                data={"value": "1200", "as_of": "2024-07-31", "csrf_token": csrf(client, page)})
    assert _runs(engine) == 1, "staleness checks read the runs: a report must not look like one"


def test_spending_in_the_portal_updates_the_projects_budget_state_at_once(engine, world):
    run_evaluation(engine, Config(), as_of=TODAY)
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/spending", data={"amount": "400000", "as_of": "2024-07-31", "csrf_token": csrf(client, page)})
    with Session(engine) as s:
        state = s.exec(select(ProjectState).where(ProjectState.project_id == world.hr_project)).one()
    assert state.spent is not None and int(state.spent) == 400000


def test_an_uploaded_workbook_relights_the_projects_it_reports_on(engine, world):
    run_evaluation(engine, Config(), as_of=TODAY)
    client = make_client(engine)
    login(client, "clerk_hr")
    data = _fill(_download(client, world), world, {world.ind["count"]: {"数值": 1500, "截至日期": "2024-07-31"}})
    assert _upload(client, world, data).status_code == 200
    state = _state(engine, world.ind["count"])
    assert state.status != "no_report" and "1500人" in state.reason
