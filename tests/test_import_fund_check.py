"""A table's printed total against the parts it prints (总额 = 财政拨款 + 其他资金 + 上年结转, or the seeds' five
sources): a mismatch is listed in the import summary like the 表十二 check lists its own, never a refusal."""

from __future__ import annotations

from pathlib import Path

from monitor.importers.disclosure import parse_text
from monitor.importers.output import summary_lines
from tests.conftest import SEED_HRSS

ROWTEXT = Path(__file__).parent / "data" / "layouts" / "016_shpt_chengguan_2026_chaiwei_rowtext.txt"


def _fund_mismatches(doc) -> list[dict]:
    assert doc.reconciliation is not None
    return [m for m in doc.reconciliation.mismatches if m.get("kind") == "funds"]


def test_parts_that_add_up_to_the_printed_totals_report_nothing():
    doc = parse_text(ROWTEXT.read_text(encoding="utf-8"), source="chaiwei.txt")
    assert _fund_mismatches(doc) == []  # 3,498,000 = 3,498,000 + 0 + 0 and 10,308,000 = 10,308,000 + 0


def test_a_year_grant_that_does_not_add_up_to_the_annual_total_is_listed_with_project_and_line():
    text = ROWTEXT.read_text(encoding="utf-8").replace("当年财政拨款 3,498,000.00", "当年财政拨款 3,000,000.00")
    doc = parse_text(text, source="chaiwei.txt")
    assert [p.annual_funds for p in doc.projects] == [3498000]  # imported as printed: the table is what was published
    assert _fund_mismatches(doc) == [{
        "project": "拆违经费", "line": 10, "disclosed": "3498000.00", "imported": "3000000.00", "kind": "funds",
        "reason": "年度资金总额与财政拨款、上年结转、其他资金之和不符",
        "reason_en": "「年度资金总额」 is not the sum of 「财政拨款」, 「上年结转」, 「其他资金」"}]
    assert ("    ! 第10行 「拆违经费」：年度资金总额与财政拨款、上年结转、其他资金之和不符"
            "（印出的总额 3498000.00 元，各项之和 3000000.00 元）") in summary_lines(doc)


def test_the_seeds_five_sources_not_adding_up_are_listed_beside_the_table_twelve_check():
    lines = SEED_HRSS.read_text(encoding="utf-8").splitlines()
    assert lines[534].startswith("\t\t市县（区）财政资\t200,000\t市县（区）财政资金\t200,000")  # line 535
    lines[534] = lines[534].replace("财政资金\t200,000", "财政资金\t190,000")
    doc = parse_text("\n".join(lines) + "\n", source="hrss.txt")
    assert _fund_mismatches(doc) == [{
        "project": "2023年已完成未支付项目", "line": 532, "disclosed": "200000.00", "imported": "190000.00",
        "kind": "funds", "reason": "年度资金总额与中央财政资金、省级财政资金、市县（区）财政资金、单位自筹之和不符",
        "reason_en": "「年度资金总额」 is not the sum of 「中央财政资金」, 「省级财政资金」, 「市县（区）财政资金」, "
                     "「单位自筹」"}]
    assert not doc.reconciliation.ok and len(doc.projects) == 19
