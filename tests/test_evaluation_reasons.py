"""The lights' reasons in English say what the Chinese ones say: the same figures, the same dates, for every
phrase of the phrasebook, on the seed projects' real 指标值 evaluated across 2024 (with and without reports and
spending, plus the few cases the seed reports never reach)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
import pytest

from rules.evaluation import evaluate
from rules.formatting import fmt_day
from rules.reasons import PHRASES, reason_in
from tests.evaluation_seed_data import REPORTS, SPENDING, frames

# Parts of sentences, never a reason on their own.
PARTS = {"head", "word_done", "word_total", "word_reported", "range", "cause_unreadable", "cause_no_dates", "project"}
# The lights' reasons; the phrases of what was reported ("progress_…") are the reports' (tests/test_reports.py).
REASONS = sorted(k for k in PHRASES if k not in PARTS and not k.startswith("progress_"))
SWEEP = [date(2024, m, d) for m in range(1, 13) for d in (1, 20)] + [date(2024, 5, 25), date(2024, 12, 31)]
MONTHS = {m: i + 1 for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                          "Dec"))}
ZH_DAY = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
EN_DAY = re.compile(r"(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: (\d{4}))?")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
CJK = re.compile(r"[\u3400-\u9fff]")


def _frames_beyond_the_seed_reports() -> list[dict]:
    """A met point target, a reported 0 of one, a zero budget, spending before a plan window opens."""
    met = frames(reports=[("satisfaction", {"value": "95", "as_of": date(2024, 12, 31)})])
    zero = frames(reports=[("satisfaction", {"value": "0", "as_of": date(2024, 12, 31)})])
    no_budget = frames()
    no_budget["projects"]["annual_funds"] = 0.0
    early = frames(plan_windows={"jy": (date(2024, 7, 1), date(2024, 10, 31))},
                   spending=[("jy", SPENDING[0][1], date(2024, 6, 30))])
    return [met, zero, no_budget, early]


@cache
def _pairs() -> list[tuple[str, str]]:
    """(Chinese, English) of every distinct reason: indicators' whole, projects' split into their two halves."""
    runs = [(frames(reports=reports, spending=spending), day)
            for day in SWEEP for reports, spending in ((REPORTS, SPENDING), ([], []))]
    runs += [(f, date(2024, 12, 31)) for f in _frames_beyond_the_seed_reports()]
    runs += [(f, date(2024, 6, 30)) for f in _frames_beyond_the_seed_reports()[2:]]
    pairs: set[tuple[str, str]] = set()
    for f, day in runs:
        result = evaluate(**f, as_of=day)
        pairs |= set(zip(result.indicators["reason"], result.indicators["reason_en"], strict=True))
        for zh, en in zip(result.projects["reason"], result.projects["reason_en"], strict=True):
            (zh_lights, zh_budget), (en_lights, en_budget) = zh.split("；", 1), en.split(". ", 1)
            pairs |= {(zh_lights, en_lights), (zh_budget, en_budget)}
    return sorted(pairs)


def _pattern(template: str) -> re.Pattern:
    return re.compile("(.+?)".join(re.escape(p) for p in re.split(r"\{\w+\}", template)), re.S)


ZH_PATTERNS = {key: _pattern(PHRASES[key]["zh"]) for key in REASONS}


def _phrase(zh: str) -> str:
    """The phrase a Chinese reason was said with: of the templates it fits, the one with the most fixed text."""
    fits = [k for k, p in ZH_PATTERNS.items() if p.fullmatch(zh)]
    assert fits, zh
    return max(fits, key=lambda k: len(re.sub(r"\{\w+\}", "", PHRASES[k]["zh"])))


def _said_with(key: str) -> list[tuple[str, str]]:
    return [(zh, en) for zh, en in _pairs() if _phrase(zh) == key]


def _days(text: str, pattern: re.Pattern, lang: str) -> Counter:
    if lang == "zh":
        return Counter((y or "", int(m), int(d)) for y, m, d in pattern.findall(text))
    return Counter((y or "", MONTHS[m], int(d)) for d, m, y in pattern.findall(text))


def _figures(text: str, days: re.Pattern) -> Counter:
    return Counter(NUMBER.findall(days.sub(" ", text)))


@pytest.mark.parametrize("key", REASONS)
def test_english_reason_states_the_same_figures_and_dates_as_the_chinese(key):
    pairs = _said_with(key)
    assert pairs, f"no seed case says {key!r}"
    for zh, en in pairs:
        assert _figures(en, EN_DAY) == _figures(zh, ZH_DAY), (zh, en)
        assert _days(en, EN_DAY, "en") == _days(zh, ZH_DAY, "zh"), (zh, en)


def test_english_reasons_have_no_chinese_but_the_documents_units_and_quoted_targets():
    for zh, en in _pairs():
        left = re.sub(r"“[^”]*”", "", en)                     # a 指标值 or a grade, quoted as written
        left = re.sub(r"(?<=[\d%])[\u3400-\u9fff/]+", "", left)  # 人, 万元, 天: units as the document wrote them
        assert not CJK.search(left), (zh, en)


def test_english_dates_are_day_and_month_with_the_year_only_outside_the_budget_year():
    days = pd.Series(pd.to_datetime(["2024-06-30", "2023-11-30", None]))
    assert fmt_day(days, 2024, lang="en").tolist() == ["30 Jun", "30 Nov 2023", "—"]
    assert fmt_day(days, 2024).tolist() == ["6月30日", "2023年11月30日", "—"]


def test_english_days_are_singular_for_one_day():
    result = evaluate(**frames(), as_of=date(2024, 6, 1)).indicators
    reasons = result.loc[result["status"] == "overdue", "reason_en"].tolist()
    assert "Due 31 May, 1 day overdue; no completion reported" in reasons


def test_project_reason_in_english_counts_lights_by_their_english_names():
    projects = evaluate(**frames(), as_of=date(2024, 6, 30)).projects
    assert any(en.startswith("Indicators: Red 4, Green 2. ") for en in projects["reason_en"])


@pytest.mark.parametrize(("lang", "reason_en", "status", "light", "shown"), [
    ("zh", "Done 15600人 as of 30 Jun", "on_track", "green", "截至6月30日完成15600人"),
    ("en", "Done 15600人 as of 30 Jun", "on_track", "green", "Done 15600人 as of 30 Jun"),
    ("en", None, "overdue", "red", "Overdue"),      # an indicator's state from before English reasons
    ("en", None, None, "yellow", "Yellow"),         # a project's, which has only lights
])
def test_a_reason_is_shown_in_the_language_asked_and_an_old_state_names_its_status(lang, reason_en, status, light,
                                                                                  shown):
    assert reason_in(lang, "截至6月30日完成15600人", reason_en, status=status, light=light) == shown


def test_every_reason_is_filled_in_both_languages():
    result = evaluate(**frames(), as_of=date(2024, 7, 31))
    for frame in (result.indicators, result.projects):
        for column in ("reason", "reason_en"):
            assert not frame[column].isna().any() and (frame[column].map(len) > 0).all(), column
            assert not np.any(frame[column].str.contains("{", regex=False)), column
