"""The readiness part of `kpiwatch status`: the same checks `/readyz` answers a load balancer with."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.readiness import Readiness, readiness


def show_readiness(console: Console, engine: Engine, settings: Config) -> Readiness:
    """Print each check with its reason and return the verdict (the caller decides the exit code)."""
    result = readiness(engine, settings)
    table = Table("检查 (check)", "结果", "说明")
    for check in result.checks:
        table.add_row(check.name, "正常" if check.ok else "[red]异常[/red]", check.detail)
    console.print(table)
    console.print("就绪 (ready)" if result.ready else "[red]未就绪 (not ready)[/red]：/readyz 答 503")
    return result
