"""`/metrics` in the Prometheus text format, for Prometheus or Zabbix.

Two kinds of figures:
- what lives in the store (evaluation runs, lights, the outbox, reports, failed logins, scheduled jobs) is read
  from the store at scrape time by `StoreCollector`, so every replica reports the same truth and a restart
  loses nothing; aggregate those with max() across instances, never sum();
- what happens in this process (HTTP requests and their durations, CPU and memory) is counted here, per replica.

Who may read it: a scraper sending `Authorization: Bearer <KPIWATCH_METRICS_TOKEN>`, or any client whose address
(the real one, behind a trusted proxy) is in `[portal] metrics_allow`. Everybody else gets 403.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.accounts.sign_ins import ENTITY as SIGN_IN
from monitor.accounts.sign_ins import LOGIN_FAILED
from monitor.accounts.throttle import slowed_down
from monitor.config import Config, PortalConfig
from monitor.readiness import job_lags, readiness
from monitor.store.models import (
    AuditEvent,
    EvaluationRun,
    IndicatorState,
    JobRun,
    OutboxMessage,
    ProjectState,
    Report,
    Spending,
)
from monitor.store.models.notify import OUTBOX_STATUSES
from monitor.store.types import now
from rules.terms import CHANNELS, LIGHTS

router = APIRouter(include_in_schema=False)
# The classic text format every Prometheus and Zabbix reads (what prometheus-client's own server answers a
# scraper that asks for nothing in particular).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StoreCollector:
    """Figures read from the store on every scrape; a store that does not answer yields `kpiwatch_ready` only."""

    def __init__(self, engine: Engine, settings: Config) -> None:
        self.engine = engine
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []  # registering must not query the store; the names are checked when scraped

    def collect(self) -> Iterator[Metric]:
        at = now()
        verdict = readiness(self.engine, self.settings, at=at)
        ready = GaugeMetricFamily("kpiwatch_ready", "1 when the readiness check passes (as /readyz)", labels=["check"])
        for check in verdict.checks:
            ready.add_metric([check.name], 1 if check.ok else 0)
        yield ready
        if not verdict.store_usable:
            return
        try:
            with self.engine.connect() as connection:
                yield from _store_figures(connection, at, self.settings.portal)
        except SQLAlchemyError:
            return  # the store went away between the check and the figures: the next scrape says so


def _store_figures(connection: Connection, at, portal: PortalConfig) -> Iterator[Metric]:
    def grouped(column, *where) -> dict:
        return dict(connection.execute(select(column, func.count()).where(*where).group_by(column)).all())

    runs = CounterMetricFamily("kpiwatch_evaluation_runs", "Evaluation runs by how they ended", labels=["status"])
    for status, count in sorted(grouped(EvaluationRun.status).items()):
        runs.add_metric([status], count)
    yield runs
    finished = connection.execute(select(col(EvaluationRun.started_at), col(EvaluationRun.finished_at))
                                  .where(col(EvaluationRun.finished_at).is_not(None),
                                         col(EvaluationRun.started_at).is_not(None))).all()
    yield SummaryMetricFamily("kpiwatch_evaluation_duration_seconds", "Duration of finished evaluation runs",
                              count_value=len(finished),
                              sum_value=sum((end - start).total_seconds() for start, end in finished
                                            if start is not None and end is not None))
    last = connection.execute(select(func.max(EvaluationRun.finished_at))
                              .where(col(EvaluationRun.status) == "ok")).scalar()
    if last is not None:
        yield GaugeMetricFamily("kpiwatch_evaluation_last_success_timestamp_seconds",
                                "When the last successful evaluation finished", value=last.timestamp())

    for name, column, help_text in (
            ("kpiwatch_indicator_lights", IndicatorState.light, "Indicators (occurrences) by current light"),
            ("kpiwatch_project_lights", ProjectState.light, "Projects by worst indicator light"),
            ("kpiwatch_project_budget_lights", ProjectState.budget_light, "Projects by budget-execution light")):
        counts = grouped(column)
        family = GaugeMetricFamily(name, help_text, labels=["light"])
        for light in (*LIGHTS, *sorted(set(counts) - set(LIGHTS))):
            family.add_metric([light], counts.get(light, 0))
        yield family

    box = grouped(OutboxMessage.status)
    outbox = GaugeMetricFamily("kpiwatch_outbox_messages", "Outbox messages by delivery status", labels=["status"])
    for status in (*OUTBOX_STATUSES, *sorted(set(box) - set(OUTBOX_STATUSES))):
        outbox.add_metric([status], box.get(status, 0))
    yield outbox
    count, total = connection.execute(text(_LATENCY_SQL[connection.dialect.name])).one()
    yield SummaryMetricFamily("kpiwatch_outbox_send_latency_seconds", "From queued to accepted by the SMTP server",
                              count_value=count, sum_value=float(total or 0))
    oldest = connection.execute(select(func.min(OutboxMessage.created_at))
                                .where(col(OutboxMessage.status).in_(("pending", "sending")))).scalar()
    yield GaugeMetricFamily("kpiwatch_outbox_oldest_unsent_age_seconds", "Age of the oldest message not yet sent",
                            value=max(0.0, (at - oldest).total_seconds()) if oldest is not None else 0)

    for name, column, help_text in (("kpiwatch_reports", Report.channel, "Progress reports posted, by channel"),
                                    ("kpiwatch_spending_reports", Spending.channel, "Spending reports, by channel")):
        counts = grouped(column)
        posted = CounterMetricFamily(name, help_text, labels=["channel"])
        for channel in (*CHANNELS, *sorted(set(counts) - set(CHANNELS))):
            posted.add_metric([channel], counts.get(channel, 0))
        yield posted

    failures = connection.execute(select(func.count()).select_from(AuditEvent).where(
        col(AuditEvent.entity) == SIGN_IN, col(AuditEvent.action) == LOGIN_FAILED)).scalar_one()
    yield CounterMetricFamily("kpiwatch_login_failures", "Failed portal logins (audit trail)", value=failures)
    yield GaugeMetricFamily("kpiwatch_throttled_logins", "Account names whose logins from an address are slowed "
                            "down after too many failures", value=slowed_down(connection, portal, at))

    job_runs = CounterMetricFamily("kpiwatch_job_runs", "Scheduled job runs and delivery batches by result",
                                   labels=["job", "result"])
    for (job, ok), count in sorted(_job_results(connection).items()):
        job_runs.add_metric([job, ok], count)
    yield job_runs
    success = GaugeMetricFamily("kpiwatch_job_last_success_timestamp_seconds",
                                "When each job last finished successfully", labels=["job"])
    for job, finished_at in sorted(connection.execute(select(col(JobRun.job), func.max(JobRun.finished_at))
                                                      .where(col(JobRun.ok).is_(True))
                                                      .group_by(col(JobRun.job))).all()):
        if finished_at is not None:
            success.add_metric([job], finished_at.timestamp())
    yield success
    lag = GaugeMetricFamily("kpiwatch_job_lag_seconds", "How far each scheduled job is past its next-run time "
                            "(0 while a scheduler keeps up)", labels=["job"])
    for job, seconds in sorted(job_lags(connection, at).items()):
        lag.add_metric([job], seconds)
    yield lag


def _job_results(connection: Connection) -> dict[tuple[str, str], int]:
    rows = connection.execute(select(col(JobRun.job), col(JobRun.ok), func.count())
                              .group_by(col(JobRun.job), col(JobRun.ok))).all()
    results: dict[tuple[str, str], int] = {}
    for job, ok, count in rows:
        key = (job, "ok" if ok else ("failed" if ok is False else "unfinished"))
        results[key] = results.get(key, 0) + count
    return results


# Instants are timestamptz on PostgreSQL and Shanghai wall-clock text on SQLite (which julianday reads).
_LATENCY_SQL = {
    "postgresql": "SELECT COUNT(*), SUM(EXTRACT(EPOCH FROM sent_at - created_at)) FROM outboxmessage "
                  "WHERE status = 'sent' AND sent_at IS NOT NULL AND created_at IS NOT NULL",
    "sqlite": "SELECT COUNT(*), SUM((julianday(sent_at) - julianday(created_at)) * 86400.0) FROM outboxmessage "
              "WHERE status = 'sent' AND sent_at IS NOT NULL AND created_at IS NOT NULL",
}


class RequestMetrics:
    """Counts every HTTP request of this process by method and status, and times it (plain ASGI, no task)."""

    def __init__(self, app: ASGIApp, requests: Counter, durations: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.durations = durations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self.requests.labels(scope["method"], str(status)).inc()
            self.durations.labels(scope["method"]).observe(time.perf_counter() - started)


def instrument(app: FastAPI, engine: Engine, settings: Config) -> None:
    """Give the app its own registry (store figures, this process's requests, CPU and memory) and count requests."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine, settings))
    ProcessCollector(registry=registry)
    requests = Counter("kpiwatch_http_requests", "HTTP requests answered by this process", ["method", "status"],
                       registry=registry)
    durations = Histogram("kpiwatch_http_request_duration_seconds", "Time to answer an HTTP request in this process",
                          ["method"], registry=registry)
    app.state.metrics_registry = registry
    app.add_middleware(RequestMetrics, requests=requests, durations=durations)


def may_scrape(request: Request) -> bool:
    """The bearer token, when one is configured, or an allowed client address."""
    settings: Config = request.app.state.settings
    sent = request.headers.get("authorization", "")
    if settings.metrics_token and sent.startswith("Bearer ") and secrets.compare_digest(
            sent.removeprefix("Bearer ").strip().encode(), settings.metrics_token.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(allowed, strict=False) for allowed in settings.portal.metrics_allow)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    if not may_scrape(request):
        challenge = {"WWW-Authenticate": "Bearer"} if request.app.state.settings.metrics_token else None
        raise HTTPException(403, "metrics: send the bearer token, or scrape from an address in [portal] metrics_allow",
                            headers=challenge)
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE)
