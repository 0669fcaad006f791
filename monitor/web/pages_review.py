"""The finance bureau's 自评复核 page: each imported self-evaluation re-scored beside the department's own scores,
every disagreement with its reason; also as Excel or JSON. Only the bureau (admins and auditors) sees it: it
compares departments' work, which is the bureau's to judge.
"""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from jinja2 import ChoiceLoader, DictLoader
from sqlmodel import Session

from monitor.reports.data import ReportError
from monitor.reports.format import two
from monitor.reports.review import build_review, review_json, review_xlsx
from monitor.store.models import User
from monitor.web.auth import db_session, require_bureau
from monitor.web.templating import env, render

router = APIRouter(include_in_schema=False)

PAGE = """{% extends "base.html" %}
{% block title %}{{ t("自评复核") }} {{ year }}{% endblock %}
{% block content %}
<h1>{{ t("自评复核") }} {{ year }}</h1>
<nav class="report-links"><span class="downloads">\
<a href="{{ base }}&format=xlsx">{{ t("下载 Excel") }}</a>
<a href="{{ base }}&format=json">{{ t("下载 JSON") }}</a></span></nav>
{% for p in projects %}
<h2>{{ p.name }}（{{ p.department }}）</h2>
<p>{{ t("部门自评总分") }} {{ text(p.department_total) }} · {{ t("kpiwatch 总分") }} {{ text(p.kpiwatch_total) }}
 · {{ t("不一致") }} {{ p.disagreements|length }}</p>
<table class="review">
<thead><tr><th>{{ t("指标") }}</th><th>{{ t("部门自评得分") }}</th><th>{{ t("kpiwatch 得分") }}</th>\
<th>{{ t("不一致原因") }}</th></tr></thead>
<tbody>{% for r in p.rows %}<tr{% if r.reason %} class="disagree"{% endif %}>\
<td>{{ r.name if r.kind == "indicator" else t(r.name) }}</td><td>{{ text(r.department_score) }}</td>\
<td>{{ text(r.kpiwatch_score) }}</td><td>{{ t(r.reason) }}</td></tr>{% endfor %}
</tbody></table>
{% else %}<p class="muted">{{ t("本年度尚未导入绩效自评表") }}</p>{% endfor %}
{% endblock %}"""
if not isinstance(env.loader, ChoiceLoader) or "reports/review.html" not in env.loader.list_templates():
    pages = DictLoader({"reports/review.html": PAGE})
    env.loader = ChoiceLoader([env.loader, pages] if env.loader else [pages])


@router.get("/reports/review")
def review_page(request: Request, year: int, department: str | None = None, format: str = "html",
                user: User = Depends(require_bureau), session: Session = Depends(db_session)) -> Response:
    if format not in ("html", "xlsx", "json"):
        raise HTTPException(422, "format: html | xlsx | json")
    try:
        projects = build_review(session, year, request.app.state.settings.scoring, department=department)
    except ReportError as exc:
        raise HTTPException(404, str(exc)) from exc
    if format == "json":
        return Response(json.dumps(review_json(projects), ensure_ascii=False), media_type="application/json")
    if format == "xlsx":
        stem = quote(f"{year}-自评复核")
        return Response(review_xlsx(projects, year), headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{stem}.xlsx"},
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    scope = f"&department={quote(department)}" if department else ""
    return render(request, "reports/review.html", {
        "projects": projects, "year": year, "base": f"/reports/review?year={year}{scope}",
        "text": lambda v: "—" if v is None else format_decimal(v)})


def format_decimal(value: Decimal) -> str:
    """A score as the review prints it everywhere: two decimals."""
    return format(two(value), "f")
