"""What is due next: the first occurrence of a timed indicator that has no completion on record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from monitor.progress.validation import IndicatorInfo
from monitor.store.models import Report
from rules.targets import RANGE, note_en
from rules.terms import MEASURED_KINDS, SCHEDULED_KINDS, SYMBOL


@dataclass(frozen=True)
class Due:
    indicator_id: int
    name: str
    due: date
    overdue: bool


def pending(info: IndicatorInfo, effective: Sequence[Report], today: date) -> list[Due]:
    """Occurrences with no completion on record, earliest first (overdue ones included)."""
    if info.kind not in SCHEDULED_KINDS:
        return []
    done = {r.occurrence_due for r in effective if r.completed_on is not None}
    return [Due(info.indicator_id, info.indicator.name, due, due < today)
            for due in sorted(info.occurrence_dues) if due not in done]


def next_due(info: IndicatorInfo, effective: Sequence[Report], today: date) -> Due | None:
    open_ = pending(info, effective, today)
    return open_[0] if open_ else None


def describe_target(info: IndicatorInfo, *, english: bool = False) -> str:
    """The parsed meaning in one line of Chinese (or English, for the portal's English page), shown beside the
    verbatim 指标值 (which stays as the document wrote it)."""
    if english:
        return _describe_in_english(info)
    target = info.target
    kind = info.kind
    if kind in MEASURED_KINDS and target.comparator == RANGE and target.value is not None:
        return f"{'百分比' if kind == 'percent' else '数量'}：{target.canonical()}（须在区间之内）"
    if kind in MEASURED_KINDS and target.comparator and target.value is not None:
        symbol = SYMBOL[target.comparator]
        value = format(target.value.normalize(), "f") if target.value == target.value.normalize() else str(target.value)
        direction = {"higher_is_better": "越高越好", "lower_is_better": "越低越好", "exact": "须恰好达到"}.get(
            target.direction or "", "")
        label = "百分比" if kind == "percent" else "数量"
        return f"{label}：{symbol} {value}{target.unit or ''}（{direction}）"
    if kind == "deadline" and info.occurrence_dues:
        return f"截止：{info.occurrence_dues[0].isoformat()} 前完成"
    if kind in ("recurring", "window") and info.occurrence_dues:
        dues = info.occurrence_dues
        shown = "、".join(d.isoformat() for d in dues[:4]) + ("…" if len(dues) > 4 else "")
        return f"{'周期' if kind == 'recurring' else '时段'}：共 {len(dues)} 期，期限 {shown}"
    if kind == "qualitative":
        return "定性：按三档等级评价"
    return f"未能识别：{target.reason or info.indicator.parse_reason or '需人工判断'}"


def _describe_in_english(info: IndicatorInfo) -> str:
    target, kind = info.target, info.kind
    label = "Percent" if kind == "percent" else "Quantity"
    if kind in MEASURED_KINDS and target.comparator == RANGE and target.value is not None:
        return f"{label}: {target.canonical()} (must lie within the range)"
    if kind in MEASURED_KINDS and target.comparator and target.value is not None:
        value = format(target.value.normalize(), "f") if target.value == target.value.normalize() else str(target.value)
        direction = {"higher_is_better": "higher is better", "lower_is_better": "lower is better",
                     "exact": "must be met exactly"}.get(target.direction or "", "")
        return f"{label}: {SYMBOL[target.comparator]} {value}{target.unit or ''} ({direction})"
    if kind == "deadline" and info.occurrence_dues:
        return f"Deadline: done by {info.occurrence_dues[0].isoformat()}"
    if kind in ("recurring", "window") and info.occurrence_dues:
        dues = info.occurrence_dues
        shown = ", ".join(d.isoformat() for d in dues[:4]) + ("…" if len(dues) > 4 else "")
        return f"{'Recurring' if kind == 'recurring' else 'Window'}: {len(dues)} periods, due {shown}"
    if kind == "qualitative":
        return "Qualitative: graded on three levels"
    return f"Unparsed: {note_en(target.reason or info.indicator.parse_reason) or 'needs a person’s judgement'}"
