"""Reasons in English (revision 0012) on a store of the previous release: its states upgrade with no English
reason, an English page names their status instead of showing the Chinese sentence, and the next evaluation
says every reason in English."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from monitor.config import Config
from monitor.evaluation.run import run_evaluation
from monitor.notify.tokens import ack_token
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import Indicator, IndicatorState, IndicatorStateChange, Project, ProjectState
from rules.terms import STATUS_NAMES_EN
from tests import release_fixture
from tests.test_web_portal import make_client

STATES = (IndicatorState, IndicatorStateChange, ProjectState)


def _upgraded(url: str):
    release_fixture.load(url)
    upgrade(url)
    return make_engine(url)


def test_states_of_the_previous_release_upgrade_with_no_english_reason(fresh_db_url):
    engine = _upgraded(fresh_db_url)
    try:
        with Session(engine) as s:
            for model in STATES:
                rows = s.exec(select(model)).all()
                assert rows and {r.reason_en for r in rows} == {None}, model.__name__
                assert all(r.reason for r in rows), model.__name__  # the Chinese reasons are kept as they were
    finally:
        engine.dispose()


def test_an_english_page_names_an_old_states_status_instead_of_its_chinese_reason(fresh_db_url):
    engine = _upgraded(fresh_db_url)
    try:
        with Session(engine) as s:
            state = s.exec(select(IndicatorState).order_by(IndicatorState.id)).first()
            project = s.get(Project, s.get(Indicator, state.indicator_id).project_id)
        token = ack_token(Config(secret_key="test-secret"), state.indicator_id, state.occurrence, state.status,
                          state.since, project.department_id)
        english = make_client(engine).get(f"/notify/ack/{token}?lang=en")
        chinese = make_client(engine).get(f"/notify/ack/{token}?lang=zh")
    finally:
        engine.dispose()
    assert english.status_code == 200 and "Current state" in english.text
    assert STATUS_NAMES_EN[state.status] in english.text and state.reason not in english.text
    assert state.reason in chinese.text


def test_the_next_evaluation_says_every_old_state_in_english(fresh_db_url):
    engine = _upgraded(fresh_db_url)
    try:
        run_evaluation(engine, Config(), as_of=date(2024, 8, 7))
        with Session(engine) as s:
            for model in (IndicatorState, ProjectState):
                assert all(r.reason_en for r in s.exec(select(model)).all()), model.__name__
    finally:
        engine.dispose()
