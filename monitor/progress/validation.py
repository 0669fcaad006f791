"""What a report must contain for its indicator's kind, and the refusals that name the field.

quantity/percent → value + as_of; deadline/window/recurring → occurrence_due (one of the indicator's
occurrences) + completed_on; qualitative → grade (+ explanation unless fully met); unparsed → either a
value + as_of or a grade. Any kind may carry forecast, deviation causes, likelihood and a note.
Dates (of reports and of spending) must lie in the budget year ±1 and never after `today` (a parameter: no
clock here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rules.targets import Target
from rules.terms import DEVIATION_CAUSES, GRADES, MEASURED_KINDS, SCHEDULED_KINDS

from monitor.progress import parsing
from monitor.store.models import Indicator, Project

FIELD_LABELS = {
    "indicator_id": "指标编号", "value": "数值", "as_of": "截至日期", "occurrence_due": "完成期次",
    "completed_on": "完成日期", "grade": "评价等级", "explanation": "情况说明", "forecast": "全年预计完成情况",
    "deviation_causes": "偏差原因", "likelihood": "完成目标可能性", "note": "备注", "supersedes_id": "更正的记录",
    "project_id": "项目编号", "amount": "执行数", "kind": "类型",
}
KIND_LABELS = {"quantity": "数量", "percent": "百分比", "deadline": "截止", "recurring": "周期", "window": "时段",
               "qualitative": "定性", "unparsed": "未能识别"}
MAX_TEXT = 2000
MAX_VALUE = Decimal("1e15")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    index: int | None = None  # position in a batch

    def __str__(self) -> str:
        where = f"第 {self.index + 1} 条 " if self.index is not None else ""
        return f"{where}{self.field}（{FIELD_LABELS.get(self.field, self.field)}）：{self.message}"

    def to_json(self) -> dict:
        return {"index": self.index, "field": self.field, "label": FIELD_LABELS.get(self.field, self.field),
                "problem": self.message}


class ValidationFailed(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class IndicatorInfo:
    """An indicator with what is needed to judge a report on it."""

    indicator: Indicator
    project: Project
    year: int
    target: Target

    @property
    def kind(self) -> str:
        return self.target.kind

    @property
    def occurrence_dues(self) -> tuple[date, ...]:
        return tuple(o.due for o in self.target.occurrences)


def indicator_info(indicator: Indicator, project: Project, year: int) -> IndicatorInfo:
    """The indicator with its stored target, so a report is judged against what the import read."""
    return IndicatorInfo(indicator, project, year, indicator.target)


@dataclass
class ReportDraft:
    """A report as typed: any field may still be text. `supersedes_id` corrects one specific earlier row."""

    indicator_id: Any = None
    value: Any = None
    as_of: Any = None
    occurrence_due: Any = None
    completed_on: Any = None
    grade: Any = None
    explanation: Any = None
    forecast: Any = None
    deviation_causes: dict[str, Any] | None = None
    likelihood: Any = None
    note: Any = None
    supersedes_id: Any = None


@dataclass
class CleanReport:
    indicator_id: int
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
    problems: list[Problem] = field(default_factory=list)

    FACT_FIELDS = ("value", "as_of", "occurrence_due", "completed_on", "grade", "explanation", "forecast",
                   "forecast_text", "deviation_causes", "likelihood")

    def slot(self, kind: str) -> tuple:
        """Which fact this is about: a newer report on the same slot supersedes the older one."""
        if kind in SCHEDULED_KINDS:
            return ("occurrence", self.occurrence_due)
        if kind in MEASURED_KINDS or (kind == "unparsed" and self.value is not None):
            return ("as_of", self.as_of)
        return ("grade",)


def checked_day(raw: Any, name: str, year: int, today: date, problems: list[Problem],
                index: int | None = None) -> date | None:
    """A date of the budget year's facts: not after `today` and within the budget year ±1."""
    try:
        value = parsing.day(raw)
    except ValueError as exc:
        problems.append(Problem(name, str(exc), index))
        return None
    if value > today:
        problems.append(Problem(name, f"{value.isoformat()} 晚于今天 {today.isoformat()} (date in the future)", index))
    elif not date(year - 1, 1, 1) <= value <= date(year + 1, 12, 31):
        problems.append(Problem(name, f"{value.isoformat()} 不在预算年度 {year} 前后一年内 "
                                      f"(outside budget year {year} ±1)", index))
    return value


def checked_text(raw: Any, name: str, problems: list[Problem], index: int | None = None) -> str | None:
    value = parsing.text(raw)
    if value is not None and len(value) > MAX_TEXT:
        problems.append(Problem(name, f"过长（{len(value)} 字，最多 {MAX_TEXT}）(too long)", index))
    return value


def _not_for_kind(draft: ReportDraft, names: tuple[str, ...], kind: str, problems: list[Problem]) -> None:
    for name in names:
        if not parsing.blank(getattr(draft, name)):
            problems.append(Problem(name, f"{KIND_LABELS.get(kind, kind)}类指标不填此项 (not used for {kind} indicators)"))


