"""`kpiwatch audit list|export`: who changed what, when, with before and after."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from monitor.cli.common import open_store
from monitor.store import audit as audit_service
from monitor.store.db import session_scope

app = typer.Typer(help="审计日志：列出与导出 (audit trail).", no_args_is_help=True)


@app.command("list")
def list_(entity: str | None = typer.Option(None, help="report / spending / user / token …"),
          actor: str | None = typer.Option(None, help="操作人用户名"),
          limit: int = typer.Option(50, help="最多显示条数（最新的在前）")) -> None:
    """列出最近的审计事件。"""
    with open_store() as engine, session_scope(engine) as session:
        table = Table("#", "时间", "操作人", "渠道", "操作", "对象", "之后")
        for e in audit_service.list_events(session, entity=entity, actor=actor, limit=limit):
            table.add_row(str(e.id), e.at.isoformat(timespec="seconds") if e.at else "", e.actor,
                          e.channel, e.action, f"{e.entity} #{e.entity_id or ''}",
                          json.dumps(e.after, ensure_ascii=False)[:80] if e.after else (e.note or ""))
        Console().print(table)


@app.command("export")
def export(out: Path = typer.Option(Path("kpiwatch-audit.csv"), "--out", "-o", help="CSV 文件（UTF-8 带 BOM）"),
           entity: str | None = typer.Option(None), actor: str | None = typer.Option(None)) -> None:
    """把审计日志导出为 CSV。"""
    with open_store() as engine, session_scope(engine) as session:
        events = audit_service.list_events(session, entity=entity, actor=actor, limit=None)
        out.write_text(audit_service.export_csv(events), encoding="utf-8")
    typer.echo(f"已导出 {len(events)} 条到 {out}")
