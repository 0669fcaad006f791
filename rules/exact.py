"""Exact decisions at the thresholds, for the vectorised rules.

The evaluation works on float columns for speed (a million indicators at a time), but a light is a decision at
a threshold, and float arithmetic puts a ratio that is exactly on one a hair below it (30 ÷ 50 × 100 gives
59.99999999999999, lit red under "below 60"). So every threshold decision is a comparison of two products,
Πlhs ⋚ Πrhs (e.g. actual × 100 < 60 × target × 序时进度, which is ratio < 60 without a division), computed in
floats, and the rows where the two sides lie within `EPSILON` of each other, the only ones whose sign float
error could flip, are decided again in exact rational arithmetic: a float factor by the shortest decimal that
reads back as it (the figure the store held, for figures of up to 15 significant digits), an exact factor (the
序时进度, `Progress`) by its own rational. The float error of a product of a few factors is a few units in the
last place, about 1e-15 relative, so a relative margin of 1e-9 leaves every other row's sign certain; such rows
are rare, so the exact pass costs nothing measurable.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction
from typing import Protocol

import numpy as np

__all__ = ["EPSILON", "Exact", "exact_number", "sign"]

EPSILON = 1e-9


class Exact(Protocol):
    """A float column that knows its exact value row by row (`rules.time_progress.Progress`)."""

    @property
    def fraction(self) -> np.ndarray: ...

    def exact(self, i: int) -> Fraction: ...


Factor = np.ndarray | Exact | Decimal | int | float


def exact_number(value: Decimal | float | int) -> Fraction:
    """A figure as the exact rational it was written as: a float by its shortest decimal form (what it was read
    from), not by its binary expansion."""
    return Fraction(repr(float(value))) if isinstance(value, float | np.floating) else Fraction(value)


def _approx(factor: Factor) -> np.ndarray | float:
    if isinstance(factor, np.ndarray):
        return factor.astype(np.float64, copy=False)
    if isinstance(factor, Decimal | int | float):
        return float(factor)
    return factor.fraction


def _product(factors: Sequence[Factor], n: int) -> np.ndarray:
    out = np.ones(n)
    for factor in factors:
        out = out * _approx(factor)
    return out


def _exact_products(factors: Sequence[Factor], idx: np.ndarray) -> tuple[list[Decimal], list[Decimal]]:
    """Numerator and denominator of Πfactors at rows `idx`, as exact Decimals (the caller's context must hold
    them: see `sign`). A float column goes through its shortest decimal form, one C-level pass per column."""
    num = [Decimal(1)] * len(idx)
    den = [Decimal(1)] * len(idx)
    for factor in factors:
        if isinstance(factor, np.ndarray):
            values = list(map(Decimal, map(repr, factor[idx].astype(np.float64).tolist())))
            num = list(map(operator.mul, num, values))
        elif isinstance(factor, Decimal | int | float):
            value = Decimal(repr(factor)) if isinstance(factor, float) else Decimal(factor)
            num = [x * value for x in num]
        else:
            rationals = [factor.exact(int(i)) for i in idx]
            num = [x * r.numerator for x, r in zip(num, rationals, strict=True)]
            den = [x * r.denominator for x, r in zip(den, rationals, strict=True)]
    return num, den


def sign(lhs: Sequence[Factor], rhs: Sequence[Factor], n: int, where: np.ndarray | None = None) -> np.ndarray:
    """sign(Πlhs − Πrhs) for each of `n` rows: -1, 0 or 1, NaN where a factor is NaN (so that every comparison of
    the result with 0 is False there, as the float comparison it replaces was).

    Only the rows in `where` (all if None) are settled exactly: pass the rows whose decision is used, so that
    rows that tie for a reason the rule does not look at (a met target's actual = target) cost nothing."""
    left, right = _product(lhs, n), _product(rhs, n)
    with np.errstate(invalid="ignore"):
        out = np.sign(left - right)
        near = np.abs(left - right) <= EPSILON * np.maximum(np.abs(left), np.abs(right))
    if where is not None:
        near &= where
    idx = np.flatnonzero(near)
    if len(idx):
        with localcontext() as ctx:  # wide enough for any product of a few figures; refuse to round
            ctx.prec, ctx.Emax, ctx.Emin = 400, 10**6, -(10**6)
            ctx.traps[Inexact] = True
            a_num, a_den = _exact_products(lhs, idx)
            b_num, b_den = _exact_products(rhs, idx)
            a = list(map(operator.mul, a_num, b_den))
            b = list(map(operator.mul, b_num, a_den))
            out[idx] = [(x > y) - (x < y) for x, y in zip(a, b, strict=True)]
    return out
