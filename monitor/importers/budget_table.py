"""表十二 项目支出预算表（本年预算）: the document's own list of this year's projects, used to reconcile.

Amounts there are in 万元; they are converted to 元 (×10000) before any comparison.
"""

from __future__ import annotations

import re
from decimal import Decimal

from monitor.importers.document import ParsedProject, Reconciliation
from monitor.importers.levels import is_money
from monitor.importers.table_block import parse_money

TITLE = "项目支出预算表（本年预算）"
WAN = Decimal("10000")
TOLERANCE = Decimal("50")  # half of 0.01万元, the precision 表十二 is printed with


def find_rows(lines: list[str]) -> list[tuple[str, Decimal, int]] | None:
    """(name, amount in 元, line) rows; the first row is the unit's total. None when the table isn't there.

    The table's own first row tells how its cells are separated: TABs, or spaces with names wrapped over lines."""
    starts = [i for i, s in enumerate(lines) if s.strip().endswith(TITLE) and "表十二" not in s]
    for start in starts:
        numbers_row = None
        for j in range(start + 1, min(start + 40, len(lines))):
            if re.fullmatch(r"1\s+2\s+3\s+4\s+5(?:\s+\d+)*", lines[j].strip()):
                numbers_row = j
                break
        if numbers_row is None:
            continue
        first = next((s for s in lines[numbers_row + 1:] if s.strip()), "")
        rows = _read_tabs(lines, numbers_row + 1) if "\t" in first else _read_spaces(lines, numbers_row + 1)
        if rows:
            return rows
    return None


def _amount(text: str) -> Decimal | None:
    """A printed 万元 amount in 元; None for a cell that is not one (is_money also admits a lone ",")."""
    money = parse_money(text) if is_money(text) else None
    return None if money is None else money * WAN


def _read_tabs(lines: list[str], begin: int) -> list[tuple[str, Decimal, int]]:
    rows: list[tuple[str, Decimal, int]] = []
    for j in range(begin, len(lines)):
        s = lines[j]
        if not s.strip():
            if rows:
                nxt = next((t for t in lines[j + 1:j + 3] if t.strip()), "")
                if "\t" not in nxt:
                    break
            continue
        if "\t" not in s:
            break
        cells = [c.strip() for c in s.split("\t") if c.strip()]
        amount = _amount(cells[1]) if len(cells) >= 2 else None
        if amount is not None:
            rows.append((cells[0], amount, j + 1))
    return rows


def _read_spaces(lines: list[str], begin: int) -> list[tuple[str, Decimal, int]]:
    rows: list[tuple[str, Decimal, int]] = []
    pending: list[str] = []
    pending_line = None
    for j in range(begin, len(lines)):
        s = lines[j].strip().replace("\u3000", " ").strip()
        if not s:
            continue
        if "表十三" in s or "上年结转" in s or "预算公开表" in s:
            break
        tokens = s.split()
        amounts = [a for t in tokens if (a := _amount(t)) is not None]
        words = [t for t in tokens if not is_money(t)]
        if words and not amounts:
            pending.append("".join(words))
            pending_line = pending_line or j + 1
            continue
        if amounts:
            name = "".join(pending + words)
            rows.append((name, amounts[0], pending_line or j + 1))
            pending, pending_line = [], None
    return rows


def reconcile(rows: list[tuple[str, Decimal, int]] | None, projects: list[ParsedProject]) -> Reconciliation:
    imported = sum((p.annual_funds or Decimal("0")) for p in projects)
    imported = Decimal(imported).quantize(Decimal("0.01"))
    if not rows:
        return Reconciliation(None, imported, [{"reason": "文件中未找到表十二 项目支出预算表（本年预算），无法核对"}])
    total_name, total, _ = rows[0]
    items = rows[1:]
    mismatches: list[dict] = []
    rounding: list[dict] = []
    if abs(total - imported) > TOLERANCE:
        mismatches.append({"reason": "年度资金合计与表十二合计不符", "disclosed": _t(total), "imported": _t(imported)})
    unmatched = list(projects)
    for name, amount, line in items:
        match = next((p for p in unmatched if p.name == name and p.annual_funds == amount), None)
        if match is None:
            match = next((p for p in unmatched if p.name == name and _close(p.annual_funds, amount)), None)
            if match is not None:
                rounding.append({"project": name, "line": line, "disclosed": _t(amount),
                                 "imported": _t(match.annual_funds),
                                 "reason": "表十二按万元保留两位小数，差额在舍入范围内"})
        if match is None:
            match = next((p for p in unmatched if p.name == name), None)
            if match is not None:
                mismatches.append({"project": name, "line": line, "disclosed": _t(amount),
                                   "imported": _t(match.annual_funds), "reason": "项目年度资金与表十二不符"})
        if match is None:
            mismatches.append({"project": name, "line": line, "disclosed": _t(amount), "imported": None,
                               "reason": "表十二列出的项目没有对应的绩效目标表"})
            continue
        unmatched.remove(match)
    for p in unmatched:
        mismatches.append({"project": p.import_key, "line": p.line, "disclosed": None, "imported": _t(p.annual_funds),
                           "reason": "绩效目标表中的项目未列入表十二"})
    if abs(total - imported) and abs(total - imported) <= TOLERANCE:
        rounding.insert(0, {"disclosed": _t(total), "imported": _t(imported),
                            "reason": "合计差额在表十二万元两位小数的舍入范围内"})
    return Reconciliation(total, imported, mismatches, rows, rounding)


def _close(a: Decimal | None, b: Decimal) -> bool:
    return a is not None and abs(a - b) <= TOLERANCE


def _t(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).quantize(Decimal("0.01")), "f")
