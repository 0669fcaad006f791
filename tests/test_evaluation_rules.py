"""The evaluation rules on the seed projects' real 指标值 with sample reports: light, status and reason for every
kind of target at dates across 2024 (leap day, quarter ends, the Spring Festival week, 12-31)."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from rules.evaluation import evaluate
from rules.lights import department_summary
from rules.targets import parse_target
from rules.terms import EvaluationSettings
from rules.time_progress import curve_points, progress_fraction
from tests.evaluation_seed_data import INDICATORS, PROJECTS, frames

INDICATOR_ID = {x[0]: i + 1 for i, x in enumerate(INDICATORS)}
PROJECT_ID = {p[0]: i + 1 for i, p in enumerate(PROJECTS)}


def run(as_of: date, settings: EvaluationSettings = EvaluationSettings(), **kwargs):
    return evaluate(**frames(**kwargs), as_of=as_of, settings=settings)


def state(as_of: date, key: str, occurrence: str = "", **kwargs) -> dict:
    states = run(as_of, **kwargs).indicators
    rows = states[(states["indicator_id"] == INDICATOR_ID[key]) & (states["occurrence"] == occurrence)]
    assert len(rows) == 1, states[states["indicator_id"] == INDICATOR_ID[key]]
    return rows.iloc[0].to_dict()


CASES = [
    # quantity, higher is better: 城镇新增就业人数 ≥3.9万人
    ("jobs", "", date(2024, 1, 15), "grey", "not_due", "截至1月15日尚未填报，未到填报时间"),
    ("jobs", "", date(2024, 2, 10), "green", "on_track", "截至1月31日完成3000人，序时目标3250人"),
    ("jobs", "", date(2024, 2, 29), "green", "on_track", "截至2月29日完成6500人，序时目标6500人"),
    ("jobs", "", date(2024, 3, 31), "red", "behind", "截至3月31日完成5800人，序时目标9750人，仅为序时目标的59%"),
    ("jobs", "", date(2024, 6, 30), "green", "on_track", "截至6月30日完成15600人，序时目标19500人"),
    ("jobs", "", date(2024, 9, 30), "yellow", "behind", "截至9月30日完成21000人，序时目标29250人，仅为序时目标的72%"),
    ("jobs", "", date(2024, 11, 15), "grey", "no_report", "最近一次填报为9月30日（完成21000人），已超过35天未更新"),
    ("jobs", "", date(2024, 12, 31), "blue", "met", "截至12月31日完成47000人，达年度目标的121%（≥120%，目标可能偏低）"),
    # cost cap: 档案整理实施成本（尾款） ≤13.93万元
    ("cost", "", date(2024, 3, 31), "yellow", "behind",
     "截至3月31日累计6万元，按进度预计全年24.13万元，将超过上限13.93万元"),
    ("cost", "", date(2024, 6, 30), "green", "on_track", "截至6月30日累计13.93万元，未超过上限13.93万元"),
    ("cost", "", date(2024, 8, 15), "grey", "no_report", "最近一次填报为6月30日（累计13.93万元），已超过35天未更新"),
    ("cost", "", date(2024, 12, 31), "red", "over_cap", "截至12月31日累计15万元，超过上限13.93万元"),
    # a scrambled cell of the seed table
    ("scrambled", "", date(2024, 6, 30), "grey", "unparsed", "指标值“档案整理完成时”无法自动评价：无法识别的指标值"),
    # qualitative: 促进
    ("promote", "", date(2024, 6, 30), "grey", "not_due", "定性指标，年末前评定完成等级"),
    ("promote", "", date(2024, 12, 10), "grey", "needs_grade", "临近年末，尚未评定完成等级"),
    ("promote", "", date(2024, 12, 31), "yellow", "behind", "评定为“部分达成年度指标并具有一定效果”"),
    # deadline: 2024年5月
    ("paid", "2024-05-31", date(2024, 3, 31), "grey", "not_due", "截止5月31日，尚未到期"),
    ("paid", "2024-05-31", date(2024, 5, 25), "yellow", "due_soon", "截止5月31日，还剩6天，尚未报告完成"),
    ("paid", "2024-05-31", date(2024, 6, 1), "red", "overdue", "截止5月31日，已逾期1天，尚未报告完成"),
    ("paid", "2024-05-31", date(2024, 6, 30), "green", "met", "已于6月3日完成（截止5月31日），逾期3天完成"),
    # windows: 5月和8月 (each month on its own), 11月份
    ("incubator", "2024-05-31", date(2024, 2, 29), "grey", "not_due", "5月1日开始，5月31日截止，尚未开始"),
    ("incubator", "2024-05-31", date(2024, 9, 1), "green", "met", "已于5月20日完成（截止5月31日）"),
    ("incubator", "2024-08-31", date(2024, 9, 1), "red", "missed", "8月1日至8月31日的时间窗口已关闭，未报告完成"),
    ("heating", "2024-11-30", date(2024, 11, 25), "yellow", "due_soon", "截止11月30日，还剩5天，尚未报告完成"),
    ("heating", "2024-11-30", date(2024, 12, 1), "red", "missed", "11月1日至11月30日的时间窗口已关闭，未报告完成"),
    ("heating", "2024-11-30", date(2024, 12, 31), "green", "met", "已于12月2日完成（截止11月30日），逾期2天完成"),
    # recurring: 每月20日前, in the Spring Festival week and at the quarter end
    ("power", "2024-01-20", date(2024, 2, 15), "green", "met", "已于1月18日完成（截止1月20日）"),
    ("power", "2024-02-20", date(2024, 2, 15), "yellow", "due_soon", "截止2月20日，还剩5天，尚未报告完成"),
    ("power", "2024-03-20", date(2024, 2, 15), "grey", "not_due", "3月1日开始，3月20日截止，尚未开始"),
    ("power", "2024-02-20", date(2024, 3, 31), "red", "overdue", "截止2月20日，已逾期40天，尚未报告完成"),
    ("power", "2024-03-20", date(2024, 3, 31), "green", "met", "已于3月19日完成（截止3月20日）"),
    # percent: 职工满意度 ≥90%
    ("satisfaction", "", date(2024, 6, 30), "grey", "not_due", "尚未填报，测量日期为12月31日"),
    ("satisfaction", "", date(2024, 12, 31), "yellow", "behind", "截至12月31日报告为85%，低于目标≥90%（为目标的94%）"),
]


@pytest.mark.parametrize(("key", "occurrence", "as_of", "light", "status", "reason"), CASES,
                         ids=[f"{c[0]}-{c[1] or 'x'}-{c[2]}" for c in CASES])
def test_seed_indicator_light_status_and_reason(key, occurrence, as_of, light, status, reason):
    got = state(as_of, key, occurrence)
    assert (got["light"], got["status"], got["reason"]) == (light, status, reason)


def test_an_unreadable_targets_english_reason_gives_the_grammars_cause_in_english():
    got = state(date(2024, 6, 30), "scrambled")
    assert got["reason_en"] == ("The target “档案整理完成时” cannot be judged automatically: "
                                "the target could not be read")


def _unreadable(text: str, parse_reason: str | None) -> dict:
    f = frames()
    row = f["indicators"]["indicator_id"] == INDICATOR_ID["scrambled"]
    f["indicators"].loc[row, ["value_text", "parse_reason"]] = [text, parse_reason]
    states = evaluate(**f, as_of=date(2024, 6, 30)).indicators
    return states[states["indicator_id"] == INDICATOR_ID["scrambled"]].iloc[0].to_dict()


def test_an_unreadable_targets_cause_keeps_its_figures_in_both_languages():
    got = _unreadable("95%-90%", parse_target("95%-90%", year=2024).reason)
    assert got["reason"] == "指标值“95%-90%”无法自动评价：区间上下限颠倒：95大于90"
    assert got["reason_en"] == ("The target “95%-90%” cannot be judged automatically: "
                                "the range is reversed: 95 is greater than 90")


def test_a_cause_no_longer_written_by_the_grammar_is_said_in_english_as_unreadable():
    got = _unreadable("某写法", "旧版本的说明")
    assert got["reason"] == "指标值“某写法”无法自动评价：旧版本的说明"
    assert got["reason_en"] == "The target “某写法” cannot be judged automatically: the target could not be read"


def test_numbers_behind_a_quantity_light():
    got = state(date(2024, 6, 30), "jobs")
    assert got["expected"] == pytest.approx(19500)
    assert got["actual"] == pytest.approx(15600)
    assert got["ratio"] == pytest.approx(80.0)
    assert got["forecast"] == pytest.approx(15600 * 366 / 182)  # linear from 1 January
    assert got["likelihood"] == "有可能"


@pytest.mark.parametrize(("as_of", "likelihood"), [
    (date(2024, 2, 29), "确定能"),      # 6500 in 60 days → 39650 by year end
    (date(2024, 3, 31), "完全不可能"),  # 5800 in 91 days → 23327, under 60% of the target
    (date(2024, 12, 31), "确定能"),
])
def test_suggested_likelihood_follows_the_forecast(as_of, likelihood):
    assert state(as_of, "jobs")["likelihood"] == likelihood


def test_reported_zero_is_red_not_on_track():
    reports = [("jobs", {"value": "0", "as_of": date(2024, 6, 30)})]
    got = state(date(2024, 7, 10), "jobs", reports=reports)
    assert (got["light"], got["status"], got["reason"]) == ("red", "behind", "截至6月30日完成0人，序时目标19500人")


def test_nothing_reported_once_expected_is_grey_never_no_deviation():
    got = state(date(2024, 7, 31), "jobs", reports=[])
    assert (got["light"], got["status"], got["reason"]) == (
        "grey", "no_report", "截至7月31日未填报完成情况，序时目标22750人")
    got = state(date(2024, 12, 31), "satisfaction", reports=[])
    assert (got["light"], got["status"], got["reason"]) == ("grey", "no_report", "截至12月31日未填报，目标≥90%")


def test_equal_zero_target_is_green_only_when_exactly_met():
    f = frames(reports=[("jobs", {"value": "0", "as_of": date(2024, 6, 30)})])
    f["indicators"].loc[0, ["comparator", "target_value", "unit", "direction"]] = ["=", 0.0, "件", "exact"]
    states = evaluate(**f, as_of=date(2024, 7, 1)).indicators
    assert states.loc[states["indicator_id"] == 1, ["light", "status"]].values.tolist() == [["green", "met"]]
    f["reports"].loc[0, "value"] = 1.0
    states = evaluate(**f, as_of=date(2024, 7, 1)).indicators
    assert states.loc[states["indicator_id"] == 1, ["light", "status"]].values.tolist() == [["red", "over_cap"]]


def test_thresholds_come_from_settings():
    strict = EvaluationSettings(red_below=Decimal(85), yellow_below=Decimal(95))
    assert run(date(2024, 6, 30), strict).indicators.set_index("indicator_id").loc[
        INDICATOR_ID["jobs"], "light"] == "red"  # 80% of 序时目标
    soon = EvaluationSettings(warning_days=10)
    states = run(date(2024, 5, 21), soon).indicators
    assert states.loc[states["indicator_id"] == INDICATOR_ID["paid"], "status"].tolist() == ["due_soon"]


# ------------------------------------------------------------------------------------------ 序时进度


@pytest.mark.parametrize(("as_of", "mode", "expected"), [
    (date(2024, 2, 28), "month", 1 / 12),
    (date(2024, 2, 29), "month", 2 / 12),   # the leap day closes February
    (date(2024, 3, 31), "month", 3 / 12),
    (date(2024, 12, 31), "month", 1.0),
    (date(2023, 12, 31), "month", 0.0),
    (date(2024, 2, 29), "day", 60 / 366),
    (date(2024, 12, 31), "day", 1.0),
])
def test_progress_by_month_and_by_day(as_of, mode, expected):
    got = progress_fraction(as_of, [date(2024, 1, 1)], [date(2024, 12, 31)], mode=mode)
    assert got[0] == pytest.approx(expected)


def test_progress_on_a_published_curve():
    curve = {"7": Decimal(40), "11": Decimal("80.21")}
    ends = [date(2024, 7, 31), date(2024, 11, 30), date(2024, 12, 31), date(2024, 1, 31)]
    got = progress_fraction(np.array(ends, dtype="datetime64[D]"), [date(2024, 1, 1)] * 4, [date(2024, 12, 31)] * 4,
                            mode="curve", curve=curve)
    assert got.tolist() == pytest.approx([0.40, 0.8021, 1.0, 0.40 / 7])
    with pytest.raises(ValueError, match="递增"):
        curve_points({"7": 40, "8": 30})


def test_a_plan_window_overrides_the_year():
    # 创业就业专项 planned March–October: by 30 June 4 of its 8 months have passed
    windows = {"jy": (date(2024, 3, 1), date(2024, 10, 31))}
    got = state(date(2024, 6, 30), "jobs", plan_windows=windows)
    assert got["expected"] == pytest.approx(39000 * 4 / 8)
    assert got["reason"] == "截至6月30日完成15600人，序时目标19500人"


def test_curve_setting_changes_the_expected_value():
    settings = EvaluationSettings(progress_mode="curve", progress_curve={"7": Decimal(40), "11": Decimal("80.21")})
    reports = [("jobs", {"value": "15600", "as_of": date(2024, 7, 31)})]
    got = evaluate(**frames(reports=reports), as_of=date(2024, 7, 31), settings=settings).indicators
    row = got[got["indicator_id"] == INDICATOR_ID["jobs"]].iloc[0]
    assert row["expected"] == pytest.approx(15600)
    assert row["light"] == "green"


# ------------------------------------------------------------------------------------------ projects


def project(as_of: date, key: str, **kwargs) -> dict:
    projects = run(as_of, **kwargs).projects
    return projects[projects["project_id"] == PROJECT_ID[key]].iloc[0].to_dict()


def test_budget_execution_light_and_reason():
    got = project(date(2024, 6, 30), "jy")
    assert got["budget_light"] == "yellow"  # 30% spent at 6/12 of the year: 60% of 序时进度
    assert got["execution_rate"] == pytest.approx(30)
    assert got["execution_ratio"] == pytest.approx(60)
    assert got["reason"].endswith("截至6月30日支出390万元，执行率30%，为序时进度的60%（全年预算1300万元）")
    assert project(date(2024, 7, 31), "gr")["budget_light"] == "green"
    missing = project(date(2024, 6, 30), "da")
    assert (missing["budget_light"], np.isnan(missing["spent"])) == ("grey", True)
    assert missing["reason"].endswith("截至6月30日未填报资金执行数")


def test_zero_budget_gives_zero_not_an_error():
    f = frames()
    f["projects"].loc[f["projects"]["project_id"] == PROJECT_ID["jy"], "annual_funds"] = 0.0
    projects = evaluate(**f, as_of=date(2024, 6, 30)).projects.set_index("project_id")
    row = projects.loc[PROJECT_ID["jy"]]
    assert (row["execution_rate"], row["execution_ratio"], row["budget_light"]) == (0.0, 0.0, "grey")
    assert row["reason"].endswith("全年预算为0，执行率按0计")


def test_project_light_is_the_worst_indicator_and_missing_data_is_never_green():
    assert project(date(2024, 9, 1), "jy")["light"] == "red"        # 8月 window missed
    assert project(date(2024, 6, 30), "wf")["light"] == "green"     # paid; 促进 not due yet, so it does not count
    assert project(date(2024, 6, 30), "da")["light"] == "grey"      # within the cap, but one target is unparsed
    assert project(date(2024, 12, 31), "jy")["light"] == "red"      # blue jobs, but 8月 missed


def test_department_summary_counts_project_lights():
    result = run(date(2024, 9, 1))
    f = frames()
    summary = department_summary(f["projects"], result.projects).set_index("department_id")
    assert summary.loc[144, "projects"] == 3 and summary.loc[959, "projects"] == 2
    assert summary.loc[144, ["red", "yellow", "green", "blue", "grey"]].sum() == 3
    assert summary.loc[144, "red"] == 1


def test_empty_inputs_give_empty_results():
    empty = frames()
    for name in empty:
        empty[name] = empty[name].iloc[0:0]
    result = evaluate(**empty, as_of=date(2024, 7, 31))
    assert result.indicators.empty and result.projects.empty


def _single(indicator: tuple, reports: list, as_of: date):
    """Evaluate one extra seed indicator, put in the 2023年已完成未支付项目 project (where these values come from)."""
    import tests.evaluation_seed_data as seed

    original = seed.INDICATORS
    seed.INDICATORS = [indicator]
    try:
        result = evaluate(**seed.frames(reports=reports, spending=[]), as_of=as_of)
    finally:
        seed.INDICATORS = original
    return result.indicators


def test_a_deadline_in_the_previous_year_names_its_year():
    states = _single(("audit", "wf", "质量指标", "审计工作完成时间", "2023年11月"), [], date(2024, 3, 31))
    assert states[["occurrence", "light", "status", "reason"]].values.tolist() == [
        ["2023-11-30", "red", "overdue", "截止2023年11月30日，已逾期122天，尚未报告完成"]]


def test_a_per_unit_cost_is_a_measured_value_not_a_running_total():
    reports = [("room", {"value": "1650", "as_of": date(2024, 3, 31)})]
    states = _single(("room", "wf", "成本指标", "租用会议室成本", "1500元/天"), reports, date(2024, 4, 10))
    assert states[["light", "status", "reason"]].values.tolist() == [
        ["red", "over_cap", "截至3月31日报告为1650元/天，超过上限1500元/天"]]


def test_a_percent_cap_waits_for_its_measuring_date_like_any_percent():
    before = _single(("faults", "wf", "质量指标", "系统运行故障率", "≤1%"), [], date(2024, 7, 31))
    assert before[["light", "status", "reason"]].values.tolist() == [
        ["grey", "not_due", "尚未填报，测量日期为12月31日"]]
    reports = [("faults", {"value": "1.5", "as_of": date(2024, 12, 31)})]
    after = _single(("faults", "wf", "质量指标", "系统运行故障率", "≤1%"), reports, date(2024, 12, 31))
    assert after[["light", "status", "reason"]].values.tolist() == [
        ["red", "over_cap", "截至12月31日报告为1.5%，超过上限1%"]]


def test_an_amount_per_year_is_the_years_running_total():
    """工人文化宫 用水指标 "≥10000吨/年": 5500吨 by 30 June is ahead of 序时进度, not 55% of a rate."""
    reports = [("water", {"value": "5500", "as_of": date(2024, 6, 30)})]
    states = _single(("water", "wf", "数量指标", "用水指标", "≥10000吨/年"), reports, date(2024, 7, 10))
    assert states[["light", "status", "reason"]].values.tolist() == [
        ["green", "on_track", "截至6月30日完成5500吨/年，序时目标5000吨/年"]]
