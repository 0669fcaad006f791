"""Reading what people type (in a form, a spreadsheet cell or JSON) into numbers, dates and choices.

Each reader returns the value or raises `ValueError` with a message fit to show next to the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.terms import GRADES, LIKELIHOODS

GRADE_ALIASES = {
    "达成": GRADES[0], GRADES[0]: GRADES[0], "全部达成": GRADES[0], "A": GRADES[0],
    "部分达成": GRADES[1], GRADES[1]: GRADES[1], "B": GRADES[1],
    "未达成": GRADES[2], GRADES[2]: GRADES[2], "C": GRADES[2],
}


# What the store's columns hold exactly (monitor/store/types.py): money NUMERIC(18, 2), measures NUMERIC(24, 6).
MONEY_DIGITS, MONEY_PLACES = 16, 2
MEASURE_DIGITS, MEASURE_PLACES = 18, 6
# The largest id either store can hold in an INTEGER key (PostgreSQL's int4; SQLite's keys are never this large).
MAX_RECORD_ID = 2**31 - 1


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str | None:
    """Typed text, stripped; a NUL character is refused (PostgreSQL cannot store one, and no person types it)."""
    if blank(value):
        return None
    result = str(value).strip()
    if "\x00" in result:
        raise ValueError("含有空字符（NUL），请删除后重试 (contains a NUL character)")
    return result


def number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("应为数字 (expected a number)")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        cleaned = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
        cleaned = cleaned.rstrip("%％")
        try:
            result = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"“{str(value).strip()[:40]}”不是数字 (not a number)") from None
    if not result.is_finite():
        raise ValueError("应为有限的数字 (expected a finite number)")
    return result


def money(value: Any) -> Decimal:
    """An amount in 元 that the store keeps exactly: at most 16 digits before the point and 2 after."""
    return _bounded(number(value), MONEY_DIGITS, MONEY_PLACES, "金额")


def measure(value: Any) -> Decimal:
    """A reported value or forecast that the store keeps exactly: at most 18 digits before the point, 6 after."""
    return _bounded(number(value), MEASURE_DIGITS, MEASURE_PLACES, "数值")


def _bounded(value: Decimal, digits: int, places: int, what: str) -> Decimal:
    if value.adjusted() >= digits:
        raise ValueError(f"{what}过大：整数部分最多 {digits} 位 (too large: at most {digits} digits before the point)")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{what}最多 {places} 位小数 (at most {places} decimal places)")
    return value


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(str(value))
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(f"“{str(value).strip()[:40]}”不是日期，请写成 2024-07-31 (not a date; use YYYY-MM-DD)")


def grade(value: Any) -> str:
    key = str(value).strip()
    if key in GRADE_ALIASES:
        return GRADE_ALIASES[key]
    raise ValueError(f"评价等级“{key[:40]}”未知，应为：{' / '.join(GRADES)} (unknown grade)")


def likelihood(value: Any) -> str:
    key = str(value).strip()
    if key in LIKELIHOODS:
        return key
    raise ValueError(f"“{key[:40]}”未知，应为：{' / '.join(LIKELIHOODS)} (unknown likelihood)")


def record_id(value: Any) -> int | None:
    """An id as typed: 12, "12", 12.0 (Excel) or " 12 "; None if it is not a whole positive number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number_ = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number_.is_finite() or number_ != number_.to_integral_value() or not 0 < number_ <= MAX_RECORD_ID:
        return None
    return int(number_)
