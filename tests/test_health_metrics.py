"""Health, readiness and metrics on a real store (SQLite and PostgreSQL): /healthz touches nothing, /readyz and
`kpiwatch status` give one verdict, and every figure /metrics reports from the store is the store's own count."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, text
from typer.testing import CliRunner

from monitor.cli.main import app as cli
from monitor.config import Config, PortalConfig, SchedulerConfig
from monitor.evaluation import run_evaluation
from monitor.notify.outbox import NewMessage, enqueue_many
from monitor.notify.sender import send_pending
from monitor.store.db import make_engine
from monitor.store.migrate import current_revision
from monitor.store.models import SchedulerJob
from monitor.web.app import create_app
from notifications.smtp import SmtpSettings
from tests.test_notify_support import Sink
from tests.test_progress_world import PASSWORD, build_world
from tests.test_web_portal import csrf

LOCAL = ("127.0.0.1", 40000)
NO_SCHEDULER = SchedulerConfig(enabled=False)


def settings_for(url: str, **changes) -> Config:
    from monitor.config import DatabaseConfig

    return dataclasses.replace(Config(), database=DatabaseConfig(url=url), secret_key="test-secret", **changes)


def client_for(settings: Config, engine, address: tuple[str, int] = LOCAL) -> TestClient:
    return TestClient(create_app(settings, engine), client=address)


def scrape(client: TestClient, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def labelled(figures: dict, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for (metric, labels), value in figures.items() if metric == name}


def status_output(url: str, tmp_path, scheduler_enabled: bool) -> tuple[int, str]:
    config = tmp_path / "status.toml"
    config.write_text(f"[scheduler]\nenabled = {str(scheduler_enabled).lower()}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["status"], env={"KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": url,
                                                      "COLUMNS": "250"})
    return result.exit_code, result.output


def add_scheduler_job(engine, job: str, next_run: float) -> None:
    with engine.begin() as connection:
        connection.execute(insert(SchedulerJob.__table__).values(id=job, next_run_time=next_run,
                                                                 job_state=pickle.dumps({"id": job})))


def test_healthz_answers_without_the_store(tmp_path):
    unreachable = make_engine("postgresql://postgres@127.0.0.1:9/nothing")  # nothing listens on port 9
    client = client_for(settings_for("postgresql://postgres@127.0.0.1:9/nothing"), unreachable)
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"] == {"ok": False, "detail": "unreachable (OperationalError)"}
    unreachable.dispose()


def test_status_and_readyz_agree_on_an_unreachable_store(tmp_path):
    url = "postgresql://postgres@127.0.0.1:9/nothing"
    code, output = status_output(url, tmp_path, scheduler_enabled=False)
    assert code == 1 and "unreachable (OperationalError)" in output and "未就绪" in output


def test_readyz_refuses_a_store_that_is_not_migrated_and_status_leaves_it_so(fresh_db_url, tmp_path):
    engine = make_engine(fresh_db_url)
    try:
        ready = client_for(settings_for(fresh_db_url, scheduler=NO_SCHEDULER), engine).get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["schema"] == {"ok": False, "detail": "empty store: run `kpiwatch db upgrade`"}
        code, output = status_output(fresh_db_url, tmp_path, scheduler_enabled=False)
        assert code == 1 and "empty store: run `kpiwatch db upgrade`" in output
        assert current_revision(fresh_db_url) is None  # a status check changes nothing
    finally:
        engine.dispose()


def _seconds_blurred(body: dict) -> str:
    """The body with its overdue seconds hidden: a clock second may tick between two requests."""
    return re.sub(r"is \d+ s overdue", "is N s overdue", json.dumps(body, sort_keys=True))


def test_readyz_wants_a_live_scheduler_when_one_is_configured(engine, db_url, tmp_path):
    without = client_for(settings_for(db_url, scheduler=NO_SCHEDULER), engine).get("/readyz")
    assert without.status_code == 200 and without.json()["status"] == "ready"
    assert without.json()["checks"]["scheduler"]["detail"] == "not expected ([scheduler] enabled = false)"

    client = client_for(settings_for(db_url), engine)
    never = client.get("/readyz")
    assert never.status_code == 503 and "no scheduler has started" in never.json()["checks"]["scheduler"]["detail"]

    add_scheduler_job(engine, "send", time.time() + 30)
    assert client.get("/readyz").status_code == 200
    code, output = status_output(db_url, tmp_path, scheduler_enabled=True)
    assert "running (1 jobs, none overdue)" in output and "就绪 (ready)" in output

    add_scheduler_job(engine, "notify", time.time() - 3600)  # due an hour ago and nobody fired it
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert re.fullmatch(r"job notify is 36\d\d s overdue: no scheduler is running",
                        stale.json()["checks"]["scheduler"]["detail"])
    serving = client.get("/readyz?checks=store,schema")  # for a balancer: the portal itself still serves
    assert serving.status_code == 200 and _seconds_blurred(serving.json()) == _seconds_blurred(stale.json())
    assert client.get("/readyz?checks=store,disk").status_code == 400
    code, output = status_output(db_url, tmp_path, scheduler_enabled=True)
    assert code == 1 and "job notify is 36" in output and "未就绪" in output


def test_metrics_are_closed_to_strangers_and_open_to_the_token_or_allowed_addresses(engine, db_url):
    settings = settings_for(db_url, scheduler=NO_SCHEDULER, metrics_token="scrape-me",
                            portal=PortalConfig(metrics_allow=("10.1.0.0/16",)))
    stranger = client_for(settings, engine, ("192.0.2.7", 5000))
    refused = stranger.get("/metrics")
    assert refused.status_code == 403 and refused.headers["www-authenticate"] == "Bearer"
    assert stranger.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert scrape(stranger, Authorization="Bearer scrape-me")[("kpiwatch_ready", (("check", "store"),))] == 1
    assert client_for(settings, engine, ("10.1.2.3", 5000)).get("/metrics").status_code == 200
    closed = dataclasses.replace(settings, metrics_token=None, portal=PortalConfig(metrics_allow=()))
    assert client_for(closed, engine).get("/metrics").status_code == 403  # not even from the machine itself


def test_request_counters_are_this_processes_own(engine, db_url):
    client = client_for(settings_for(db_url, scheduler=NO_SCHEDULER), engine)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    figures = scrape(client)
    assert figures[("kpiwatch_http_requests_total", (("method", "GET"), ("status", "200")))] == 3
    assert figures[("kpiwatch_http_requests_total", (("method", "GET"), ("status", "404")))] == 1
    assert figures[("kpiwatch_http_request_duration_seconds_count", (("method", "GET"),))] == 4
    other = client_for(settings_for(db_url, scheduler=NO_SCHEDULER), engine)  # another replica: its own count
    assert ("kpiwatch_http_requests_total", (("method", "GET"), ("status", "200"))) not in scrape(other)


def _store_counts(engine) -> dict[str, dict]:
    """The figures, counted straight from the tables."""
    with engine.connect() as connection:
        def grouped(sql: str) -> dict:
            return {key: value for key, value in connection.execute(text(sql)).all()}

        return {
            "lights": grouped("SELECT light, COUNT(*) FROM indicatorstate GROUP BY light"),
            "project_lights": grouped("SELECT light, COUNT(*) FROM projectstate GROUP BY light"),
            "runs": grouped("SELECT status, COUNT(*) FROM evaluationrun GROUP BY status"),
            "outbox": grouped("SELECT status, COUNT(*) FROM outboxmessage GROUP BY status"),
            "reports": grouped("SELECT channel, COUNT(*) FROM report GROUP BY channel"),
            "login_failures": grouped("SELECT action, COUNT(*) FROM auditevent WHERE entity = 'session' "
                                      "GROUP BY action"),
            "jobs": grouped("SELECT job, COUNT(*) FROM jobrun WHERE ok GROUP BY job"),
        }


def assert_metrics_match_the_store(figures: dict, engine) -> None:
    counts = _store_counts(engine)
    lights = labelled(figures, "kpiwatch_indicator_lights", "light")
    assert {k: v for k, v in lights.items() if v} == counts["lights"] and sum(counts["lights"].values()) > 0
    assert {k: v for k, v in labelled(figures, "kpiwatch_project_lights", "light").items() if v} == \
        counts["project_lights"]
    assert labelled(figures, "kpiwatch_evaluation_runs_total", "status") == counts["runs"]
    assert figures[("kpiwatch_evaluation_duration_seconds_count", ())] == sum(
        count for status, count in counts["runs"].items() if status != "running")
    assert {k: v for k, v in labelled(figures, "kpiwatch_outbox_messages", "status").items() if v} == counts["outbox"]
    assert figures[("kpiwatch_outbox_send_latency_seconds_count", ())] == counts["outbox"].get("sent", 0)
    assert {k: v for k, v in labelled(figures, "kpiwatch_reports_total", "channel").items() if v} == counts["reports"]
    assert figures[("kpiwatch_login_failures_total", ())] == counts["login_failures"].get("login_failed", 0)
    ok_runs = {dict(labels)["job"]: value for (name, labels), value in figures.items()
               if name == "kpiwatch_job_runs_total" and dict(labels)["result"] == "ok"}
    assert ok_runs == counts["jobs"]


def test_metrics_after_evaluating_reporting_sending_and_failed_logins_match_the_store(engine, db_url):
    world = build_world(engine)
    sink = Sink().start()
    try:
        settings = settings_for(db_url, scheduler=NO_SCHEDULER,
                                smtp=SmtpSettings(port=sink.port, sender="kpiwatch <kpiwatch@example.org>"))
        client = client_for(settings, engine)
        for attempt in range(3):
            client.post("/login", data={"username": "clerk_hr", "password": f"wrong-{attempt}", "next": "/",
                                        "csrf_token": csrf(client)})
        assert client.post("/login", data={"username": "clerk_hr", "password": PASSWORD, "next": "/",
                                           "csrf_token": csrf(client)}, follow_redirects=False).status_code == 303
        page = f"/projects/{world.hr_project}"
        posted = client.post(f"{page}/indicators/{world.ind['count']}/reports",
                             data={"value": "1800", "as_of": "2024-07-15", "csrf_token": csrf(client, page)})
        assert posted.status_code == 200 and "已保存" in posted.text
        run_evaluation(engine, settings, as_of=date(2024, 7, 31))
        from sqlmodel import Session

        with Session(engine) as session:
            enqueue_many(session, [NewMessage(f"digest|d{i}@example.org|2024-07-31", [f"d{i}@example.org"],
                                              f"提醒{i}", f"第{i}封", kind="digest", period="2024-07-31")
                                   for i in range(5)], sender="kpiwatch <kpiwatch@example.org>")
            session.commit()
        assert send_pending(engine, settings, max_messages=3).sent == 3
        figures = scrape(client)
    finally:
        sink.stop()
    assert_metrics_match_the_store(figures, engine)
    assert figures[("kpiwatch_login_failures_total", ())] == 3
    assert labelled(figures, "kpiwatch_outbox_messages", "status") == {"pending": 2, "sending": 0, "sent": 3,
                                                                       "failed": 0}
    assert figures[("kpiwatch_reports_total", (("channel", "portal"),))] == 1
    assert figures[("kpiwatch_job_runs_total", (("job", "send"), ("result", "ok")))] == 1
    assert not labelled(figures, "kpiwatch_job_lag_seconds", "job")  # no scheduler ever ran here
    assert 0 <= figures[("kpiwatch_outbox_send_latency_seconds_sum", ())] < 60
    assert figures[("kpiwatch_outbox_oldest_unsent_age_seconds", ())] >= 0


@pytest.mark.slow
def test_metrics_after_the_demo_match_its_store(tmp_path, monkeypatch):
    """`kpiwatch demo --no-serve`, then /metrics on the demo's store: every figure is the store's count."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KPIWATCH_SECRET_KEY", raising=False)
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--as-of", "2024-07-31"])
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{tmp_path / 'kpiwatch-demo' / 'kpiwatch.sqlite'}"
    engine = make_engine(url)
    try:
        figures = scrape(client_for(settings_for(url, scheduler=NO_SCHEDULER), engine))
        assert_metrics_match_the_store(figures, engine)
        assert figures[("kpiwatch_reports_total", (("channel", "demo"),))] > 0
        assert figures[("kpiwatch_evaluation_runs_total", (("status", "ok"),))] >= 1
        assert all(figures[("kpiwatch_ready", (("check", check),))] == 1 for check in ("store", "schema", "scheduler"))
    finally:
        engine.dispose()
