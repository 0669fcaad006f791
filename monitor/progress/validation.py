"""What a report must contain for its indicator's kind, and the refusals that name the field.

A channel reads its input into a `ReportEntry` (`monitor.progress.entries`); `validate` checks that entry
against its indicator's target, once, whichever channel it came from.

quantity/percent → value + as_of; deadline/window/recurring → occurrence_due (one of the indicator's
occurrences) + completed_on; qualitative → grade (+ explanation unless fully met); unparsed → either a
value + as_of or a grade. Any kind may carry forecast, deviation causes, likelihood and a note.
Dates (of reports and of spending) must lie in the budget year ±1 and never after `today` (a parameter: no
clock here).

Every fact says which period it is for, whenever it was typed: a value or spending its as-of date, a timed
report its occurrence, a grade its as-of date when given. Once the budget year is over, an entry that names no
date is a year-end result and is recorded for 31 December of the budget year (`year_end_as_of`), whichever
channel it came through; the channel tells the person so (`YEAR_END_NOTICE`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from monitor.progress.entries import MAX_TEXT, ReportEntry, SpendingEntry
from monitor.store.models import Indicator, Project
from rules.bilingual import sides
from rules.calendar import closed_year_end
from rules.targets import Target
from rules.terms import FUND_SOURCES, GRADES, MEASURED_KINDS, SCHEDULED_KINDS

FIELD_LABELS = {
    "indicator_id": "指标编号", "value": "数值", "as_of": "截至日期", "occurrence_due": "完成期次",
    "completed_on": "完成日期", "grade": "评价等级", "explanation": "情况说明", "forecast": "全年预计完成情况",
    "deviation_causes": "偏差原因", "likelihood": "完成目标可能性", "note": "备注", "supersedes_id": "更正的记录",
    "project_id": "项目编号", "amount": "执行数", "kind": "类型",
    "effective_on": "调整日期", "reason": "调整原因", "source": "资金来源",
} | {name: f"其中：{label}" for name, label in FUND_SOURCES.items()}
KIND_LABELS = {"quantity": "数量", "percent": "百分比", "deadline": "截止", "recurring": "周期", "window": "时段",
               "qualitative": "定性", "unparsed": "未能识别"}
MAX_VALUE = Decimal("1e15")
YEAR_END_NOTICE = ("未填截至日期，按 {year} 年度年末 {day} 记入该年度 "
                   "(no as-of date: recorded for the end of budget year {year})")


def year_end_notice(year: int) -> str:
    """What a channel says about an entry it recorded for 31 December of `year` because it named no date."""
    return YEAR_END_NOTICE.format(year=year, day=date(year, 12, 31).isoformat())


def year_end_as_of(entry: ReportEntry | SpendingEntry, kind: str | None, year: int, today: date) -> date | None:
    """The as-of date an entry without one is recorded for: 31 December of its budget year once that year is
    over, for the kinds whose facts are dated by it (values, grades and spending: `kind` None); else None."""
    if entry.given("as_of") or (kind is not None and kind in SCHEDULED_KINDS):
        return None
    return closed_year_end(year, today)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    index: int | None = None  # position in a batch
    label: str | None = None  # the field's name where FIELD_LABELS' would mislead (a budget adjustment's amount)

    def __str__(self) -> str:
        where = f"第 {self.index + 1} 条 " if self.index is not None else ""
        return f"{where}{self.field}（{self.shown_label}）：{self.message}"

    @property
    def shown_label(self) -> str:
        return self.label or FIELD_LABELS.get(self.field, self.field)

    def to_json(self) -> dict:
        return {"index": self.index, "field": self.field, "label": self.shown_label, "problem": self.message}


class ValidationFailed(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    def said(self, lang: str) -> str:
        """The problems in one language, for a message that quotes them: each field (its Chinese label, or its
        name in English) and that side of its "中文 (english)" message."""
        def one(p: Problem) -> str:
            chinese, english = sides(p.message) or (p.message, p.message)
            if lang == "en":
                return ("" if p.index is None else f"entry {p.index + 1} ") + f"{p.field}: {english}"
            return ("" if p.index is None else f"第 {p.index + 1} 条 ") + f"{p.shown_label}：{chinese}"

        return ("; " if lang == "en" else "；").join(one(p) for p in self.problems)


@dataclass(frozen=True)
class IndicatorInfo:
    """An indicator with what is needed to judge a report on it."""

    indicator: Indicator
    project: Project
    year: int
    target: Target

    @property
    def indicator_id(self) -> int:
        """The indicator's id (an IndicatorInfo is made from stored rows only)."""
        assert self.indicator.id is not None
        return self.indicator.id

    @property
    def kind(self) -> str:
        return self.target.kind

    @property
    def occurrence_dues(self) -> tuple[date, ...]:
        return tuple(o.due for o in self.target.occurrences)


def indicator_info(indicator: Indicator, project: Project, year: int) -> IndicatorInfo:
    """The indicator with its stored target, so a report is judged against what the import read."""
    return IndicatorInfo(indicator, project, year, indicator.target)


