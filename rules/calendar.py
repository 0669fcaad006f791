"""The budget-year calendar: concrete dates for deadlines, recurrences and windows.

Pure: nothing here reads the clock; the budget year (or a date) is always an argument. Calendar logic
is in Asia/Shanghai (`SHANGHAI`), so callers turn an aware datetime into a local `date` with
`local_date()` before asking anything here.
"""

from __future__ import annotations

import calendar as _stdcal
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_time(moment: datetime) -> datetime:
    """`moment` as an aware Asia/Shanghai datetime: an aware one is converted, a naive one is taken as Shanghai
    wall-clock time (what a spreadsheet cell or SQLite gives back), so every instant compares and prints alike."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


@dataclass(frozen=True, slots=True, order=True)
class Occurrence:
    """One period in which something is due: work may start on `start` and is due by `due` (inclusive)."""

    start: date
    due: date

    def to_json(self) -> dict:
        return {"start": self.start.isoformat(), "due": self.due.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> Occurrence:
        """The occurrence `to_json` wrote."""
        return cls(date.fromisoformat(data["start"]), date.fromisoformat(data["due"]))


def local_date(moment: datetime) -> date:
    """The Shanghai calendar day of an aware datetime; a naive one is refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("需要带时区的时间 (timezone-aware datetime required)")
    return moment.astimezone(SHANGHAI).date()


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def month_end(year: int, month: int) -> date:
    return date(year, month, _stdcal.monthrange(year, month)[1])


def day_in_month(year: int, month: int, day: int) -> date:
    """Day `day` of the month, clamped to its last day: "每月31日前" still has a February due date."""
    return date(year, month, min(day, _stdcal.monthrange(year, month)[1]))


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def quarter_end(year: int, quarter: int) -> date:
    return month_end(year, 3 * quarter)


def year_start(year: int) -> date:
    return date(year, 1, 1)


def year_end(year: int) -> date:
    return date(year, 12, 31)


def closed_year_end(year: int, today: date) -> date | None:
    """31 December of budget year `year` once that year is over on `today`, else None.

    The year-end results (a grade, the final value, the year's spending) are mostly typed in January–March of
    the following year; they are for the year, not for the day they are typed, so this is the date they are
    recorded for when the entry names none.
    """
    end = year_end(year)
    return end if today > end else None


def month_window(year: int, first_month: int, last_month: int | None = None) -> Occurrence:
    return Occurrence(month_start(year, first_month), month_end(year, last_month or first_month))


def deadline(year: int, due: date) -> Occurrence:
    """A single deadline in budget year `year`: open from 1 January of the budget year.

    A due date before the budget year (a 2023 task listed in the 2024 table) opens on 1 January of its
    own year, so `start <= due` always holds.
    """
    start = year_start(year)
    if due < start:
        start = year_start(due.year)
    return Occurrence(start, due)


def monthly(year: int, day: int | None = None) -> tuple[Occurrence, ...]:
    """Twelve monthly occurrences, due at month end or on `day` of each month (clamped)."""
    return tuple(
        Occurrence(
            month_start(year, m),
            month_end(year, m) if day is None else day_in_month(year, m, day),
        )
        for m in range(1, 13)
    )


def every_n_months(year: int, n: int) -> tuple[Occurrence, ...]:
    """Consecutive blocks of `n` months from January; a last short block ends on 31 December."""
    if n < 1 or n > 12:
        raise ValueError(f"months per period must be 1..12, got {n}")
    return tuple(
        Occurrence(month_start(year, m), month_end(year, min(m + n - 1, 12))) for m in range(1, 13, n)
    )


def quarterly(year: int) -> tuple[Occurrence, ...]:
    return tuple(Occurrence(quarter_start(year, q), quarter_end(year, q)) for q in range(1, 5))


def half_yearly(year: int) -> tuple[Occurrence, ...]:
    return every_n_months(year, 6)


def yearly(year: int) -> tuple[Occurrence, ...]:
    return (Occurrence(year_start(year), year_end(year)),)


def weekly(year: int) -> tuple[Occurrence, ...]:
    """Monday-to-Sunday weeks, clipped to the budget year so nothing falls outside it."""
    first, last = year_start(year), year_end(year)
    monday = first - timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(Occurrence(max(monday, first), min(monday + timedelta(days=6), last)))
        monday += timedelta(days=7)
    return tuple(out)


def daily(year: int) -> tuple[Occurrence, ...]:
    first = year_start(year)
    days = (year_end(year) - first).days + 1
    return tuple(Occurrence(d, d) for d in (first + timedelta(days=i) for i in range(days)))


# Festivals a 时效指标 may name ("春节前"). 元旦 is left out: "元旦前" in a budget-year table could mean either
# end of the year, and guessing is worse than asking.
FESTIVALS: dict[str, chinese_calendar.Holiday] = {
    "春节": chinese_calendar.Holiday.spring_festival,
    "清明": chinese_calendar.Holiday.tomb_sweeping_day,
    "劳动节": chinese_calendar.Holiday.labour_day,
    "五一": chinese_calendar.Holiday.labour_day,
    "端午": chinese_calendar.Holiday.dragon_boat_festival,
    "中秋": chinese_calendar.Holiday.mid_autumn_festival,
    "国庆": chinese_calendar.Holiday.national_day,
}


@lru_cache(maxsize=256)
def festival_holiday(year: int, festival: str) -> Occurrence | None:
    """The break for `festival` (a key of FESTIVALS) in `year`: its official days off plus the weekend they
    join. None when chinese-calendar has no data for that year: festival dates move with the lunar calendar
    and the State Council's yearly notice, so they are never guessed."""
    holiday = FESTIVALS[festival]
    days = []
    d = year_start(year)
    try:
        while d.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(d)
            if on_holiday and name == holiday.value:
                days.append(d)
            elif days:
                break
            d += timedelta(days=1)
        if not days:
            return None
        first, last = days[0], days[-1]
        # the weekend the days off are joined to is part of the break: 端午 2024 is 8–10 June, not just the 10th
        while not chinese_calendar.is_workday(first - timedelta(days=1)):
            first -= timedelta(days=1)
        while not chinese_calendar.is_workday(last + timedelta(days=1)):
            last += timedelta(days=1)
    except NotImplementedError:
        return None
    return Occurrence(first, last)


def is_working_day(d: date) -> bool:
    """Whether `d` is a working day in mainland China, holidays and adjusted weekend workdays included.

    chinese-calendar only knows the years the State Council has published (it raises
    NotImplementedError otherwise); for those years we fall back to Monday–Friday, which is wrong only
    on public holidays and 调休 days that have not been announced yet.
    """
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return d.weekday() < 5


def previous_working_day(d: date) -> date:
    """Move a reminder date onto a working day: `d` itself if it is one, else the last working day before it.

    Used for reminders only: deadlines stay as written, but a reminder that lands on a Sunday or in the
    Spring Festival holiday is sent on the last working day before it instead of being lost in the break.
    """
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d
