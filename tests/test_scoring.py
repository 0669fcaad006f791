"""Self-evaluation scoring: each rule worked by hand, as a person fills the 自评表 on paper."""

from decimal import Decimal as D

import pytest

from rules.scoring import (
    BandError,
    IndicatorInput,
    ScoringRules,
    band_for,
    check_pick,
    execution_score,
    grade_for,
    read_weight,
    score_indicator,
    score_project,
    with_level_weights,
)

RULES = ScoringRules()


def qty(actual, target, direction="higher_is_better", **kw):
    return IndicatorInput(key=1, level1="产出指标", name="培训人数", kind="quantity", direction=direction,
                          target=D(target), actual=None if actual is None else D(actual), **kw)


def test_execution_rate_times_ten_capped_at_ten():
    # 75 000 of 100 000 元 spent: 0.75 × 10 = 7.5; overspending caps at 10; no budget gives 0, not an error.
    assert execution_score(D("75000"), D("100000"), RULES) == (D("0.75"), D("7.50"))
    assert execution_score(D("120000"), D("100000"), RULES)[1] == D("10.00")
    assert execution_score(D("5"), D("0"), RULES) == (D(0), D(0))
    assert execution_score(None, D("100"), RULES) == (D(0), D(0))


def test_higher_is_better_full_when_met_else_proportional():
    assert score_indicator(qty("2401", "2401"), D(10), RULES).score == D("10.00")
    assert score_indicator(qty("3000", "2401"), D(10), RULES).score == D("10.00")  # capped at full points
    # 1800 of 2401: 10 × 1800 ÷ 2401 = 7.4968… → 7.50
    short = score_indicator(qty("1800", "2401"), D(10), RULES)
    assert short.score == D("7.50")
    assert "10 × 1800 ÷ 2401" in short.rule
    assert short.below_full and short.missing_explanation


def test_lower_is_better_full_under_cap_linear_over_it_zero_from_twice():
    cap = "400"  # 二级直线条吊单价 ≤ 400 元/平方米
    assert score_indicator(qty("380", cap, "lower_is_better"), D(5), RULES).score == D("5.00")
    assert score_indicator(qty("400", cap, "lower_is_better"), D(5), RULES).score == D("5.00")
    # 500: 5 × (1 − (500 − 400) ÷ 400) = 5 × 0.75 = 3.75
    assert score_indicator(qty("500", cap, "lower_is_better"), D(5), RULES).score == D("3.75")
    assert score_indicator(qty("799", cap, "lower_is_better"), D(5), RULES).score == D("0.01")
    assert score_indicator(qty("800", cap, "lower_is_better"), D(5), RULES).score == D("0.00")
    assert score_indicator(qty("1200", cap, "lower_is_better"), D(5), RULES).score == D("0.00")
    # a "≤ 0" target (安全事故) over the cap gives 0, not a division by zero
    assert score_indicator(qty("1", "0", "lower_is_better"), D(5), RULES).score == D("0.00")


def test_lower_is_better_zero_multiple_is_configurable():
    rules = ScoringRules(lower_zero_multiple=D("1.5"))
    assert score_indicator(qty("600", "400", "lower_is_better"), D(5), rules).score == D("0.00")


def test_exact_target():
    assert score_indicator(qty("0", "0", "exact"), D(4), RULES).score == D("4.00")
    assert score_indicator(qty("1", "0", "exact"), D(4), RULES).score == D("0.00")
    # = 100: reported 90 → 4 × (1 − 10 ÷ 100) = 3.6
    assert score_indicator(qty("90", "100", "exact"), D(4), RULES).score == D("3.60")


