"""A report or a spending entry as a channel read it: real types, and what could not be read.

Each channel builds its entries from its own raw input: the portal from form text, the workbook from cells
(text, numbers, dates), the API from its JSON schema, the demo from values it computed. `read_report` and
`read_spending` turn what a person typed into these types, with the messages people see. A field that was
filled in but cannot be read stays empty and keeps its message in `unreadable`: only validation knows the
indicator's kind, and so whether that message applies or the field is not used for the kind at all.
`validation.validate` then checks an entry against its indicator's target; `service.record_reports` stores it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from monitor.progress import parsing
from rules.terms import DEVIATION_CAUSES, FUND_SOURCES

MAX_TEXT = 2000
NO_SUCH_INDICATOR = "指标 {} 不存在或不属于本部门 (no such indicator in your departments)"
NO_SUCH_PROJECT = "项目 {} 不存在或不属于本部门 (no such project)"
NOT_A_RECORD = "应为记录编号 (expected a record id)"

T = TypeVar("T")
Unreadable = dict[str, tuple[str, ...]]  # field -> why what was typed there could not be read


@dataclass(frozen=True)
class ReportEntry:
    """One report on an indicator. `supersedes_id` corrects one specific earlier row.

    `grade` is one of GRADES, `likelihood` one of LIKELIHOODS, the keys of `deviation_causes` are DEVIATION_CAUSES;
    a 全年预计完成情况 in words is `forecast_text`. `indicator_id` is None only when it could not be read.
    """

    indicator_id: int | None
    value: Decimal | None = None
    as_of: date | None = None
    occurrence_due: date | None = None
    completed_on: date | None = None
    grade: str | None = None
    explanation: str | None = None
    forecast: Decimal | None = None
    forecast_text: str | None = None
    deviation_causes: dict[str, str] | None = None
    likelihood: str | None = None
    note: str | None = None
    supersedes_id: int | None = None
    unreadable: Unreadable = field(default_factory=dict)

    FACT_FIELDS: ClassVar[tuple[str, ...]] = (
        "value", "as_of", "occurrence_due", "completed_on", "grade", "explanation", "forecast", "forecast_text",
        "deviation_causes", "likelihood")

    def given(self, name: str) -> bool:
        """Whether the field was filled in (read or not)."""
        return getattr(self, name) is not None or name in self.unreadable


@dataclass(frozen=True)
class SpendingEntry:
    """A project's spending to date in 元 as of a date. `project_id` is None only when it could not be read.

    `amount` is the total; `fiscal`, `other` and `carryover` its parts by source (`rules.terms.FUND_SOURCES`),
    any of them, or none when only the total is known. Given parts without a total make the total."""

    project_id: int | None
    amount: Decimal | None = None
    as_of: date | None = None
    note: str | None = None
    supersedes_id: int | None = None
    fiscal: Decimal | None = None
    other: Decimal | None = None
    carryover: Decimal | None = None
    unreadable: Unreadable = field(default_factory=dict)

    SOURCE_FIELDS: ClassVar[tuple[str, ...]] = tuple(FUND_SOURCES)

    def given(self, name: str) -> bool:
        return getattr(self, name) is not None or name in self.unreadable


def read_report(indicator_id: Any, *, value: Any = None, as_of: Any = None, occurrence_due: Any = None,
                completed_on: Any = None, grade: Any = None, explanation: Any = None, forecast: Any = None,
                deviation_causes: Mapping[str, Any] | None = None, likelihood: Any = None, note: Any = None,
                supersedes_id: Any = None) -> ReportEntry:
    """A report from what was typed: form text, spreadsheet cells or JSON values, any of them blank."""
    unreadable: Unreadable = {}
    forecast_number = forecast_text = None
    if not parsing.blank(forecast):
        try:
            parsing.number(forecast)
        except ValueError:
            forecast_text = _read("forecast", forecast, _clipped, unreadable)
        else:  # a number the store cannot keep exactly is refused, not kept as text
            forecast_number = _read("forecast", forecast, parsing.measure, unreadable)
    return ReportEntry(
        indicator_id=_read_id(indicator_id, "indicator_id", NO_SUCH_INDICATOR, unreadable),
        value=_read("value", value, parsing.measure, unreadable),
        as_of=_read("as_of", as_of, parsing.day, unreadable),
        occurrence_due=_read("occurrence_due", occurrence_due, parsing.day, unreadable),
        completed_on=_read("completed_on", completed_on, parsing.day, unreadable),
        grade=_read("grade", grade, parsing.grade, unreadable),
        explanation=_read("explanation", explanation, parsing.text, unreadable), forecast=forecast_number,
        forecast_text=forecast_text,
        deviation_causes=_read_causes(deviation_causes, unreadable),
        likelihood=_read("likelihood", likelihood, parsing.likelihood, unreadable),
        note=_read("note", note, parsing.text, unreadable),
        supersedes_id=_read("supersedes_id", supersedes_id, _record_id, unreadable),
        unreadable=unreadable)


def read_spending(project_id: Any, amount: Any = None, as_of: Any = None, note: Any = None,
                  supersedes_id: Any = None, *, fiscal: Any = None, other: Any = None,
                  carryover: Any = None) -> SpendingEntry:
    """Spending from what was typed (the amounts in 元; the parts by source optional)."""
    unreadable: Unreadable = {}
    return SpendingEntry(
        project_id=_read_id(project_id, "project_id", NO_SUCH_PROJECT, unreadable),
        amount=_read("amount", amount, parsing.money, unreadable),
        as_of=_read("as_of", as_of, parsing.day, unreadable),
        note=_read("note", note, parsing.text, unreadable),
        supersedes_id=_read("supersedes_id", supersedes_id, _record_id, unreadable),
        fiscal=_read("fiscal", fiscal, parsing.number, unreadable),
        other=_read("other", other, parsing.number, unreadable),
        carryover=_read("carryover", carryover, parsing.number, unreadable),
        unreadable=unreadable)


def _read(name: str, raw: Any, parse: Callable[[Any], T], unreadable: Unreadable) -> T | None:
    if parsing.blank(raw):
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        unreadable[name] = (str(exc),)
        return None


def _read_id(raw: Any, name: str, missing: str, unreadable: Unreadable) -> int | None:
    """What is not a record id names nothing: the message is the one for an id that names nothing."""
    value = parsing.record_id(raw)
    if value is None:
        unreadable[name] = (missing.format(raw),)
    return value


def _record_id(raw: Any) -> int:
    value = parsing.record_id(raw)
    if value is None:
        raise ValueError(NOT_A_RECORD)
    return value


def _clipped(raw: Any) -> str:
    """Free text as kept: at most MAX_TEXT characters."""
    return str(parsing.text(raw))[:MAX_TEXT]


def _read_causes(raw: Mapping[str, Any] | None, unreadable: Unreadable) -> dict[str, str] | None:
    causes: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in (raw or {}).items():
        if parsing.blank(value):
            continue
        if key not in DEVIATION_CAUSES:
            unknown.append(f"“{str(key)[:20]}”不是偏差原因类别，应为：{' / '.join(DEVIATION_CAUSES)} "
                           "(unknown deviation cause)")
            continue
        try:
            causes[key] = _clipped(value)
        except ValueError as exc:
            unknown.append(f"{key}：{exc}")
    if unknown:
        unreadable["deviation_causes"] = tuple(unknown)
    return causes or None


@dataclass(frozen=True)
class AdjustmentEntry:
    """One budget adjustment (the finance bureau's: `monitor.progress.budget`) as a channel read it."""

    project_id: int | None
    amount: Decimal | None = None
    effective_on: date | None = None
    reason: str | None = None
    source: str | None = None
    supersedes_id: int | None = None
    unreadable: Unreadable = field(default_factory=dict)


def _source(raw: Any) -> str:
    """A fund source by its key (fiscal) or its name (财政拨款)."""
    text = str(raw).strip()
    names = {name: key for key, name in FUND_SOURCES.items()}
    if text in FUND_SOURCES:
        return text
    if text in names:
        return names[text]
    raise ValueError(f"“{text[:20]}”不是资金来源，应为：{' / '.join(FUND_SOURCES.values())} (unknown fund source)")


def read_adjustment(project_id: Any, *, amount: Any = None, effective_on: Any = None, reason: Any = None,
                    source: Any = None, supersedes_id: Any = None) -> AdjustmentEntry:
    """An adjustment from what was typed (form text, CLI options or JSON values)."""
    unreadable: Unreadable = {}
    return AdjustmentEntry(
        project_id=_read_id(project_id, "project_id", NO_SUCH_PROJECT, unreadable),
        amount=_read("amount", amount, parsing.number, unreadable),
        effective_on=_read("effective_on", effective_on, parsing.day, unreadable),
        reason=parsing.text(reason), source=_read("source", source, _source, unreadable),
        supersedes_id=_read("supersedes_id", supersedes_id, _record_id, unreadable),
        unreadable=unreadable)
