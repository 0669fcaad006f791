"""The finance bureau's home page: the overview of every department (sortable, filterable, searchable through
the query string, so it works without JavaScript), its Excel export, and the drill-down links into the
department, project and indicator pages."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from monitor.store.models import User
from monitor.web.auth import db_session, require_bureau, today, visible_department_ids
from monitor.web.i18n import resolve_lang, translator
from monitor.web.overview import (
    Overview,
    budget_years,
    bureau_overview,
    chosen,
    latest_evaluation,
    light_totals,
    read_choice,
)
from monitor.web.overview_charts import lights_chart, spending_chart
from monitor.web.overview_export import overview_xlsx
from monitor.web.templating import render
from rules.terms import LIGHT_NAMES, LIGHTS

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_DEPARTMENTS = 20  # the lights chart shows the first departments of the chosen order
PAGE_SIZE = 100  # table rows a page; the export has them all


def _as_of(request: Request, session: Session) -> date:
    """The as-of date asked for, else the latest evaluation's (the lights are its), else today."""
    raw = request.query_params.get("as_of", "")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return latest_evaluation(session) or today(request)


def _year(request: Request, session: Session, as_of: date) -> int:
    raw = request.query_params.get("year", "")
    years = budget_years(session)
    if raw.isdigit() and int(raw) in years:
        return int(raw)
    return as_of.year if as_of.year in years or not years else years[0]


def _overview(request: Request, session: Session, user: User) -> Overview:
    as_of = _as_of(request, session)
    return bureau_overview(session, visible_department_ids(session, user), year=_year(request, session, as_of),
                           as_of=as_of, settings=request.app.state.settings.evaluation)


def _link(request: Request, **changes: str | None) -> str:
    """This page's URL with some query parameters changed (None drops one)."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "/admin?" + urlencode(params) if params else "/admin"


@router.get("/admin")
def admin_overview(request: Request, user: User = Depends(require_bureau),
                   session: Session = Depends(db_session)) -> Response:
    overview = _overview(request, session, user)
    choice = read_choice(request.query_params)
    lines = chosen(overview, choice)

    def sort_link(key: str) -> str:
        descending = not choice.descending if choice.sort == key else key not in ("code", "name")
        return _link(request, sort=key, order="desc" if descending else "asc", page=None)

    t = translator(resolve_lang(request))
    charts = {"lights": lights_chart(lines[:CHART_DEPARTMENTS], t), "spending": spending_chart(overview.months, t)}
    pages = max(1, -(-len(lines) // PAGE_SIZE))
    raw_page = request.query_params.get("page", "1")
    page = min(max(int(raw_page), 1), pages) if raw_page.isdigit() else 1
    export = "/admin/overview.xlsx" + ("?" + request.url.query if request.url.query else "")
    return render(request, "overview.html", {
        "overview": overview, "lines": lines[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], "choice": choice,
        "page": page, "pages": pages,
        "page_link": lambda number: _link(request, page=str(number) if number > 1 else None),
        "lights": LIGHTS, "light_names": LIGHT_NAMES,
        "totals": light_totals(lines),
        "chart_lines": lines[:CHART_DEPARTMENTS], "charts": charts, "sort_link": sort_link, "export": export,
        "shown": len(lines), "total": len(overview.lines)})


@router.get("/admin/overview.xlsx")
def overview_export(request: Request, user: User = Depends(require_bureau),
                    session: Session = Depends(db_session)) -> Response:
    overview = _overview(request, session, user)
    lines = chosen(overview, read_choice(request.query_params))
    t = translator(resolve_lang(request))
    name = quote(f"{overview.year}-{t('部门总览')}-{overview.as_of.isoformat()}.xlsx")
    return Response(overview_xlsx(overview, lines, t), media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