def test_time_kinds_full_on_time_else_configured_share():
    def timed(*statuses, kind="recurring"):
        return IndicatorInput(key=2, level1="产出指标", name="资金支付时间", kind=kind, occurrences=statuses)

    assert score_indicator(timed("on_time", kind="deadline"), D(6), RULES).score == D("6.00")
    assert score_indicator(timed("late", kind="deadline"), D(6), RULES).score == D("3.00")  # 6 × 0.5
    assert score_indicator(timed("missed", kind="deadline"), D(6), RULES).score == D("0.00")
    # 每季度: 3 on time, 1 late → 6 × (3 + 0.5) ÷ 4 = 5.25
    assert score_indicator(timed("on_time", "on_time", "late", "on_time"), D(6), RULES).score == D("5.25")
    lenient = ScoringRules(late_share=D("0.8"), missed_share=D("0.2"))
    # 6 × (0.8 + 0.2) ÷ 2 = 3
    assert score_indicator(timed("late", "missed"), D(6), lenient).score == D("3.00")
    missing = score_indicator(timed(kind="window"), D(6), RULES)
    assert (missing.score, missing.status, missing.rule) == (D("0.00"), "no_report", "未填报")


def test_qualitative_bands_and_the_persons_pick():
    points = D(30)
    assert band_for("达成年度指标", points, RULES) == (D("24.00"), D("30.00"))
    assert band_for("部分达成年度指标并具有一定效果", points, RULES) == (D("18.00"), D("24.00"))
    assert band_for("未达成年度指标且效果较差", points, RULES) == (D("0.00"), D("18.00"))
    assert check_pick("工作环境安全舒适度提升", "达成年度指标", points, D("27"), RULES) == D("27")
    with pytest.raises(BandError) as refused:
        check_pick("工作环境安全舒适度提升", "部分达成年度指标并具有一定效果", points, D("27"), RULES)
    assert str(refused.value) == "工作环境安全舒适度提升指标的实际得分区间为[18, 24]，请调整后再保存"

    def quali(grade, picked=None):
        return IndicatorInput(key=3, level1="效益指标", name="工作环境安全舒适度提升", kind="qualitative",
                              grade=grade, picked=picked)

    draft = score_indicator(quali("达成年度指标"), points, RULES)
    assert (draft.score, draft.status) == (D("24.00"), "needs_pick")  # lower end until a person picks
    assert score_indicator(quali("达成年度指标", D("28.5")), points, RULES).score == D("28.50")
    with pytest.raises(BandError):
        score_indicator(quali("未达成年度指标且效果较差", D("20")), points, RULES)
    nothing = score_indicator(quali(None), points, RULES)
    assert (nothing.score, nothing.status, nothing.rule) == (D("0.00"), "no_report", "未填报")


def test_band_limits_come_from_config():
    rules = ScoringRules(band_achieved=(D(90), D(100)))
    assert band_for("达成年度指标", D(10), rules) == (D("9.00"), D("10.00"))


def test_missing_report_is_zero_and_marked_not_filled_never_no_deviation():
    result = score_indicator(qty(None, "100"), D(10), RULES)
    assert (result.score, result.status, result.rule) == (D("0.00"), "no_report", "未填报")
    assert "无偏差" not in result.rule


def test_grades_at_their_thresholds():
    assert [grade_for(D(x)) for x in ("100", "90", "89.99", "80", "79.99", "60", "59.99", "0")] == [
        "优", "优", "良", "良", "中", "中", "差", "差"]
    assert grade_for(D("75"), ScoringRules(grade_excellent=D(80), grade_good=D(70))) == "良"


def _item(key, level1, kind="quantity", actual="1", target="1", **kw):
    return IndicatorInput(key=key, level1=level1, name=f"指标{key}", kind=kind, target=D(target),
                          actual=None if actual is None else D(actual), **kw)


def test_satisfaction_weight_goes_to_effect_when_there_is_no_satisfaction_indicator():
    """Two 产出 and two 效益 indicators, no 满意度:
    产出 50 ÷ 2 = 25 each; 效益 (30 + 10) ÷ 2 = 20 each; all met, fully spent → 10 + 50 + 40 = 100.
    """
    items = [_item(1, "产出指标"), _item(2, "产出指标"), _item(3, "效益指标"), _item(4, "效益指标")]
    result = score_project(D(100), D(100), items)
    assert result.level_points == {"产出": D(50), "效益": D(40), "满意度": D(0)}
    assert [s.points for s in result.indicators] == [D(25), D(25), D(20), D(20)]
    assert (result.total, result.grade, result.warnings) == (D("100.00"), "优", ())


