"""序时进度: the share of a period that has elapsed, as the yardstick for "how much should be done by now".

Vectorised over numpy `datetime64[D]` arrays so one call covers a million indicators. Pure: the as-of date
is always an argument. Three modes, chosen in `[evaluation] progress_mode`:

- "month" (default, as provincial systems do it): completed months ÷ months in the period. A month counts
  once its last day is reached, so 30 June gives 6/12 and 29 February 2024 gives 2/12, while 28 February 2024
  still gives 1/12: monitoring rounds are cut at month ends (1–X月).
- "day": days elapsed, the as-of day included, ÷ days in the period.
- "curve": a jurisdiction's published cumulative curve by month (e.g. July 40%, November 80.21%); months
  not listed are interpolated linearly between their neighbours, 0% before January and 100% after December
  unless December is listed. A period shorter or longer than a year is mapped onto the twelve months.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pandas as pd

from rules.exact import exact_number

MODES = ("month", "day", "curve")
DAY = np.timedelta64(1, "D")


def as_days(values) -> np.ndarray:
    """Anything date-like (dates, datetimes, strings, pandas columns) as `datetime64[D]`; missing → NaT."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]")
    if arr.dtype.kind == "O":
        return pd.to_datetime(pd.Series(arr), errors="coerce").to_numpy().astype("datetime64[D]")
    return arr.astype("datetime64[D]")


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (an integer per date); meaningless where `days` is NaT, so mask those."""
    return days.astype("datetime64[M]").astype(np.int64)


def is_month_end(days: np.ndarray) -> np.ndarray:
    return (days + DAY).astype("datetime64[M]") != days.astype("datetime64[M]")


def _curve_shares(curve: Mapping[str, Decimal | float | int] | None) -> tuple[Fraction, ...]:
    """Cumulative shares at the end of months 0..12 (13 exact values, 0 at month 0) from a sparse month → percent
    map; the months not listed are interpolated linearly between their neighbours."""
    known = {0: Fraction(0)}
    for month, percent in (curve or {}).items():
        m = int(month)
        if not 1 <= m <= 12:
            raise ValueError(f"序时进度曲线的月份必须是1到12，得到 {month!r}")
        p = exact_number(percent)
        if not 0 <= p <= 100:
            raise ValueError(f"序时进度曲线{m}月的比例必须在0到100之间，得到 {percent!r}")
        known[m] = p / 100
    known.setdefault(12, Fraction(1))
    months = sorted(known)
    if any(known[b] < known[a] for a, b in pairwise(months)):
        raise ValueError("序时进度曲线必须随月份递增")
    shares = []
    for m in range(13):
        if m in known:
            shares.append(known[m])
            continue
        after = next((k for k in months if k > m), None)
        before = max(k for k in months if k < m)
        shares.append(known[before] if after is None else
                      known[before] + (known[after] - known[before]) * (m - before) / (after - before))
    return tuple(shares)


def curve_points(curve: Mapping[str, Decimal | float | int] | None) -> np.ndarray:
    """Cumulative shares at the end of months 0..12 (13 values, 0 at month 0) from a sparse month → percent map."""
    return np.array([float(share) for share in _curve_shares(curve)])


@dataclass(frozen=True)
class Progress:
    """序时进度 of each period as the rational it is: `done` of `total` months (or days) have elapsed, mapped
    through the published curve in mode "curve". `fraction` is the float for vectorised arithmetic; `exact(i)`
    is row i exactly, for deciding the rows that lie on a threshold (see `rules.exact`)."""

    done: np.ndarray  # int64
    total: np.ndarray  # int64, at least 1
    missing: np.ndarray  # bool: no as-of date (or no period)
    shares: tuple[Fraction, ...] | None  # the curve's 13 cumulative shares in mode "curve", else None

    @property
    def fraction(self) -> np.ndarray:
        fraction = np.clip(self.done / self.total, 0, 1)
        if self.shares is not None:
            fraction = np.interp(fraction * 12, np.arange(13), [float(s) for s in self.shares])
        return np.where(self.missing, np.nan, fraction)

    def exact(self, i: int) -> Fraction:
        share = min(max(Fraction(int(self.done[i]), int(self.total[i])), Fraction(0)), Fraction(1))
        if self.shares is None:
            return share
        month = share * 12
        low = int(month)
        if low == 12:
            return self.shares[12]
        return self.shares[low] + (self.shares[low + 1] - self.shares[low]) * (month - low)


def progress(
    as_of,
    start,
    end,
    *,
    mode: str = "month",
    curve: Mapping[str, Decimal | float | int] | None = None,
) -> Progress:
    """序时进度 of each period [start, end] at `as_of` (a scalar date or one date per period), exactly.

    Before the start it is 0, from the end on it is 1; a missing as-of date gives NaN.
    """
    start = as_days(start)
    end = as_days(end)
    if isinstance(as_of, date):
        as_of = np.full(start.shape, np.datetime64(as_of, "D"))
    else:
        as_of = as_days(as_of)
    missing = np.isnat(as_of) | np.isnat(start) | np.isnat(end)
    safe_as_of = np.where(missing, end, as_of)
    safe_start = np.where(missing, end, start)
    safe_end = np.where(np.isnat(end), safe_as_of, end)
    if mode == "day":
        total = ((safe_end - safe_start) / DAY).astype(np.int64) + 1
        done = ((safe_as_of - safe_start) / DAY).astype(np.int64) + 1
    elif mode in ("month", "curve"):
        first, last = month_index(safe_start), month_index(safe_end)
        total = last - first + 1
        done = month_index(safe_as_of) - first + is_month_end(safe_as_of)
        done = np.where(safe_as_of >= safe_end, total, done)
    else:
        raise ValueError(f"progress_mode must be one of {', '.join(MODES)}; got {mode!r}")
    total = np.maximum(np.where(missing, 1, total), 1)
    done = np.clip(np.where(missing, 0, done), 0, total)
    return Progress(done.astype(np.int64), total.astype(np.int64), missing,
                    _curve_shares(curve) if mode == "curve" else None)


def progress_fraction(
    as_of,
    start,
    end,
    *,
    mode: str = "month",
    curve: Mapping[str, Decimal | float | int] | None = None,
) -> np.ndarray:
    """Elapsed share (0..1) of each period [start, end] at `as_of`, as floats; see `progress`."""
    return progress(as_of, start, end, mode=mode, curve=curve).fraction


def elapsed_days(as_of, start) -> np.ndarray:
    """Days from `start` to `as_of`, both included (at least 1): the base of a linear forecast."""
    as_of, start = as_days(as_of), as_days(start)
    return np.maximum(((as_of - start) / DAY).astype(np.float64) + 1, 1)


def days_between(earlier, later) -> np.ndarray:
    """Days from `earlier` to `later` (negative if `later` comes first, NaN where either is NaT)."""
    return (as_days(later) - as_days(earlier)) / DAY


def active_periods(projects: pd.DataFrame) -> pd.DataFrame:
    """project_id, start, end (datetime64[D]): the budget year narrowed to the plan window."""
    year = projects["year"].to_numpy(dtype=np.int64)
    year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    year_end = (year - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]") - DAY
    no_date = np.full(len(year), np.datetime64("NaT", "D"))
    plan_start = as_days(projects["plan_start"]) if "plan_start" in projects else no_date
    plan_end = as_days(projects["plan_end"]) if "plan_end" in projects else no_date
    plan_start = np.where(np.isnat(plan_start), year_start, plan_start)
    plan_end = np.where(np.isnat(plan_end), year_end, plan_end)
    plan_end = np.maximum(plan_end, plan_start)
    start = np.maximum(plan_start, year_start)
    end = np.minimum(plan_end, year_end)
    outside = start > end
    return pd.DataFrame({
        "project_id": projects["project_id"].to_numpy(),
        "start": np.where(outside, plan_start, start),
        "end": np.where(outside, plan_end, end),
    })
