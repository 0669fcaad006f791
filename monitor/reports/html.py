"""HTML rendering with Jinja2: whole documents for files and PDF, body fragments for the portal.

Every word of the tables goes through `t(text, *args)`. The documents (file, PDF) are the official Chinese ones,
so theirs is `official`; the portal passes its own translator to show the same tables in the page's language
(the English words live in the portal's one catalogue, which this layer must not import).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.reports.format import spans
from rules.terms import SCORE_GRADES

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
    env.globals.update(spans=spans, t=official, score_grades=SCORE_GRADES)
    return env


def official(text: str, *args: object) -> str:
    """The tables' words as the official documents print them: the Chinese text, `args` in its `{n}` places."""
    return text.format(*args) if args else text


def render_document(kind: str, *, font_family: str = "Noto Sans CJK SC", **context: Any) -> str:
    """A standalone HTML document (print CSS inline) for `kind` in BODIES."""
    return environment().get_template("document.html").render(
        title=context.pop("title", TITLES[kind]), body_template=BODIES[kind], font_family=font_family, **context)


def render_fragment(kind: str, *, t: Callable[..., str] = official, **context: Any) -> str:
    """Only the report's body, for embedding in the portal's own page layout, its words said by `t`."""
    return environment().get_template(BODIES[kind]).render(t=t, **context)


def stylesheet(font_family: str = "Noto Sans CJK SC") -> str:
    return environment().get_template("report.css").render(font_family=font_family)
