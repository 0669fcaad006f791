"""Exact boundaries of the lights: a ratio that is exactly on a threshold lands in the band the rule book names,
and the smallest step below it in the band beneath, for indicators and for budget execution, in both 序时进度 modes.

Every case is built so that the ratio is exactly the threshold in decimal arithmetic (targets, reports and
budgets are decimals with two places, as they are stored), then passed through the frames as floats, as the
store's loader does. Float arithmetic alone lands some of these one band too severe (59.99999999999999 < 60).
Each check evaluates its cases in one frame, as the daily run does, so a grid of thousands costs one call.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rules.evaluation import evaluate
from rules.terms import EvaluationSettings

YEAR = 2024
YEAR_START, YEAR_END = date(YEAR, 1, 1), date(YEAR, 12, 31)
DAYS = (YEAR_END - YEAR_START).days + 1
CENT = Decimal("0.01")

# a positive decimal with two places: the grain of every figure below
cents = st.integers(min_value=1, max_value=10**7).map(lambda n: Decimal(n) / 100)
months = st.integers(min_value=1, max_value=12)
days_in = st.integers(min_value=1, max_value=DAYS)
modes = st.sampled_from(["month", "day"])
BAND = {60: ("red", "yellow"), 80: ("yellow", "green")}  # (just below, exactly at) each threshold
# prices, counts and amounts as tables print them: whole, one and two decimals, small and large
GRID_Q = [Decimal(v) for v in ("0.01", "0.03", "0.07", "0.1", "0.13", "0.3", "0.7", "1.1", "3.36", "13.93",
                               "29.4", "336", "1300", "27538.99")]


def month_end(month: int) -> date:
    return (date(YEAR, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def progress(mode: str, step: int) -> tuple[date, int, int]:
    """(the report's date, elapsed, total) for `step` months or days of the budget year."""
    if mode == "month":
        return month_end(step), step, 12
    return YEAR_START + timedelta(days=step - 1), step, DAYS


def _direction(comparator: str) -> str:
    return {"<=": "lower_is_better", "<": "lower_is_better", "=": "exact"}.get(comparator, "higher_is_better")


def indicator_lights(cases: list[dict], *, as_of: date | None = None, mode: str = "month") -> list[dict]:
    """The state of each case, one indicator per case, each with one report of `actual` on `day`; evaluated on
    the day of its report (or at `as_of`), in one frame per evaluation date."""
    rows = []
    for i, c in enumerate(cases, start=1):
        rows.append({"indicator_id": i, "project_id": 1, "kind": c.get("kind", "quantity"),
                     "comparator": c.get("comparator", ">="), "target_value": float(c["target"]),
                     "unit": c.get("unit", "人"), "direction": _direction(c.get("comparator", ">=")),
                     "name": c.get("name", "培训人数"), "value_text": "", "parse_reason": None,
                     "value": float(c["actual"]), "as_of": c.get("day", YEAR_END)})
    frame = pd.DataFrame(rows)
    out: dict[int, dict] = {}
    for day, part in frame.groupby("as_of"):
        frames = {
            "projects": pd.DataFrame([{"project_id": 1, "year": YEAR, "plan_start": None, "plan_end": None,
                                       "annual_funds": float("nan")}]),
            "indicators": part.drop(columns=["value", "as_of"]),
            "occurrences": pd.DataFrame(columns=["indicator_id", "start", "due"]),
            "reports": pd.DataFrame({"id": part["indicator_id"], "indicator_id": part["indicator_id"],
                                     "value": part["value"], "as_of": part["as_of"], "occurrence_due": None,
                                     "completed_on": None, "grade": None, "forecast": None}),
            "spending": pd.DataFrame(columns=["id", "project_id", "amount", "as_of"]),
        }
        states = evaluate(**frames, as_of=as_of or day, settings=EvaluationSettings(progress_mode=mode)).indicators
        out.update({int(r["indicator_id"]): r for r in states.to_dict("records")})
    return [out[i] for i in range(1, len(cases) + 1)]


def budget_lights(cases: list[tuple[Decimal, Decimal, date]], mode: str) -> list[dict]:
    """The budget state of each (funds, spent, day), one project per case, evaluated on the day of its spending."""
    out: dict[int, dict] = {}
    for day in sorted({c[2] for c in cases}):
        ids = [i for i, c in enumerate(cases, start=1) if c[2] == day]
        frames = {
            "projects": pd.DataFrame([{"project_id": i, "year": YEAR, "plan_start": None, "plan_end": None,
                                       "annual_funds": float(cases[i - 1][0])} for i in ids]),
            "indicators": pd.DataFrame(columns=["indicator_id", "project_id", "kind", "comparator", "target_value",
                                                "unit", "direction", "name", "value_text", "parse_reason"]),
            "occurrences": pd.DataFrame(columns=["indicator_id", "start", "due"]),
            "reports": pd.DataFrame(columns=["id", "indicator_id", "value", "as_of", "occurrence_due",
                                             "completed_on", "grade", "forecast"]),
            "spending": pd.DataFrame([{"id": i, "project_id": i, "amount": float(cases[i - 1][1]), "as_of": day}
                                      for i in ids]),
        }
        states = evaluate(**frames, as_of=day, settings=EvaluationSettings(progress_mode=mode)).projects
        out.update({int(r["project_id"]): r for r in states.to_dict("records")})
    return [out[i] for i in range(1, len(cases) + 1)]


# ------------------------------------------------------------------------------------------ indicators


def cumulative_cases(q: Decimal, threshold: int, mode: str, step: int) -> tuple[list[dict], list[str]]:
    """actual ÷ (target × elapsed ÷ total) × 100 = threshold exactly: target = q × 100 × total,
    actual = q × threshold × elapsed; and one cent less."""
    day, elapsed, total = progress(mode, step)
    target, actual = q * 100 * total, q * threshold * elapsed
    below, at = BAND[threshold]
    return ([{"target": target, "actual": actual, "day": day}, {"target": target, "actual": actual - CENT, "day": day}],
            [at, below])


@settings(max_examples=150, deadline=None)
@given(q=cents, mode=modes, month=months, day_number=days_in)
def test_a_cumulative_quantity_exactly_at_a_threshold_of_its_progress_is_in_the_band_above(q, mode, month, day_number):
    cases, lights = [], []
    for threshold in BAND:
        more, expected = cumulative_cases(q, threshold, mode, month if mode == "month" else day_number)
        cases, lights = cases + more, lights + expected
    got = indicator_lights(cases, mode=mode)
    assert [g["light"] for g in got] == lights, [g["reason"] for g in got]


def test_every_month_and_day_of_the_year_at_both_thresholds():
    for mode, steps in (("month", range(1, 13)), ("day", range(1, DAYS + 1, 5))):
        cases, lights = [], []
        for q in GRID_Q:
            for threshold in BAND:
                for step in steps:
                    more, expected = cumulative_cases(q, threshold, mode, step)
                    cases, lights = cases + more, lights + expected
        got = [g["light"] for g in indicator_lights(cases, mode=mode)]
        assert [(c, g, e) for c, g, e in zip(cases, got, lights, strict=True) if g != e] == []


@settings(max_examples=150, deadline=None)
@given(q=cents)
@example(q=Decimal("0.01"))  # 0.09 ÷ 0.1 × 100 = 89.99999999999999 in floats
def test_a_point_measure_at_exactly_ninety_percent_of_its_target_is_yellow_and_just_under_it_red(q):
    target, actual = q * 10, q * 9
    cases = [{"kind": kind, "name": name, "unit": unit, "target": target, "actual": a}
             for kind, name, unit in (("percent", "合格率", "%"), ("quantity", "人均补助", "元"))
             for a in (actual, actual - CENT)]
    got = indicator_lights(cases)
    assert [g["light"] for g in got] == ["yellow", "red", "yellow", "red"], [g["reason"] for g in got]


@settings(max_examples=150, deadline=None)
@given(q=cents, month=months)
@example(q=Decimal("27538.99"), month=1)  # 165233.94 ≥ 137694.95 × 1.2 exactly; 137694.95 × 1.2 > 165233.94 in floats
def test_reaching_exactly_120_percent_of_the_annual_target_is_blue_and_just_under_it_is_not(q, month):
    target, actual = q * 5, q * 6
    got = indicator_lights([{"target": target, "actual": a, "day": month_end(month)} for a in (actual, actual - CENT)])
    assert [g["light"] == "blue" for g in got] == [True, False], [g["reason"] for g in got]


@settings(max_examples=150, deadline=None)
@given(target=cents)
@example(target=Decimal(1000))
def test_caps_strict_comparators_and_equals_at_and_beside_their_value(target):
    """At year end, a point measure: ≤ is met at the cap, < is not; > is not met at the value, ≥ is; = only at it.
    The step is one a relative tolerance would swallow (1000.01 = 1000 within 1e-5)."""
    step = max(CENT, (target / 10**5).quantize(CENT))
    expected = {"<=": (True, True, False), "<": (True, False, False), ">": (False, False, True),
                ">=": (False, True, True), "=": (False, True, False)}
    cases = [{"kind": "percent", "name": "合格率", "unit": "%", "comparator": comparator, "target": target,
              "actual": target + offset} for comparator in expected for offset in (-step, 0, step)]
    got = [g["light"] in ("green", "blue") for g in indicator_lights(cases)]
    assert got == [m for comparator in expected for m in expected[comparator]]


# ------------------------------------------------------------------------------------------ budget execution


def budget_cases(q: Decimal, threshold: int, mode: str, step: int) -> tuple[list[tuple], list[str]]:
    """(spent ÷ funds × 100) ÷ (elapsed ÷ total) = threshold exactly: funds = q × 100 × total,
    spent = q × threshold × elapsed; and one cent less."""
    day, elapsed, total = progress(mode, step)
    funds, spent = q * 100 * total, q * threshold * elapsed
    below, at = BAND[threshold]
    return [(funds, spent, day), (funds, spent - CENT, day)], [at, below]


@settings(max_examples=150, deadline=None)
@given(q=cents, mode=modes, month=months, day_number=days_in)
def test_budget_execution_exactly_at_a_threshold_of_its_progress_is_in_the_band_above(q, mode, month, day_number):
    cases, lights = [], []
    for threshold in BAND:
        more, expected = budget_cases(q, threshold, mode, month if mode == "month" else day_number)
        cases, lights = cases + more, lights + expected
    got = budget_lights(cases, mode)
    assert [g["budget_light"] for g in got] == lights, [g["reason"] for g in got]
    assert f"为序时进度的{60}%" in got[0]["reason"] and f"为序时进度的{80}%" in got[2]["reason"]


def test_budget_execution_on_every_month_and_day_of_the_year_at_both_thresholds():
    for mode, steps in (("month", range(1, 13)), ("day", range(1, DAYS + 1, 5))):
        cases, lights = [], []
        for q in GRID_Q:
            for threshold in BAND:
                for step in steps:
                    more, expected = budget_cases(q, threshold, mode, step)
                    cases, lights = cases + more, lights + expected
        got = [g["budget_light"] for g in budget_lights(cases, mode)]
        assert [c for c, g, e in zip(cases, got, lights, strict=True) if g != e] == []
