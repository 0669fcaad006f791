"""What a target table itself allows to reconcile: its printed total against the parts it prints.

A 绩效目标表 prints the year's funds and, below, where they come from (财政拨款, 其他资金, 上年结转, or the seeds'
中央/省级/市县/自筹/其他). When the parts do not add up to the total, one of the amounts was printed or read
wrong; the import goes on (the table is what the department published) but the mismatch is listed with the
project and line, as the 表十二 check lists its own, so nobody has to add the numbers by hand.
"""

from __future__ import annotations

from decimal import Decimal

from monitor.importers.document import money_text
from monitor.importers.table_block import RawTable

SEED_SOURCES = ("central", "provincial", "city_county", "self_raised", "other")
# header-reader parts (amounts already in 元 after settle_amounts): field → the words the table prints
ANNUAL_PARTS = {"part_fiscal_annual": "财政拨款", "part_carryover": "上年结转", "part_other_annual": "其他资金"}
TOTAL_PARTS = {"part_fiscal_total": "财政资金", "part_other_total": "其他资金"}


def check_table(table: RawTable) -> list[dict]:
    """Mismatches between this table's totals and the parts it prints (empty when they add up or none are printed)."""
    name = table.get("name")
    found: list[dict] = []
    for total_field, label, parts in _sums(table):
        total = table.get(total_field)
        if total is None or not parts:
            continue
        printed = sum((amount for _, amount in parts), Decimal(0))
        if Decimal(str(total)) != printed:
            found.append({"project": name, "line": table.line_of(total_field) or table.line,
                          "disclosed": money_text(Decimal(str(total))), "imported": money_text(printed),
                          "kind": "funds", "reason": f"{label}与{'、'.join(words for words, _ in parts)}之和不符",
                          "reason_en": f"「{label}」 is not the sum of "
                                       f"{', '.join(f'「{words}」' for words, _ in parts)}"})
    return found


def _sums(table: RawTable) -> list[tuple[str, str, list[tuple[str, Decimal]]]]:
    """(total field, its label, the printed parts that must add up to it) for each check the table allows."""
    subtotals = [(f"小计{n}", Decimal(str(table.get(k)))) for n, k in enumerate(sorted(table.fields), 1)
                 if k.startswith("part_sub_") and table.get(k) is not None]
    if any(k.startswith("part_") for k in table.fields):
        annual = _parts(table, ANNUAL_PARTS)
        return [("annual_funds", "年度资金总额", annual if "part_fiscal_annual" in table.fields else []),
                ("total_funds", "项目资金总额", _parts(table, TOTAL_PARTS)
                 if "part_fiscal_total" in table.fields else []),
                ("annual_funds", "年度资金总额", [("各资金来源小计", sum((a for _, a in subtotals), Decimal(0)))]
                 if subtotals and not any(r.field == "annual_funds" for r in table.repairs) else [])]
    words = {"central": "中央财政资金", "provincial": "省级财政资金", "city_county": "市县（区）财政资金",
             "self_raised": "单位自筹", "other": "其他资金"}
    checks = []
    for half, label in (("annual", "年度资金总额"), ("total", "实施期资金总额")):
        parts = [(words[s], Decimal(str(table.get(f"{half}_{s}")))) for s in SEED_SOURCES
                 if table.get(f"{half}_{s}") is not None]
        if len(parts) >= len(SEED_SOURCES) - 1:  # the template's rows all printed (其他资金 is optional)
            checks.append((f"{half}_funds", label, parts))
    return checks


def _parts(table: RawTable, fields: dict[str, str]) -> list[tuple[str, Decimal]]:
    return [(words, Decimal(str(table.get(f)))) for f, words in fields.items() if table.get(f) is not None]
