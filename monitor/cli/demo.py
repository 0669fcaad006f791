"""`kpiwatch demo`: import the seed documents into a fresh SQLite store and show what kpiwatch does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from monitor.demo.context import DEFAULT_AS_OF, DEMO_PORT


def demo_command(
    directory: Path = typer.Option(Path("kpiwatch-demo"), "--dir", help="Folder for the demo store and outputs."),
    as_of: str = typer.Option(DEFAULT_AS_OF.isoformat(), "--as-of", help="Evaluation date (YYYY-MM-DD)."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the portal afterwards until Ctrl-C."),
    port: int = typer.Option(DEMO_PORT, "--port", min=1, max=65535,
                             help="Port of the portal (on 127.0.0.1); the emails' links point at it."),
) -> None:
    """演示：导入两份公开文件、评估、生成邮件与报告，然后启动门户。"""
    try:
        as_of_date = date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of: expected YYYY-MM-DD, got {as_of!r}") from exc
    # Imported here, so the other commands do not load every feature the demo runs.
    from monitor.demo.run import run_demo

    context = run_demo(directory, as_of=as_of_date, port=port)
    if serve:
        from monitor.demo.portal import serve_demo

        serve_demo(context)
