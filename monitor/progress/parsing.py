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


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str | None:
    if blank(value):
        return None
    return str(value).strip()


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
    if not number_.is_finite() or number_ != number_.to_integral_value() or number_ <= 0:
        return None
    return int(number_)
