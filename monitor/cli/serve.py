"""`kpiwatch serve`: the portal and API, with the scheduler running beside them in the same process.

On SIGTERM the server finishes its requests in progress, then the scheduler finishes the job in hand (the sender:
the message being sent) before the process exits; `--no-scheduler` runs a web replica only (see docs/deploy.md).
On the store `kpiwatch demo` made, it serves the demo's date with the demo's signing key and runs no scheduled
jobs (`monitor.demo.pinned`).
"""

from __future__ import annotations

import typer

from monitor.cli.common import load_settings, open_store
from monitor.demo import pinned
from monitor.logs import configure_logging


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址"),
    port: int = typer.Option(8000, "--port", help="监听端口"),
    scheduler: bool = typer.Option(True, "--scheduler/--no-scheduler", help="同时运行定时任务（默认）"),
) -> None:
    """启动门户与定时任务。"""
    from monitor.scheduler.service import SchedulerConfigError, start
    from monitor.web.serve import run_server

    settings = load_settings()
    configure_logging(settings.logging)
    demo = pinned.for_store(settings.database.url)
    if demo is not None:
        settings = pinned.apply(settings, demo)
        # A store that lives on a fixed date: a scheduled evaluation or digest of today would contradict it.
        scheduler = False
        typer.echo(f"演示数据库 (demo store)：日期固定为 {demo.as_of.isoformat()}，定时任务不运行 "
                   f"(dated {demo.as_of.isoformat()}, no scheduled jobs)", err=True)
    with open_store(settings) as engine:
        running = None
        if scheduler and settings.scheduler.enabled:
            try:
                running = start(settings, engine)
            except SchedulerConfigError as exc:
                typer.echo(f"配置错误 (config error): {exc}", err=True)
                raise typer.Exit(2) from exc
        try:
            run_server(settings, engine, host=host, port=port, today=None if demo is None else demo.as_of)
        finally:
            if running is not None:
                running.shutdown(wait=True)
