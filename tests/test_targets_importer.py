"""What the real importer extracts from both seeds must parse: the grammar and the importer agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.importers.disclosure import parse_file
from rules.targets import parse_target

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "monitor" / "examples"
SEEDS = [EXAMPLES / "000_65cb778bbbd667b7.txt", EXAMPLES / "004_a620ed73b42e717d.txt"]

# Genuine garbage among the indicator values, with why it stays unparsed.
GARBAGE = {
    # 000, 退休老人津贴 table (scrambled in the PDF): 补助发放金额 under 成本指标 reads "2640年" — a year 616
    # years from the budget year, a typo for an amount; kpiwatch keeps it verbatim and flags it.
    "2640年": "年份2640不在预算年度2024及前后一年内",
}


@pytest.mark.parametrize("seed,garbage", [(SEEDS[0], {"2640年"}), (SEEDS[1], set())], ids=["000", "004"])
def test_every_indicator_value_the_importer_extracts_parses(seed, garbage):
    doc = parse_file(seed)
    indicators = [i for p in doc.projects for i in p.indicators]  # annual (年度) and period (实施期) halves
    assert doc.year == 2024 and len([i for i in indicators if i.half == "annual"]) > 50
    unparsed = {}
    for ind in indicators:
        target = parse_target(ind.value, year=doc.year, level2=ind.level2, name=ind.name)
        if target.kind == "unparsed":
            unparsed[ind.value] = target.reason
    assert unparsed == {v: GARBAGE[v] for v in garbage}
