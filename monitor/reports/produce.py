"""One entry point: what report, for which year and scope, in which format → the file's bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session

from monitor.config import Config
from monitor.reports import xlsx
from monitor.reports.data import ReportError, load_year
from monitor.reports.html import official, render_document
from monitor.reports.monitoring import build_monitoring, through_month_for
from monitor.reports.selfeval import build_selfeval
from monitor.reports.summary import rank, summarise
from rules.terms import DEVIATION_CAUSES

KINDS: tuple[str, ...] = ("monitor", "selfeval", "summary", "ranking")
FORMATS: tuple[str, ...] = ("html", "xlsx", "pdf")
PDF_PARALLEL_FROM = 12  # projects; below this one layout pass is quicker than starting workers
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    year: int
    format: str = "html"
    through: int | None = None
    department: str | int | None = None
    project_id: int | None = None
    department_ids: frozenset[int] | None = None  # the portal's scoping: only these departments
    project_ids: frozenset[int] | None = None  # a round's pick: only these projects
    charts: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ReportError(f"未知报告类型 {self.kind!r}（可选：{', '.join(KINDS)}）")
        if self.format not in FORMATS:
            raise ReportError(f"未知格式 {self.format!r}（可选：{', '.join(FORMATS)}）")


def context(session: Session, request: ReportRequest, settings: Config,
            t: Callable[..., str] = official) -> dict[str, Any]:
    """Everything the templates need; the portal renders the same context in its own layout, and passes its
    translator as `t` so the charts speak the page's language (the documents keep the official Chinese ones)."""
    data = load_year(session, request.year, department=request.department, project_id=request.project_id,
                     department_ids=set(request.department_ids) if request.department_ids is not None else None,
                     project_ids=set(request.project_ids) if request.project_ids is not None else None)
    from monitor.reports import charts  # matplotlib loads when a report is made, not when any command starts

    family = settings.reports.font_family
    out: dict[str, Any] = {"year": request.year, "charts": [], "cause_columns": DEVIATION_CAUSES, "data": data}
    if request.kind == "monitor":
        month = through_month_for(data, request.through, settings.reports.monitor_through_month)
        out["projects"] = build_monitoring(data, month)
        out["through_month"] = month
        out["title"] = f"{request.year}年度 项目支出绩效目标执行监控表（1-{month}月）"
        makers: list[Callable[[], bytes]] = []
        if data.projects:
            makers = [lambda: charts.spending_curve(data, month, settings.reports.time_progress, family, t),
                      lambda: charts.lights_by_department(data, family, t)]
        return _with_charts(out, makers, request.charts)
    projects = build_selfeval(data, settings.scoring)
    summaries = summarise(projects, settings.scoring)
    out.update(projects=projects, summaries=summaries, ranking=rank(summaries))
    out["title"] = {"selfeval": f"{request.year}年度 项目支出绩效自评表",
                    "summary": f"{request.year}年度 部门项目绩效自评汇总",
                    "ranking": f"{request.year}年度 各部门项目绩效自评排名"}[request.kind]
    makers = []
    if data.projects:
        makers = [lambda: charts.score_distribution(projects, settings.scoring, family, t)]
        if request.kind != "selfeval" or len(projects) > 1:
            makers.append(lambda: charts.spending_curve(data, 12, settings.reports.time_progress, family, t))
        if request.kind == "ranking":
            makers.append(lambda: charts.lights_by_department(data, family, t))
    return _with_charts(out, makers, request.charts)


def _with_charts(out: dict[str, Any], makers: list[Callable[[], bytes]], draw: bool) -> dict[str, Any]:
    """The report's charts drawn (`draw`) or only counted: `chart_makers` draws each on its own, so the portal
    can serve its page at once and each chart as its own image (drawing is most of a report page's time)."""
    out["chart_makers"] = makers
    out["charts"] = [make() for make in makers] if draw else []
    return out


def produce(session: Session, request: ReportRequest, settings: Config) -> bytes:
    """The report as a file: HTML (UTF-8), XLSX or PDF bytes."""
    return render(request, context(session, request, settings), settings)


def render(request: ReportRequest, ctx: dict[str, Any], settings: Config) -> bytes:
    """The file of a context `context` made for the same report (its format may differ): one read of the store
    serves several formats."""
    if request.format == "xlsx":
        return _workbook(request, ctx)
    from monitor.reports import charts

    ctx = {**ctx, "charts": [charts.data_uri(png) for png in ctx["charts"]]}
    ctx.pop("data")
    family = settings.reports.font_family
    if request.format == "html":
        return render_document(request.kind, font_family=family, **ctx).encode("utf-8")
    from monitor.reports.pdf import htmls_to_pdf, workers

    projects = ctx.get("projects") or []
    if request.kind not in ("monitor", "selfeval") or len(projects) < PDF_PARALLEL_FROM:
        return htmls_to_pdf([render_document(request.kind, font_family=family, **ctx)])
    size = -(-len(projects) // workers())
    chunks = [projects[i:i + size] for i in range(0, len(projects), size)]
    htmls = [render_document(request.kind, font_family=family,
                             **{**ctx, "projects": chunk, "charts": ctx["charts"] if i == len(chunks) - 1 else []})
             for i, chunk in enumerate(chunks)]
    return htmls_to_pdf(htmls)


def _workbook(request: ReportRequest, ctx: dict[str, Any]) -> bytes:
    if request.kind == "monitor":
        return xlsx.monitor_workbook(ctx["projects"])
    if request.kind == "selfeval":
        return xlsx.selfeval_workbook(request.year, ctx["projects"], ctx["summaries"])
    wb = Workbook()
    ws = wb.active
    if request.kind == "summary":
        ws.title = "部门汇总"
        xlsx.summary_sheet(ws, request.year, ctx["summaries"])
    else:
        ws.title = "部门排名"
        xlsx.ranking_sheet(ws, request.year, ctx["ranking"])
    return xlsx.save(wb)
