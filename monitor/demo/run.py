"""`kpiwatch demo`: the whole product on the seed documents, in a fresh folder, in one command.

The demo is a list of steps, one module of `monitor/demo/` each (a function taking the `DemoContext`) and one
line in `STEPS`; each calls its feature's package, which never knows the demo. Every step prints what it did
and where its output is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rich.console import Console

from monitor.demo.context import DEFAULT_AS_OF, DEMO_PORT, DemoContext, Step, prepare
from monitor.demo.emails import notify_demo
from monitor.demo.evaluation import evaluate_demo
from monitor.demo.reports import make_reports
from monitor.demo.rounds import open_demo_round
from monitor.demo.sample_data import seed_portal
from monitor.demo.seeds import import_seeds

STEPS: tuple[Step, ...] = (import_seeds, seed_portal, evaluate_demo, notify_demo, open_demo_round,
                          make_reports)  # reports last


def run_demo(workdir: Path, *, as_of: date = DEFAULT_AS_OF, console: Console | None = None,
             port: int = DEMO_PORT) -> DemoContext:
    console = console or Console()
    context = prepare(workdir, as_of, console, port)
    console.print(f"[bold]kpiwatch 演示[/bold]  数据库: {context.url}  评估日期 (as of): {as_of.isoformat()}")
    for step in STEPS:
        step(context)
    return context
