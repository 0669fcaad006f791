"""Jinja2 rendering of digests, escalation copies and the weekly summary into subject, text and HTML.

HTML templates autoescape (every department, project, indicator name and reason is user data); the text
templates are not HTML, so nothing there needs escaping. Styles are inline because many mail clients drop
<style> blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.mime import one_line
from notifications.views import SECTION_ORDER, SECTION_TITLES, Digest, Escalation, RoundStatusMail, Summary
from rules.formatting import fmt_overdue
from rules.terms import LIGHT_NAMES, LIGHTS

LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "blue": "#1565c0", "grey": "#757575"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the package; checking each file's age cost a tenth of a digest
    )
    env.globals.update(SECTION_ORDER=SECTION_ORDER, SECTION_TITLES=SECTION_TITLES, LIGHTS=LIGHTS,
                       LIGHT_NAMES=LIGHT_NAMES, LIGHT_COLOURS=LIGHT_COLOURS)
    env.filters["cn_date"] = lambda d: f"{d.year}年{d.month}月{d.day}日" if d else ""
    return env


def _render(name: str, **context) -> tuple[str, str]:
    env = environment()
    return (env.get_template(f"{name}.txt.j2").render(**context),
            env.get_template(f"{name}.html.j2").render(**context))


def digest_subject(digest: Digest) -> str:
    parts = []
    if digest.count("overdue"):
        parts.append(fmt_overdue(digest.overdue))
    if digest.count("due_soon"):
        parts.append(f"{digest.count('due_soon')}项{digest.lead_days}日内到期")
    if digest.count("behind"):
        parts.append(f"{digest.count('behind')}项进度滞后")
    if digest.count("no_report"):
        parts.append(f"{digest.count('no_report')}项未填报")
    if digest.count("done"):
        parts.append(f"{digest.count('done')}项已完成")
    if digest.tasks:
        parts.append(f"{len(digest.tasks)}项填报任务")
    if digest.correctives:
        parts.append(f"{len(digest.correctives)}项整改")
    tag = "【绩效提醒·补发】" if digest.catch_up_from else "【绩效提醒】"
    return one_line(f"{tag}{digest.department}：{'，'.join(parts) or '无新事项'}")


def render_digest(digest: Digest) -> Rendered:
    text, html = _render("digest", d=digest)
    return Rendered(digest_subject(digest), text, html)


def render_escalation(escalation: Escalation) -> Rendered:
    level = "主管部门" if escalation.level == 1 else "财政部门绩效管理机构"
    subject = one_line(f"【绩效督办】{escalation.department}：{len(escalation.items)}项逾期未处理"
                       f"（抄送{escalation.supervisor or level}）")
    text, html = _render("escalation", e=escalation, level_name=level)
    return Rendered(subject, text, html)


def render_summary(summary: Summary) -> Rendered:
    subject = one_line(f"【绩效周报】{summary.week}：{len(summary.rows)}个部门的监控情况"
                       + ("（系统告警）" if summary.warnings else ""))
    text, html = _render("summary", s=summary)
    return Rendered(subject, text, html)


def render_round_status(mail: RoundStatusMail) -> Rendered:
    """The bureau's status of an open round by department, on its own (at most once a day)."""
    subject = one_line(f"【轮次进度】{mail.title}：" + "，".join(f"{k}{v}" for k, v in mail.counts.items()))
    text, html = _render("round_status", m=mail)
    return Rendered(subject, text, html)
