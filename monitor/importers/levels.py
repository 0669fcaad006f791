"""Recognising the 一级/二级指标 labels and the indicator cells of a 绩效目标表, whatever the layout.

Both layouts reduce an indicator row to a stream of tokens; this module says which token is a level label
(normalising the variants real tables print), and how to separate a name from a value that the PDF
extraction glued together. Every normalisation is reported, never silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from monitor.importers.document import LEVEL1_NAMES, LEVEL2_NAMES

LEVEL2_VARIANTS = {
    "经济收益指标": "经济效益指标",
    "社会收益指标": "社会效益指标",
    "服务对象满意度": "服务对象满意度指标",
    "服务对象满意度指": "服务对象满意度指标",
    "满意度": "服务对象满意度指标",
}
HEADER_WORDS = {"绩效指标", "一级指标", "二级指标", "三级指标", "指标值", "绩效", "指标"}
COMPARATORS = "≥≤＞＜><=＝≧≦"
_MONEY = re.compile(r"^-?[\d,]+(?:\.\d+)?$")
_TRAILING_VALUE = re.compile(r"^(?P<name>.*?[^\d.,（(])(?P<value>\d[\d,.]*\s*(?:%|[^\d\s]{0,8}))$")
QUALITATIVE_WORDS = {
    "提高", "保障", "促进", "达标", "及时", "按月", "每月", "显著提高", "保持稳定", "确保", "减轻", "缓解", "激励",
    "助推", "响应", "提升", "合格", "良好", "稳定", "按时", "有效", "明显", "持续", "完成",
}


_WIDTH = str.maketrans({":": "：", "(": "（", ")": "）"})


@lru_cache(maxsize=131072)
def squash(text: str) -> str:
    """Compare cells the way a reader does: ignore spaces and half/full-width punctuation differences."""
    return "".join(text.split()).translate(_WIDTH)


@dataclass(frozen=True)
class Label:
    canonical: str
    raw: str

    @property
    def repaired(self) -> bool:
        return self.canonical != self.raw


@lru_cache(maxsize=65536)
def as_level2(token: str) -> Label | None:
    t = squash(token)
    if t in LEVEL2_NAMES:
        return Label(t, t)
    if t in LEVEL2_VARIANTS:
        return Label(LEVEL2_VARIANTS[t], t)
    for name in LEVEL2_NAMES:
        if len(t) >= 4 and name.startswith(t) and t != name:
            return Label(name, t)
    return None


@lru_cache(maxsize=65536)
def is_level1(token: str) -> bool:
    return squash(token) in LEVEL1_NAMES


@lru_cache(maxsize=65536)
def is_header_word(token: str) -> bool:
    return squash(token) in HEADER_WORDS


@lru_cache(maxsize=65536)
def split_level2_prefix(token: str) -> tuple[Label, str] | None:
    """"服务对象满意度指标职工满意度" is a label and a name printed without a gap."""
    t = token.strip()
    for name in sorted(list(LEVEL2_NAMES) + list(LEVEL2_VARIANTS), key=len, reverse=True):
        if t.startswith(name) and len(t) > len(name) and len(name) >= 6:
            rest = t[len(name):].strip()
            if rest and as_level2(rest) is None:
                return Label(LEVEL2_VARIANTS.get(name, name), name), rest
    return None


@lru_cache(maxsize=65536)
def looks_like_value(text: str) -> bool:
    t = text.strip()
    if not t:
        return False
    if t[0] in COMPARATORS or t[0] == "±" or t[0].isdigit():
        return True
    if t in QUALITATIVE_WORDS:
        return True
    return bool(re.search(r"(前|底前|之前|月份?|季度末?|日|次|天|%|以上|以内)$", t)) and len(t) <= 10


def is_money(text: str) -> bool:
    return bool(_MONEY.match(text.strip()))


def split_merged(text: str, *, counterpart_value: str | None, known_names: list[str]) -> tuple[str, str, str] | None:
    """Separate "name+value" printed as one cell; returns (name, value, how) or None when it can't be done safely."""
    t = text.strip()
    if counterpart_value:
        v = counterpart_value.strip()
        if v and t.endswith(v) and len(t) > len(v):
            return t[: -len(v)].strip(), v, "按另一半表同一行的指标值拆分"
    for name in sorted(known_names, key=len, reverse=True):
        if name and t.startswith(name) and len(t) > len(name):
            rest = t[len(name):].strip()
            if looks_like_value(rest):
                return name, rest, "按已知指标名称拆分"
    for i, ch in enumerate(t):
        if ch in COMPARATORS and i > 0:
            return t[:i].strip(), t[i:].strip(), "在比较符号处拆分"
    m = _TRAILING_VALUE.match(t)
    if m and len(m.group("name")) >= 2:
        return m.group("name").strip(), m.group("value").strip(), "在末尾数值处拆分"
    return None


_TIME_HINT = re.compile(r"(时间|时限|日期)")
_COST_HINT = re.compile(r"(成本|单价|资金$|金额$|标准$)")


@lru_cache(maxsize=65536)
def level2_hint(name: str) -> str | None:
    """The level a name clearly belongs to, used only to place rows whose printed label is missing or scrambled."""
    if "满意度" in name:
        return "服务对象满意度指标"
    if name.endswith("率") or name.endswith("率（%）") or name.endswith("率(%)"):
        return None
    if _TIME_HINT.search(name):
        return "时效指标"
    if _COST_HINT.search(name):
        return "成本指标"
    return None
