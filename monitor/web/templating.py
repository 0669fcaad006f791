"""Jinja2 rendering for every page: autoescaping on, CSRF field, language and the signed-in user in scope.

Templates live in `monitor/web/templates/` and extend `base.html` (blocks: title, content, head).
Forms write `{{ csrf_field() }}`; text goes through `{{ t("中文") }}`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from monitor.web.i18n import LANG_COOKIE, one_language, resolve_lang, translator
from rules.reasons import reason_in
from rules.terms import CHANNEL_NAMES, JOB_NAMES, LIGHT_NAMES, NOT_EVALUATED, ROLE_NAMES

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

@pass_context
def _in_page_language(context: Any, value: Any) -> Any:
    """Every text a template prints, in the page's language: a "中文 (english)" message from below the web layer
    shows one side only (`monitor.web.i18n.one_language`); markup and other values pass as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return one_language(value, context.get("lang") or "zh")
    return value


env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_in_page_language,
)


def _money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}"


def _wan(value: Any) -> str:
    """An amount in 元 written in 万元, as the tables print money."""
    if value is None:
        return "—"
    return f"{value / 10000:,.2f}"


def _number(value: Any) -> str:
    if value is None:
        return "—"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _json_text(value: Any) -> str:
    """JSON as a reader sees it: Chinese as written (tojson would show \\uXXXX); autoescaping makes it safe."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


env.filters["money"] = _money
env.filters["json_text"] = _json_text
env.filters["number"] = _number
env.filters["when"] = _when
env.filters["wan"] = _wan


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    from monitor.web.auth import csrf_token

    lang = resolve_lang(request)
    t = translator(lang)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token(request))

    def reason_of(row: Any) -> str:
        """A stored light's reason (an indicator's, an occurrence's, a project's) in the page's language."""
        return reason_in(lang, row.reason, getattr(row, "reason_en", None), status=getattr(row, "status", None),
                         light=getattr(row, "light", None))

    def light_badge(light: str | None) -> Markup:
        if not light:
            return Markup('<span class="light light-none">{}</span>').format(t(NOT_EVALUATED))
        return Markup('<span class="light light-{}">{}</span>').format(escape(light), t(LIGHT_NAMES.get(light, light)))

    values = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "lang": lang,
        "t": t,
        "csrf_field": csrf_field,
        "light_badge": light_badge,
        "reason_of": reason_of,
        "settings": request.app.state.settings,
        "role_names": ROLE_NAMES, "job_names": JOB_NAMES, "channel_names": CHANNEL_NAMES,
    }
    values.update(context or {})
    html = env.get_template(name).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
