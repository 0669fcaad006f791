"""Damaged disclosures: the parser either accounts for every row or refuses with ImportFailure, never crashes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.importers.disclosure import parse_text
from monitor.importers.document import ImportFailure
from monitor.importers.output import summary_lines
from tests.conftest import SEED_HRSS, SEED_UNION

HRSS_LINES = SEED_HRSS.read_text(encoding="utf-8").splitlines()
UNION_LINES = SEED_UNION.read_text(encoding="utf-8").splitlines()


def _without(lines: list[str], first: int, last: int) -> str:
    """The document without lines first..last (1-based, inclusive)."""
    return "\n".join(lines[: first - 1] + lines[last:])


def test_a_project_missing_from_the_tables_is_a_reconciliation_mismatch():
    doc = parse_text(_without(HRSS_LINES, 1174, 1207), source="no-yishu.txt")  # drop the 遗属补助 table
    rec = doc.reconciliation
    assert not rec.ok
    assert rec.imported_total == Decimal("46949800.00") - Decimal("18200.00")
    assert [(m.get("project"), m["reason"]) for m in rec.mismatches] == [
        (None, "年度资金合计与表十二合计不符"),
        ("遗属补助", "表十二列出的项目没有对应的绩效目标表"),
    ]


def test_changed_project_funds_are_a_reconciliation_mismatch():
    lines = list(HRSS_LINES)
    assert lines[1180] == "项目资金（元）\t\t实施期资金总额：\t\t18,200\t年度资金总额：\t\t18,200"
    lines[1180] = "项目资金（元）\t\t实施期资金总额：\t\t18,200\t年度资金总额：\t\t19,200"
    doc = parse_text("\n".join(lines), source="changed.txt")
    rec = doc.reconciliation
    assert {(m.get("project"), m.get("disclosed"), m.get("imported")) for m in rec.mismatches} == {
        (None, "46949800.00", "46950800.00"),
        ("遗属补助", "18200.00", "19200.00"),
        ("遗属补助", "19200.00", "18200.00"),  # the changed total no longer matches its own five sources
    }
    assert [line for line in summary_lines(doc) if line.startswith("    ")] == [
        "    ! 年度资金合计与表十二合计不符（表十二 46949800.00 元，导入 46950800.00 元）",
        "    ! 第430行 「遗属补助」：项目年度资金与表十二不符（表十二 18200.00 元，导入 19200.00 元）",
        "    ! 第1181行 「遗属补助」：年度资金总额与中央财政资金、省级财政资金、市县（区）财政资金、单位自筹之和不符"
        "（印出的总额 19200.00 元，各项之和 18200.00 元）",
    ]


def test_rounding_in_table_twelve_is_shown_beside_the_agreement():
    lines = summary_lines(parse_text(SEED_UNION.read_text(encoding="utf-8"), source="union.txt"))
    assert "  与表十二核对：一致（表十二 8877000.00 元，导入 8877016.27 元）" in lines
    assert ("    舍入 第585行 「退休职工补贴医保取暖费及在职职工社保等」：表十二按万元保留两位小数，差额在舍入范围内"
            "（表十二 3097000.00 元，导入 3097016.27 元）") in lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(["tabs", "spaces"]), data=st.data())
def test_deleting_or_shuffling_lines_never_crashes(which, data):
    lines = HRSS_LINES[520:1343] if which == "tabs" else UNION_LINES[700:1354]
    lines = list(lines)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "swap", "cut"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif action == "cut":
            j = data.draw(st.integers(0, max(0, len(lines[i]) - 1)))
            lines[i] = lines[i][:j]
    try:
        doc = parse_text("\n".join(lines), source="damaged.txt")
    except ImportFailure as exc:
        assert exc.file == "damaged.txt" and exc.message
        return
    acc = doc.accounting()
    assert acc["balanced"], acc
    for project in doc.projects:
        assert project.name and project.annual_funds is not None
        keys = [(i.half, i.level2, i.name) for i in project.indicators]
        assert len(keys) == len(set(keys))


def test_a_table_printed_twice_is_one_project_with_every_repeated_row_a_duplicate():
    table = HRSS_LINES[1173:1207]  # 遗属补助, lines 1174-1207
    doc = parse_text("\n".join(HRSS_LINES[:1207] + table + HRSS_LINES[1207:]), source="twice.txt")
    yishu = [p for p in doc.projects if p.name == "遗属补助"]
    assert len(yishu) == 1 and yishu[0].source_lines == [1174, 1208]
    assert len(yishu[0].annual_indicators) == 8 and len(yishu[0].period_indicators) == 8
    assert sum(1 for d in doc.duplicates if d.project == "遗属补助") == 16
    assert doc.reconciliation.ok and doc.accounting()["balanced"]
