"""HTML rendering with Jinja2: whole documents for files and PDF, body fragments for the portal."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.reports.format import spans

TEMPLATES = Path(__file__).parent / "templates"
BODIES = {"monitor": "monitor_body.html", "selfeval": "selfeval_body.html", "summary": "summary_body.html",
          "ranking": "ranking_body.html"}
TITLES = {"monitor": "项目支出绩效目标执行监控表", "selfeval": "项目支出绩效自评表",
          "summary": "部门项目绩效自评汇总", "ranking": "各部门项目绩效自评排名"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html", "css"], default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["spans"] = spans
    return env


def render_document(kind: str, *, font_family: str = "Noto Sans CJK SC", **context: Any) -> str:
    """A standalone HTML document (print CSS inline) for `kind` in BODIES."""
    return environment().get_template("document.html").render(
        title=context.pop("title", TITLES[kind]), body_template=BODIES[kind], font_family=font_family, **context)


def render_fragment(kind: str, **context: Any) -> str:
    """Only the report's body, for embedding in the portal's own page layout."""
    return environment().get_template(BODIES[kind]).render(**context)


def stylesheet(font_family: str = "Noto Sans CJK SC") -> str:
    return environment().get_template("report.css").render(font_family=font_family)
