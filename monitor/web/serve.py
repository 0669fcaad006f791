"""Running the portal: `run_server` for `kpiwatch serve` (the demo's is `monitor.demo.portal`)."""

from __future__ import annotations

import gc
from datetime import date
from types import FrameType

import uvicorn
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.shutdown import request_stop, stop_on_signals
from monitor.store import audit
from monitor.store.db import session_scope
from monitor.web import reevaluate
from monitor.web.app import create_app


def run_server(settings: Config, engine: Engine | None = None, host: str = "127.0.0.1", port: int = 8000,
               today: date | None = None) -> None:
    """Serve the portal and API on the configured store until SIGTERM or Ctrl-C.

    Stopping is graceful: the listening socket closes, requests in progress get `[portal] shutdown_grace_seconds`
    to finish, and the process-wide stop latch is set at the first signal, so work beside the server (the
    scheduler's sender) finishes the message in hand instead of starting the next. Logging is the caller's
    (`monitor.logs`): uvicorn's loggers only propagate. Forwarded headers are read by the app itself, from
    `[portal] trusted_proxies` only, so uvicorn's own reading (which trusts 127.0.0.1 by default) stays off.
    `today` pins the portal's date (a demo store); by default it is the real Shanghai date.
    """
    app = create_app(settings, engine)
    if today is not None:
        app.state.clock = lambda: today
    reevaluate.prepare(app)
    settle_heap()
    config = uvicorn.Config(app, host=host, port=port, log_config=None, log_level=settings.logging.level.lower(),
                            proxy_headers=False, timeout_graceful_shutdown=settings.portal.shutdown_grace_seconds)
    stop_on_signals()  # uvicorn re-raises the signal once it has stopped: it must then not kill the process
    GracefulServer(config).run()


class GracefulServer(uvicorn.Server):
    """Uvicorn's server that also sets the stop latch the moment the stop signal arrives."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        request_stop()
        super().handle_exit(sig, frame)


def settle_heap() -> None:
    """Keep what the process built before serving out of the garbage collector's full passes.

    Imports and the application make a large heap that lives as long as the process (FastAPI, SQLAlchemy,
    pandas). Python's oldest-generation collection walks all of it about once a second under load: a
    50–70 ms pause for every request in flight, which set the API's p99. Frozen, that pass takes 3–5 ms
    (bench/README.md, "Progress API").
    """
    gc.collect()
    gc.freeze()


def record_settings(engine: Engine, settings: Config) -> None:
    """Audit the configuration when it differs from the last one recorded (the app does this on startup)."""
    with session_scope(engine) as session:
        audit.record_settings(session, settings)
