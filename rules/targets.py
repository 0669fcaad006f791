"""Target grammar: turn a free-text 指标值 into a typed, scheduled `Target`.

Pure: no database, no clock. The budget year is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

TARGET_KINDS: tuple[str, ...] = (
    "quantity",
    "percent",
    "deadline",
    "recurring",
    "window",
    "qualitative",
    "unparsed",
)


@dataclass(frozen=True, slots=True)
class Occurrence:
    start: date
    due: date

    def to_json(self) -> dict:
        return {"start": self.start.isoformat(), "due": self.due.isoformat()}


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    kind: str
    comparator: str | None
    value: Decimal | None
    unit: str | None
    direction: str | None
    inferred: tuple[str, ...]
    occurrences: tuple[Occurrence, ...]
    reason: str | None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "kind": self.kind,
            "comparator": self.comparator,
            "value": None if self.value is None else format(self.value, "f"),
            "unit": self.unit,
            "direction": self.direction,
            "inferred": list(self.inferred),
            "occurrences": [o.to_json() for o in self.occurrences],
            "reason": self.reason,
        }

    def canonical(self) -> str:
        raise NotImplementedError


def parse_target(
    text: str,
    *,
    year: int,
    level2: str | None = None,
    name: str | None = None,
    strict_month_before: bool = False,
) -> Target:
    return Target(text, "unparsed", None, None, None, None, (), (), "尚未实现")


@lru_cache(maxsize=65536)
def parse_target_cached(
    text: str,
    year: int,
    level2: str | None = None,
    name: str | None = None,
    strict_month_before: bool = False,
) -> Target:
    """Bulk variant: identical texts recur thousands of times across projects and years."""
    return parse_target(text, year=year, level2=level2, name=name, strict_month_before=strict_month_before)
