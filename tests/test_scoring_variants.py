"""The scoring variants provinces use, chosen in [scoring] of config.toml: caps scored as 指标值 ÷ 完成值 × 分值 or by
the deduction formula, "=" targets, and the share of points for a deadline met late. Each number is worked out by
hand in the comment beside it; the defaults are today's behaviour (tests/test_config.py checks the shipped file)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from monitor.config import ConfigError, load_config
from rules.scoring import IndicatorInput, ScoringRules, score_indicator
from rules.targets import RANGE
from tests.conftest import ROOT

D = Decimal
POINTS = D(10)
DEDUCT = ScoringRules()
RATIO = dataclasses.replace(DEDUCT, cap_formula="ratio", exact_formula="ratio")
ALL_OR_NOTHING = dataclasses.replace(DEDUCT, exact_formula="all_or_nothing")


def _measured(direction: str, comparator: str, target: str, actual: str) -> IndicatorInput:
    return IndicatorInput(key=1, level1="产出指标", name="指标", kind="quantity", direction=direction,
                          comparator=comparator, target=D(target), actual=D(actual))


def _score(item: IndicatorInput, rules: ScoringRules) -> Decimal:
    return score_indicator(item, POINTS, rules).score


@pytest.mark.parametrize(("actual", "deduct", "ratio"), [
    ("90", "10.00", "10.00"),  # within the cap ≤100: full points either way
    ("125", "7.50", "8.00"),  # 10 × (1 − 25 ÷ 100) = 7.5; 10 × 100 ÷ 125 = 8
    ("160", "4.00", "6.25"),  # 10 × (1 − 60 ÷ 100) = 4; 10 × 100 ÷ 160 = 6.25
    ("250", "0.00", "4.00"),  # twice the cap and more: 0; 10 × 100 ÷ 250 = 4
    ("300", "0.00", "3.33"),  # 10 × 100 ÷ 300 = 3.333…
])
def test_a_cap_over_its_limit_scores_by_the_chosen_formula(actual, deduct, ratio):
    item = _measured("lower_is_better", "<=", "100", actual)
    assert (_score(item, DEDUCT), _score(item, RATIO)) == (D(deduct), D(ratio))


def test_a_strict_cap_reached_exactly_is_not_met_under_the_ratio_formula_either():
    """"<100" with 100: 10 × 100 ÷ 100 = 10, but a target not met never scores full points: 9.99."""
    scored = score_indicator(_measured("lower_is_better", "<", "100", "100"), POINTS, RATIO)
    assert scored.score == D("9.99") and "10 × 100 ÷ 100" in scored.rule


def test_the_ratio_rule_is_shown_as_the_person_would_compute_it():
    scored = score_indicator(_measured("lower_is_better", "<=", "100", "125"), POINTS, RATIO)
    assert scored.rule == "10 × 100 ÷ 125"


@pytest.mark.parametrize(("actual", "deduct", "ratio", "nothing"), [
    ("100", "10.00", "10.00", "10.00"),  # "=100" met: full points whatever the variant
    ("95", "9.50", "9.50", "0.00"),  # 10 × (1 − 5 ÷ 100) = 9.5; 10 × 95 ÷ 100 = 9.5; 0
    ("110", "9.00", "9.09", "0.00"),  # 10 × (1 − 10 ÷ 100) = 9; 10 × 100 ÷ 110 = 9.0909…; 0
    ("250", "0.00", "4.00", "0.00"),  # 10 × (1 − 150 ÷ 100) < 0 → 0; 10 × 100 ÷ 250 = 4; 0
])
def test_an_exact_target_missed_scores_by_the_chosen_formula(actual, deduct, ratio, nothing):
    item = _measured("exact", "=", "100", actual)
    assert (_score(item, DEDUCT), _score(item, RATIO), _score(item, ALL_OR_NOTHING)) == (
        D(deduct), D(ratio), D(nothing))


def test_an_exact_zero_target_missed_scores_nothing_in_every_variant():
    item = _measured("exact", "=", "0", "2")
    assert {_score(item, rules) for rules in (DEDUCT, RATIO, ALL_OR_NOTHING)} == {D(0)}


def test_a_range_keeps_the_deduction_from_the_bound_it_missed_whatever_the_exact_formula():
    """90–95 with 97: 10 × (1 − 2 ÷ 95) = 9.789… → 9.79 under every exact_formula."""
    item = dataclasses.replace(_measured("within", RANGE, "90", "97"), upper=D(95))
    assert {_score(item, rules) for rules in (DEDUCT, RATIO, ALL_OR_NOTHING)} == {D("9.79")}


@pytest.mark.parametrize(("late_share", "deadline", "quarterly"), [
    ("0.5", "5.00", "5.00"),  # default: 10 × 0.5; 10 × (1 + 0.5 + 0.5 + 0) ÷ 4 = 5
    ("0.8", "8.00", "6.50"),  # 10 × 0.8; 10 × (1 + 0.8 + 0.8 + 0) ÷ 4 = 6.5
    ("0", "0.00", "2.50"),  # late counts as missed: 0; 10 × 1 ÷ 4 = 2.5
])
def test_a_deadline_met_late_earns_the_configured_share(late_share, deadline, quarterly):
    rules = dataclasses.replace(DEDUCT, late_share=D(late_share))
    once = IndicatorInput(key=1, level1="产出指标", name="完成时间", kind="deadline", occurrences=("late",))
    four = IndicatorInput(key=2, level1="产出指标", name="补贴发放", kind="recurring",
                          occurrences=("on_time", "late", "late", "missed"))
    assert (_score(once, rules), _score(four, rules)) == (D(deadline), D(quarterly))


def _config(tmp_path, scoring: str):
    path = tmp_path / "config.toml"
    path.write_text(f"[scoring]\n{scoring}\n", encoding="utf-8")
    return load_config(path, env={})


def test_the_variants_are_read_from_the_scoring_section(tmp_path):
    loaded = _config(tmp_path, 'cap_formula = "ratio"\nexact_formula = "all_or_nothing"\nlate_share = 0.8')
    assert (loaded.scoring.cap_formula, loaded.scoring.exact_formula, loaded.scoring.late_share) == (
        "ratio", "all_or_nothing", D("0.8"))
    assert _score(_measured("lower_is_better", "<=", "100", "125"), loaded.scoring) == D("8.00")


def test_the_shipped_defaults_are_the_deduction_formulas_and_half_points_when_late():
    shipped = load_config(ROOT / "config.toml", env={}).scoring
    assert (shipped.cap_formula, shipped.exact_formula, shipped.late_share) == ("deduct", "deduct", D("0.5"))


@pytest.mark.parametrize(("line", "message"), [
    ('cap_formula = "inverse"', r"scoring\.cap_formula: expected one of deduct, ratio"),
    ('exact_formula = "strict"', r"scoring\.exact_formula: expected one of deduct, ratio, all_or_nothing"),
    ("late_share = 1.5", r"scoring\.late_share: expected 0 to 1"),
])
def test_an_unknown_variant_is_refused_naming_the_key(tmp_path, line, message):
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, line)
