"""The printed look of every kpiwatch workbook: A4 landscape, one page wide, rows as tall as their text.

Excel, WPS and LibreOffice do not size rows to wrapped text in merged cells, and openpyxl cannot measure text,
so the height of each row is computed here from the text of its cells, the width of the columns they span and
their font: a CJK character is one em wide, a Latin one a little more than half (counted as 0.6 em). Widths
are in Excel's unit (the "0" of Calibri 11, 7 px = 5.25 pt); LibreOffice's unit is a little wider, so there
the text has room to spare.
Print setup is the same on every sheet: repeated header rows, the table's name, subject and "page x of y" in
the page header and footer, margins for binding, frozen header rows on screen.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from copy import copy

from openpyxl.styles import Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break, RowBreak
from openpyxl.worksheet.worksheet import Worksheet

from monitor.spreadsheets.cells import put

POINTS_PER_UNIT = 5.25  # one column-width unit in Excel (7 px at 96 dpi)
DEFAULT_WIDTH = 9.140625  # a column nobody sized (Excel's 8.43 characters)
CELL_PADDING_PT = 5.0  # left + right inner margin of a cell
LINE_HEIGHT_EM = 1.45  # Noto Sans CJK: ascender + descender = 1.448 em
ROW_PADDING_PT = 5.0  # above and below the text
MIN_ROW_PT = 15.0
MAX_ROW_PT = 409.5  # the tallest row Excel allows
PIXEL_PT = 0.75
DEFAULT_FONT_PT = 11.0
WIDE_EM, NARROW_EM = 1.0, 0.6
BOLD_NARROW_EM = 0.65
SPACE_EM = 0.3
# punctuation that may not start a line (it moves down with the character before it) or end one
NO_LINE_START = set("，。、；：！？）》」』】〉”’%‰．,.;:!?)]}")
NO_LINE_END = set("（《「『【〈“‘([{")

MARGINS = PageMargins(left=0.6, right=0.6, top=0.85, bottom=0.75, header=0.35, footer=0.3)  # inches
A4_LANDSCAPE_WIDTH_PT, A4_LANDSCAPE_HEIGHT_PT = 841.89, 595.28
PAGE_WIDTH_UNITS = (A4_LANDSCAPE_WIDTH_PT - 72 * (MARGINS.left + MARGINS.right)) / POINTS_PER_UNIT - 2
# rows that fit between the margins at 100 %; 1 % kept back for printers that round differently
PAGE_HEIGHT_PT = (A4_LANDSCAPE_HEIGHT_PT - 72 * (MARGINS.top + MARGINS.bottom)) * 0.99
HEADER_FONT, HEADER_SIZE = "Noto Sans CJK SC,Regular", 9

THIN = Side(style="thin", color="333333")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def char_em(ch: str, *, bold: bool = False) -> float:
    """The advance of one character in em: CJK and other wide (or ambiguous) characters one em, others ~0.6."""
    if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
        return WIDE_EM
    return BOLD_NARROW_EM if bold else NARROW_EM


def _pieces(paragraph: str) -> list[tuple[str, int]]:
    """Unbreakable pieces of a line as (text, spaces after it).

    A CJK character is a piece of its own; a run of Latin letters or digits is one word; punctuation that
    cannot start (or end) a line sticks to its neighbour, as line breaking in office programs does."""
    pieces: list[list] = []
    glue_next = False
    for ch in paragraph:
        if ch == " ":
            if pieces:
                pieces[-1][1] += 1
            continue
        previous = pieces[-1] if pieces else None
        latin_run = char_em(ch) != WIDE_EM and previous is not None and char_em(previous[0][-1]) != WIDE_EM
        if previous is not None and not previous[1] and (glue_next or ch in NO_LINE_START or latin_run):
            previous[0] += ch
        else:
            pieces.append([ch, 0])
        glue_next = ch in NO_LINE_END
    return [(text, spaces) for text, spaces in pieces]


def line_count(text: str, width_em: float, *, bold: bool = False) -> int:
    """How many lines `text` takes when wrapped into `width_em`: greedy, as Excel, WPS and LibreOffice wrap."""
    width_em = max(width_em, WIDE_EM)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for piece, spaces in _pieces(paragraph):
            bare = sum(char_em(c, bold=bold) for c in piece)
            full = bare + spaces * SPACE_EM
            if used and used + bare > width_em:
                lines += 1
                used = 0.0
            while bare > width_em:  # a word longer than the line is broken wherever it must be
                lines += 1
                bare -= width_em
                full -= width_em
            used += full
    return max(lines, 1)


def column_width(ws: Worksheet, column: int) -> float:
    dimension = ws.column_dimensions.get(get_column_letter(column))
    return dimension.width if dimension is not None and dimension.width else DEFAULT_WIDTH


def set_column_widths(ws: Worksheet, weights: Sequence[float], *, fit: bool = True) -> None:
    """Columns in proportion to `weights`, together exactly as wide as the printable width of A4 landscape;
    with `fit=False` the weights are the widths (a form too wide for the page then prints scaled down)."""
    scale = PAGE_WIDTH_UNITS / sum(weights) if fit else 1.0
    for index, weight in enumerate(weights, start=1):
        ws.column_dimensions[get_column_letter(index)].width = round(weight * scale, 2)


def print_scale(ws: Worksheet) -> float:
    """The zoom "one page wide" comes to in Excel (whole percent, rounded down; never enlarged)."""
    width = sum(column_width(ws, c) for c in range(1, ws.max_column + 1))
    return min(100, math.floor(100 * PAGE_WIDTH_UNITS / width)) / 100


def box(ws: Worksheet, ref: str) -> None:
    """A thin border around every cell of `ref`, merged or not, so each block is closed to its right edge."""
    for row in ws[ref]:
        for cell in row:
            cell.border = BOX


def needed_height(text: str, width_units: float, font_pt: float, *, bold: bool = False) -> float:
    """Points a row needs to show `text` whole in a cell `width_units` wide."""
    width_em = (width_units * POINTS_PER_UNIT - CELL_PADDING_PT) / font_pt
    return line_count(text, width_em, bold=bold) * font_pt * LINE_HEIGHT_EM + ROW_PADDING_PT


def fit_row_heights(ws: Worksheet) -> dict[int, float]:
    """Set every row's height to what its tallest cell needs; a cell merged over several rows spreads what it
    needs beyond their sum evenly over them. Returns the heights in points, by row number."""
    spans: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    hidden: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        min_col, min_row, max_col, max_row = merged.bounds
        spans[(min_row, min_col)] = (min_col, min_row, max_col, max_row)
        hidden.update((r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)
                      if (r, c) != (min_row, min_col))
    heights: dict[int, float] = defaultdict(lambda: MIN_ROW_PT)
    tall: list[tuple[int, int, float]] = []
    for row in ws.iter_rows():
        for cell in row:
            if (cell.row, cell.column) in hidden:
                continue
            font_pt = float(cell.font.sz or DEFAULT_FONT_PT) if cell.font else DEFAULT_FONT_PT
            bold = bool(cell.font and cell.font.b)
            min_col, min_row, max_col, max_row = spans.get((cell.row, cell.column),
                                                           (cell.column, cell.row, cell.column, cell.row))
            text = cell.value if isinstance(cell.value, str) else None  # numbers and dates never wrap
            if text is None:
                need = font_pt * LINE_HEIGHT_EM + ROW_PADDING_PT if cell.value is not None else 0.0
            elif cell.alignment is not None and cell.alignment.wrap_text:
                width = sum(column_width(ws, c) for c in range(min_col, max_col + 1))
                need = needed_height(text, width, font_pt, bold=bold)
            else:
                need = (text.count("\n") + 1) * font_pt * LINE_HEIGHT_EM + ROW_PADDING_PT
            if min_row == max_row:
                heights[min_row] = max(heights[min_row], need)
            else:
                tall.append((min_row, max_row, need))
    for first, last, need in tall:
        rows = range(first, last + 1)
        have = sum(heights[r] for r in rows)
        if have < need:
            for r in rows:
                heights[r] += (need - have) / len(rows)
    result = {}
    for r in range(1, ws.max_row + 1):
        # Excel draws rows in whole pixels (0.75 pt): rounding up here makes the printed height the computed one
        result[r] = min(MAX_ROW_PT, math.ceil(heights[r] / PIXEL_PT - 1e-6) * PIXEL_PT)
        ws.row_dimensions[r].height = result[r]
    return result


def page_breaks(heights: dict[int, float], repeat_rows: tuple[int, int] | None = None,
                page_height: float = PAGE_HEIGHT_PT) -> list[int]:
    """The rows after which a page ends, filling each page with whole rows; pages after the one where the
    repeated header rows first print start with them. A header never ends a page without a row under it."""
    repeat = sum(heights[r] for r in range(repeat_rows[0], repeat_rows[1] + 1)) if repeat_rows else 0.0
    breaks: list[int] = []
    used = 0.0
    for r in sorted(heights):
        if used and used + heights[r] > page_height:
            end = r - 1
            if repeat_rows and repeat_rows[0] <= end <= repeat_rows[1] and repeat_rows[0] > 1:
                end = repeat_rows[0] - 1  # the header goes to the next page with its first row
            breaks.append(end)
            used = sum(heights[x] for x in range(end + 1, r))
            used += repeat if repeat_rows and end >= repeat_rows[1] else 0.0
        used += heights[r]
    return breaks


def _split_merges(ws: Worksheet, breaks: list[int]) -> bool:
    """Cut every merged block that crosses a page end in two, the label repeated below, so no page shows a
    block whose text was printed on the other page. Returns whether anything was cut."""
    cut = False
    for merged in list(ws.merged_cells.ranges):
        min_col, min_row, max_col, max_row = merged.bounds
        inside = [b for b in breaks if min_row <= b < max_row]
        if not inside:
            continue
        cut = True
        top = ws.cell(min_row, min_col)
        value, style = top.value, top._style
        ws.unmerge_cells(str(merged))
        starts = [min_row] + [b + 1 for b in inside]
        ends = inside + [max_row]
        for start, end in zip(starts, ends, strict=True):
            first = ws.cell(start, min_col)
            put(first, value)
            first._style = copy(style)
            if (start, min_col) != (end, max_col):
                ws.merge_cells(start_row=start, start_column=min_col, end_row=end, end_column=max_col)
            box(ws, f"{get_column_letter(min_col)}{start}:{get_column_letter(max_col)}{end}")
    return cut


def paginate(ws: Worksheet, repeat_rows: tuple[int, int] | None = None) -> list[int]:
    """Row heights, then page ends where the rows imply them (set as manual breaks, so Excel, WPS and
    LibreOffice break at the same rows), cutting merged blocks that cross one. Returns the break rows."""
    page_height = PAGE_HEIGHT_PT / print_scale(ws)
    heights = fit_row_heights(ws)
    breaks = page_breaks(heights, repeat_rows, page_height)
    for _ in range(5):  # a cut block needs its height on both pages: recompute until the breaks settle
        if not _split_merges(ws, breaks):
            break
        heights = fit_row_heights(ws)
        breaks = page_breaks(heights, repeat_rows, page_height)
    ws.row_breaks = RowBreak()
    for row in breaks:
        ws.row_breaks.append(Break(id=row))
    return breaks


def _header_text(text: str) -> str:
    """Header/footer text is a small language of its own (&P, &N …): a literal & is written &&."""
    return text.replace("&", "&&")


def print_setup(ws: Worksheet, *, title: str, subject: str = "", repeat_rows: tuple[int, int] | None = None,
                freeze: str | None = None) -> None:
    """A4 landscape, fit to one page wide and as many tall as needed, `repeat_rows` on every printed page,
    the table's `title` and `subject` (project or department) in the page header and page x of y below."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=MARGINS.left, right=MARGINS.right, top=MARGINS.top, bottom=MARGINS.bottom,
                                  header=MARGINS.header, footer=MARGINS.footer)
    ws.print_options.horizontalCentered = True
    if repeat_rows is not None:
        ws.print_title_rows = f"{repeat_rows[0]}:{repeat_rows[1]}"
    parts = ((ws.oddHeader.left, _header_text(title)[:120]), (ws.oddHeader.right, _header_text(subject)[:120]),
             (ws.oddFooter.center, "第 &P 页，共 &N 页"))
    for item, text in parts:
        if text:
            item.text, item.font, item.size = text, HEADER_FONT, HEADER_SIZE
    if freeze:
        ws.freeze_panes = freeze


def lay_out(ws: Worksheet, *, title: str, subject: str = "", repeat_rows: tuple[int, int] | None = None,
            freeze: str | None = None) -> list[int]:
    """Everything a finished sheet needs: row heights from its text, page breaks, the print setup."""
    breaks = paginate(ws, repeat_rows)
    print_setup(ws, title=title, subject=subject, repeat_rows=repeat_rows, freeze=freeze)
    return breaks


def table_ref(first_row: int, last_row: int, columns: int) -> str:
    return f"A{first_row}:{get_column_letter(columns)}{max(first_row, last_row)}"
