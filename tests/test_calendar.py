"""The budget-year calendar: month ends, occurrences and mainland-China working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from rules.calendar import (
    SHANGHAI,
    Occurrence,
    daily,
    deadline,
    every_n_months,
    festival_holiday,
    half_yearly,
    is_working_day,
    local_date,
    month_end,
    monthly,
    previous_working_day,
    quarterly,
    weekly,
)


@pytest.mark.parametrize(
    "year,month,end",
    [(2024, 2, 29), (2023, 2, 28), (2000, 2, 29), (2100, 2, 28), (2024, 4, 30), (2024, 12, 31)],
)
def test_month_end_knows_leap_years(year, month, end):
    assert month_end(year, month) == date(year, month, end)


def test_monthly_and_quarterly_cover_the_year_without_gaps():
    for series in (monthly(2024), quarterly(2024), half_yearly(2024), every_n_months(2024, 5), weekly(2024)):
        assert series[0].start == date(2024, 1, 1) and series[-1].due == date(2024, 12, 31)
        for before, after in pairwise(series):
            assert after.start == before.due + timedelta(days=1)
    assert [o.due for o in every_n_months(2024, 5)] == [date(2024, 5, 31), date(2024, 10, 31), date(2024, 12, 31)]
    assert len(daily(2024)) == 366 and len(daily(2023)) == 365


def test_monthly_day_is_clamped_to_short_months():
    dues = [o.due for o in monthly(2023, 30)]
    assert dues[0] == date(2023, 1, 30) and dues[1] == date(2023, 2, 28)


def test_weekly_is_clipped_to_the_budget_year():
    weeks = weekly(2025)  # 1 January 2025 is a Wednesday
    assert weeks[0] == Occurrence(date(2025, 1, 1), date(2025, 1, 5))
    assert weeks[-1] == Occurrence(date(2025, 12, 29), date(2025, 12, 31))


def test_deadline_before_the_budget_year_opens_in_its_own_year():
    assert deadline(2024, date(2024, 5, 31)) == Occurrence(date(2024, 1, 1), date(2024, 5, 31))
    assert deadline(2024, date(2023, 12, 31)) == Occurrence(date(2023, 1, 1), date(2023, 12, 31))


@pytest.mark.parametrize("day", [date(2024, 2, 10) + timedelta(days=i) for i in range(8)])
def test_spring_festival_2024_is_a_holiday(day):
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day,working",
    [
        (date(2024, 2, 4), True),  # Sunday made a workday (调休)
        (date(2024, 2, 18), True),  # Sunday made a workday
        (date(2024, 2, 9), True),  # 除夕 2024 was a normal Friday
        (date(2024, 2, 3), False),  # ordinary Saturday
        (date(2024, 10, 1), False),
        (date(2024, 10, 7), False),
        (date(2024, 10, 8), True),
        (date(2024, 9, 29), True),  # Sunday before National Day, adjusted workday
        (date(2024, 10, 12), True),  # Saturday after National Day, adjusted workday
    ],
)
def test_adjusted_workdays_and_national_day(day, working):
    assert is_working_day(day) is working


def test_previous_working_day_moves_reminders_out_of_holidays():
    assert previous_working_day(date(2024, 2, 15)) == date(2024, 2, 9)  # Spring Festival → the Friday before
    assert previous_working_day(date(2024, 10, 5)) == date(2024, 9, 30)
    assert previous_working_day(date(2024, 2, 4)) == date(2024, 2, 4)  # an adjusted workday stays
    assert previous_working_day(date(2024, 6, 12)) == date(2024, 6, 12)


def test_years_chinese_calendar_does_not_know_fall_back_to_monday_to_friday():
    # 1 January 2090 is a Sunday; no holiday data exists for that year.
    assert not is_working_day(date(2090, 1, 1))
    assert is_working_day(date(2090, 1, 2))
    assert previous_working_day(date(2090, 1, 1)) == date(2089, 12, 30)


def test_local_date_is_the_shanghai_calendar_day():
    late_utc = datetime(2024, 12, 31, 16, 30, tzinfo=UTC)
    assert local_date(late_utc) == date(2025, 1, 1)
    assert local_date(datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI)) == date(2024, 6, 1)
    with pytest.raises(ValueError):
        local_date(datetime(2024, 6, 1, 9, 0))


def test_festival_breaks_come_from_the_published_holidays():
    assert festival_holiday(2024, "春节") == Occurrence(date(2024, 2, 10), date(2024, 2, 17))
    assert festival_holiday(2024, "国庆") == Occurrence(date(2024, 10, 1), date(2024, 10, 7))
    assert festival_holiday(2024, "端午") == Occurrence(date(2024, 6, 8), date(2024, 6, 10))
    assert festival_holiday(2025, "春节") == Occurrence(date(2025, 1, 28), date(2025, 2, 4))
    assert festival_holiday(2090, "春节") is None
