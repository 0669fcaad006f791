"""How figures and dates are written in reasons, digests and tables: as people write them, not as Python does.

Vectorised like the rules that call them: each renders once per distinct value and spreads the text back,
because reasons repeat the same targets, dates and often the same figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from rules.time_progress import as_days


def _distinct(values: np.ndarray, render) -> pd.Series:
    """`render` applied once per distinct value, spread back by index: reasons repeat the same targets, dates
    and often the same figures, so this is a fraction of the per-row work."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    rendered = np.array([render(v) for v in uniques] + ["—"], dtype=object)
    return pd.Series(rendered[np.where(codes >= 0, codes, len(uniques))])


def _plain(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_number(values, unit=None) -> pd.Series:
    """Numbers as people write them: no trailing zeros, two decimals at most, 元 from 1万 on as 万元."""
    s = np.round(np.asarray(values, dtype=np.float64).reshape(-1), 2)
    if unit is None or isinstance(unit, str):
        unit_codes, units = np.zeros(len(s), dtype=np.int64), np.array([unit or ""], dtype=object)
    else:
        unit_codes, units = pd.factorize(pd.Series(np.asarray(unit, dtype=object)).fillna(""))
        units = np.asarray(units, dtype=object)
        if len(units) == 0:
            units = np.array([""], dtype=object)
    value_codes, values_u = pd.factorize(s, use_na_sentinel=True)
    if len(values_u) == 0:
        return pd.Series(np.full(len(s), "—", dtype=object))
    # one rendering per distinct (value, unit) pair
    key = np.where(value_codes >= 0, value_codes * len(units) + unit_codes, -1)
    pair_codes, pairs = pd.factorize(key)
    rendered = []
    for pair in pairs:
        if pair < 0:
            rendered.append("—")
            continue
        v, u = float(values_u[pair // len(units)]), units[pair % len(units)]
        if u.startswith("元") and abs(v) >= 10000:
            rendered.append(_plain(round(v / 10000, 2)) + "万" + u)
        else:
            rendered.append(_plain(v) + u)
    return pd.Series(np.array(rendered, dtype=object)[pair_codes])


def fmt_decimal(value: Decimal, unit: str | None = None) -> str:
    """One exact figure written as `fmt_number` writes them (元 from 1万 on as 万元, two decimals at most): the
    digest's and the tables' 最新情况 beside the reasons, without going through float."""
    unit = unit or ""
    if unit.startswith("元") and abs(value) >= 10000:
        value, unit = value / 10000, "万" + unit
    return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize(), "f") + unit


def fmt_day(days, year: int | None = None, *, lang: str = "zh") -> pd.Series:
    """"6月30日" (English: "30 Jun") for each date, NaT → "—"; "2023年11月30日" ("30 Nov 2023") for a date
    outside `year`, if given. English dates are day, month, year, as the reasons' Chinese ones are read."""
    d = as_days(days)
    missing = np.isnat(d)
    safe = np.where(missing, np.datetime64("2000-01-01", "D"), d)
    years = safe.astype("datetime64[Y]").astype(np.int64) + 1970
    show_year = np.zeros(len(safe), dtype=bool) if year is None else years != year
    # one rendering per distinct (day, with-year) pair
    keys = safe.astype(np.int64) * 2 + show_year
    render = _day_text_en if lang == "en" else _day_text
    text = _distinct(keys, lambda k: render(int(k) // 2, bool(int(k) % 2)))
    return text.where(~missing, "—")


def _day_text(days_since_epoch: int, with_year: bool) -> str:
    d = date.fromordinal(date(1970, 1, 1).toordinal() + days_since_epoch)
    return f"{d.year}年{d.month}月{d.day}日" if with_year else f"{d.month}月{d.day}日"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_text_en(days_since_epoch: int, with_year: bool) -> str:
    d = date.fromordinal(date(1970, 1, 1).toordinal() + days_since_epoch)
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}" if with_year else f"{d.day} {_MONTHS_EN[d.month - 1]}"


def fmt_percent(values) -> pd.Series:
    return _distinct(np.round(np.asarray(values, dtype=np.float64).reshape(-1), 0), lambda v: f"{v:.0f}%")


@dataclass(frozen=True)
class OverdueCount:
    """逾期, counted one way everywhere: `items` indicators with at least one overdue period, `periods` overdue
    periods in all (a monthly task six months behind is one item of six periods)."""

    items: int
    periods: int

    def __str__(self) -> str:
        return fmt_overdue(self)


def count_overdue(indicators: Iterable[Hashable]) -> OverdueCount:
    """One entry per overdue period, naming its indicator (an id, or whatever identifies it where it is counted)."""
    periods = list(indicators)
    return OverdueCount(items=len(set(periods)), periods=len(periods))


def fmt_overdue(count: OverdueCount) -> str:
    """"25项逾期（共47期）"; "3项逾期" when every item is one period; "" when nothing is overdue."""
    if not count.items:
        return ""
    if count.periods == count.items:
        return f"{count.items}项逾期"
    return f"{count.items}项逾期（共{count.periods}期）"
