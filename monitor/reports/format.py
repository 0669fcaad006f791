"""Numbers as the official tables print them: 万元 with two decimals, percentages with two."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import overload

from rules.formatting import fmt_decimal
from rules.reasons import PHRASES

MISSING = PHRASES["progress_missing"]["zh"]  # the word every reader of the tables already knows from the reasons
TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")


@overload
def wan(yuan: Decimal) -> Decimal: ...
@overload
def wan(yuan: Decimal | None) -> Decimal | None: ...
def wan(yuan: Decimal | None) -> Decimal | None:
    """元 → 万元, two decimals (how the monitoring and self-evaluation tables state funds)."""
    if yuan is None:
        return None
    return (Decimal(yuan) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


@overload
def two(value: Decimal) -> Decimal: ...
@overload
def two(value: Decimal | None) -> Decimal | None: ...
def two(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_text(value: Decimal | None) -> str:
    if value is None:
        return MISSING
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def quantity_text(value: Decimal | None, unit: str | None) -> str:
    """A reported figure with its unit as the lights' reasons write it; None is 未填报."""
    return MISSING if value is None else fmt_decimal(Decimal(value), unit)


def percent(value: Decimal | None) -> str:
    """A percentage value (85.5 means 85.5 %) as text; None is 未填报."""
    return MISSING if value is None else f"{two(value)}%"


def money(value: Decimal | None) -> str:
    return MISSING if value is None else f"{two(value):,.2f}"


def spans(keys: list) -> list[int]:
    """Rowspans for vertically merged cells: the first row of each run of equal keys gets the run's length,
    the others 0 (no cell), as the printed tables merge 一级/二级指标."""
    out = [0] * len(keys)
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out[start] = i - start
            start = i
    return out