def test_levels_missing_without_an_heir_lose_their_points_and_say_so():
    result = score_project(D(100), D(100), [_item(1, "产出指标")])
    assert result.total == D("60.00")
    assert result.warnings == ("无效益指标，其 30 分未能分配", "无满意度指标，其 10 分未能分配")
    assert result.grade == "中"


def test_weights_inside_a_level_are_equal_unless_set():
    """产出 50 over two unweighted indicators: 25 each, and nothing to note."""
    items = [_item(1, "产出指标"), _item(2, "产出指标"), _item(3, "效益指标"), _item(4, "满意度指标")]
    result = score_project(D(1), D(1), items)
    assert [s.points for s in result.indicators] == [D(25), D(25), D(30), D(10)]
    assert result.weight_notes == ()


def test_indicator_weights_that_add_up_to_the_level_are_its_points():
    """产出 50 = 15 + 15 + 10 + 10, as the table prints them: those are the 分值, no note."""
    items = [_item(i, "产出指标", weight=D(w)) for i, w in enumerate((15, 15, 10, 10), start=1)]
    result = score_project(D(1), D(1), [*items, _item(5, "效益指标"), _item(6, "满意度指标")])
    assert [s.points for s in result.indicators][:4] == [D(15), D(15), D(10), D(10)]
    assert (result.total, result.weight_notes, result.warnings) == (D("100.00"), (), ())


def test_indicators_without_a_weight_share_what_the_weighted_ones_leave():
    """产出 50, one row 分值 20, two without: (50 − 20) ÷ 2 = 15 each."""
    items = [_item(1, "产出指标", weight=D(20)), _item(2, "产出指标"), _item(3, "产出指标")]
    result = score_project(D(1), D(1), [*items, _item(4, "效益指标"), _item(5, "满意度指标")])
    assert [s.points for s in result.indicators][:3] == [D(20), D(15), D(15)]
    assert result.weight_notes == ()


def test_weights_that_do_not_add_up_to_the_level_are_scaled_with_a_note():
    """产出 50 with weights 2 and 1 (sum 3): 50 × 2 ÷ 3 = 33.33, 50 × 1 ÷ 3 = 16.67, and the report says so."""
    items = [_item(1, "产出指标", weight=D(2)), _item(2, "产出指标", weight=D(1)), _item(3, "效益指标"),
             _item(4, "满意度指标")]
    result = score_project(D(1), D(1), items)
    assert [s.points for s in result.indicators] == [D("33.33"), D("16.67"), D(30), D(10)]
    assert result.weight_notes == ("产出指标分值合计 3，与本级分值 50 不符，已按比例折算",)
    assert result.weight_notes[0] in result.warnings


def test_weights_above_the_level_leave_nothing_for_unweighted_rows_so_all_are_scaled():
    """产出 50, rows of 40 and 30 and one without: it counts as their mean 35, 50 × (40, 30, 35) ÷ 105."""
    items = [_item(1, "产出指标", weight=D(40)), _item(2, "产出指标", weight=D(30)), _item(3, "产出指标")]
    result = score_project(D(1), D(1), [*items, _item(4, "效益指标"), _item(5, "满意度指标")])
    assert [s.points for s in result.indicators][:3] == [D("19.05"), D("14.28"), D("16.67")]
    assert result.weight_notes == ("产出指标分值合计 70（另有 1 项未设分值，按平均分值计，共 105），"
                                   "与本级分值 50 不符，已按比例折算",)


