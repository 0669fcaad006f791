"""Accessibility (WCAG 2.1 AA) that can be checked without a browser: the lights' and tables' colours have the
contrast AA asks of small text, and every form field on every page has a label a screen reader reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.web.templating import STATIC_DIR
from tests.page_walk import walk
from tests.test_one_language import STARTS, _signed_in, _world

REPORT_CSS = Path(__file__).resolve().parent.parent / "monitor" / "reports" / "templates" / "report.css"
AA_SMALL_TEXT = 4.5


def _rules(css: str) -> dict[str, dict[str, str]]:
    """Selector → declarations of a flat stylesheet (no nesting beyond @media/@page, which are dropped)."""
    css = re.sub(r"/\*.*?\*/|\{\{.*?\}\}", "", css, flags=re.S)  # comments, and the template's {{ font }}
    css = re.sub(r"@(media|page)[^{]*\{([^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict((k.strip(), v.strip()) for k, _, v in (d.partition(":") for d in body.split(";")) if v)
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def _luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_light_badge_and_edge_is_readable_at_aa():
    rules = _rules((STATIC_DIR / "portal.css").read_text(encoding="utf-8"))
    badge_text = rules[".light"]["color"]
    page = rules[".why"]["background"]  # the reason box the edges mark
    lights = {s: r for s, r in rules.items() if re.fullmatch(r"\.light-[a-z]+", s)}
    assert {".light-green", ".light-yellow", ".light-red", ".light-blue", ".light-grey"} <= set(lights)
    weak = {s: round(contrast(r.get("color", badge_text), r["background"]), 2) for s, r in lights.items()
            if contrast(r.get("color", badge_text), r["background"]) < AA_SMALL_TEXT}
    assert weak == {}
    edges = {s: r["border-left-color"] for s, r in rules.items() if s.startswith(".why.light-edge-")}
    assert edges and all(contrast(c, page) >= 3 for c in edges.values()), edges  # a graphic: 3:1 (1.4.11)


def test_report_table_text_and_coloured_cells_are_readable_at_aa():
    rules = _rules(REPORT_CSS.read_text(encoding="utf-8"))
    text, header = rules[".kpi-report"]["color"], rules[".kpi-report th"]["background"]
    coloured = {s: r["color"] for s, r in rules.items() if "color" in r and s.startswith(".kpi-report .")}
    assert coloured
    pairs = {"table text on white": (text, "#fff"), "header text": (text, header)} | {
        f"{s} on white": (c, "#fff") for s, c in coloured.items()} | {f"{s} in a header": (c, header)
                                                                      for s, c in coloured.items()}
    weak = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < AA_SMALL_TEXT}
    assert weak == {}


@pytest.mark.parametrize("username", ["bureau", "clerk_144"])
def test_every_form_field_on_every_page_has_a_label(engine, db_url, username):
    world = _world(engine, db_url)
    pages = walk(_signed_in(engine, world, username, "zh"), STARTS)
    unlabelled = {url: [f"<{f.tag} name={f.name}>" for f in page.unlabelled()] for url, page in pages.items()
                  if page.unlabelled()}
    assert sum(len(p.fields) for p in pages.values()) > 10
    assert unlabelled == {}
