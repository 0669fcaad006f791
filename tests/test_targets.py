"""The target grammar on every example of issue 3, each with its full expected Target."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules.targets import Occurrence, Target, parse_target, parse_target_cached
from rules.terms import TARGET_KINDS

Y = 2024
NONE: tuple = ()


def occ(start: str, due: str) -> Occurrence:
    return Occurrence(date.fromisoformat(start), date.fromisoformat(due))


def deadline(due: str, start: str = "2024-01-01") -> tuple[Occurrence, ...]:
    return (occ(start, due),)


def months(day: int | None = None) -> tuple[Occurrence, ...]:
    ends = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return tuple(occ(f"2024-{m:02d}-01", f"2024-{m:02d}-{day or ends[m - 1]:02d}") for m in range(1, 13))


QUARTERS = (
    occ("2024-01-01", "2024-03-31"),
    occ("2024-04-01", "2024-06-30"),
    occ("2024-07-01", "2024-09-30"),
    occ("2024-10-01", "2024-12-31"),
)


def q(text, comparator, value, unit, direction, inferred=NONE, *, kind="quantity", level2=None, name=None,
      reason=None):
    return (text, level2, name, kind, comparator, None if value is None else Decimal(value), unit, direction,
            tuple(inferred), NONE, reason)


def p(text, comparator, value, direction="higher_is_better", inferred=NONE, **kw):
    return q(text, comparator, value, "%", direction, inferred, kind="percent", **kw)


def t(text, kind, occurrences, *, level2=None, reason=None):
    return (text, level2, None, kind, None, None, None, None, NONE, tuple(occurrences), reason)


def ql(text, *, level2=None, reason=None, direction=None):
    return (text, level2, None, "qualitative", None, None, None, direction, NONE, NONE, reason)


def un(text, reason, *, level2=None):
    return (text, level2, None, "unparsed", None, None, None, None, NONE, NONE, reason)


HB, LB, EX = "higher_is_better", "lower_is_better", "exact"
C, CU = ("comparator",), ("comparator", "unit")

CASES = [
    # quantity — the issue's examples
    q("≥200人次", ">=", "200", "人次", HB, level2="数量指标"),
    q("＞30000平方米", ">", "30000", "平方米", HB, level2="数量指标"),
    q("≤13.93万元", "<=", "139300", "元", LB, level2="成本指标"),
    q("2401份", ">=", "2401", "份", HB, C, level2="数量指标"),
    q("0件", "<=", "0", "件", LB, C, level2="社会效益指标"),
    q("0次", "<=", "0", "次", LB, C, level2="质量指标"),
    q("≥10000吨/年", ">=", "10000", "吨/年", HB, level2="数量指标"),
    q("≤400元/人/次", "<=", "400", "元/人/次", LB, level2="成本指标", name="人均培训成本(元)"),
    q("≥3.9万人", ">=", "39000", "人", HB, level2="经济效益指标"),
    q("1500元/天", ">=", "1500", "元/天", HB, C, level2="时效指标"),
    q("1500元/天", "<=", "1500", "元/天", LB, C, level2="成本指标"),
    # scale words, inferred units, thousands separators and decimal commas
    q("≥10万", ">=", "100000", "元", HB, ("unit",), level2="成本指标"),
    q("90万", "<=", "900000", "元", LB, CU, level2="成本指标"),
    q("1300万元", ">=", "13000000", "元", HB, C, level2="经济效益指标"),
    q("≤6万元/年", "<=", "60000", "元/年", LB, level2="成本指标"),
    q("1,801,812.89元", "<=", "1801812.89", "元", LB, C, level2="成本指标"),
    q("1,5元", ">=", "1.5", "元", HB, C),
    q("1.5亿元", ">=", "150000000", "元", HB, C),
    q("5千元", ">=", "5000", "元", HB, C),
    q("5千米", ">=", "5", "千米", HB, C),
    q("≤4000元/人、次", "<=", "4000", "元/人、次", LB, level2="成本指标"),
    q("400", "<=", "400", "元", LB, CU, level2="成本指标", name="人均培训成本(元)"),
    q("50", ">=", "500000", "元", HB, CU, name="项目资金(万元)"),
    q("50万", ">=", "500000", "元", HB, CU, name="项目资金(万元)"),
    q("三百零五人", ">=", "305", "人", HB, C),
    # durations are quantities, even under 时效指标
    q("365天", ">=", "365", "天", HB, C, level2="时效指标"),
    q("64天", ">=", "64", "天", HB, C, level2="数量指标"),
    q("≤5个工作日", "<=", "5", "个工作日", LB, level2="时效指标"),
    # word comparators, full/half width, stray spaces
    q("不超过5万元", "<=", "50000", "元", LB),
    q("≥15家", ">=", "15", "家", HB),
    q("两家", ">=", "2", "家", HB, C),
    q("≥ 1 2 0 人次", ">=", "120", "人次", HB),
    q("24小时内", "<=", "24", "小时", LB),
    q("约100人", ">=", "100", "人", HB, C, reason="约数：按未写比较符处理"),
    # percent
    p("100%", ">=", "100", inferred=C, level2="质量指标"),
    p("≥95%", ">=", "95", level2="服务对象满意度指标"),
    p("95%", ">=", "95", inferred=C, level2="质量指标", name="培训合格率(%)"),
    p("95", ">=", "95", inferred=CU, level2="质量指标", name="培训合格率(%)"),
    p("95", ">=", "95", inferred=CU, name="培训合格率（%）"),
    p("=100.00(%)", "=", "100", EX),
    p("＞＝95％", ">=", "95"),
    p("≧９５％", ">=", "95"),
    p("不低于95%", ">=", "95"),
    p("90%以上", ">=", "90"),
    p("大于90%", ">", "90"),
    p("0%", "<=", "0", LB, C),
    p("百分之九十五", ">=", "95", inferred=C),
    p("±3%以内", "<=", "3", LB, reason="±：允许偏差，按偏差绝对值不超过该值评价"),
    p("(≥95%)", ">=", "95"),
    # deadlines
    t("2024年5月底前", "deadline", deadline("2024-05-31"), level2="时效指标"),
    t("5月底前", "deadline", deadline("2024-05-31")),
    t("2月底之前", "deadline", deadline("2024-02-29")),
    t("2月底前", "deadline", deadline("2024-02-29")),
    t("12月前", "deadline", deadline("2024-12-31")),
    t("2024年10月前", "deadline", deadline("2024-10-31")),
    t("2024年3月前", "deadline", deadline("2024-03-31")),
    t("3月30日", "deadline", deadline("2024-03-30")),
    t("2023年12月", "deadline", deadline("2023-12-31", start="2023-01-01")),
    t("2023年11月", "deadline", deadline("2023-11-30", start="2023-01-01")),
    t("2024年5月", "deadline", deadline("2024-05-31"), level2="时效指标"),
    t("2024.9月份", "deadline", deadline("2024-09-30"), level2="成本指标"),
    t("2025年3月底前", "deadline", deadline("2025-03-31")),
    t("12月底前完成", "deadline", deadline("2024-12-31")),
    t("不晚于6月30日", "deadline", deadline("2024-06-30")),
    t("2024-05-31", "deadline", deadline("2024-05-31")),
    t("年底前", "deadline", deadline("2024-12-31")),
    t("第三季度末", "deadline", deadline("2024-09-30")),
    t("5月上旬前", "deadline", deadline("2024-05-10")),
    # recurring
    t("每月", "recurring", months()),
    t("按月", "recurring", months()),
    t("每月序时进行", "recurring", months()),
    t("每月20日前", "recurring", months(20)),
    t("每月 20 日前", "recurring", months(20)),
    t("每季度", "recurring", QUARTERS),
    t("每季度末", "recurring", QUARTERS),
    t("每季度一次", "recurring", QUARTERS),
    t("每半年", "recurring", (occ("2024-01-01", "2024-06-30"), occ("2024-07-01", "2024-12-31"))),
    t("每年", "recurring", (occ("2024-01-01", "2024-12-31"),)),
    t("每月1次", "recurring", months()),
    t("每月2次", "recurring", months(), reason="每期2次"),
    t("每年5月底前", "deadline", deadline("2024-05-31")),
    t("当年", "deadline", deadline("2024-12-31")),
    t("次年3月底前", "deadline", deadline("2025-03-31")),
    t("上年12月", "deadline", deadline("2023-12-31", start="2023-01-01")),
    t("Q4", "window", (occ("2024-10-01", "2024-12-31"),)),
    # festivals: the break as published (chinese-calendar), weekends it joins included
    t("春节前", "deadline", deadline("2024-02-09")),
    t("春节期间", "window", (occ("2024-02-10", "2024-02-17"),)),
    t("国庆节前", "deadline", deadline("2024-09-30")),
    t("端午节期间", "window", (occ("2024-06-08", "2024-06-10"),)),
    # windows
    t("第四季度", "window", (occ("2024-10-01", "2024-12-31"),)),
    t("第二三季度", "window", (occ("2024-04-01", "2024-09-30"),)),
    t("第一、三季度", "window", (occ("2024-01-01", "2024-03-31"), occ("2024-07-01", "2024-09-30"))),
    t("11月份", "window", (occ("2024-11-01", "2024-11-30"),)),
    t("10月份", "window", (occ("2024-10-01", "2024-10-31"),)),
    t("12月", "window", (occ("2024-12-01", "2024-12-31"),)),
    t("5月和8月", "window", (occ("2024-05-01", "2024-05-31"), occ("2024-08-01", "2024-08-31"))),
    t("5、8月", "window", (occ("2024-05-01", "2024-05-31"), occ("2024-08-01", "2024-08-31"))),
    t("3-5月", "window", (occ("2024-03-01", "2024-05-31"),)),
    t("上半年", "window", (occ("2024-01-01", "2024-06-30"),)),
    # qualitative, with the direction the words state where they state one
    *[ql(w) for w in ("保障", "达标", "激励", "响应", "确保", "及时", "保持稳定", "按时", "在项目计划完成时间内完成",
                      "定性")],
    *[ql(w, direction=HB) for w in ("提高", "显著提高", "提升", "促进", "助推")],
    *[ql(w, direction=LB) for w in ("减轻", "缓解")],
    ql("提高5%", reason="含数字的描述，需人工评定", direction=HB),
    ql("不低于上年", direction=HB),
    ql("否"),
    ql("无投诉", direction=LB),
    # unparsed, with the reason
    un("(≥**人)", "占位符：未填写具体指标值"),
    un("XX", "占位符：未填写具体指标值"),
    un("xx人", "占位符：未填写具体指标值"),
    un("X%", "占位符：未填写具体指标值"),
    un("≥X人", "占位符：未填写具体指标值"),
    un("____", "占位符：未填写具体指标值"),
    un("", "空值：未填写指标值"),
    un("   ", "空值：未填写指标值"),
    un("2640年", "年份2640不在预算年度2024及前后一年内", level2="成本指标"),
    un("2019年5月", "年份2019不在预算年度2024及前后一年内"),
    un("2月30日", "日期不存在：2024年2月30日"),
    un("95%-90%", "区间上下限颠倒：95大于90"),
    un("3人-5次", "区间值无法识别：上下限须是同一单位的两个数"),
    # a month that does not exist is a broken date, never a quantity with the unit "月底前"
    un("13月底前", "月份不存在：13月"),
    un("0月份", "月份不存在：0月"),
    un("13月前", "月份不存在：13月", level2="时效指标"),
    un("2024.13月份", "月份不存在：13月"),
    un("2024年13月", "月份不存在：13月"),
    un("≥13月底前", "无法识别的指标值"),
    un("6.30前", "无法识别的指标值"),
    un("≥5月份", "无法识别的指标值"),
    un("≤5%以上", "比较符矛盾：<= 与 >="),
    un("档案整理完成时", "无法识别的指标值"),
    un("一二三个", "无法识别的指标值"),
    un("1" * 30, "数值过大：超出金额与数量的可存储范围"),
    un("提高" * 200, "文字过长（400字），不像是指标值"),
]


@pytest.mark.parametrize(
    "text,level2,name,kind,comparator,value,unit,direction,inferred,occurrences,reason",
    CASES,
    ids=[f"{c[0]}|{c[1] or ''}|{c[2] or ''}" for c in CASES],
)
def test_issue_examples(text, level2, name, kind, comparator, value, unit, direction, inferred, occurrences, reason):
    expected = Target(text, kind, comparator, value, unit, direction, inferred, occurrences, reason)
    assert parse_target(text, year=Y, level2=level2, name=name) == expected


def test_value_is_a_plain_decimal_without_exponent():
    for text in ("≥3.9万人", "400元", "=100.00(%)", "90万"):
        value = parse_target(text, year=Y).value
        assert isinstance(value, Decimal) and "E" not in str(value)


def test_json_is_exactly_the_issue_form():
    assert parse_target("≥3.9万人", year=Y).to_json() == {
        "text": "≥3.9万人", "kind": "quantity", "comparator": ">=", "value": "39000", "unit": "人",
        "direction": "higher_is_better", "inferred": [], "occurrences": [], "reason": None,
    }
    j = parse_target("每季度末", year=Y).to_json()
    assert j["occurrences"][0] == {"start": "2024-01-01", "due": "2024-03-31"}
    assert [o["due"] for o in j["occurrences"]] == ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    assert (j["kind"], j["comparator"], j["value"], j["unit"], j["direction"], j["inferred"], j["reason"]) == (
        "recurring", None, None, None, None, [], None)
    assert parse_target("117727.38元", year=Y, level2="成本指标").to_json()["value"] == "117727.38"


@pytest.mark.parametrize(
    "text,strict_due,default_due",
    [
        ("12月前", "2024-11-30", "2024-12-31"),
        ("2024年3月前", "2024-02-29", "2024-03-31"),
        ("2024年10月前", "2024-09-30", "2024-10-31"),
        ("1月前", "2023-12-31", "2024-01-31"),
    ],
)
def test_month_before_is_configurable(text, strict_due, default_due):
    assert parse_target(text, year=Y).occurrences[0].due == date.fromisoformat(default_due)
    strict = parse_target(text, year=Y, strict_month_before=True)
    assert strict.kind == "deadline"
    assert strict.occurrences[0].due == date.fromisoformat(strict_due)
    assert strict.occurrences[0].start <= strict.occurrences[0].due
    # "底前" is unambiguous: the option never moves it
    assert parse_target("3月底前", year=Y, strict_month_before=True).occurrences[0].due == date(2024, 3, 31)


def test_leap_years_follow_the_budget_year():
    assert parse_target("2月底前", year=2023).occurrences[0].due == date(2023, 2, 28)
    assert parse_target("2月底前", year=2024).occurrences[0].due == date(2024, 2, 29)
    assert parse_target("2月29日", year=2023).kind == "unparsed"
    assert parse_target("每月", year=2023).occurrences[1].due == date(2023, 2, 28)


def test_recurring_days_beyond_a_short_month_fall_on_its_last_day():
    dues = [o.due for o in parse_target("每月31日前", year=Y).occurrences]
    assert dues[1] == date(2024, 2, 29) and dues[3] == date(2024, 4, 30) and dues[0] == date(2024, 1, 31)


def test_cached_variant_agrees_and_reuses_results():
    first = parse_target_cached("≥95%", Y, "服务对象满意度指标", "职工满意度")
    again = parse_target_cached("≥95%", Y, "质量指标", "另一个指标名称")
    assert first is again  # per distinct text: neither name nor non-cost level2 changes the reading
    assert parse_target_cached("95", Y, None, "合格率(%)") == parse_target("95", year=Y, name="合格率(%)")
    assert parse_target_cached("5000", Y, "成本指标").comparator == "<="
    assert parse_target_cached("5000", Y, "数量指标").comparator == ">="


def test_every_kind_is_declared():
    kinds = {c[3] for c in CASES}
    assert kinds == set(TARGET_KINDS)


def test_non_text_input_is_kept_and_flagged():
    target = parse_target(None, year=Y)  # type: ignore[arg-type]  # None on purpose: what a blank cell gives
    assert target.kind == "unparsed" and target.text == "None"


@pytest.mark.parametrize("year", [0, 1, 9999, 99999, -2024])
def test_a_budget_year_without_dates_either_side_is_named_not_a_crash(year):
    target = parse_target("每季度末", year=year)
    assert (target.kind, target.reason) == ("unparsed", f"预算年度{year}不是有效年份")


def test_festivals_are_never_guessed_for_years_without_holiday_data():
    target = parse_target("春节前", year=2090)
    assert (target.kind, target.reason) == ("unparsed", "2090年春节放假日期未知（节假日数据未覆盖该年）")
    assert parse_target("春节前", year=2025).occurrences[0].due == date(2025, 1, 27)
