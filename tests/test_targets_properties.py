"""Properties of the target grammar that must hold for any input, not just the examples."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.targets import COMPARATORS, DIRECTIONS, parse_target
from rules.terms import TARGET_KINDS

years = st.integers(min_value=2000, max_value=2099)
level2s = st.sampled_from([None, "数量指标", "质量指标", "时效指标", "成本指标", "社会效益指标", "服务对象满意度指标"])
names = st.sampled_from([None, "培训合格率(%)", "人均培训成本(元)", "慰问职工人数", "考生满意度（%）"])

# Characters the grammar reacts to, so random text reaches deep paths and not only "unparsed".
GRAMMAR_ALPHABET = list(
    "0123456789０１２３.,，%％()（）≥≤><=＞＜＝≧≦═±~-/、*Xx 　\t"
    "年月日号前底末之以上下内份季度第一二三四两十百千万亿每按半周天旬中元人次家个平方米吨"
    "提高保障及时和与至到约不超过低于大于全部完成序时进行"
)
grammar_text = st.text(alphabet=GRAMMAR_ALPHABET, max_size=16)
# Time phrases built from real pieces: numbers in and out of range, optional years near and far.
time_text = st.builds(
    lambda y, a, sep, b, tail: f"{y}{a}{sep}{b}{tail}",
    st.sampled_from(["", "2023年", "2024年", "2025年", "1999年", "2024.", "本年"]),
    st.sampled_from(["", "1", "2", "5", "9", "12", "13", "0", "第二", "第四", "二三", "每", "按", "上半年"]),
    st.sampled_from(["", "月", "月份", "季度", "月和", "、", "至", "-"]),
    st.sampled_from(["", "1", "8", "12", "20日", "30日", "31日", "29日", "上旬", "月", "季度"]),
    st.sampled_from(["", "前", "底前", "底之前", "末", "份", "日前", "进行", "完成", "月"]),
)

_m = st.integers(min_value=1, max_value=12)
_d = st.integers(min_value=1, max_value=31)
_q = st.sampled_from(["一", "二", "三", "四", "1", "2", "3", "4", "二三", "一二", "三四", "一、三", "二至四"])
_yr = st.sampled_from(["", "{y0}年", "{y1}年", "{y2}年", "{y1}.", "{y1}-"])
# Well-formed time phrases of every supported shape, in and around the budget year.
valid_time_text = st.one_of(
    st.builds(lambda y, m, s: f"{y}{m}月{s}", _yr, _m, st.sampled_from(["底前", "前", "底之前", "底", "份"])),
    st.builds(lambda m, d, s: f"{m}月{d}日{s}", _m, _d, st.sampled_from(["", "前", "之前"])),
    st.builds(lambda m, s: f"{m}月{s}", _m, st.sampled_from(["", "份", "上旬", "中旬前", "下旬"])),
    st.builds(lambda a, b: f"{min(a, b)}-{max(a, b)}月", _m, _m),
    st.builds(lambda a, b: f"{a}月和{b}月", _m, _m),
    st.builds(lambda q, s: f"第{q}季度{s}", _q, st.sampled_from(["", "末", "前"])),
    st.builds(lambda d: f"每月{d}日前", _d),
    st.sampled_from(["每月", "按月", "每季度", "每季度末", "每半年", "每年", "每周", "每两个月", "每3个月",
                     "上半年", "下半年", "全年", "年底前", "年内", "每月序时进行"]),
)


def _fill_years(text: str, year: int) -> str:
    return text.format(y0=year - 1, y1=year, y2=year + 1)


def _check_invariants(target, text: str, year: int) -> None:
    assert target.text == text
    assert target.kind in TARGET_KINDS
    assert target.comparator is None or target.comparator in COMPARATORS
    assert target.direction is None or target.direction in DIRECTIONS
    if target.kind in ("quantity", "percent"):
        assert isinstance(target.value, Decimal) and target.comparator and target.direction
    else:
        assert target.value is None and target.comparator is None
    if target.kind == "unparsed":
        assert target.reason
    if target.kind in ("deadline", "recurring", "window"):
        assert target.occurrences
    else:
        assert target.occurrences == ()
    occ = target.occurrences
    assert list(occ) == sorted(occ)
    for o in occ:
        assert o.start <= o.due
        assert year - 1 <= o.start.year and o.due.year <= year + 1  # inside or adjacent to the budget year
    target.to_json()
    target.canonical()


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=40), year=years, level2=level2s, name=names, strict=st.booleans())
def test_never_raises_on_any_text(text, year, level2, name, strict):
    target = parse_target(text, year=year, level2=level2, name=name, strict_month_before=strict)
    assert not (target.kind == "unparsed" and target.reason.startswith("解析出错")), target.reason
    _check_invariants(target, text, year)


@settings(max_examples=600, deadline=None)
@given(text=grammar_text, year=years, level2=level2s, name=names, strict=st.booleans())
def test_never_raises_on_grammar_like_text(text, year, level2, name, strict):
    target = parse_target(text, year=year, level2=level2, name=name, strict_month_before=strict)
    assert not (target.kind == "unparsed" and target.reason.startswith("解析出错")), target.reason
    _check_invariants(target, text, year)


@settings(max_examples=600, deadline=None)
@given(text=time_text, year=st.sampled_from([2023, 2024, 2025]), strict=st.booleans())
def test_occurrences_are_sorted_and_near_the_budget_year(text, year, strict):
    target = parse_target(text, year=year, strict_month_before=strict)
    _check_invariants(target, text, year)


comparator_words = st.sampled_from(
    [("≥", ">="), (">=", ">="), ("＞", ">"), (">", ">"), ("≤", "<="), ("<=", "<="), ("＜", "<"), ("=", "="),
     ("＝", "="), ("≧", ">="), ("不低于", ">="), ("不超过", "<="), ("大于", ">"), ("低于", "<")]
)
units = st.sampled_from(["", "人", "人次", "元", "%", "平方米", "吨/年", "元/人/次", "家", "天", "个工作日"])
scales = st.sampled_from([("", 1), ("万", 10_000), ("亿", 100_000_000), ("千", 1_000)])
numbers = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=500, deadline=None)
@given(cmp=comparator_words, number=numbers, scale=scales, unit=units, level2=level2s)
def test_comparator_and_number_survive_the_canonical_round_trip(cmp, number, scale, unit, level2):
    word, comparator = cmp
    word_scale, factor = scale
    if unit == "%" and word_scale:
        word_scale, factor = "", 1
    text = f"{word}{number}{word_scale}{unit}"
    target = parse_target(text, year=2024, level2=level2)
    assert target.kind == ("percent" if unit == "%" else "quantity"), text
    assert target.comparator == comparator
    assert target.value == number * factor
    again = parse_target(target.canonical(), year=2024)
    assert (again.kind, again.comparator, again.value, again.unit) == (
        target.kind, target.comparator, target.value, target.unit)


@settings(max_examples=300, deadline=None)
@given(number=numbers, unit=units, level2=level2s)
def test_inferred_comparators_are_written_out_by_canonical(number, unit, level2):
    target = parse_target(f"{number}{unit}", year=2024, level2=level2)
    assert "comparator" in target.inferred
    again = parse_target(target.canonical(), year=2024)
    assert (again.comparator, again.value) == (target.comparator, target.value)
    assert "comparator" not in again.inferred


@settings(max_examples=500, deadline=None)
@given(template=valid_time_text, year=years, strict=st.booleans())
def test_well_formed_time_phrases_resolve_near_the_budget_year(template, year, strict):
    text = _fill_years(template, year)
    target = parse_target(text, year=year, strict_month_before=strict)
    _check_invariants(target, text, year)
    if target.kind == "unparsed":  # only impossible dates may be refused
        assert target.reason.startswith(("日期不存在", "月份区间颠倒", "日期区间颠倒")) or (
            strict and "不在预算年度" in target.reason  # strict "去年1月前" falls two years back
        ), (text, target.reason)


@settings(max_examples=400, deadline=None)
@given(template=st.one_of(valid_time_text, time_text), year=years)
def test_time_kinds_round_trip_through_canonical(template, year):
    text = _fill_years(template, year) if "{" in template else template
    target = parse_target(text, year=year)
    if target.kind in ("deadline", "recurring", "window"):
        again = parse_target(target.canonical(), year=year)
        assert (again.kind, again.occurrences) == (target.kind, target.occurrences), target.canonical()