def checked_day(value: date | None, name: str, year: int, today: date, problems: list[Problem],
                index: int | None = None) -> date | None:
    """A date of the budget year's facts: not after `today` and within the budget year ±1."""
    if value is None:
        return None
    if value > today:
        problems.append(Problem(name, f"{value.isoformat()} 晚于今天 {today.isoformat()} (date in the future)", index))
    elif not date(year - 1, 1, 1) <= value <= date(year + 1, 12, 31):
        problems.append(Problem(name, f"{value.isoformat()} 不在预算年度 {year} 前后一年内 "
                                      f"(outside budget year {year} ±1)", index))
    return value


def checked_text(value: str | None, name: str, problems: list[Problem], index: int | None = None) -> str | None:
    if value is not None and len(value) > MAX_TEXT:
        problems.append(Problem(name, f"过长（{len(value)} 字，最多 {MAX_TEXT}）(too long)", index))
    return value


def add_unreadable(entry: ReportEntry | SpendingEntry, name: str, problems: list[Problem],
               index: int | None = None) -> bool:
    """Add why the field could not be read, if it could not; True if so."""
    messages = entry.unreadable.get(name)
    if messages:
        problems.extend(Problem(name, message, index) for message in messages)
    return bool(messages)


def _day(entry: ReportEntry, name: str, info: IndicatorInfo, today: date, problems: list[Problem]) -> None:
    if not add_unreadable(entry, name, problems):
        checked_day(getattr(entry, name), name, info.year, today, problems)


def _not_for_kind(entry: ReportEntry, names: tuple[str, ...], kind: str, problems: list[Problem]) -> None:
    for name in names:
        if entry.given(name):
            problems.append(Problem(name, f"{KIND_LABELS.get(kind, kind)}类指标不填此项 "
                                          f"(not used for {kind} indicators)"))


def _value(entry: ReportEntry, info: IndicatorInfo, problems: list[Problem]) -> None:
    if not entry.given("value"):
        problems.append(Problem("value", "请填写数值 (value is required)"))
        return
    if add_unreadable(entry, "value", problems):
        return
    value = entry.value
    assert value is not None  # given and readable, so read
    target_value = info.target.value
    if value < 0 and not (target_value is not None and target_value < 0):
        problems.append(Problem("value", f"{value} 为负数，完成值不能小于 0 (must not be negative)"))
    elif abs(value) >= MAX_VALUE:
        problems.append(Problem("value", f"{value} 过大 (too large)"))


def validate(entry: ReportEntry, info: IndicatorInfo, today: date) -> tuple[ReportEntry, list[Problem]]:
    """The entry checked against its indicator's target: every refusal (none means it may be stored), and
    the entry as it is stored (the only occurrence implied, the year-end date of an undated entry after the
    budget year, what the kind ignores dropped)."""
    problems: list[Problem] = []
    kind = info.kind
    year_end = year_end_as_of(entry, kind, info.year, today)
    if year_end is not None:
        entry = replace(entry, as_of=year_end)
    if kind in MEASURED_KINDS or (kind == "unparsed" and entry.given("value")):
        _value(entry, info, problems)
        if not entry.given("as_of"):
            problems.append(Problem("as_of", "请填写截至日期 (as-of date is required)"))
        else:
            _day(entry, "as_of", info, today, problems)
        _not_for_kind(entry, ("occurrence_due", "completed_on", "grade"), kind, problems)
    elif kind in SCHEDULED_KINDS:
        dues = info.occurrence_dues
        if not entry.given("occurrence_due"):
            if len(dues) == 1:
                entry = replace(entry, occurrence_due=dues[0])
            else:
                problems.append(Problem("occurrence_due", "请选择完成的是哪一期 (which occurrence is required)"))
        elif not add_unreadable(entry, "occurrence_due", problems) and entry.occurrence_due not in dues:
            due = entry.occurrence_due
            assert due is not None  # given and readable, so read
            listed = "、".join(d.isoformat() for d in dues[:6]) + ("…" if len(dues) > 6 else "")
            problems.append(Problem("occurrence_due", f"{due.isoformat()} 不是该指标的期次，应为：{listed or '无'} "
                                                      "(not one of this indicator's occurrences)"))
        if not entry.given("completed_on"):
            problems.append(Problem("completed_on", "请填写完成日期 (completion date is required)"))
        else:
            _day(entry, "completed_on", info, today, problems)
        _not_for_kind(entry, ("value", "grade"), kind, problems)
        _day(entry, "as_of", info, today, problems)
    else:  # qualitative, or unparsed without a number
        if not entry.given("grade"):
            problems.append(Problem("grade", f"请选择评价等级：{' / '.join(GRADES)} (grade is required)"))
        else:
            add_unreadable(entry, "grade", problems)
        if entry.grade and entry.grade != GRADES[0] and entry.explanation is None:
            problems.append(Problem("explanation", "未完全达成时请说明情况 (explain a grade below 达成)"))
        _not_for_kind(entry, ("occurrence_due", "completed_on"), kind, problems)
        _day(entry, "as_of", info, today, problems)
        if entry.value is not None:  # a number on a graded indicator is not asked for and not kept
            entry = replace(entry, value=None)
    for name in ("explanation", "note"):
        checked_text(getattr(entry, name), name, problems)
    for name in ("explanation", "note", "forecast", "likelihood", "deviation_causes", "supersedes_id"):
        add_unreadable(entry, name, problems)
    return entry, problems
