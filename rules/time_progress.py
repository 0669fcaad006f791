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
from datetime import date
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pandas as pd

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


def curve_points(curve: Mapping[str, Decimal | float | int] | None) -> np.ndarray:
    """Cumulative shares at the end of months 0..12 (13 values, 0 at month 0) from a sparse month → percent map."""
    known = {0: 0.0}
    for month, percent in (curve or {}).items():
        m = int(month)
        if not 1 <= m <= 12:
            raise ValueError(f"序时进度曲线的月份必须是1到12，得到 {month!r}")
        p = float(percent)
        if not 0 <= p <= 100:
            raise ValueError(f"序时进度曲线{m}月的比例必须在0到100之间，得到 {percent!r}")
        known[m] = p / 100
    known.setdefault(12, 1.0)
    months = sorted(known)
    values = [known[m] for m in months]
    if any(b < a for a, b in pairwise(values)):
        raise ValueError("序时进度曲线必须随月份递增")
    return np.interp(np.arange(13), months, values)


def progress_fraction(
    as_of,
    start,
    end,
    *,
    mode: str = "month",
    curve: Mapping[str, Decimal | float | int] | None = None,
) -> np.ndarray:
    """Elapsed share (0..1) of each period [start, end] at `as_of` (a scalar date or one date per period).

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
        total = ((safe_end - safe_start) / DAY).astype(np.float64) + 1
        done = ((safe_as_of - safe_start) / DAY).astype(np.float64) + 1
        fraction = np.clip(done / np.maximum(total, 1), 0, 1)
    elif mode in ("month", "curve"):
        first, last = month_index(safe_start), month_index(safe_end)
        total = (last - first + 1).astype(np.float64)
        done = (month_index(safe_as_of) - first + is_month_end(safe_as_of)).astype(np.float64)
        done = np.where(safe_as_of >= safe_end, total, done)
        fraction = np.clip(done / np.maximum(total, 1), 0, 1)
        if mode == "curve":
            points = curve_points(curve)
            fraction = np.interp(fraction * 12, np.arange(13), points)
    else:
        raise ValueError(f"progress_mode must be one of {', '.join(MODES)}; got {mode!r}")
    return np.where(missing, np.nan, fraction)


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
