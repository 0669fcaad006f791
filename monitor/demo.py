"""`kpiwatch demo`: the whole product on the seed documents, in a fresh folder, in one command.

The demo is a list of steps; each feature contributes one step (a function taking the `DemoContext`) in
its own module and one line in `STEPS`. Every step prints what it did and where its output is.
"""

from __future__ import annotations

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
from monitor.store.db import make_engine, upgrade

EXAMPLES = Path(__file__).parent / "examples"
SEED_DOCUMENTS = sorted(EXAMPLES.glob("*.txt"))
DEFAULT_AS_OF = date(2024, 7, 31)


@dataclass
class DemoContext:
    workdir: Path
    settings: Config
    engine: Engine
    as_of: date
    console: Console
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.settings.database.url


Step = Callable[[DemoContext], None]


def _steps() -> list[Step]:
    """The demo's steps in order; imported lazily so each feature module stays independent."""
    steps: list[Step] = []
    from monitor.importers.demo_step import import_seeds; steps.append(import_seeds)
    from monitor.progress.demo_data import seed_portal; steps.append(seed_portal)  # noqa: E702
    from monitor.evaluation.demo_step import evaluate_demo; steps.append(evaluate_demo)  # noqa: E702
    from monitor.notify.demo_step import notify_demo; steps.append(notify_demo)  # noqa: E702
    from monitor.reports.demo_step import make_reports; steps.append(make_reports)  # noqa: E702 (keep last)
    return steps


def prepare(workdir: Path, as_of: date, console: Console) -> DemoContext:
    """A fresh SQLite store under `workdir`: the demo always starts from nothing."""
    if workdir.exists():
        for stale in ("kpiwatch.sqlite", "kpiwatch.sqlite-wal", "kpiwatch.sqlite-shm"):
            (workdir / stale).unlink(missing_ok=True)
        for folder in ("emails", "reports"):
            shutil.rmtree(workdir / folder, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir.resolve() / 'kpiwatch.sqlite'}"
    base = load_config(env={})
    # One key for this demo run, shared by the emails' acknowledgement links and the portal that serves them.
    secret = os.environ.get("KPIWATCH_SECRET_KEY") or secrets.token_urlsafe(32)
    settings = Config(**{**vars(base), "database": DatabaseConfig(url=url), "secret_key": secret})
    upgrade(url)
    return DemoContext(workdir=workdir, settings=settings, engine=make_engine(url), as_of=as_of, console=console)


def run_demo(workdir: Path, *, as_of: date = DEFAULT_AS_OF, console: Console | None = None) -> DemoContext:
    console = console or Console()
    context = prepare(workdir, as_of, console)
    console.print(f"[bold]kpiwatch 演示[/bold]  数据库: {context.url}  评估日期 (as of): {as_of.isoformat()}")
    for step in _steps():
        step(context)
    return context
