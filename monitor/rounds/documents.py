"""The document a version freezes: the monitoring table or the self-evaluation of the task's projects, as Excel
and HTML bytes from `monitor.reports`, and a JSON snapshot of the same rows. Produced once, at submission;
afterwards the stored bytes are the document, whatever is reported later."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from monitor.config import Config
from monitor.reports.produce import ReportRequest, context, render
from monitor.store import audit
from monitor.store.models import Round, RoundTask


@dataclass(frozen=True)
class Frozen:
    xlsx: bytes
    html: bytes
    snapshot: dict[str, Any]


def report_kind(round_: Round) -> str:
    """The report a round asks for: the self-evaluation for a 自评 round, the monitoring table otherwise."""
    return "selfeval" if round_.kind == "selfeval" else "monitor"


def task_projects(task: RoundTask) -> list[int]:
    return [int(i) for i in (task.projects or {}).get("ids", [])]


def request_for(round_: Round, task: RoundTask, fmt: str) -> ReportRequest:
    return ReportRequest(report_kind(round_), round_.year, fmt, through=round_.through_month,
                         department=task.department_id, project_ids=frozenset(task_projects(task)), charts=False)


def freeze(session: Session, round_: Round, task: RoundTask, settings: Config) -> Frozen:
    """The task's document as it stands now, in both formats, with its rows as JSON."""
    ctx = context(session, request_for(round_, task, "html"), settings)  # read once, rendered twice
    xlsx = render(request_for(round_, task, "xlsx"), ctx, settings)
    html = render(request_for(round_, task, "html"), ctx, settings)
    snapshot = {"kind": report_kind(round_), "year": round_.year, "through_month": round_.through_month,
                "title": ctx["title"],
                "projects": [audit.snapshot(dataclasses.asdict(p)) for p in ctx["projects"]]}
    return Frozen(xlsx=xlsx, html=html, snapshot=snapshot)
