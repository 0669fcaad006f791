"""Running the portal: `run_server` for `kpiwatch serve` (the demo's is `monitor.demo.portal`)."""

from __future__ import annotations

import gc

import uvicorn
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.store import audit
from monitor.store.db import session_scope
from monitor.web.app import create_app


def run_server(settings: Config, engine: Engine | None = None, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the portal and API on the configured store (blocking; Ctrl-C stops)."""
    app = create_app(settings, engine)
    settle_heap()
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


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
