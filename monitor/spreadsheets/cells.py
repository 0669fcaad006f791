"""Cells that cannot execute: how every .xlsx and .csv writer puts a value into a cell.

Text a person typed (a note, a forecast, a deviation cause, a project name) may begin with a character that
spreadsheet programs read as the start of a formula: = + - @, or a tab or carriage return that some of them
strip first. In .xlsx such text is written as a string cell, never a formula, with the quotePrefix style so
it stays text when someone edits the cell; the text itself is unchanged, so what is exported reads back the
same when it is imported again. CSV has no cell types, so there a risky text gets a leading single quote, as
OWASP recommends against CSV injection. Numbers, dates and booleans are written as what they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_TEXT = 32767  # characters Excel keeps in one cell


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_value(value: Any) -> Any:
    """A CSV field: text that a spreadsheet would evaluate gets a leading ', anything else passes unchanged."""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_value(v) for v in values]


def put(cell: Cell, value: Any) -> Cell:
    """Write `value` into an openpyxl cell; text is always a string cell, whatever it starts with.

    openpyxl on its own turns any text starting with = into a formula and "#N/A" into an error value. Control
    characters cannot be stored in the file's XML at all; they become U+FFFD instead of failing the export."""
    if not isinstance(value, str):
        cell.value = value
        return cell
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:MAX_CELL_TEXT]
    cell.value = text
    cell.data_type = "s"
    if starts_like_formula(text):
        cell.quotePrefix = True
    return cell
