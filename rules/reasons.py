"""The phrasebook of the lights' reasons: every sentence the evaluation says, in Chinese and in English side by
side, so a rule's two wordings cannot drift apart and a new rule cannot be said in one language only.

A phrase is a template with named slots ("截至{day}{word}{actual}"). `say` fills one for many rows at once by
array concatenation, as the rules have always built their reasons: the figures are rendered once per distinct
value (`rules.formatting`) and each slot is either language-neutral (a figure with its unit as the document
wrote it: 人, 万元, ≥90%) or given per language (dates, words). What departments wrote (an unreadable 指标值) is a
slot too, the same in both languages: it is data, not interface; why the grammar could not read it is the grammar's
own note (`rules.targets.NOTES`), said in each language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TypeAlias

import numpy as np
import pandas as pd

from rules.formatting import fmt_day
from rules.targets import NOTES
from rules.terms import LIGHT_NAMES_EN, STATUS_NAMES, STATUS_NAMES_EN

LANGUAGES: tuple[str, ...] = ("zh", "en")
# The state column each language's reason is kept in (the Chinese one came first and kept its name).
REASON_COLUMNS: dict[str, str] = {"zh": "reason", "en": "reason_en"}

PHRASES: dict[str, dict[str, str]] = {
    # measured targets (quantity, percent): before anything is reported
    "no_report_cumulative": {"zh": "截至{today}未填报完成情况，序时目标{expected}",
                             "en": "Nothing reported by {today}; expected by now {expected}"},
    "no_report_point": {"zh": "截至{today}未填报，目标{target}", "en": "Nothing reported by {today}; target {target}"},
    "not_due_cumulative": {"zh": "截至{today}尚未填报，未到填报时间",
                           "en": "Nothing reported by {today}; not due yet"},
    "not_due_point": {"zh": "尚未填报，测量日期为{measure_day}", "en": "Not reported yet; measured on {measure_day}"},
    # what was reported, the head of every reason below
    "head": {"zh": "截至{day}{word}{actual}", "en": "{word} {actual} as of {day}"},
    "word_done": {"zh": "完成", "en": "Done"},
    "word_total": {"zh": "累计", "en": "Total"},
    "word_reported": {"zh": "报告为", "en": "Reported"},
    "range": {"zh": "{lower}至{upper}", "en": "{lower} to {upper}"},
    "over_cap": {"zh": "{head}，超过上限{cap}", "en": "{head}, over the cap of {cap}"},
    "blue": {"zh": "{head}，达年度目标的{share}（≥{blue_at}%，目标可能偏低）",
             "en": "{head}, {share} of the annual target; at ≥{blue_at}% the target may be too low"},
    "within_cap": {"zh": "{head}，未超过上限{cap}", "en": "{head}, within the cap of {cap}"},
    "met": {"zh": "{head}，已达到目标{target}", "en": "{head}, target {target} met"},
    "stale": {"zh": "最近一次填报为{day}（{word}{actual}），已超过{days}天未更新",
              "en": "{head}, the last report; not updated for over {days}"},
    "forecast_over": {"zh": "{head}，按进度预计全年{forecast}，将超过上限{cap}",
                      "en": "{head}; at this pace {forecast} for the year, over the cap of {cap}"},
    "point_short": {"zh": "{head}，低于目标{target}（为目标的{share}）",
                    "en": "{head}, below the target {target} at {share} of it"},
    "progress_short": {"zh": "{head}，序时目标{expected}，仅为序时目标的{share}",
                       "en": "{head}; expected by now {expected}, only {share} of that"},
    "on_track_cumulative": {"zh": "{head}，序时目标{expected}", "en": "{head}; expected by now {expected}"},
    "on_track_point": {"zh": "{head}，目标{target}", "en": "{head}; target {target}"},
    # time-bound targets (deadline, window, recurring), per occurrence
    "done": {"zh": "已于{completed}完成（截止{due}）", "en": "Done on {completed}, due {due}"},
    "done_late": {"zh": "已于{completed}完成（截止{due}），逾期{days}天完成",
                  "en": "Done on {completed}, due {due}: {days} late"},
    "not_started": {"zh": "{start}开始，{due}截止，尚未开始", "en": "Opens {start}, due {due}; not started yet"},
    "window_closed": {"zh": "{start}至{due}的时间窗口已关闭，未报告完成",
                      "en": "The window {start} to {due} has closed; no completion reported"},
    "overdue": {"zh": "截止{due}，已逾期{days}天，尚未报告完成",
                "en": "Due {due}, {days} overdue; no completion reported"},
    "due_soon": {"zh": "截止{due}，还剩{days}天，尚未报告完成", "en": "Due {due}, {days} left; no completion reported"},
    "due_today": {"zh": "今天（{due}）截止，尚未报告完成", "en": "Due today, {due}; no completion reported"},
    "due_later": {"zh": "截止{due}，尚未到期", "en": "Due {due}; not due yet"},
    # qualitative targets
    "graded": {"zh": "评定为“{grade}”", "en": "Graded “{grade}”"},
    "needs_grade": {"zh": "临近年末，尚未评定完成等级", "en": "The year is ending and no grade is given yet"},
    "grade_later": {"zh": "定性指标，年末前评定完成等级", "en": "Qualitative: graded before the year ends"},
    # targets the grammar could not read; the cause is the grammar's own note when it left one
    "unparsed": {"zh": "指标值“{text}”无法自动评价：{cause}",
                 "en": "The target “{text}” cannot be judged automatically: {cause}"},
    "cause_unreadable": NOTES["unreadable"],
    "cause_no_dates": {"zh": "时间类指标没有可用的日期", "en": "a time-bound target without a usable date"},
    # a project: its indicators' lights, then its budget execution (双监控)
    "project": {"zh": "{indicators}；{budget}", "en": "{indicators}. {budget}"},
    "indicator_counts": {"zh": "指标{counts}", "en": "Indicators: {counts}"},
    "nothing_to_judge": {"zh": "暂无可评价的指标", "en": "No indicator to judge yet"},
    "budget_zero": {"zh": "全年预算为0，执行率按0计", "en": "The annual budget is 0, so execution counts as 0"},
    "budget_no_report": {"zh": "截至{today}未填报资金执行数", "en": "No spending reported by {today}"},
    "budget_stale": {"zh": "资金执行数最近填报于{day}，已超过{days}天未更新",
                     "en": "Spending last reported on {day}; not updated for over {days}"},
    "budget_no_schedule": {"zh": "截至{day}支出{spent}，尚无序时要求",
                           "en": "Spent {spent} as of {day}; nothing is due by time progress yet"},
    "budget": {"zh": "截至{day}支出{spent}，执行率{rate}，为序时进度的{ratio}（全年预算{funds}）",
               "en": "Spent {spent} as of {day}: execution {rate}, {ratio} of time progress, annual budget {funds}"},
    # what a department reported by a cut-off date: the monitoring table's 执行情况, and a round's page
    "progress_period_done": {"zh": "{due}期：{done}完成", "en": "{due} period: done on {done}"},
    "progress_period_late": {"zh": "{due}期：{done}完成（逾期）", "en": "{due} period: done on {done}, late"},
    "progress_period_missing": {"zh": "{due}期：未填报", "en": "{due} period: not reported"},
    "progress_periods": {"zh": "已完成 {done}/{all} 期；{open}", "en": "{done} of {all} periods done; {open}"},
    "progress_not_due": {"zh": STATUS_NAMES["not_due"], "en": STATUS_NAMES_EN["not_due"]},
    "progress_missing": {"zh": STATUS_NAMES["no_report"], "en": STATUS_NAMES_EN["no_report"]},
    "progress_graded": {"zh": "{grade}：{explanation}", "en": "{grade}: {explanation}"},
    "progress_value": {"zh": "{value}（截至{day}）", "en": "{value} as of {day}"},
    "progress_completed": {"zh": "{day}完成", "en": "Done on {day}"},
}

Column: TypeAlias = str | np.ndarray | pd.Series
Slot: TypeAlias = Column | Mapping[str, Column]
Texts: TypeAlias = dict[str, np.ndarray]


@cache
def _pieces(key: str, lang: str) -> tuple[str, ...]:
    """Literal, slot name, literal, … of one phrase: split once, filled for every chunk."""
    return tuple(re.split(r"\{(\w+)\}", PHRASES[key][lang]))


def _column(value: Column) -> str | np.ndarray:
    if isinstance(value, str):
        return value
    return np.asarray(value, dtype=object)  # positional, never aligned by a pandas index


def say(key: str, n: int, **slots: Slot) -> Texts:
    """Phrase `key` for `n` rows in every language; each slot is one text for all rows, an array of `n`
    texts, or either of those per language (a mapping from language to it)."""
    out: Texts = {}
    for lang in LANGUAGES:
        pieces = _pieces(key, lang)
        text: str | np.ndarray = pieces[0]
        for name, literal in zip(pieces[1::2], pieces[2::2], strict=True):
            value = slots[name]
            text = text + _column(value[lang] if isinstance(value, Mapping) else value)
            if literal:
                text = text + literal
        out[lang] = np.full(n, text, dtype=object) if isinstance(text, str) else text
    return out


def said(key: str, lang: str, **slots: str) -> str:
    """One phrase for one row in `lang` (the reports' sentences are written one at a time)."""
    return PHRASES[key][lang].format(**slots)


SEPARATORS: dict[str, str] = {"zh": "；", "en": "; "}


def listed(texts: list[str], lang: str) -> str:
    """Parts of one sentence in a row: "甲；乙" / "a; b"."""
    return SEPARATORS[lang].join(texts)


def words(keys: np.ndarray) -> Texts:
    """Per row, the slot-less phrase its key names ("word_done", "word_total" …), in every language."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(keys, dtype=object)))
    return {lang: np.array([PHRASES[k][lang] for k in uniques], dtype=object)[codes] for lang in LANGUAGES}


def dates(days, year: int | None = None) -> Texts:
    """Dates in every language: "6月30日" / "30 Jun" (the year shown for a date outside `year`)."""
    return {lang: fmt_day(days, year, lang=lang).to_numpy(dtype=object) for lang in LANGUAGES}


def day_counts(counts) -> Texts:
    """A number of days: the Chinese phrase carries its 天, the English one says "1 day" / "3 days"."""
    n = np.asarray(counts, dtype=np.int64)
    digits = n.astype(str).astype(object)
    return {"zh": digits, "en": np.where(n == 1, digits + " day", digits + " days").astype(object)}


def subset(slot: np.ndarray | Texts, idx: np.ndarray) -> np.ndarray | Texts:
    """The rows `idx` (positions or a mask) of a slot's texts, per language where it has them."""
    return {lang: texts[idx] for lang, texts in slot.items()} if isinstance(slot, dict) else slot[idx]


class Reasons:
    """The reasons of `n` rows being written, one array per language, filled rule group by rule group."""

    def __init__(self, n: int) -> None:
        self.text: Texts = {lang: np.empty(n, dtype=object) for lang in LANGUAGES}

    def put(self, idx: np.ndarray, key: str, **slots: Slot) -> None:
        if len(idx):
            self.set(idx, say(key, len(idx), **slots))

    def set(self, idx: np.ndarray, texts: Texts) -> None:
        for lang in LANGUAGES:
            self.text[lang][idx] = texts[lang]

    def columns(self) -> dict[str, np.ndarray]:
        return columns(self.text)


def columns(texts: Texts) -> dict[str, np.ndarray]:
    """{"reason": …, "reason_en": …}, as the state frames carry them."""
    return {REASON_COLUMNS[lang]: texts[lang] for lang in LANGUAGES}


def reason_in(lang: str, reason: str, reason_en: str | None, *, status: str | None = None,
              light: str | None = None) -> str:
    """A stored reason in `lang`. A state written before reasons were kept in English has none: its status (or,
    for a project, its light) named in English stands in, never the Chinese sentence."""
    if lang != "en":
        return reason
    if reason_en:
        return reason_en
    if status in STATUS_NAMES_EN:
        return STATUS_NAMES_EN[status]
    return LIGHT_NAMES_EN.get(light or "", "")
