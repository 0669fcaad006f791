"""Amounts as printed in a 绩效目标表, and the unit they are printed in: everything is stored in 元.

A table says its unit once, in a header cell (`项目资金（万元）`, `金额单位：万元`, `资金情况(万元)`), or an amount
carries it (`16万元`). Guessing is never done: an amount whose unit cannot be told is refused by the caller,
because 20 stored as 20.00 元 instead of 200,000.00 元 is a loss nobody notices.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from monitor.importers.levels import squash

WAN = Decimal("10000")
UNITS = {"元": Decimal("1"), "万元": WAN}
_AMOUNT = re.compile(r"^(?P<number>-?\d[\d,]*(?:\.\d+)?)\s*(?P<unit>万元|元)?$")
# 项目资金（元） · 资金情况(万元) · 金额单位：万元 · 单位:元 · 金额(万元) · 年度预算数(万元), once squashed
_TABLE_UNIT = re.compile(r"(?:[（(](?P<paren>万元|元)[）)]|(?:金额)?单位[：:](?P<label>万元|元)(?![\u4e00-\u9fff]))")


def read_amount(text: str) -> tuple[Decimal, str | None] | None:
    """(number, unit printed in the cell or None) for a cell that is an amount; None for any other cell."""
    match = _AMOUNT.match(squash(text))
    if match is None:
        return None
    try:
        number = Decimal(match.group("number").replace(",", ""))
    except InvalidOperation:
        return None
    return number, match.group("unit")


def unit_in(text: str) -> str | None:
    """The unit a header cell declares for the table's amounts (万元 or 元), or None when it declares none."""
    match = _TABLE_UNIT.search(squash(text))
    if match is None:
        return None
    return match.group("paren") or match.group("label")


def to_yuan(number: Decimal, unit: str) -> Decimal:
    return (number * UNITS[unit]).quantize(Decimal("0.01"))
