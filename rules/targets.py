"""Target grammar: turn a free-text 指标值 into a typed, scheduled `Target`.

Pure: no database, no clock; the budget year is always a parameter. Every input gives a `Target`:
text that matches nothing is kept verbatim as kind "unparsed" with a reason, never guessed at and
never an exception.

Time forms (the issue's examples are the arbiter):
- deadline — a point by which something is done: "X月底前", "X月前", "X月X日(前)", "年底前", and any
  month qualified by a year ("2024年5月", "2023年12月", "2024.9月份"), because a year-qualified month in a
  target table is the date a task is finished, not a period to work in;
- window — a period without a year in which something happens: "11月份", "12月", "5月和8月" (one
  window per listed month, never merged), "3-5月", "第四季度", "第二三季度" (adjacent quarters merge
  into one window), "上半年", "全年";
- recurring — "每月", "按月", "每月20日前", "每月序时进行", "每季度(末)", "每半年", "每年", "每周", "每日", "每N个月".
Festivals ("春节前", "国庆期间") resolve through chinese-calendar's published breaks and are refused, not
guessed, for years it does not cover. Relative years ("次年3月底前", "上年12月") count from the budget year.
Every date must fall in the budget year or the year either side of it, else the text is unparsed.
Durations ("365天", "≥3天") are quantities, whatever the 二级指标.

Comparators not written are inferred and listed in `inferred`: 0 → "≤ 0"; a bare quantity under 成本指标
→ "≤" (a cost is a cap); any other bare quantity or percent, a percent under 成本指标 included, → "≥"
(a floor). A unit not written comes from the indicator name's brackets ("合格率(%)", "资金(万元)") or, under
成本指标, is 元; either way "unit" is listed in `inferred`. A bracket in the name counts only when it holds a real
unit: "成活率(≥**%)" holds a placeholder target.

Values as the year-end tables write them: "百分比" is "%"; compound units ("元/人*月", "元/人.月", "元/人·天") are
units, an asterisk is a placeholder only on its own ("≥**%"); "(含)以上" / "(含)以下" are ≥ / ≤, "(不含)" makes them
strict; a range ("90%-95%", "3-5人") is the window [value, upper] (comparator RANGE). A value outside what its kind
can mean ("292%" for a 率, a negative target) is kept and flagged in `suspicious` for a person to check.
Qualitative targets carry the direction their words state (提高 → higher, 可控 / 不超预算 → lower, 合理 → none).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any

from rules import calendar as cal
from rules.bilingual import template_pattern
from rules.calendar import Occurrence
from rules.terms import MEASURED_KINDS, SCHEDULED_KINDS, SYMBOL

__all__ = [
    "DIRECTIONS",
    "COMPARATORS",
    "RANGE",
    "Occurrence",
    "Target",
    "parse_target",
    "parse_target_cached",
    "NOTES",
    "note_en",
    "suspicion_en",
]

DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better", "exact", "within")
# A range "90%-95%" is the window [value, upper], both bounds included (comparator "[]", direction "within").
RANGE = "[]"
COMPARATORS: tuple[str, ...] = (">=", ">", "<=", "<", "=", RANGE)

_DIRECTION = {">=": "higher_is_better", ">": "higher_is_better", "<=": "lower_is_better",
              "<": "lower_is_better", "=": "exact", RANGE: "within"}
# Every note the grammar leaves on a 指标值 (why it is unparsed, how it was read, why it looks mistyped), in Chinese
# and English side by side, the same figures in both. The Chinese is what is stored (`Indicator.parse_reason`);
# `note_en` gives back its English.
NOTES: dict[str, dict[str, str]] = {
    # unparsed: what the text is not
    "failed": {"zh": "解析出错：{error}", "en": "the grammar failed on this text ({error})"},
    "not_text": {"zh": "不是文本", "en": "not a text"},
    "bad_year": {"zh": "预算年度{year}不是有效年份", "en": "the budget year {year} is not a valid year"},
    "too_long": {"zh": "文字过长（{n}字），不像是指标值", "en": "too long ({n} characters) to be a target value"},
    "empty": {"zh": "空值：未填写指标值", "en": "empty: no target value filled in"},
    "placeholder": {"zh": "占位符：未填写具体指标值", "en": "a placeholder: no actual target value filled in"},
    "unreadable": {"zh": "无法识别的指标值", "en": "the target could not be read"},
    # unparsed: a time form that cannot stand
    "year_out": {"zh": "年份{y}不在预算年度{year}及前后一年内",
                 "en": "the year {y} is not the budget year {year} or a year either side of it"},
    "date_out": {"zh": "日期{day}不在预算年度{year}及前后一年内",
                 "en": "the date {day} is not in the budget year {year} or a year either side of it"},
    "no_monthly_day": {"zh": "每月{d}日不是有效日期", "en": "day {d} of every month is not a valid date"},
    "months_over_year": {"zh": "每{n}个月超出一年", "en": "every {n} months is longer than a year"},
    "no_such_day": {"zh": "日期不存在：{y}年{m}月{d}日", "en": "no such date: {y}-{m}-{d}"},
    "no_such_month": {"zh": "月份不存在：{m}月", "en": "no such month: {m}"},
    "months_reversed": {"zh": "月份区间颠倒：{a}月至{b}月", "en": "the months are reversed: {a} to {b}"},
    # the text is the 指标值 itself, quoted beside the note wherever it is shown: the English does not repeat it
    "no_such_dates": {"zh": "日期不存在：{text}", "en": "a date in the range does not exist"},
    "dates_reversed": {"zh": "日期区间颠倒：{text}", "en": "the range's dates are reversed"},
    "holiday_unknown": {"zh": "{year}年{festival}放假日期未知（节假日数据未覆盖该年）",
                        "en": "the {year} {festival} holiday dates are unknown (the holiday data does not cover "
                              "that year)"},
    # unparsed: a quantity that cannot stand
    "too_large": {"zh": "数值过大：超出金额与数量的可存储范围",
                  "en": "the number is too large to be stored as an amount or a quantity"},
    "comparators_clash": {"zh": "比较符矛盾：{first} 与 {second}",
                          "en": "the comparators contradict each other: {first} and {second}"},
    "band_not_cap": {"zh": "±偏差只能是上限", "en": "a ± tolerance can only be an upper limit"},
    "range_reversed": {"zh": "区间上下限颠倒：{lower}大于{upper}",
                       "en": "the range is reversed: {lower} is greater than {upper}"},
    "range_unreadable": {"zh": "区间值无法识别：上下限须是同一单位的两个数",
                         "en": "the range could not be read: its bounds must be two numbers of one unit"},
    # how a parsed target was read
    "band": {"zh": "±：允许偏差，按偏差绝对值不超过该值评价",
             "en": "±: a tolerance, judged by the absolute deviation being no more than this value"},
    "approximate": {"zh": "约数：按未写比较符处理", "en": "approximate: read as if no comparator were written"},
    "per_period": {"zh": "每期{n}次", "en": "{n} times each period"},
    "digits_in_words": {"zh": "含数字的描述，需人工评定", "en": "a description with figures in it: a person grades it"},
    # why a value looks mistyped (`Target.suspicious`)
    "negative": {"zh": "目标值为负数（{value}），请核对", "en": "the target is negative ({value}): please check"},
    "percent_over": {"zh": "百分比目标超过{limit}%（{value}%），请核对",
                     "en": "a percentage target above {limit}% ({value}%): please check"},
    "share_over": {"zh": "比率类指标的目标超过100%（{value}%），请核对",
                   "en": "a rate's target above 100% ({value}%): please check"},
}
# Slots that hold words of the grammar rather than figures, said in English too.
_FESTIVALS_EN = {"春节": "Spring Festival", "清明": "Qingming", "劳动节": "Labour Day", "端午": "Dragon Boat Festival",
                 "中秋": "Mid-Autumn Festival", "国庆": "National Day"}


def _note(key: str, **slots: object) -> str:
    return NOTES[key]["zh"].format(**slots)


# A "±x以内" target is a tolerance on the absolute deviation; canonical() must give the ± back.
BAND_NOTE = _note("band")


@dataclass(frozen=True, slots=True)
class Target:
    text: str  # verbatim input
    kind: str  # one of rules.terms.TARGET_KINDS
    comparator: str | None  # one of COMPARATORS or None
    value: Decimal | None  # scale words expanded ("≥3.9万人" → 39000); percent "≥95%" → 95
    unit: str | None  # "人", "元", "%", "元/天", "吨/年", ...
    direction: str | None  # one of DIRECTIONS or None
    inferred: tuple[str, ...]  # what was inferred rather than written: "comparator", "unit"
    occurrences: tuple[Occurrence, ...]
    reason: str | None  # why unparsed, or a note; else None
    upper: Decimal | None = None  # a range's upper bound (comparator RANGE; `value` is its lower bound)
    suspicious: str | None = None  # why the value looks mistyped ("292%" for a 率), for a person to check

    def to_json(self) -> dict:
        """The one stored form (`Indicator.target_json`): plain JSON, the value as exact decimal text, dates as
        ISO days; `from_json` gives this Target back. `upper` and `suspicious` are written only when set, so the
        stored form of every other target is what it always was."""
        data = {
            "text": self.text,
            "kind": self.kind,
            "comparator": self.comparator,
            "value": None if self.value is None else _decimal_str(self.value),
            "unit": self.unit,
            "direction": self.direction,
            "inferred": list(self.inferred),
            "occurrences": [o.to_json() for o in self.occurrences],
            "reason": self.reason,
        }
        if self.upper is not None:
            data["upper"] = _decimal_str(self.upper)
        if self.suspicious is not None:
            data["suspicious"] = self.suspicious
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        """The Target that `to_json` wrote, exactly: the store keeps this form, so a reader gets the reading made
        at import (with that import's budget year and reading of "X月前") instead of parsing the text again."""
        value, upper = data["value"], data.get("upper")
        return cls(
            text=data["text"],
            kind=data["kind"],
            comparator=data["comparator"],
            value=None if value is None else Decimal(value),
            unit=data["unit"],
            direction=data["direction"],
            inferred=tuple(data["inferred"]),
            occurrences=tuple(Occurrence.from_json(o) for o in data["occurrences"]),
            reason=data["reason"],
            upper=None if upper is None else Decimal(upper),
            suspicious=data.get("suspicious"),
        )

    @property
    def measurable(self) -> bool:
        return self.kind in MEASURED_KINDS

    @property
    def scheduled(self) -> bool:
        return self.kind in SCHEDULED_KINDS

    def canonical(self) -> str:
        """One normal text form; parsing it (same budget year) gives back comparator, value and dates.

        Inferred parts are written out ("2401份" → "≥2401份"), so the canonical form no longer depends on
        the 二级指标. Windows are written without a year: they are relative to the budget year.
        """
        if self.kind in MEASURED_KINDS and self.comparator and self.value is not None:
            number = _decimal_str(self.value)
            unit = self.unit or ""
            if self.reason == BAND_NOTE:
                return f"±{number}{unit}以内"
            if self.comparator == RANGE and self.upper is not None:
                return f"{number}-{_decimal_str(self.upper)}{unit}"
            return f"{SYMBOL[self.comparator]}{number}{unit}"
        if self.kind == "deadline" and self.occurrences:
            due = self.occurrences[0].due
            return f"{due.year}年{due.month}月{due.day}日前"
        if self.kind == "recurring" and self.occurrences:
            return _recurring_canonical(self.occurrences)
        if self.kind == "window" and self.occurrences:
            return "和".join(_window_canonical(o) for o in self.occurrences)
        if self.kind == "qualitative":
            return _normalize(self.text)
        return self.text


def _decimal_str(value: Decimal) -> str:
    if value == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = 60
        return format(value.normalize(), "f")


def _window_canonical(o: Occurrence) -> str:
    if o.start.day == 1 and o.due == cal.month_end(o.due.year, o.due.month):
        if o.start.month == o.due.month:
            return f"{o.start.month}月份"
        return f"{o.start.month}月至{o.due.month}月"
    return f"{o.start.month}月{o.start.day}日至{o.due.month}月{o.due.day}日"


def _recurring_canonical(occ: tuple[Occurrence, ...]) -> str:
    n = len(occ)
    first = occ[0]
    if n >= 365:
        return "每日"
    if n >= 52:
        return "每周"
    if n == 12:
        if first.due == cal.month_end(first.due.year, first.due.month):
            return "每月"
        return f"每月{first.due.day}日前"
    if n == 4:
        return "每季度"
    if n == 2:
        return "每半年"
    if n == 1:
        return "每年"
    return f"每{first.due.month - first.start.month + 1}个月"


# ---------------------------------------------------------------- normalisation

_CHAR_MAP = str.maketrans({
    "≧": "≥", "⩾": "≥", "≦": "≤", "⩽": "≤", "═": "=", "〓": "=", "−": "-", "—": "-", "–": "-",
    "～": "~", "〜": "~", "．": ".", "。": "", "；": "", ";": "", "﹪": "%", "℅": "%",
    "×": "X", "ｘ": "X", "＊": "*", "∗": "*", "【": "(", "】": ")", "〔": "(", "〕": ")",
})
_MULTI = (
    (">=", "≥"), ("=>", "≥"), ("<=", "≤"), ("=<", "≤"), ("==", "="), ("+/-", "±"), ("+-", "±"),
    ("正负", "±"),
)
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_CN_MONTH = re.compile(r"(十[一二]|[一二三四五六七八九十])(?=月)")


def _cn_small(token: str) -> int | None:
    """A Chinese numeral below 10000 ("十二", "两", "三百零五"); None if it is not one."""
    if not token:
        return None
    total, current = 0, None
    for ch in token:
        if ch in _CN_DIGIT:
            if current:  # "一二三" is a list of digits, not a number
                return None
            current = _CN_DIGIT[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (1 if current is None else current) * unit
            current = None
        else:
            return None
    return total + (current or 0)


def _normalize(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP)
    for a, b in _MULTI:
        s = s.replace(a, b)
    s = re.sub(r"\s+", "", s)
    s = _CN_MONTH.sub(lambda m: str(_cn_small(m.group(1))), s)
    s = s.strip(",，:：")
    for _ in range(3):  # "(≥95%)"; a deeper nest is not a target anyway
        if len(s) >= 2 and s[0] == "(" and s[-1] == ")" and _balanced(s[1:-1]):
            s = s[1:-1]
    return s


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


# ---------------------------------------------------------------- time forms

_M = r"(?:1[0-2]|0?[1-9])"
_BEFORE = r"(?:前|之前|以前)"
_LEAD = re.compile(r"^(?:预计|计划|于|在|截至|截止(?:到|至|于)?|不晚于|不迟于|最迟|最晚|须于|需于)")
_TAIL = re.compile(
    r"(?:序时|全部|按时|按期|陆续)?"
    r"(?:进行|完成|发放|支付|拨付|缴纳|上报|报送|开展|实施|执行|办结|结束|到位|举办|召开|验收|交付|兑现)"
    r"(?:完毕|完成)?(?:工作)?$"
)
_TIMES = re.compile(r"(?:至少|不少于)?(?P<n>\d{1,3}|[一两二三四五六七八九十])次$")

_RE_MONTHLY = re.compile(r"^(?:每月|按月|逐月|月度|每个月|每1个月|按月度)$")
_RE_MONTHLY_DAY = re.compile(r"^(?:每月|按月|每个月)(?P<d>[0-3]?\d)[日号]" + _BEFORE + r"?$")
_RE_MONTHLY_XUN = re.compile(r"^(?:每月|按月)(?P<x>上旬|中旬|下旬|底|末)" + _BEFORE + r"?$")
_RE_QUARTERLY = re.compile(r"^(?:每季度|每个季度|按季度|按季|每季|季度)(?:末|底)?" + _BEFORE + r"?$")
_RE_HALF = re.compile(r"^(?:每半年|按半年|每半年度|半年)(?:末|底)?$")
_RE_YEARLY = re.compile(r"^(?:每年|按年|每年度|按年度)$")
_RE_WEEKLY = re.compile(r"^(?:每周|按周|每星期|每个星期)$")
_RE_DAILY = re.compile(r"^(?:每天|每日|按日|逐日)$")
_RE_EVERY_N = re.compile(r"^每(?P<n>\d{1,2}|[两二三四六])个?月$")

_YEAR = r"(?P<y>\d{4})"
_RE_FULL_DATE_Y = re.compile(rf"^{_YEAR}[年./-](?P<m>{_M})[月./-](?P<d>[0-3]?\d)[日号]?{_BEFORE}?$")
_RE_FULL_DATE = re.compile(rf"^(?P<m>{_M})月(?P<d>[0-3]?\d)[日号]{_BEFORE}?$")
_RE_MONTH_END = re.compile(rf"^(?:{_YEAR}[年./-])?(?P<m>{_M})月(?:份)?(?:底|末|月底|月末){_BEFORE}?$")
_RE_MONTH_BEFORE = re.compile(rf"^(?:{_YEAR}[年./-])?(?P<m>{_M})月(?:份)?{_BEFORE}$")
_RE_YEAR_MONTH = re.compile(rf"^{_YEAR}(?:[年.]|(?P<iso>[/-]))(?P<m>{_M})(?:月(?:份)?)?$")
_RE_XUN = re.compile(rf"^(?:{_YEAR}[年./-])?(?P<m>{_M})月(?:份)?(?P<x>上旬|中旬|下旬)(?P<b>{_BEFORE})?$")
_RE_YEAR_END = re.compile(rf"^(?:{_YEAR}年|本年|当年|年)(?:度)?(?:底|末|终){_BEFORE}?$")
_RE_YEAR_IN = re.compile(rf"^(?:{_YEAR}年|本年|当年)?年内$|^(?:本|当)年度?内?$")
_RELATIVE_YEAR = re.compile(r"^(?:(?P<next>次年|下年|明年|翌年|下一年)|(?P<last>上年|去年|上一年))(?:度)?")
_RE_YEAR_ONLY = re.compile(rf"^{_YEAR}年度?(?:内)?$")
_QS = r"(?P<qs>[一二三四1-4](?:[、,和及与至到~-]?第?[一二三四1-4])*)"
_RE_QUARTER_END = re.compile(rf"^(?:{_YEAR}年)?第?{_QS}季度(?:(?:末|底){_BEFORE}?|{_BEFORE})$")
_RE_QUARTERS = re.compile(rf"^(?:{_YEAR}年)?第?{_QS}季度(?:内|期间|份)?$")
_RE_MONTHS = re.compile(rf"^(?P<ms>{_M}(?:月份?)?(?:(?:[、,和及与]|以及){_M}(?:月份?)?)*)月份?(?:内|期间)?$")
_RE_MONTH_RANGE = re.compile(
    rf"^(?:{_YEAR}年)?(?P<a>{_M})月?(?:份)?[至到~-](?P<b>{_M})月(?:份)?(?:间|期间|内)?$"
)
_RE_DAY_RANGE = re.compile(
    rf"^(?:{_YEAR}年)?(?P<m1>{_M})月(?P<d1>[0-3]?\d)[日号]?(?:[至到~-])(?:(?P<m2>{_M})月)?(?P<d2>[0-3]?\d)[日号]$"
)
_LIST_SPLIT = re.compile(r"和|以及|及|与|、|,")
_RE_HALF_WINDOW = re.compile(rf"^(?:{_YEAR}年)?(?P<h>上半年|下半年)(?:度)?(?:内|期间)?$")
_RE_WHOLE_YEAR = re.compile(rf"^(?:{_YEAR}年)?(?:全年|全年度|年度内|整年)$")

# A month form whose month does not exist ("13月底前", "2024.13月份"): not a quantity of "月底前".
_RE_NO_SUCH_MONTH = re.compile(
    rf"^(?:{_YEAR}[年./-])?(?P<m>\d{{1,3}})月(?:份)?(?:底|末|上旬|中旬|下旬)?{_BEFORE}?$"
)
_RE_FESTIVAL = re.compile(
    r"^(?P<f>春节|清明|劳动节|五一|端午|中秋|国庆)(?:节)?(?:假期|期间|节日|节假日)?(?P<b>前|之前|以前)?$"
)
_QUARTER_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_XUN_DAY = {"上旬": 10, "中旬": 20}


class _Reject(Exception):
    """A form was recognised but cannot stand (impossible date, year too far away)."""


def _year_of(m: re.Match, year: int, group: str = "y") -> int:
    raw = m.groupdict().get(group)
    if raw is None:
        return year
    y = int(raw)
    if abs(y - year) > 1:
        raise _Reject(_note("year_out", y=y, year=year))
    return y


def _time_target(core: str, *, year: int, strict: bool) -> tuple[str, tuple[Occurrence, ...]] | None:
    """(kind, occurrences) for a time form, None if `core` is not one; raises _Reject if malformed."""
    found = _time_forms(core, year=year, strict=strict)
    if found:
        for o in found[1]:
            if o.start.year < year - 1 or o.due.year > year + 1:
                raise _Reject(_note("date_out", day=o.due.isoformat(), year=year))
    return found


def _time_forms(core: str, *, year: int, strict: bool) -> tuple[str, tuple[Occurrence, ...]] | None:
    if _RE_MONTHLY.match(core):
        return "recurring", cal.monthly(year)
    if m := _RE_MONTHLY_DAY.match(core):
        d = int(m["d"])
        if not 1 <= d <= 31:
            raise _Reject(_note("no_monthly_day", d=d))
        return "recurring", cal.monthly(year, d)
    if m := _RE_MONTHLY_XUN.match(core):
        return "recurring", cal.monthly(year, _XUN_DAY.get(m["x"]))
    if _RE_QUARTERLY.match(core):
        return "recurring", cal.quarterly(year)
    if _RE_HALF.match(core):
        return "recurring", cal.half_yearly(year)
    if _RE_YEARLY.match(core):
        return "recurring", cal.yearly(year)
    if _RE_WEEKLY.match(core):
        return "recurring", cal.weekly(year)
    if _RE_DAILY.match(core):
        return "recurring", cal.daily(year)
    if m := _RE_EVERY_N.match(core):
        n = int(m["n"]) if m["n"].isdigit() else _cn_small(m["n"])
        if not n or n > 12:
            raise _Reject(_note("months_over_year", n=m["n"]))
        return "recurring", cal.every_n_months(year, n)

    if m := (_RE_FULL_DATE_Y.match(core) or _RE_FULL_DATE.match(core)):
        y = _year_of(m, year)
        try:
            due = date(y, int(m["m"]), int(m["d"]))
        except ValueError:
            raise _Reject(_note("no_such_day", y=y, m=int(m["m"]), d=int(m["d"]))) from None
        return "deadline", (cal.deadline(year, due),)
    if m := _RE_MONTH_END.match(core):
        y = _year_of(m, year)
        return "deadline", (cal.deadline(year, cal.month_end(y, int(m["m"]))),)
    if m := _RE_MONTH_BEFORE.match(core):
        y, mo = _year_of(m, year), int(m["m"])
        due = cal.month_start(y, mo) - timedelta(days=1) if strict else cal.month_end(y, mo)
        return "deadline", (cal.deadline(year, due),)
    if (m := _RE_YEAR_MONTH.match(core)) and (m["iso"] or core.endswith(("月", "份"))):
        y = _year_of(m, year)
        return "deadline", (cal.deadline(year, cal.month_end(y, int(m["m"]))),)
    if m := _RE_XUN.match(core):
        y, mo = _year_of(m, year), int(m["m"])
        last_day = _XUN_DAY.get(m["x"])
        due = cal.month_end(y, mo) if last_day is None else date(y, mo, last_day)
        if m["b"]:
            return "deadline", (cal.deadline(year, due),)
        first_day = {"上旬": 1, "中旬": 11, "下旬": 21}[m["x"]]
        return "window", (Occurrence(date(y, mo, first_day), due),)
    if m := (_RE_YEAR_END.match(core) or _RE_YEAR_IN.match(core)):
        y = _year_of(m, year)
        return "deadline", (cal.deadline(year, cal.year_end(y)),)
    if m := _RE_YEAR_ONLY.match(core):
        y = _year_of(m, year)
        return "deadline", (cal.deadline(year, cal.year_end(y)),)
    if m := _RE_QUARTER_END.match(core):
        y = _year_of(m, year)
        q = max(_quarter_list(m["qs"]))
        return "deadline", (cal.deadline(year, cal.quarter_end(y, q)),)

    if m := _RE_QUARTERS.match(core):
        y = _year_of(m, year)
        quarters = _quarter_list(m["qs"])
        return "window", tuple(
            Occurrence(cal.quarter_start(y, a), cal.quarter_end(y, b)) for a, b in _runs(quarters)
        )
    if m := _RE_MONTH_RANGE.match(core):
        y = _year_of(m, year)
        a, b = int(m["a"]), int(m["b"])
        if a > b:
            raise _Reject(_note("months_reversed", a=a, b=b))
        return "window", (cal.month_window(y, a, b),)
    if m := _RE_MONTHS.match(core):
        months = sorted({int(x) for x in re.findall(r"1[0-2]|0?[1-9]", m["ms"])})
        return "window", tuple(cal.month_window(year, mo) for mo in months)
    if m := _RE_DAY_RANGE.match(core):
        y = _year_of(m, year)
        m1, m2 = int(m["m1"]), int(m["m2"] or m["m1"])
        try:
            first, last = date(y, m1, int(m["d1"])), date(y, m2, int(m["d2"]))
        except ValueError:
            raise _Reject(_note("no_such_dates", text=core)) from None
        if first > last:
            raise _Reject(_note("dates_reversed", text=core))
        return "window", (Occurrence(first, last),)
    if m := _RE_HALF_WINDOW.match(core):
        y = _year_of(m, year)
        return "window", (cal.month_window(y, 1, 6) if m["h"] == "上半年" else cal.month_window(y, 7, 12),)
    if m := _RE_WHOLE_YEAR.match(core):
        y = _year_of(m, year)
        return "window", (cal.month_window(y, 1, 12),)
    if m := _RE_FESTIVAL.match(core):
        festival = "劳动节" if m["f"] == "五一" else m["f"]
        days = cal.festival_holiday(year, festival)
        if days is None:
            raise _Reject(_note("holiday_unknown", year=year, festival=festival))
        if m["b"]:
            return "deadline", (cal.deadline(year, days.start - timedelta(days=1)),)
        return "window", (days,)
    parts = _LIST_SPLIT.split(core)
    if len(parts) > 1 and all(parts):
        windows: list[Occurrence] = []
        for part in parts:
            found = _time_target(part, year=year, strict=strict)
            if found is None or found[0] != "window":
                return None
            windows.extend(found[1])
        return "window", tuple(sorted(set(windows)))
    return None


def _quarter_list(token: str) -> list[int]:
    quarters: list[int] = []
    pending_range = False
    for ch in token:
        if ch in _QUARTER_DIGIT:
            q = _QUARTER_DIGIT[ch]
            if pending_range and quarters:
                quarters.extend(range(quarters[-1] + 1, q + 1))
            else:
                quarters.append(q)
            pending_range = False
        elif ch in "至到~-":
            pending_range = True
    return sorted(set(quarters))


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Adjacent quarters form one window: 第二三季度 is April to September."""
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] + 1 == v:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


# ---------------------------------------------------------------- quantities

_PREFIX = sorted(
    [
        ("≥", ">="), ("≤", "<="), (">", ">"), ("<", "<"), ("=", "="),
        ("大于等于", ">="), ("大于或等于", ">="), ("不少于", ">="), ("不低于", ">="), ("不小于", ">="),
        ("至少", ">="), ("达到", ">="), ("达", ">="), ("大于", ">"), ("高于", ">"), ("超过", ">"),
        ("多于", ">"), ("小于等于", "<="), ("小于或等于", "<="), ("不超过", "<="), ("不高于", "<="),
        ("不大于", "<="), ("不多于", "<="), ("最多", "<="), ("至多", "<="), ("控制在", "<="),
        ("低于", "<"), ("小于", "<"), ("少于", "<"), ("不足", "<"), ("等于", "="),
        ("约为", "~"), ("大约", "~"), ("约", "~"), ("≈", "~"),
    ],
    key=lambda p: -len(p[0]),
)
_SUFFIX = (
    ("及以上", ">="), ("或以上", ">="), ("以上", ">="), ("及以下", "<="), ("或以下", "<="), ("以下", "<="),
    ("以内", "<="), ("之内", "<="), ("内", "<="), ("左右", "~"), ("上下", "~"),
)
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|\.\d+)")
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]+")
_MEASURE = set("个次家人项场期台本件份种批轮天月年名所户处座套辆条篇部元间期")
_SCALE = re.compile(r"^(万亿|千万|百万|亿|万|千(?![克米瓦伏帕卡字兆])|百(?![分]))")
_MAX_TEXT = 300
_MAX_VALUE = Decimal(10) ** 16  # NUMERIC(18,2): anything larger is a typo, not a target
_SCALE_VALUE = {"万亿": 10**12, "千万": 10**7, "百万": 10**6, "亿": 10**8, "万": 10**4, "千": 10**3,
                "百": 10**2}
# A date word where a unit should be: "≥13月底前", "6.30前" are broken dates, not quantities of "月底前" or "前".
_RE_DATE_WORD = re.compile(r"月(?:份|底|末|上旬|中旬|下旬).*|.*前")
_NAME_UNIT = re.compile(r"\(([^()]{1,6})\)\s*$")
# An asterisk is a placeholder ("≥**%") unless it joins two unit words ("元/人*月": per person and month).
_LONE_STAR = r"(?<![\u4e00-\u9fff])\*|\*(?![\u4e00-\u9fff])"
_PLACEHOLDER = re.compile(
    _LONE_STAR + r"|XX|_{2,}|□|^[≥≤<>=±]?X+(?:[%\u4e00-\u9fff(].*)?$|^待定$|^待填|^暂无$|^[-/~.]+$|^无$|^略$"
)
_RANGE = re.compile(r"\d\s*(?:%|[^\d]{0,6})?\s*(?:[~-]|至|到)\s*\d")
_RANGE_FORM = re.compile(r"^(?P<a>\d[^~至到-]*?)(?:~|-|至|到)(?P<b>\d[^~至到-]*)$")


@dataclass(frozen=True, slots=True)
class _Quantity:
    comparator: str | None  # as written (">=", ..., "~" for approximate) or None
    value: Decimal
    unit: str | None
    scale: bool
    band: bool


# How a unit is written where kpiwatch writes "%".
_PERCENT_UNITS = {"%": "%", "(%)": "%", "百分比": "%", "(百分比)": "%"}


def _unit_ok(unit: str) -> bool:
    """Units are short ("人次", "平方米", "元/人/次", "元/人*月", "元/人·天", "m2"); anything longer is a sentence,
    and anything with a digit, a comparator or a placeholder in it is no unit."""
    if re.search(r"[\d≥≤<>=~±]", unit) and not re.fullmatch(r"[A-Za-z]{1,4}[23]", unit):
        return False
    if re.search(_LONE_STAR, unit) or _RE_DATE_WORD.fullmatch(unit):
        return False
    segments = re.split(r"[/、*.·]", unit)
    return len(segments) <= 3 and all(1 <= len(seg) <= 4 for seg in segments)


def _name_unit(name: str | None) -> str | None:
    """The unit in an indicator name's closing brackets ("合格率(%)", "资金(万元)"), only when it is a real unit:
    "成活率(≥**%)" holds a placeholder target, not a unit."""
    if not name or not (m := _NAME_UNIT.search(unicodedata.normalize("NFKC", name))):
        return None
    unit = _PERCENT_UNITS.get(m.group(1).strip(), m.group(1).strip())
    return unit if unit and _unit_ok(unit) and not _PLACEHOLDER.search(unit.upper()) else None


def _read_number(s: str) -> tuple[Decimal, str] | None:
    if s.startswith("百分之"):
        inner = _read_number(s[3:]) or _read_cn_bare(s[3:])
        if inner:
            return inner[0], "%" + inner[1]
        return None
    if m := _NUMBER.match(s):
        raw = m.group(0)
        if "," in raw and not re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
            raw = raw.replace(",", ".")  # decimal comma: "1,5"
        else:
            raw = raw.replace(",", "")
        try:
            return Decimal(raw), s[m.end():]
        except InvalidOperation:
            return None
    if m := _CN_NUMBER.match(s):
        rest = s[m.end():]
        n = _cn_small(m.group(0))
        if n is not None and rest[:1] in _MEASURE:
            return Decimal(n), rest
    return None


def _read_cn_bare(s: str) -> tuple[Decimal, str] | None:
    if m := _CN_NUMBER.match(s):
        n = _cn_small(m.group(0))
        if n is not None:
            return Decimal(n), s[m.end():]
    return None


def _read_quantity(s: str) -> _Quantity | str | None:
    """A comparator-number-unit reading of `s`, or a reason string if it is one but malformed, or None."""
    band = False
    comparator = None
    if s.startswith("±"):
        band, s, comparator = True, s[1:], "<="
    else:
        for word, comp in _PREFIX:
            if s.startswith(word):
                comparator, s = comp, s[len(word):]
                break
    s = re.sub(r"\(含\)$|含本数$", "", s)
    read = _read_number(s)
    if read is None:
        return None
    value, rest = read
    scale = False
    if m := _SCALE.match(rest):
        value *= _SCALE_VALUE[m.group(1)]
        rest, scale = rest[m.end():], True
    if rest.startswith("年") and value == value.to_integral_value() and 1900 <= value <= 2100:
        return None  # "2024年完成…" is a date in a sentence, not 2024 years
    if abs(value) >= _MAX_VALUE:
        return _note("too_large")
    rest = _TAIL.sub("", rest)
    # "95%(含)以上" is ≥ 95 %, "(不含)以上" is > : the bracket says whether the bound itself counts
    exclusive = bool(re.search(r"\(不含(?:本数)?\)|不含本数", rest))
    rest = re.sub(r"\(不?含(?:本数)?\)|不?含本数", "", rest)
    suffix = None
    for word, comp in _SUFFIX:
        if rest.endswith(word) and (word != "内" or rest.endswith(("以内", "之内")) or len(rest) > 1):
            suffix, rest = comp, rest[: -len(word)]
            break
    if exclusive and suffix in (">=", "<="):
        suffix = suffix[0]
    if suffix and comparator and comparator != "~" and suffix != "~" and _DIRECTION[comparator] != _DIRECTION[suffix]:
        return _note("comparators_clash", first=comparator, second=suffix)
    if band and suffix not in (None, "<="):
        return _note("band_not_cap")
    if comparator in (None, "~") and suffix:
        comparator = suffix if comparator is None or suffix != "~" else "~"
    unit: str | None = _PERCENT_UNITS.get(rest, rest)
    if unit == "":
        unit = None
    if unit is not None and not _unit_ok(unit):
        return None
    return _Quantity(comparator, value, unit, scale, band)


def _quantity_target(text: str, q: _Quantity, *, level2: str | None, name: str | None) -> Target:
    inferred: list[str] = []
    unit = q.unit
    is_cost = level2 is not None and "成本" in level2
    name_unit = _name_unit(name)
    value = q.value
    if unit is None and name_unit:
        if m := _SCALE.match(name_unit):  # 资金(万元) with 50 → 500000 元
            value = value if q.scale else value * _SCALE_VALUE[m.group(1)]
            name_unit = name_unit[m.end():]
        if name_unit:
            unit = name_unit
            inferred.append("unit")
    if unit is None and is_cost:
        unit = "元"
        inferred.append("unit")
    kind = "percent" if unit == "%" else "quantity"
    comparator = q.comparator if q.comparator != "~" else None
    reason = BAND_NOTE if q.band else (_note("approximate") if q.comparator == "~" else None)
    if comparator is None:
        if value == 0:
            comparator = "<="
        elif is_cost and kind == "quantity":
            comparator = "<="
        else:
            comparator = ">="
        inferred.insert(0, "comparator")
    value = Decimal(_decimal_str(value))
    return Target(
        text=text,
        kind=kind,
        comparator=comparator,
        value=value,
        unit=unit,
        direction=_DIRECTION[comparator],
        inferred=tuple(inferred),
        occurrences=(),
        reason=reason,
        suspicious=_doubt(kind, value, None, unit, _bounded_share(name)),
    )


# A share bounded by 100 %: a rate, a proportion, a satisfaction; a growth or a change may exceed it.
_SHARE_NAME = re.compile(r"率|满意度|满意程度|占比|比例|比重")
_CHANGE_NAME = re.compile(r"增长|增幅|增速|涨幅|提高|提升|增加|下降|降低|减少|同比|环比|变化|变动")
# A percentage no target means (10 times over): a typo, whatever the name.
_MAX_PERCENT = Decimal(1000)


def _bounded_share(name: str | None) -> bool:
    return name is not None and _SHARE_NAME.search(name) is not None and _CHANGE_NAME.search(name) is None


def _doubt(kind: str, value: Decimal, upper: Decimal | None, unit: str | None, share: bool) -> str | None:
    """Why a target's value lies outside what its kind can mean ("292%" for a 率), else None. A flag for a person
    to check, not a refusal: the value is kept as written."""
    said = _doubts(kind, value, upper, unit, share)
    return None if said is None else said[0]


def _doubts(kind: str, value: Decimal, upper: Decimal | None, unit: str | None,
            share: bool) -> tuple[str, str] | None:
    """`_doubt` in Chinese and English, the same figures in both."""
    top = value if upper is None else upper
    if value < 0:
        return _both("negative", value=_decimal_str(value))
    if kind == "percent" and top > _MAX_PERCENT:
        return _both("percent_over", limit=_MAX_PERCENT, value=_decimal_str(top))
    if share and unit in (None, "%") and top > 100:  # after the name-free checks: see parse_target_cached
        return _both("share_over", value=_decimal_str(top))
    return None


def _both(key: str, **slots: object) -> tuple[str, str]:
    return NOTES[key]["zh"].format(**slots), NOTES[key]["en"].format(**slots)


def suspicion_en(target: Target, name: str | None) -> str | None:
    """The English of `target.suspicious` (the value and the indicator's name it was read with), by the same
    checks in the same order, so the two languages cannot disagree about why."""
    if target.suspicious is None or target.value is None:
        return None
    said = _doubts(target.kind, target.value, target.upper, target.unit, _bounded_share(name))
    return None if said is None else said[1]


@lru_cache(maxsize=1)
def _note_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each note's Chinese as a pattern whose groups are its slots; constant notes first, then those with figures
    (a specific date before a quoted text: "日期不存在：2024年2月30日" is the date)."""
    out = [(template_pattern(said["zh"], {None: ".+?"})[0], key) for key, said in NOTES.items()]
    return tuple(sorted(out, key=lambda found: "{" in NOTES[found[1]]["zh"]))


def _slot_en(name: str, value: str) -> str:
    if name == "festival":
        return _FESTIVALS_EN.get(value, value)
    if name == "n" and not value.isdigit():  # "每十三个月": the number as written, in digits
        number = _cn_small(value)
        return value if number is None else str(number)
    return value


@lru_cache(maxsize=1 << 10)
def note_en(note: str | None) -> str | None:
    """The English of a note the grammar wrote (`Target.reason`, `Target.suspicious`, `Indicator.parse_reason`),
    with its figures; None for None and for a note this grammar does not write (an older one's words)."""
    if note is None:
        return None
    for pattern, key in _note_patterns():
        if found := pattern.fullmatch(note):
            slots = {place[1:]: value for place, value in found.groupdict().items()}  # "p" + the slot's name
            return NOTES[key]["en"].format(**{k: _slot_en(k, v) for k, v in slots.items()})
    return None


def _range_target(text: str, s: str, *, level2: str | None, name: str | None) -> Target | str | None:
    """A range "90%-95%", "3-5人", "3人至5人", "1.5~2万元" as the window [lower, upper] (comparator RANGE), both
    bounds included; a unit or scale word written once, after the upper bound, holds for both. A reason if the
    bounds are reversed; None if `s` is not two plain quantities of one unit."""
    m = _RANGE_FORM.match(s)
    if not m:
        return None
    high = _read_quantity(m["b"])
    low = _read_quantity(m["a"])
    number = _read_number(m["a"])
    if isinstance(low, _Quantity) and isinstance(high, _Quantity) and number and not number[1]:
        after = _read_number(m["b"])  # "3-5万人": the lower bound is 3万人 too
        low = _read_quantity(m["a"] + after[1]) if after else low
    if not (isinstance(low, _Quantity) and isinstance(high, _Quantity)) or low.unit != high.unit:
        return None
    if low.comparator or high.comparator or low.band or high.band:
        return None
    lower = _quantity_target(text, low, level2=level2, name=name)
    upper = _quantity_target(text, high, level2=level2, name=name)
    assert lower.value is not None and upper.value is not None
    if lower.value > upper.value:
        return _note("range_reversed", lower=_decimal_str(lower.value), upper=_decimal_str(upper.value))
    return Target(text, lower.kind, RANGE, lower.value, lower.unit, _DIRECTION[RANGE],
                  tuple(i for i in lower.inferred if i != "comparator"), (), None, upper=upper.value,
                  suspicious=_doubt(lower.kind, lower.value, upper.value, lower.unit, _bounded_share(name)))


# ---------------------------------------------------------------- qualitative

_QUALITATIVE_WORDS = (
    "保障", "提高", "提升", "促进", "达标", "减轻", "缓解", "激励", "助推", "响应", "确保", "及时", "按时",
    "按期", "如期", "保持", "稳定", "改善", "增强", "加强", "完善", "规范", "优化", "降低", "减少", "增加",
    "扩大", "推动", "推进", "带动", "显著", "明显", "有效", "良好", "较好", "满意", "合格", "符合", "实现",
    "持续", "长期", "逐步", "稳步", "大幅", "有所", "不断", "高效", "顺利", "正常", "健全", "巩固", "增长",
    "改进", "发挥", "服务", "支持", "维护", "落实", "达到要求", "计划时间内", "规定时间内", "完成时间内",
    "按计划", "按要求", "按规定", "符合要求", "符合标准", "达到标准", "全覆盖", "全部完成", "已完成",
    "优良", "上年", "同期", "按进度", "按合同", "零事故", "零投诉", "未发生", "不发生", "无重大", "杜绝",
    # what the year-end tables write for control, propriety and compliance
    "可控", "受控", "控制", "合理", "合规", "适度", "适当", "适中", "不超预算", "不超标", "不超支", "预算内",
    "超支", "节约", "压减", "严格", "制度", "规定", "到位", "安全", "准确", "完整", "真实", "透明", "公开",
    "公平", "公正", "有序", "充足", "可靠", "可持续", "满足", "预期", "下降",
)
_QUALITATIVE_WHOLE = {"高", "好", "优", "良", "强", "是", "否", "优秀", "较高", "较强", "定性", "达成",
                      "完成", "全面", "基本", "积极", "较大", "一般", "中等", "低", "较低", "少", "较少"}
# The direction a qualitative target states, where it states one: more (提高, 不低于上年) or less (降低, 可控,
# 不超预算, 无投诉). Compliance and propriety (合理, 严格执行相关制度规定) have none.
_MORE = re.compile(r"提高|提升|增加|增强|扩大|增长|加强|改善|优化|完善|促进|推动|带动|助推|不低于|不少于|不小于"
                   r"|(?<!不)高于|(?<!不)多于|好于|优于|^(?:较)?(?:高|强|大)$")
_LESS = re.compile(r"降低|减少|减轻|缓解|下降|压减|压缩|节约|控制|可控|受控|不超|不高于|不多于|不大于|(?<!不)低于"
                   r"|(?<!不)少于|杜绝|未发生|不发生|^[无零]|^(?:较)?(?:低|少)$")


def _qualitative(s: str) -> bool:
    if s in _QUALITATIVE_WHOLE or any(w in s for w in _QUALITATIVE_WORDS):
        return True
    return len(s) > 1 and s[0] in "无零" and not re.search(r"\d", s)  # 无投诉, 零事故: a person confirms it


def _qualitative_direction(s: str) -> str | None:
    more, less = bool(_MORE.search(s)), bool(_LESS.search(s))
    return "higher_is_better" if more and not less else "lower_is_better" if less and not more else None


# ---------------------------------------------------------------- entry points


def _unparsed(text: str, reason: str) -> Target:
    return Target(text, "unparsed", None, None, None, None, (), (), reason)


def _read_time(s: str, *, year: int, strict: bool) -> tuple[str, tuple[Occurrence, ...], str | None] | str | None:
    """A time reading of normalised `s` as (kind, occurrences, note), a reason if it is a broken one, or None.

    Trailing verbs ("…完成", "…序时进行"), a count ("每月1次") and a leading "每年" ("每年5月底前" is this
    budget year's 5月底前) are tried off in turn; the first reading that fits wins.
    """
    core = _LEAD.sub("", s)
    if m := _RELATIVE_YEAR.match(core):  # "次年3月底前": the year after the budget year
        core = f"{year + 1 if m['next'] else year - 1}年" + core[m.end():]
    core = re.sub(r"^Q([1-4])$", r"第\1季度", core)
    bare = _TAIL.sub("", core)
    times = _TIMES.search(bare)
    candidates: list[tuple[str, str | None]] = [(core, None), (bare, None)]
    if times:
        n = int(times["n"]) if times["n"].isdigit() else _cn_small(times["n"])
        candidates.append((bare[: times.start()], _note("per_period", n=n) if n and n > 1 else None))
    if core.startswith("每年") and len(core) > 2:
        candidates.append((core[2:], None))
    for candidate, note in candidates:
        if not candidate:
            continue
        try:
            found = _time_target(candidate, year=year, strict=strict)
        except _Reject as rejected:
            return str(rejected)
        if found and (note is None or found[0] == "recurring"):
            return found[0], found[1], note
    return None


def parse_target(
    text: str,
    *,
    year: int,
    level2: str | None = None,
    name: str | None = None,
    strict_month_before: bool = False,
) -> Target:
    """Parse one 指标值 for budget year `year`.

    `level2` (数量指标, 成本指标, 时效指标, …) sets the defaults for what is not written; `name` (三级指标)
    supplies a unit in brackets ("培训合格率(%)", "人均培训成本(元)"). `strict_month_before` reads "X月前"
    as "before month X starts" instead of the default "by the end of month X".
    """
    try:
        return _parse(text, year=year, level2=level2, name=name, strict=strict_month_before)
    except Exception as exc:  # a grammar bug must never take down an import: keep the text, say why
        return _unparsed(text if isinstance(text, str) else str(text), _note("failed", error=type(exc).__name__))


def _parse(text: str, *, year: int, level2: str | None, name: str | None, strict: bool) -> Target:
    if not isinstance(text, str):
        return _unparsed(str(text), _note("not_text"))
    if not isinstance(year, int) or not 2 <= year <= 9998:  # dates reach one year either side of it
        return _unparsed(text, _note("bad_year", year=year))
    if len(text) > _MAX_TEXT:
        return _unparsed(text, _note("too_long", n=len(text)))
    s = _normalize(text)
    if not s:
        return _unparsed(text, _note("empty"))
    if _PLACEHOLDER.search(s.upper()):
        return _unparsed(text, _note("placeholder"))

    timed = _read_time(s, year=year, strict=strict)
    if isinstance(timed, str):
        return _unparsed(text, timed)
    if timed:
        kind, occurrences, note = timed
        return Target(text, kind, None, None, None, None, (), tuple(sorted(occurrences)), note)

    if (m := _RE_NO_SUCH_MONTH.match(s)) and not 1 <= int(m["m"]) <= 12:
        return _unparsed(text, _note("no_such_month", m=int(m["m"])))
    if not (s.startswith("±") and "±" not in s[1:]) and _RANGE.search(s):
        ranged = _range_target(text, s, level2=level2, name=name)
        if isinstance(ranged, Target):
            return ranged
        return _unparsed(text, ranged or _note("range_unreadable"))
    q = _read_quantity(s)
    if isinstance(q, str):
        return _unparsed(text, q)
    if q is not None:
        return _quantity_target(text, q, level2=level2, name=name)

    if _qualitative(s):
        note = _note("digits_in_words") if re.search(r"\d", s) else None
        return Target(text, "qualitative", None, None, None, _qualitative_direction(s), (), (), note)
    return _unparsed(text, _note("unreadable"))


def parse_target_cached(
    text: str,
    year: int,
    level2: str | None = None,
    name: str | None = None,
    strict_month_before: bool = False,
) -> Target:
    """`parse_target` memoised per distinct text: a bulk import repeats the same few hundred texts across
    thousands of rows. The key keeps only what the grammar reads from `level2` (is it 成本指标?) and from
    `name` (a unit in brackets), so "≥95%" under a hundred different indicator names is parsed once.
    Targets are immutable, so sharing one instance is safe. Whether the name is a share (a 率, bounded by 100%)
    only adds a flag to values over 100, so it is applied after the cache, keeping one entry per text."""
    target = _parse_cached(text, year, _level2_key(level2), _name_key(name), bool(strict_month_before))
    if target.suspicious is None and target.measurable and _bounded_share(name):
        return _as_share(target)
    return target


@lru_cache(maxsize=1 << 12)
def _as_share(target: Target) -> Target:
    doubt = _doubt(target.kind, target.value, target.upper, target.unit, True) if target.value is not None else None
    return target if doubt is None else replace(target, suspicious=doubt)


def _level2_key(level2: str | None) -> str | None:
    return "成本指标" if level2 and "成本" in level2 else None


def _name_key(name: str | None) -> str | None:
    """A short name that the grammar reads as it reads `name` (its unit; being a share is applied after)."""
    unit = _name_unit(name)
    return None if unit is None else f"({unit})"


@lru_cache(maxsize=1 << 16)
def _parse_cached(text: str, year: int, level2: str | None, name: str | None, strict: bool) -> Target:
    return parse_target(text, year=year, level2=level2, name=name, strict_month_before=strict)
