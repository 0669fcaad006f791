"""What every demo step receives: a fresh SQLite store in the demo folder, the settings, the as-of date."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine

from monitor.config import Config, DatabaseConfig, load_config
from monitor.demo import pinned
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade

EXAMPLES = Path(__file__).parent.parent / "examples"
SEED_DOCUMENTS = sorted(EXAMPLES.glob("*.txt"))
DEFAULT_AS_OF = date(2024, 7, 31)
DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000


@dataclass
class DemoContext:
    workdir: Path
    settings: Config
    engine: Engine
    as_of: date
    console: Console
    port: int = DEMO_PORT
    outputs: dict[str, Path] = field(default_factory=dict)
    demo_logins: list[tuple[str, str, str, str]] = field(default_factory=list)  # username, password, role, where

    @property
    def url(self) -> str:
        return self.settings.database.url


Step = Callable[[DemoContext], None]


def prepare(workdir: Path, as_of: date, console: Console, port: int = DEMO_PORT) -> DemoContext:
    """A fresh SQLite store under `workdir`: the demo always starts from nothing.

    The emails' links point at the portal the demo serves on `port`; the signing key and the as-of date are kept
    in the folder (`monitor.demo.pinned`), so a later `kpiwatch serve` on this store answers those links too.
    """
    if workdir.exists():
        for stale in ("kpiwatch.sqlite", "kpiwatch.sqlite-wal", "kpiwatch.sqlite-shm"):
            (workdir / stale).unlink(missing_ok=True)
        for folder in ("emails", "reports"):
            shutil.rmtree(workdir / folder, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir.resolve() / 'kpiwatch.sqlite'}"
    base = load_config(env={})
    # One key for this demo, shared by the emails' acknowledgement links and every portal that serves the store.
    own_secret = None if os.environ.get("KPIWATCH_SECRET_KEY") else secrets.token_urlsafe(32)
    secret = os.environ.get("KPIWATCH_SECRET_KEY") or own_secret
    portal = dataclasses.replace(base.portal, base_url=f"http://{DEMO_HOST}:{port}")
    settings = Config(**{**vars(base), "database": DatabaseConfig(url=url), "secret_key": secret, "portal": portal})
    upgrade(url)
    pinned.write(workdir, pinned.DemoSettings(as_of=as_of, secret_key=own_secret))
    return DemoContext(workdir=workdir, settings=settings, engine=make_engine(url), as_of=as_of, console=console,
                       port=port)
