"""A clerk's 待办 (/todo): what is overdue, due this week and not yet reported, and the one form that completes
several periods of a timed indicator at once (all or nothing, audited, the light re-evaluated at once)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from monitor.config import Config
from monitor.evaluation import run_evaluation
from monitor.store.models import AuditEvent, IndicatorState, Report
from tests.test_progress_world import TODAY, build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    world = build_world(engine)
    run_evaluation(engine, Config(), as_of=TODAY)
    return world


def _clerk(engine, name: str = "clerk_hr"):
    client = make_client(engine)
    login(client, name)
    return client


def _complete(client, indicator_id: int, periods: list[str], completed_on: str = "2024-07-30"):
    data = {"occurrence": periods, "completed_on": completed_on, "csrf_token": csrf(client, "/todo")}
    return client.post(f"/todo/indicators/{indicator_id}/complete", data=data, follow_redirects=False)


def _reports(engine, indicator_id: int) -> list[Report]:
    with Session(engine) as s:
        return list(s.exec(select(Report).where(Report.indicator_id == indicator_id)).all())


def test_the_todo_lists_overdue_periods_and_unreported_indicators_with_links(engine, world):
    page = _clerk(engine).get("/").text
    overdue = page.split('id="overdue"')[1].split("</section>")[0]
    assert "1项逾期（共2期）" in overdue and "2024-03-31、2024-06-30" in overdue
    assert f'href="/projects/{world.hr_project}#ind-{world.ind["quarterly"]}"' in overdue
    unreported = page.split('id="unreported"')[1].split("</section>")[0]
    assert "培训人数" in unreported and "就业能力" in unreported and "补贴发放" not in unreported


def test_completing_two_overdue_periods_at_once_records_each_audits_and_relights(engine, world):
    quarterly = world.ind["quarterly"]
    with Session(engine) as s:
        before = {st.occurrence: st.light for st in s.exec(select(IndicatorState)
                                                           .where(IndicatorState.indicator_id == quarterly)).all()}
    assert before["2024-03-31"] == "red" and before["2024-06-30"] == "red"
    response = _complete(_clerk(engine), quarterly, ["2024-03-31", "2024-06-30"])
    assert response.status_code == 303 and response.headers["location"] == "/todo?done=2"
    assert sorted(str(r.occurrence_due) for r in _reports(engine, quarterly)) == ["2024-03-31", "2024-06-30"]
    with Session(engine) as s:
        after = {st.occurrence: st.light for st in s.exec(select(IndicatorState)
                                                          .where(IndicatorState.indicator_id == quarterly)).all()}
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "report")).all()
    assert after["2024-03-31"] != "red" and after["2024-06-30"] != "red"
    assert len(events) == 2 and {e.channel for e in events} == {"portal"}
    assert "1项逾期" not in _clerk(engine).get("/todo").text


def test_a_completion_without_any_period_ticked_is_refused(engine, world):
    response = _complete(_clerk(engine), world.ind["quarterly"], [])
    assert response.status_code == 422 and "请至少勾选一期" in response.text
    assert _reports(engine, world.ind["quarterly"]) == []


def test_one_wrong_period_refuses_the_whole_completion(engine, world):
    response = _complete(_clerk(engine), world.ind["quarterly"], ["2024-03-31", "2024-05-15"])
    assert response.status_code == 422 and "2024-05-15" in response.text
    assert _reports(engine, world.ind["quarterly"]) == []


def test_a_completion_dated_in_the_future_is_refused(engine, world):
    response = _complete(_clerk(engine), world.ind["quarterly"], ["2024-03-31"], completed_on="2024-08-15")
    assert response.status_code == 422
    assert _reports(engine, world.ind["quarterly"]) == []


def test_an_indicator_without_periods_cannot_be_completed_here(engine, world):
    response = _complete(_clerk(engine), world.ind["count"], ["2024-03-31"])
    assert response.status_code == 422 and "该指标没有期次" in response.text
    assert _reports(engine, world.ind["count"]) == []


def test_another_departments_indicator_is_not_found(engine, world):
    response = _complete(_clerk(engine, "clerk_union"), world.ind["quarterly"], ["2024-03-31"])
    assert response.status_code == 404
    assert _reports(engine, world.ind["quarterly"]) == []


def test_a_completion_without_the_form_token_is_refused(engine, world):
    client = _clerk(engine)
    response = client.post(f"/todo/indicators/{world.ind['quarterly']}/complete",
                           data={"occurrence": ["2024-03-31"], "completed_on": "2024-07-30"})
    assert response.status_code == 403
    assert _reports(engine, world.ind["quarterly"]) == []


def test_the_auditor_cannot_complete_periods(engine, world):
    auditor = make_client(engine)
    login(auditor, "auditor")
    assert auditor.get("/todo", follow_redirects=False).headers["location"] == "/admin"
    response = auditor.post(f"/todo/indicators/{world.ind['quarterly']}/complete",
                            data={"occurrence": ["2024-03-31"], "completed_on": "2024-07-30",
                                  "csrf_token": csrf(auditor, "/account")})
    assert response.status_code == 403
    assert _reports(engine, world.ind["quarterly"]) == []
