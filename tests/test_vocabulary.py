"""One vocabulary: every domain word of kpiwatch is defined once, in `rules/terms.py`, and imported elsewhere.

Five tables of light names and three severity orders that disagreed are how grey came to be called 未评估 in
one report and ranked mildest in two others; this test reads every module and template and fails on a second
definition, so the next one cannot creep back in. What counts as a definition, wherever it appears (a module
constant, a local, an argument, an inline literal):

- a light name: the string 红灯 绿灯 黄灯 蓝灯 灰灯 or 未评估, or a mapping from the lights to their short or
  English names;
- a light order: a sequence holding exactly the five lights, or a mapping from them to numbers;
- a tuple of the grades, likelihoods or deviation causes (or a mapping keyed by all the grades);
- a target-kind group: a sequence holding exactly the measured, the scheduled or all the target kinds;
- the comparator symbols (a mapping from ">=" to "≥").
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlmodel import select

from monitor.reports.data import load_year
from monitor.reports.monitoring import build_monitoring
from monitor.store.models import Indicator, IndicatorState
from rules import terms
from rules.terms import worst_light
from tests.conftest import ROOT
from tests.test_reports import seed_house_repair

HOME = Path("rules/terms.py")
PACKAGES = ("rules", "notifications", "monitor")
TEMPLATE_SUFFIXES = (".j2", ".html", ".txt")

LIGHTS = frozenset(terms.LIGHTS)
NAMES = frozenset(terms.LIGHT_NAMES.values()) | {terms.NOT_EVALUATED}
OTHER_NAMES = frozenset(terms.LIGHT_SHORT_NAMES.values()) | frozenset(terms.LIGHT_NAMES_EN.values())
WORD_SETS = {
    "the grades": frozenset(terms.GRADES),
    "the score grades": frozenset(terms.SCORE_GRADES),
    "the likelihoods": frozenset(terms.LIKELIHOODS),
    "the deviation causes": frozenset(terms.DEVIATION_CAUSES),
    "the measured kinds": frozenset(terms.MEASURED_KINDS),
    "the scheduled kinds": frozenset(terms.SCHEDULED_KINDS),
    "the target kinds": frozenset(terms.TARGET_KINDS),
    "the five lights (an order)": LIGHTS,
}


def _constant(node: ast.AST):
    return node.value if isinstance(node, ast.Constant) else None


def _exactly(elements: list[ast.AST | None]) -> str | None:
    """Which word set a literal's elements are, each once and nothing else (a rule table that merely uses the
    words, such as a list of fifteen lights, is not a definition)."""
    values = [_constant(e) for e in elements if e is not None]
    if len(values) != len(elements) or len(set(values)) != len(values):
        return None
    for what, words in WORD_SETS.items():
        if set(values) == words:
            return what
    return None


def _offences(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and node.value in NAMES:
        return [f"the light name {node.value!r}"]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        what = _exactly(node.elts)
        return [what] if what else []
    if isinstance(node, ast.Dict):
        keys = [_constant(k) if k is not None else None for k in node.keys]
        values = [_constant(v) for v in node.values]
        found = []
        if LIGHTS <= set(keys):
            if all(isinstance(v, int) for v in values):
                found.append("a light order (light → rank)")
            elif all(v in OTHER_NAMES for v in values):
                found.append("light names (light → name)")
        if frozenset(terms.GRADES) <= set(keys):
            found.append("the grades (as mapping keys)")
        if ">=" in keys and "≥" in values:
            found.append("the comparator symbols")
        return found
    return []


def _python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def python_offences() -> list[str]:
    found = []
    for path in _python_files():
        relative = path.relative_to(ROOT)
        if relative == HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found.extend(f"{relative}:{node.lineno}: {what}" for what in _offences(node))
    return found


QUOTED = re.compile(r"""['"]([a-z_]+)['"]""")
BRACKETED = re.compile(r"[(\[]([^()\[\]]*)[)\]]")


def template_offences() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in TEMPLATE_SUFFIXES or "templates" not in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            relative = path.relative_to(ROOT)
            found.extend(f"{relative}: the light name {name!r}" for name in sorted(NAMES) if name in text)
            for group in BRACKETED.findall(text):
                words = QUOTED.findall(group)
                if len(words) == len(LIGHTS) and set(words) == LIGHTS:
                    found.append(f"{relative}: the five lights in an order of its own ({group.strip()})")
    return found


def test_light_names_orders_grades_and_kind_groups_are_defined_only_in_terms():
    assert python_offences() == []


def test_templates_take_light_names_and_order_from_terms():
    assert template_offences() == []


def test_the_checks_see_what_they_guard():
    """The home of the words holds every one of them: were the checks blind, this would find nothing."""
    home = ast.parse((ROOT / HOME).read_text(encoding="utf-8"))
    seen = {what for node in ast.walk(home) for what in _offences(node)}
    assert {"the grades", "the likelihoods", "the deviation causes", "the measured kinds", "the scheduled kinds",
            "the target kinds", "light names (light → name)", "the comparator symbols"} <= seen
    assert {f"the light name {name!r}" for name in NAMES} <= seen


def test_the_one_severity_order_ranks_grey_between_yellow_and_green():
    """Missing data never shows green or blue, while a real red or yellow still wins (rules/lights.py)."""
    assert terms.LIGHTS_BY_SEVERITY == ("blue", "green", "grey", "yellow", "red")
    assert worst_light(["green", "grey", "blue"]) == "grey"
    assert worst_light(["grey", "yellow"]) == worst_light(["yellow", "grey"]) == "yellow"
    assert worst_light(["grey", "red", "yellow"]) == "red"
    assert worst_light([None, "blue", None]) == "blue"
    assert worst_light([]) is None and worst_light([None]) is None


def test_reports_roll_occurrences_up_by_the_one_order_and_call_grey_by_its_name(session):
    """An indicator whose first occurrence is met (green) and whose next has no report yet (grey) is grey
    in the monitoring table, as on the project page and in the project light; the two report loaders once
    ranked grey mildest and showed it green, and the table called grey 未评估."""
    seed_house_repair(session)
    indicator = session.exec(select(Indicator).where(Indicator.name == "资金支付时间")).one()
    for occurrence, light, status in (("2024-05-31", "green", "met"), ("2024-11-30", "grey", "no_report")):
        session.add(IndicatorState(indicator_id=indicator.id, occurrence=occurrence,
                                   light=light, status=status, reason=""))
    session.commit()
    data = load_year(session, 2024)
    (shown,) = [ind for p in data.projects for ind in p.indicators if ind.id == indicator.id]
    assert shown.light == "grey"
    (project,) = build_monitoring(data, 7)
    (row,) = [r for r in project.rows if r.indicator_id == indicator.id]
    assert "系统评估：灰灯" in row.note and terms.NOT_EVALUATED not in row.note


def test_every_status_is_named_in_both_languages():
    assert set(terms.STATUS_NAMES) == set(terms.STATUS_NAMES_EN) == set(terms.STATUSES)
    assert len(set(terms.STATUS_NAMES.values())) == len(terms.STATUSES)
