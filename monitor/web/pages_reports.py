"""Portal pages for the reports: monitoring table, self-evaluation (with the person's band score and 偏差原因
text), department summary and the bureau's ranking, each also downloadable as Excel or PDF.

A department user sees only its own departments (the same scoping as every other page); the ranking across
departments is the finance bureau's.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import ChoiceLoader, DictLoader
from markupsafe import Markup
from sqlmodel import Session, col, select

from monitor.accounts.permissions import can_write, is_bureau
from monitor.reports.data import ReportError
from monitor.reports.html import render_fragment, stylesheet
from monitor.reports.produce import MEDIA_TYPES, ReportRequest, context, produce
from monitor.store.models import BudgetYear, Department, User
from monitor.store.rows import stored_id
from monitor.store.types import SHANGHAI
from monitor.web.auth import (
    csrf_token,
    current_user,
    db_session,
    department_for_user,
    indicator_for_user,
    project_for_user,
    require_bureau,
    require_writer,
    verify_csrf,
    visible_department_ids,
)
from monitor.web.i18n import resolve_lang, translator
from monitor.web.templating import env, render

router = APIRouter(include_in_schema=False)

PAGE = ("""{% extends "base.html" %}
{% block title %}{{ t(title) }}{% endblock %}
{% block head %}<link rel="stylesheet" href="/reports/report.css">{% endblock %}
{% block content %}
<h1>{{ t(title) }}</h1>
<nav class="report-links">
{% for kind, label in kinds %}<a href="/reports/{{ kind }}?year={{ year }}{{ scope }}">{{ t(label) }}</a>{% endfor %}
<span class="downloads"><a href="{{ base }}&format=xlsx">{{ t("下载 Excel") }}</a>\
<a href="{{ base }}&format=pdf">{{ t("下载 PDF") }}</a></span>
</nav>
{% if message %}<p class="notice" role="status">{{ t(message) }}</p>{% endif %}
{% if problem %}<p class="error" role="alert">{{ t(problem) }}</p>{% endif %}
{# The official tables as the PDF prints them, in the page's language (the files stay the Chinese documents) #}
{{ body }}
{% endblock %}""")
INDEX = ("""{% extends "base.html" %}
{% block title %}{{ t("报告") }}{% endblock %}
{% block content %}
<h1>{{ t("报告") }}</h1>
{% for y in years %}
<h2>{{ t("年度") }} {{ y }}</h2>
<ul>
{% for d in departments %}
<li>{{ d.code }} {{ d.name }}:
 <a href="/reports/monitor?year={{ y }}&department={{ d.code }}">{{ t("绩效运行监控表") }}</a>
 · <a href="/reports/selfeval?year={{ y }}&department={{ d.code }}">{{ t("绩效自评表") }}</a>
 · <a href="/reports/summary?year={{ y }}&department={{ d.code }}">{{ t("部门汇总") }}</a></li>
{% endfor %}
{% if bureau %}<li><a href="/reports/ranking?year={{ y }}">{{ t("各部门自评排名（财政局）") }}</a>
 · <a href="/reports/review?year={{ y }}">{{ t("自评复核") }}</a></li>{% endif %}
</ul>
{% else %}<p class="muted">{{ t("尚无年度数据") }}</p>{% endfor %}
{% endblock %}""")
# The two pages live here, next to their routes; the portal's loader finds them under "reports/".
if not isinstance(env.loader, ChoiceLoader) or "reports/page.html" not in env.loader.list_templates():
    pages = DictLoader({"reports/page.html": PAGE, "reports/index.html": INDEX})
    env.loader = ChoiceLoader([env.loader, pages] if env.loader else [pages])

KIND_LABELS = (("monitor", "绩效运行监控表"), ("selfeval", "绩效自评表"), ("summary", "部门汇总"))


@router.get("/reports/report.css")
def report_css(request: Request) -> Response:
    return Response(stylesheet(request.app.state.settings.reports.font_family), media_type="text/css",
                    headers={"Cache-Control": "max-age=3600"})


@router.get("/reports")
def reports_index(request: Request, user: User = Depends(current_user),
                  session: Session = Depends(db_session)) -> Response:
    visible = visible_department_ids(session, user)
    query = select(Department).order_by(Department.code)
    if visible is not None:
        query = query.where(col(Department.id).in_(visible or {-1}))
    departments = [d for d in session.exec(query) if not d.is_finance_bureau]
    years = [y.year for y in session.exec(select(BudgetYear).order_by(col(BudgetYear.year).desc()))]
    return render(request, "reports/index.html", {
        "years": years, "departments": departments, "bureau": is_bureau(user)})


def _scope(session: Session, user: User, department: str | None,
           project: int | None) -> tuple[int | None, frozenset[int] | None]:
    """The departments this user may ask for, checked: a department user asking for another gets a 404."""
    visible = visible_department_ids(session, user)
    dept_id = None
    if department:
        found = session.exec(select(Department).where(Department.code == department)).first()
        if found is None:
            raise HTTPException(404, f"没有代码为 {department} 的部门")
        dept_id = stored_id(department_for_user(session, user, stored_id(found)))
    if project is not None:
        project_for_user(session, user, project)
    return dept_id, (frozenset(visible) if visible is not None else None)


def _report(request: Request, session: Session, user: User, kind: str, *, year: int, format: str,
            through: int | None = None, department: str | None = None, project: int | None = None) -> Response:
    dept_id, visible = _scope(session, user, department, project)
    chart = format == "chart"  # one of the page's charts, as its own image: the page is not kept waiting for it
    lang = resolve_lang(request)
    try:
        req = ReportRequest(kind, year, "html" if chart else format, through=through, department=dept_id,
                            project_id=project, department_ids=visible, charts=False)
        settings = request.app.state.settings
        if chart:  # drawn in the page's language; the downloads below keep the official Chinese charts
            return _chart(request, context(session, req, settings, translator(lang)))
        if format != "html":
            req = dataclasses.replace(req, charts=True)
            data = produce(session, req, settings)
            stem = quote(f"{year}-{dict(KIND_LABELS + (('ranking', '部门排名'),))[kind]}")
            return Response(data, media_type=MEDIA_TYPES[format], headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{stem}.{format}"})
        ctx = context(session, req, settings)
    except ReportError as exc:
        raise HTTPException(404, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    ctx.pop("data")
    scope = "".join(f"&{k}={quote(str(v))}" for k, v in (("department", department), ("project", project),
                                                        ("through", through)) if v)
    back = f"/reports/{kind}?year={year}{scope}"
    # the page's language goes with each chart's address, so an image is never drawn in the other one
    ctx["charts"] = [f"{back}&format=chart&chart={n}&lang={lang}" for n in range(len(ctx.pop("chart_makers")))]
    if kind == "selfeval":
        ctx.update(editable=can_write(user), csrf=csrf_token(request), back=back)
    if kind == "summary":
        ctx["project_link"] = lambda p: f"/reports/selfeval?year={year}&project={p.project_id}"
    body = Markup(render_fragment(kind, **ctx, **({"t": translator(lang)} if lang == "en" else {})))
    return render(request, "reports/page.html", {
        "title": ctx["title"], "body": body, "year": year, "kinds": KIND_LABELS, "scope": scope, "base": back,
        "message": request.query_params.get("saved") and "已保存", "problem": request.query_params.get("problem")})


def _chart(request: Request, ctx: dict) -> Response:
    """The `chart`-th chart of a report page as a PNG (404 past the last)."""
    makers = ctx["chart_makers"]
    number = request.query_params.get("chart", "")
    if not number.isdigit() or int(number) >= len(makers):
        raise HTTPException(404, "没有这张图表 (no such chart)")
    return Response(makers[int(number)](), media_type="image/png", headers={"Cache-Control": "private, no-cache"})


@router.get("/reports/monitor")
def monitor_page(request: Request, year: int, through: int | None = None, department: str | None = None,
                 project: int | None = None, format: str = "html", user: User = Depends(current_user),
                 session: Session = Depends(db_session)) -> Response:
    return _report(request, session, user, "monitor", year=year, format=format, through=through,
                   department=department, project=project)


@router.get("/reports/selfeval")
def selfeval_page(request: Request, year: int, department: str | None = None, project: int | None = None,
                  format: str = "html", user: User = Depends(current_user),
                  session: Session = Depends(db_session)) -> Response:
    return _report(request, session, user, "selfeval", year=year, format=format, department=department,
                   project=project)


@router.get("/reports/summary")
def summary_page(request: Request, year: int, department: str | None = None, format: str = "html",
                 user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    return _report(request, session, user, "summary", year=year, format=format, department=department)


@router.get("/reports/ranking")
def ranking_page(request: Request, year: int, format: str = "html", user: User = Depends(require_bureau),
                 session: Session = Depends(db_session)) -> Response:
    return _report(request, session, user, "ranking", year=year, format=format)


@router.post("/reports/selfeval/entry", dependencies=[Depends(verify_csrf)])
def save_entry(request: Request, year: int = Form(...), indicator_id: int = Form(...), score: str = Form(""),
               explanation: str = Form(""), back: str = Form("/reports"), user: User = Depends(current_user),
               session: Session = Depends(db_session)) -> Response:
    from monitor.reports.entries import record_entry
    from rules.scoring import BandError

    require_writer(user)
    indicator_for_user(session, user, indicator_id)
    if not back.startswith("/reports/"):
        back = "/reports"
    try:
        record_entry(session, indicator_id=indicator_id, year=year, rules=request.app.state.settings.scoring,
                     score=score or None, explanation=explanation, user_id=user.id, channel="portal")
        session.commit()
    except (BandError, ReportError) as exc:
        session.rollback()
        return RedirectResponse(f"{back}&problem={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"{back}&saved=1#{datetime.now(SHANGHAI):%H%M%S}", status_code=303)
