"""The FastAPI application: one factory, one list of routers.

Adding pages for another feature: write `monitor/web/pages_<area>.py` exposing `router = APIRouter()`,
reuse the dependencies in `monitor.web.auth` (`current_user`, `api_user`, `require_admin`, `verify_csrf`,
`project_for_user`, `visible_department_ids`) and `monitor.web.templating.render`, then add ONE line to
`_routers()` below. Nothing else in this file needs to change.
"""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware

from monitor.config import Config
from monitor.progress.validation import FIELD_LABELS
from monitor.store.db import make_engine
from monitor.store.group_commit import GroupCommit
from monitor.web import inputs, metrics, proxy, reevaluate
from monitor.web.api_docs import DOCS_PATHS
from monitor.web.api_language import api_lang, in_language, validation_message
from monitor.web.auth import LoginRequired
from monitor.web.i18n import one_language
from monitor.web.templating import STATIC_DIR, render

log = logging.getLogger(__name__)

SESSION_COOKIE = "kpiwatch_session"


def _routers() -> list[APIRouter]:
    """Every router of the portal and the API, in one place: a feature adds its module here."""
    from monitor.web import (
        api,
        api_adjustments,
        api_corrective,
        api_docs,
        api_rounds,
        health,
        pages_adjustments,
        pages_admin,
        pages_auth,
        pages_corrective,
        pages_import,
        pages_notify,
        pages_overview,
        pages_progress,
        pages_reports,
        pages_review,
        pages_rounds,
        pages_todo,
        pages_upload,
    )

    # The API first: its requests come by the hundred per second and need not be matched against every page.
    return [api.router, api_rounds.router, api_corrective.router, api_adjustments.router, pages_auth.router,
            pages_overview.router, pages_todo.router, pages_progress.router, pages_upload.router, pages_admin.router,
            pages_reports.router, pages_review.router, pages_notify.router, pages_rounds.router,
            pages_corrective.router, pages_adjustments.router, pages_import.router, health.router, metrics.router,
            api_docs.router]