def test_a_project_s_own_level_weights_replace_the_defaults():
    """A Sichuan 自评表: 预算执行率 10, 产出 one row 权重 90, no 效益 or 满意度 row (levels 10 / 90 / 0 / 0).
    Spent 9 of 10 → 9; the row 95 of 100 → 90 × 95 ÷ 100 = 85.5; total 94.50 优, nothing unallocated."""
    rules = with_level_weights(RULES, {"预算执行率": D(10), "产出": D(90), "效益": D(0), "满意度": D(0)})
    result = score_project(D(9), D(10), [_item(1, "产出指标", actual="95", target="100", weight=D(90))], rules)
    assert [(s.points, s.score) for s in result.indicators] == [(D(90), D("85.50"))]
    assert (result.execution_score, result.total, result.grade) == (D("9.00"), D("94.50"), "优")
    assert result.warnings == ()


@pytest.mark.parametrize("raw, message", [
    ("abc", "「abc」不是数字"), ("0", "须大于0，而不是「0」"), ("-5", "须大于0，而不是「-5」"),
    ("NaN", "「NaN」不是数字"), (None, "必填，须为数字"),
])
def test_a_weight_that_is_not_a_positive_number_is_refused_with_the_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        read_weight(raw)


def test_a_weight_reads_as_the_tables_print_it():
    assert [read_weight(raw) for raw in ("15", " 12.5分 ", 10, D("7.5"))] == [D(15), D("12.5"), D(10), D("7.5")]
    assert read_weight("0", zero_allowed=True) == D(0)


def test_a_whole_project_by_hand_with_the_province_variant_weights():
    """20 / 40 / 40 / 0 (满意度 not scored): spent 45 of 50 万 → 0.9 × 20 = 18;
    产出 two indicators of 20: 80 of 100 → 16, on time → 20;  效益 one of 40, 部分达成 picked 30 (band 24–32);
    total 18 + 16 + 20 + 30 = 84 → 良. The 80-of-100 one lacks its 偏差原因 and is listed.
    """
    rules = ScoringRules(weight_execution=D(20), weight_output=D(40), weight_effect=D(40),
                         weight_satisfaction=D(0))
    items = [
        _item(1, "产出指标", actual="80", target="100"),
        IndicatorInput(key=2, level1="产出指标", name="完成时间", kind="deadline", occurrences=("on_time",)),
        IndicatorInput(key=3, level1="效益指标", name="社会效益", kind="qualitative",
                       grade="部分达成年度指标并具有一定效果", picked=D(30), explanation="宣传不足，下半年加强"),
    ]
    result = score_project(D("450000"), D("500000"), items, rules)
    assert result.execution_score == D("18.00")
    assert [s.score for s in result.indicators] == [D("16.00"), D("20.00"), D("30.00")]
    assert (result.total, result.grade) == (D("84.00"), "良")
    assert [s.name for s in result.missing_explanations] == ["指标1"]
    assert result.warnings == ()


def test_unknown_first_level_is_not_scored_but_reported():
    result = score_project(D(1), D(1), [_item(1, "其他指标"), _item(2, "产出指标")])
    assert result.warnings[0].startswith("指标1：一级指标“其他指标”")


@pytest.mark.parametrize("item, rule", [
    (qty("35", "64"), "7.14 × 35 ÷ 64"),
    (qty("330", "300", direction="lower_is_better"), "7.14 × (1 − (330 − 300) ÷ 300)"),
    (IndicatorInput(key=1, level1="产出指标", name="发放时间", kind="recurring", occurrences=("on_time", "missed")),
     "按时 1、逾期 0、未完成 1 / 共 2 次：7.14 × 1 ÷ 2"),
])
def test_the_rule_quotes_the_points_the_report_prints(item, rule):
    """产出 50 over 7 indicators is 7.142857… points each; the 计分依据 column shows 7.14, as the 分值 column."""
    scored = score_indicator(item, D(50) / 7, RULES)
    assert (scored.points, scored.rule) == (D("7.14"), rule)