def _value(draft: ReportDraft, info: IndicatorInfo, problems: list[Problem]) -> Decimal | None:
    if parsing.blank(draft.value):
        problems.append(Problem("value", "请填写数值 (value is required)"))
        return None
    try:
        value = parsing.number(draft.value)
    except ValueError as exc:
        problems.append(Problem("value", str(exc)))
        return None
    target_value = info.target.value
    if value < 0 and not (target_value is not None and target_value < 0):
        problems.append(Problem("value", f"{value} 为负数，完成值不能小于 0 (must not be negative)"))
    elif abs(value) >= MAX_VALUE:
        problems.append(Problem("value", f"{value} 过大 (too large)"))
    return value


def validate(draft: ReportDraft, info: IndicatorInfo, today: date) -> CleanReport:
    """The draft made typed and checked; `problems` lists every refusal (empty means it may be stored)."""
    problems: list[Problem] = []
    clean = CleanReport(indicator_id=info.indicator.id)
    kind = info.kind
    if kind in MEASURED_KINDS or (kind == "unparsed" and not parsing.blank(draft.value)):
        clean.value = _value(draft, info, problems)
        if parsing.blank(draft.as_of):
            problems.append(Problem("as_of", "请填写截至日期 (as-of date is required)"))
        else:
            clean.as_of = checked_day(draft.as_of, "as_of", info.year, today, problems)
        _not_for_kind(draft, ("occurrence_due", "completed_on", "grade"), kind, problems)
    elif kind in SCHEDULED_KINDS:
        dues = info.occurrence_dues
        if parsing.blank(draft.occurrence_due):
            if len(dues) == 1:
                clean.occurrence_due = dues[0]
            else:
                problems.append(Problem("occurrence_due", "请选择完成的是哪一期 (which occurrence is required)"))
        else:
            try:
                due = parsing.day(draft.occurrence_due)
            except ValueError as exc:
                problems.append(Problem("occurrence_due", str(exc)))
            else:
                if due in dues:
                    clean.occurrence_due = due
                else:
                    listed = "、".join(d.isoformat() for d in dues[:6]) + ("…" if len(dues) > 6 else "")
                    problems.append(Problem("occurrence_due", f"{due.isoformat()} 不是该指标的期次，应为：{listed or '无'} "
                                                              "(not one of this indicator's occurrences)"))
        if parsing.blank(draft.completed_on):
            problems.append(Problem("completed_on", "请填写完成日期 (completion date is required)"))
        else:
            clean.completed_on = checked_day(draft.completed_on, "completed_on", info.year, today, problems)
        _not_for_kind(draft, ("value", "grade"), kind, problems)
        if not parsing.blank(draft.as_of):
            clean.as_of = checked_day(draft.as_of, "as_of", info.year, today, problems)
    else:  # qualitative, or unparsed without a number
        if parsing.blank(draft.grade):
            problems.append(Problem("grade", f"请选择评价等级：{' / '.join(GRADES)} (grade is required)"))
        else:
            try:
                clean.grade = parsing.grade(draft.grade)
            except ValueError as exc:
                problems.append(Problem("grade", str(exc)))
        if clean.grade and clean.grade != GRADES[0] and parsing.blank(draft.explanation):
            problems.append(Problem("explanation", "未完全达成时请说明情况 (explain a grade below 达成)"))
        _not_for_kind(draft, ("occurrence_due", "completed_on"), kind, problems)
        if not parsing.blank(draft.as_of):
            clean.as_of = checked_day(draft.as_of, "as_of", info.year, today, problems)
    _optional_fields(draft, clean, problems)
    clean.problems = problems
    return clean


def _optional_fields(draft: ReportDraft, clean: CleanReport, problems: list[Problem]) -> None:
    for name in ("explanation", "note"):
        setattr(clean, name, checked_text(getattr(draft, name), name, problems))
    if not parsing.blank(draft.forecast):
        try:
            clean.forecast = parsing.number(draft.forecast)
        except ValueError:
            clean.forecast_text = parsing.text(draft.forecast)[:MAX_TEXT]
    if not parsing.blank(draft.likelihood):
        try:
            clean.likelihood = parsing.likelihood(draft.likelihood)
        except ValueError as exc:
            problems.append(Problem("likelihood", str(exc)))
    causes = {}
    for key, value in (draft.deviation_causes or {}).items():
        if parsing.blank(value):
            continue
        if key not in DEVIATION_CAUSES:
            problems.append(Problem("deviation_causes", f"“{str(key)[:20]}”不是偏差原因类别，应为：{' / '.join(DEVIATION_CAUSES)} "
                                                        "(unknown deviation cause)"))
            continue
        causes[key] = parsing.text(value)[:MAX_TEXT]
    clean.deviation_causes = causes or None
    if not parsing.blank(draft.supersedes_id):
        clean.supersedes_id = parsing.record_id(draft.supersedes_id)
        if clean.supersedes_id is None:
            problems.append(Problem("supersedes_id", "应为记录编号 (expected a record id)"))
