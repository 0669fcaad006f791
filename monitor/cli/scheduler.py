"""`kpiwatch scheduler`: run the scheduled jobs (daily evaluation, notifications, configured cron jobs) alone."""

from __future__ import annotations

import signal

import typer

from monitor.cli.common import load_settings, open_store
from monitor.logs import configure_logging
from monitor.shutdown import stop_on_signals


def scheduler_command(
    run_seconds: float = typer.Option(None, "--run-seconds", help="运行这么多秒后停止（默认：直到 Ctrl-C）"),
    list_jobs: bool = typer.Option(False, "--list", help="只列出计划任务及其时间表"),
) -> None:
    """只运行定时任务（每日评估、提醒发送、配置的 cron 任务），不启动门户。"""
    from monitor.scheduler.service import SchedulerConfigError, planned_jobs, run_until_stopped

    settings = load_settings()
    try:
        jobs = planned_jobs(settings)
    except SchedulerConfigError as exc:
        typer.echo(f"配置错误 (config error): {exc}", err=True)
        raise typer.Exit(2) from exc
    for job in jobs:
        typer.echo(f"{job.name:<24} {job.cron:<18} {job.description}")
    if list_jobs:
        return
    if not settings.scheduler.enabled:
        typer.echo("[scheduler] enabled = false：定时任务已关闭。", err=True)
        raise typer.Exit(1)
    configure_logging(settings.logging)
    with open_store(settings) as engine:
        typer.echo(f"scheduler started ({settings.scheduler.timezone}); Ctrl-C 停止")
        run_until_stopped(settings, engine, seconds=run_seconds, stop=stop_on_signals(signal.SIGINT))
    typer.echo("scheduler stopped")
