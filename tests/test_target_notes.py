"""Every note the target grammar leaves on a 指标值 has its English, with the same figures: the notes are the
grammar's words, shown on English pages (a light's reason, the project page's 目标含义, a target adjustment's flag)."""

from __future__ import annotations

import re

import pytest

from rules.targets import NOTES, note_en, parse_target, parse_target_cached
from tests.test_targets_seeds import ROWS

CJK = re.compile(r"[\u3400-\u9fff]")

# Real odd and unreadable texts (from the seeds, tests/data and the forms departments send), one per note the
# grammar writes: (text, budget year, 二级指标, 三级指标, strict "X月前"), the note's key, its English.
CASES = [
    (("提高" * 200, 2024, None, None, False), "too_long", "too long (400 characters) to be a target value"),
    (("每季度末", 0, None, None, False), "bad_year", "the budget year 0 is not a valid year"),
    (("", 2024, None, None, False), "empty", "empty: no target value filled in"),
    (("≥**%", 2024, None, None, False), "placeholder", "a placeholder: no actual target value filled in"),
    (("档案整理完成时", 2024, None, None, False), "unreadable", "the target could not be read"),
    (("2640年", 2024, "成本指标", "补助发放金额", False), "year_out",
     "the year 2640 is not the budget year 2024 or a year either side of it"),
    (("2023年1月前", 2024, None, None, True), "date_out",
     "the date 2022-12-31 is not in the budget year 2024 or a year either side of it"),
    (("每月35日前", 2024, None, None, False), "no_monthly_day", "day 35 of every month is not a valid date"),
    (("每13个月", 2024, None, None, False), "months_over_year", "every 13 months is longer than a year"),
    (("2月30日", 2024, None, None, False), "no_such_day", "no such date: 2024-2-30"),
    (("13月底前", 2024, None, None, False), "no_such_month", "no such month: 13"),
    (("5-3月", 2024, None, None, False), "months_reversed", "the months are reversed: 5 to 3"),
    (("2月30日-3月5日", 2024, None, None, False), "no_such_dates", "a date in the range does not exist"),
    (("3月5日-2月1日", 2024, None, None, False), "dates_reversed", "the range's dates are reversed"),
    (("春节前", 2090, None, None, False), "holiday_unknown",
     "the 2090 Spring Festival holiday dates are unknown (the holiday data does not cover that year)"),
    (("1" * 30, 2024, None, None, False), "too_large",
     "the number is too large to be stored as an amount or a quantity"),
    (("≤5%以上", 2024, None, None, False), "comparators_clash",
     "the comparators contradict each other: <= and >="),
    (("±5人左右", 2024, None, None, False), "band_not_cap", "a ± tolerance can only be an upper limit"),
    (("95%-90%", 2024, None, None, False), "range_reversed", "the range is reversed: 95 is greater than 90"),
    (("3人-5次", 2024, None, None, False), "range_unreadable",
     "the range could not be read: its bounds must be two numbers of one unit"),
    (("±3%以内", 2024, None, None, False), "band",
     "±: a tolerance, judged by the absolute deviation being no more than this value"),
    (("约100人", 2024, None, None, False), "approximate", "approximate: read as if no comparator were written"),
    (("每月2次", 2024, None, None, False), "per_period", "2 times each period"),
    (("提高5%", 2024, None, None, False), "digits_in_words", "a description with figures in it: a person grades it"),
    (("≥-5人", 2024, None, None, False), "negative", "the target is negative (-5): please check"),
    (("1200%", 2024, None, None, False), "percent_over", "a percentage target above 1000% (1200%): please check"),
    (("105%", 2024, None, "合格率", False), "share_over", "a rate's target above 100% (105%): please check"),
]
# A grammar bug and a cell that is no text cannot be produced from a text; their stored notes are checked as stored.
STORED_ONLY = {"failed": ("解析出错：KeyError", "the grammar failed on this text (KeyError)"),
               "not_text": ("不是文本", "not a text")}


def _notes(text: str, year: int, level2: str | None, name: str | None, strict: bool) -> list[str]:
    target = parse_target_cached(text, year, level2, name, strict)
    return [note for note in (target.reason, target.suspicious) if note is not None]


def test_the_cases_cover_every_note_the_grammar_writes():
    assert {key for _, key, _ in CASES} | set(STORED_ONLY) == set(NOTES)


@pytest.mark.parametrize("args,key,english", CASES, ids=[c[1] for c in CASES])
def test_a_note_is_said_in_english_with_its_figures(args, key, english):
    (note,) = _notes(*args)
    assert note_en(note) == english


@pytest.mark.parametrize("key", sorted(STORED_ONLY))
def test_a_stored_note_no_text_can_produce_is_said_in_english(key):
    chinese, english = STORED_ONLY[key]
    assert note_en(chinese) == english


def test_a_cell_that_is_no_text_is_noted_as_such():
    assert parse_target(None, year=2024).reason == STORED_ONLY["not_text"][0]  # type: ignore[arg-type]  # a cell read from a sheet may be no text


def test_every_note_on_a_seed_value_has_its_english():
    notes = {note for level2, name, value in ROWS for note in _notes(value, 2024, level2, name, False)}
    assert notes
    assert {note: note_en(note) for note in notes if note_en(note) is None} == {}


def test_no_english_note_holds_a_chinese_word():
    for _, _, english in CASES:
        assert not CJK.search(english), english
    for said in NOTES.values():
        assert not CJK.search(said["en"]), said["en"]


def test_a_note_this_grammar_does_not_write_has_no_english_rather_than_a_guess():
    assert note_en("某个旧版本写下的说明") is None
    assert note_en(None) is None