CSP = ("default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
# The API documentation viewers start from FastAPI's inline script and style their page inline (ReDoc also runs
# a worker from a blob); they still reach no host but the portal (ReDoc's footer logo from its CDN stays unloaded).
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """Headers every answer carries (plain ASGI: BaseHTTPMiddleware would cost a task per request)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def api_problems(errors: Sequence[Mapping[str, Any]], body: object, lang: str = "zh") -> list[dict]:
    """FastAPI's refusals in the API's own shape (index, field, label, problem), as for a report that makes no sense.

    A body that may be one object or a list is checked against both; only the errors of the shape actually
    sent are kept, so a bad single report is not also told it "should be a valid list".
    """
    sent_list = isinstance(body, list)
    problems = []
    for error in errors:
        loc = list(error["loc"][1:] if error["loc"][:1] == ("body",) else error["loc"])
        if loc and isinstance(loc[0], str) and (loc[0].startswith("list[") or loc[0][:1].isupper()):
            if loc[0].startswith("list[") != sent_list:
                continue
            loc = loc[1:]
        index = loc.pop(0) if loc and isinstance(loc[0], int) else None
        name = ".".join(str(part) for part in loc) or "body"
        label = FIELD_LABELS.get(loc[0] if loc else name, name)
        problems.append({"index": index, "field": name, "label": one_language(label, lang),
                         "problem": validation_message(error, lang)})
    return problems


def secret_key(settings: Config) -> str:
    """The signing key from KPIWATCH_SECRET_KEY; without it a random per-process key (sessions die on restart)."""
    if settings.secret_key:
        return settings.secret_key
    log.warning("KPIWATCH_SECRET_KEY is not set: using a random key for this process only "
                "(fine for the demo; set it in production so logins survive a restart)")
    return secrets.token_urlsafe(48)


def _record_settings(engine: Engine, settings: Config) -> None:
    from monitor.store import audit
    from monitor.store.db import session_scope

    try:
        with session_scope(engine) as session:
            audit.record_settings(session, settings)
    except Exception:
        log.exception("could not record the settings in the audit trail")


def create_app(settings: Config, engine: Engine | None = None) -> FastAPI:
    """The portal and API on `engine` (or one made from `settings.database.url`)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # A server starting with changed settings leaves an audit event (a no-op when nothing changed).
        await run_in_threadpool(_record_settings, app.state.engine, settings)
        # Everything loaded by now (modules, templates, settings: a million objects) lives as long as the server;
        # moved out of the cyclic collector's sight, a full collection no longer scans it, and a page that happens
        # to trigger one no longer takes four times as long (bench/README.md, "Session 5: pages"). Garbage is
        # collected first, so none of it is kept for good.
        gc.collect()
        gc.freeze()
        yield
        if app.state.group_commit is not None:
            await run_in_threadpool(app.state.group_commit.close)
        await run_in_threadpool(reevaluate.stop, app)

    app = FastAPI(
        lifespan=lifespan,
        title="kpiwatch API",
        description="预算绩效目标运行监控：部门填报进度、查询指标与历史。Bearer token: `kpiwatch tokens create`.",
        version="1",
        docs_url=None,  # served from the package by monitor.web.api_docs, not from a CDN
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(inputs.ids_in_range)],
        # FastAPI's OpenTelemetry bridge asked the unconfigured providers on every request whether tracing is on
        # (about 2 % of an API worker's time under load); nothing here configures one, and /metrics is our own.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.database.url)
    # API writes from concurrent requests share transactions, on both stores (see monitor.store.group_commit).
    app.state.group_commit = GroupCommit(app.state.engine)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.portal.session_hours * 3600,
        same_site="lax",
        https_only=settings.portal.secure_cookies,
    )

    app.add_middleware(SecurityHeaders)
    metrics.instrument(app, app.state.engine, settings)
    proxy.install(app, settings.portal)  # outermost: everything inside sees the real client and scheme

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.method != "GET" and "text/html" not in (
                request.headers.get("accept") or ""):
            if request.url.path.startswith("/api/"):
                return JSONResponse({"detail": in_language(exc.detail, api_lang(request))},
                                    status_code=exc.status_code, headers=getattr(exc, "headers", None))
            from fastapi.exception_handlers import http_exception_handler
            return await http_exception_handler(request, exc)
        return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                      status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        lang = api_lang(request)
        return JSONResponse({"detail": {"message": one_language("未保存任何内容 (nothing stored)", lang),
                                        "problems": api_problems(exc.errors(), exc.body, lang)}}, status_code=422)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        if not inputs.is_out_of_range(exc):
            raise exc
        log.warning("out-of-range number: %s %s answered 422 (%s)", request.method, request.url.path, exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": {"message": one_language(inputs.OUT_OF_RANGE, api_lang(request)),
                                            "problems": []}}, status_code=422)
        return render(request, "error.html", {"status": 422, "detail": inputs.OUT_OF_RANGE}, status_code=422)

    @app.exception_handler(OperationalError)
    async def _store_busy(request: Request, exc: OperationalError) -> Response:
        # SQLite's write lock held past the busy timeout by another process (a long import or evaluation):
        # nothing was stored and trying again shortly will work, which 503 + Retry-After tells a client.
        if "database is locked" not in str(exc.orig):
            raise exc
        log.warning("store busy: %s %s answered 503 (%s)", request.method, request.url.path, exc.orig)
        detail = "数据库正忙，未保存任何内容，请稍后重试 (the store is busy; nothing was stored, try again shortly)"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": one_language(detail, api_lang(request))}, status_code=503,
                                headers={"Retry-After": "5"})
        return render(request, "error.html", {"status": 503, "detail": detail}, status_code=503,
                      headers={"Retry-After": "5"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in _routers():
        app.include_router(router)
    return app
