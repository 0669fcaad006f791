"""Properties of the self-evaluation arithmetic: a perfect project scores exactly 100.00, the printed rows
(分值 and 得分, two decimals each) add up to the printed totals, and a target that is not met never scores its
full points, strict comparators included, just as its light says."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.scoring import IndicatorInput, ScoringRules, score_indicator, score_project
from rules.terms import GRADES

# the default weights and the province variant (20 / 40 / 40, 满意度 not scored)
RULE_SETS = st.sampled_from([
    ScoringRules(),
    ScoringRules(weight_execution=Decimal(20), weight_output=Decimal(40), weight_effect=Decimal(40),
                 weight_satisfaction=Decimal(0)),
])
weights = st.one_of(st.none(), st.integers(min_value=1, max_value=30).map(Decimal),
                    st.sampled_from([Decimal("0.5"), Decimal("2.5"), Decimal("7.14")]))
# one indicator of each kind, each fully met
perfect_kinds = st.sampled_from(["quantity", "cap", "exact", "deadline", "recurring", "qualitative"])
LEVELS = ("产出指标", "效益指标", "满意度指标")


def perfect(key: int, level1: str, kind: str, weight: Decimal | None, points_hint: int) -> IndicatorInput:
    base = dict(key=key, level1=level1, name=f"指标{key}", weight=weight)
    if kind == "quantity":
        return IndicatorInput(kind="quantity", direction="higher_is_better", target=Decimal(points_hint),
                              actual=Decimal(points_hint + 1), **base)
    if kind == "cap":
        return IndicatorInput(kind="quantity", direction="lower_is_better", comparator="<",
                              target=Decimal(points_hint), actual=Decimal(0), **base)
    if kind == "exact":
        return IndicatorInput(kind="percent", direction="exact", target=Decimal(100), actual=Decimal(100), **base)
    if kind in ("deadline", "recurring"):
        n = 1 if kind == "deadline" else 12
        return IndicatorInput(kind=kind, occurrences=("on_time",) * n, **base)
    return IndicatorInput(kind="qualitative", grade=GRADES[0], **base)  # a person picks: see full_picks


def project(draw_kinds, counts, draw_weights):
    items = []
    for level1, n in zip(LEVELS, counts, strict=True):
        for _ in range(n):
            key = len(items) + 1
            items.append(perfect(key, level1, draw_kinds(), draw_weights(), key * 7))
    return items


@st.composite
def perfect_projects(draw):
    counts = (draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(0, 4)))
    items = project(lambda: draw(perfect_kinds), counts, lambda: draw(weights))
    return items


def full_picks(items, rules):
    """A person picks full points for every achieved qualitative indicator (the top of its band)."""
    first = score_project(Decimal(1), Decimal(1), items, rules)
    points = {s.key: s.points for s in first.indicators}
    return [replace(i, picked=points[i.key]) if i.kind == "qualitative" else i for i in items]


@settings(max_examples=300, deadline=None)
@given(items=perfect_projects(), rules=RULE_SETS, budget=st.integers(1, 10**9).map(Decimal))
def test_a_perfect_project_scores_exactly_100(items, rules, budget):
    result = score_project(budget, budget, full_picks(items, rules), rules)
    assert result.total == Decimal("100.00")
    assert result.grade == "优"
    assert all(s.score == s.points for s in result.indicators)


@st.composite
def any_projects(draw):
    counts = (draw(st.integers(1, 9)), draw(st.integers(0, 9)), draw(st.integers(0, 4)))
    items = []
    for level1, n in zip(LEVELS, counts, strict=True):
        for _ in range(n):
            key = len(items) + 1
            target = draw(st.integers(1, 10**6).map(lambda v: Decimal(v) / 100))
            actual = draw(st.integers(0, 2 * 10**6).map(lambda v: Decimal(v) / 100))
            comparator = draw(st.sampled_from([">=", ">", "<=", "<", "="]))
            direction = {"<=": "lower_is_better", "<": "lower_is_better", "=": "exact"}.get(
                comparator, "higher_is_better")
            items.append(IndicatorInput(key=key, level1=level1, name=f"指标{key}", kind="quantity",
                                        direction=direction, comparator=comparator, target=target, actual=actual,
                                        weight=draw(weights)))
    return items


@settings(max_examples=300, deadline=None)
@given(items=any_projects(), rules=RULE_SETS, spent=st.integers(0, 10**8).map(Decimal),
       budget=st.integers(1, 10**8).map(Decimal))
def test_the_printed_rows_add_up_to_the_printed_totals(items, rules, spent, budget):
    result = score_project(spent, budget, items, rules)
    two = Decimal("0.01")
    printed = [result.execution_score, *(s.score for s in result.indicators)]
    assert all(v == v.quantize(two) for v in printed)
    assert sum(printed, Decimal(0)) == result.total
    points = [result.execution_points, *(s.points for s in result.indicators)]
    assert all(v == v.quantize(two) for v in points)
    assert sum(points, Decimal(0)) == rules.weight_execution + sum(result.level_points.values(), Decimal(0))
    assert result.grade == score_project(spent, budget, items, rules).grade


def met(comparator: str, actual: Decimal, target: Decimal) -> bool:
    return {">=": actual >= target, ">": actual > target, "<=": actual <= target, "<": actual < target,
            "=": actual == target}[comparator]


@settings(max_examples=500, deadline=None)
@given(comparator=st.sampled_from([">=", ">", "<=", "<", "="]),
       target=st.integers(1, 10**7).map(lambda v: Decimal(v) / 100),
       offset=st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("-0.01"), Decimal("0.0001"),
                               Decimal("-0.0001")]),
       points=st.sampled_from([Decimal(10), Decimal(50) / 7, Decimal("16.67"), Decimal(5)]))
def test_full_points_if_and_only_if_the_target_is_met_strict_comparators_too(comparator, target, offset, points):
    actual = target + offset
    direction = {"<=": "lower_is_better", "<": "lower_is_better", "=": "exact"}.get(comparator, "higher_is_better")
    item = IndicatorInput(key=1, level1="产出指标", name="合格率", kind="percent", direction=direction,
                          comparator=comparator, target=target, actual=actual)
    scored = score_indicator(item, points, ScoringRules())
    assert (scored.score == scored.points) == met(comparator, actual, target), scored.rule
