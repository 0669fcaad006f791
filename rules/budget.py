"""The budget in force (全年预算数 / 调整后预算数): the budget as imported (年初预算数) plus every budget adjustment
in force dated on or before the day asked about.

Pure: no database, no clock. An adjustment is a signed amount in 元 (a cut is negative) with the day it takes
effect; which adjustments are in force (not superseded by a correction) is the store's rule
(`monitor.store.facts`), applied before these functions see them. A project without a 年初预算数 and without
adjustments has no budget (None), one without a 年初预算数 but adjusted starts from 0: "年初 0, 调整后 3.36万".

`budgets_in_force` is the vectorised form the evaluation uses. It sums in whole 分 (money is stored with two
decimals), so the float it returns is the one nearest the exact decimal sum, which the exact threshold decisions
(`rules.exact`) read back as that decimal: 0.1 + 0.2 is 0.3 here, not 0.30000000000000004.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

__all__ = ["budget_in_force", "budgets_in_force"]


def budget_in_force(initial: Decimal | None, adjustments: Iterable[tuple[date, Decimal]], on: date) -> Decimal | None:
    """年初预算数 plus the adjustments (effective day, signed amount) dated on or before `on`."""
    moved = [amount for day, amount in adjustments if day <= on]
    if not moved:
        return initial
    return (initial or Decimal(0)) + sum(moved, Decimal(0))


def budgets_in_force(projects: pd.DataFrame, adjustments: pd.DataFrame | None, as_of: date) -> np.ndarray:
    """Per row of `projects` (project_id, annual_funds in float 元, NaN when not imported): the budget in force at
    `as_of`, as float 元 (NaN when there is none). `adjustments` has project_id, amount (float 元), effective_on."""
    funds = projects["annual_funds"].to_numpy(dtype=np.float64)
    if adjustments is None or adjustments.empty:
        return funds
    days = pd.to_datetime(adjustments["effective_on"]).to_numpy().astype("datetime64[D]")
    current = adjustments[days <= np.datetime64(as_of, "D")]
    if current.empty:
        return funds
    cents = np.rint(current["amount"].to_numpy(dtype=np.float64) * 100).astype(np.int64)
    moved = pd.Series(cents).groupby(current["project_id"].to_numpy()).sum()
    delta = moved.reindex(projects["project_id"].to_numpy())
    adjusted = delta.notna().to_numpy()
    base = np.rint(np.nan_to_num(funds, nan=0.0) * 100).astype(np.int64)
    total = (base + np.nan_to_num(delta.to_numpy(dtype=np.float64), nan=0.0).astype(np.int64)) / 100
    return np.where(adjusted, total, funds)
