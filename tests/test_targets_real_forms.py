"""The 指标值 forms of real self-evaluation tables that the grammar once slipped on (issue 14, item 5): each form as
the tables write it, with what it must mean."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pandas as pd
import pytest

from rules.evaluation import evaluate
from rules.scoring import IndicatorInput, ScoringRules, score_indicator
from rules.targets import RANGE, Target, parse_target, parse_target_cached, suspicion_en

Y = 2024
HB, LB = "higher_is_better", "lower_is_better"


def read(text: str, *, level2: str | None = None, name: str | None = None) -> Target:
    target = parse_target(text, year=Y, level2=level2, name=name)
    assert parse_target_cached(text, Y, level2, name) == target  # the import's cached reading agrees
    assert Target.from_json(target.to_json()) == target
    return target


def essentials(t: Target) -> tuple:
    return t.kind, t.comparator, t.value, t.unit, t.direction


# ------------------------------------------------------------------------------------------ units


def test_baifenbi_is_a_percent_not_a_quantity_with_unit_baifenbi():
    assert essentials(read("≥100百分比")) == ("percent", ">=", D(100), "%", HB)
    assert essentials(read("95", name="成活率(百分比)")) == ("percent", ">=", D(95), "%", HB)


@pytest.mark.parametrize("text,unit", [(">=530元/人*月", "元/人*月"), ("≥530元/人.月", "元/人.月"),
                                       ("≤200元/人·天", "元/人·天"), ("530元/人*月", "元/人*月")])
def test_compound_units_are_units_not_placeholders(text, unit):
    target = read(text, level2="成本指标")
    assert (target.kind, target.value, target.unit) == ("quantity", D(200) if "200" in text else D(530), unit)
    assert target.comparator == ("<=" if text.startswith(("≤", "530")) else ">=")


@pytest.mark.parametrize("text", ["≥**%", "(≥**人)", "*", "**人", "≥*%"])
def test_a_lone_asterisk_is_still_a_placeholder(text):
    assert (read(text).kind, read(text).reason) == ("unparsed", "占位符：未填写具体指标值")


@pytest.mark.parametrize("text,comparator", [("95%（含）以上", ">="), ("95%(含)以上", ">="), ("95%（含）以下", "<="),
                                             ("≥95%（含）", ">="), ("95%（不含）以上", ">"), ("5%（不含）以下", "<")])
def test_han_marks_whether_the_bound_counts_and_never_becomes_part_of_the_unit(text, comparator):
    target = read(text)
    assert (target.kind, target.comparator, target.unit) == ("percent", comparator, "%")


def test_a_placeholder_in_the_name_never_becomes_the_unit():
    target = read(">=9", name="成活率(≥**%)")
    assert (target.kind, target.value, target.unit, target.inferred) == ("quantity", D(9), None, ())
    assert read(">=9", name="成活率(≥90%)").unit is None  # a target in the name is no unit either
    assert read("95", name="合格率(%)").unit == "%"  # a real bracketed unit still counts
    assert read("50", name="资金(万元)").value == D(500000)


# ------------------------------------------------------------------------------------------ ranges


@pytest.mark.parametrize("text,kind,lower,upper,unit", [
    ("90%-95%", "percent", "90", "95", "%"),
    ("90-95%", "percent", "90", "95", "%"),
    ("3-5人", "quantity", "3", "5", "人"),
    ("3人-5人", "quantity", "3", "5", "人"),
    ("3～5次", "quantity", "3", "5", "次"),
    ("3至5人", "quantity", "3", "5", "人"),
    ("1.5-2万元", "quantity", "15000", "20000", "元"),
])
def test_ranges_are_windows_with_both_bounds(text, kind, lower, upper, unit):
    target = read(text)
    assert (target.kind, target.comparator, target.value, target.upper, target.unit, target.direction) == (
        kind, RANGE, D(lower), D(upper), unit, "within")
    again = read(target.canonical())
    assert (again.comparator, again.value, again.upper, again.unit) == (RANGE, target.value, target.upper, unit)
    assert target.to_json()["upper"] == upper


def test_a_reversed_range_is_refused_with_its_reason():
    assert (read("95%-90%").kind, read("95%-90%").reason) == ("unparsed", "区间上下限颠倒：95大于90")


def _range_states(values: list[str]) -> list[tuple[str, str]]:
    """"90%-95%" (合格率, a point measure) with each reported value, at year end."""
    target = read("90%-95%", name="合格率")
    n = len(values)
    frames = {
        "projects": pd.DataFrame([{"project_id": 1, "year": Y, "plan_start": None, "plan_end": None,
                                   "annual_funds": 100.0}]),
        "indicators": pd.DataFrame({"indicator_id": range(1, n + 1), "project_id": 1, "kind": target.kind,
                                    "comparator": target.comparator, "target_value": float(target.value),
                                    "target_upper": float(target.upper), "unit": target.unit,
                                    "direction": target.direction, "name": "合格率", "value_text": target.text,
                                    "parse_reason": None}),
        "occurrences": pd.DataFrame(columns=["indicator_id", "start", "due"]),
        "reports": pd.DataFrame({"id": range(1, n + 1), "indicator_id": range(1, n + 1),
                                 "value": [float(v) for v in values], "as_of": date(Y, 12, 31),
                                 "occurrence_due": None, "completed_on": None, "grade": None, "forecast": None}),
        "spending": pd.DataFrame(columns=["id", "project_id", "amount", "as_of"]),
    }
    states = evaluate(**frames, as_of=date(Y, 12, 31)).indicators
    return list(zip(states["light"], states["reason"], strict=True))


def test_a_value_inside_the_range_is_met_over_it_red_under_it_judged_on_the_lower_bound():
    got = _range_states(["90", "92.5", "95", "95.01", "85", "80"])
    assert got == [
        ("green", "截至12月31日报告为90%，已达到目标90%至95%"),
        ("green", "截至12月31日报告为92.5%，已达到目标90%至95%"),
        ("green", "截至12月31日报告为95%，已达到目标90%至95%"),
        ("red", "截至12月31日报告为95.01%，超过上限95%"),
        ("yellow", "截至12月31日报告为85%，低于目标90%至95%（为目标的94%）"),
        ("red", "截至12月31日报告为80%，低于目标90%至95%（为目标的89%）"),
    ]


def test_a_range_scores_full_inside_and_by_the_bound_it_misses_outside():
    def score(actual: str) -> D:
        item = IndicatorInput(key=1, level1="产出指标", name="合格率", kind="percent", direction="within",
                              comparator=RANGE, target=D(90), upper=D(95), actual=D(actual))
        return score_indicator(item, D(10), ScoringRules()).score

    assert [score(a) for a in ("90", "93", "95")] == [D("10.00")] * 3
    assert score("81") == D("9.00")  # 10 × (1 − |81 − 90| ÷ 90)
    assert score("104.5") == D("9.00")  # 10 × (1 − |104.5 − 95| ÷ 95)


# ------------------------------------------------------------------------------------------ suspicious values


@pytest.mark.parametrize("text,name,flag", [
    ("292%", "资金到位率", "比率类指标的目标超过100%（292%），请核对"),
    ("≥292%", "培训合格率(%)", "比率类指标的目标超过100%（292%），请核对"),
    ("90%-120%", "覆盖率", "比率类指标的目标超过100%（120%），请核对"),
    ("≥9500", "合格率", "比率类指标的目标超过100%（9500%），请核对"),
    ("1500%", None, "百分比目标超过1000%（1500%），请核对"),
    ("-5人", None, "目标值为负数（-5），请核对"),
    ("≥100%", "资金到位率", None),
    ("≥95%", "服务对象满意度", None),
    ("150%", "收入增长率", None),  # a growth may exceed 100%
    ("292%", None, None),  # without a name nothing says it is a share
])
def test_a_value_outside_its_kinds_range_is_flagged_not_refused(text, name, flag):
    target = read(text, name=name)
    assert target.kind in ("percent", "quantity")
    assert target.suspicious == flag
    assert target.to_json().get("suspicious") == flag


@pytest.mark.parametrize("text,name,flag", [
    ("≥292%", "培训合格率(%)", "a rate's target above 100% (292%): please check"),
    ("1500%", None, "a percentage target above 1000% (1500%): please check"),
    ("-5人", None, "the target is negative (-5): please check"),
    ("≥95%", "服务对象满意度", None),
])
def test_a_flag_says_the_same_figure_in_english(text, name, flag):
    assert suspicion_en(read(text, name=name), name) == flag


def test_the_flag_does_not_split_the_cache():
    assert parse_target_cached("≥95%", Y, None, "职工满意度") is parse_target_cached("≥95%", Y, None, "其他指标")


# ------------------------------------------------------------------------------------------ qualitative words


@pytest.mark.parametrize("text,direction", [
    ("可控", LB), ("成本可控", LB), ("不超预算", LB), ("控制在预算内", LB), ("无超支", LB),
    ("合理", None), ("严格执行相关制度规定", None), ("执行到位", None), ("合规", None), ("安全", None),
    ("提高", HB), ("不低于上年", HB), ("降低成本，提高效率", None),
])
def test_common_qualitative_words_with_their_direction(text, direction):
    target = read(text)
    assert (target.kind, target.direction, target.comparator, target.value) == ("qualitative", direction, None, None)


def test_the_import_summary_and_its_dry_run_json_show_a_suspicious_value():
    """The 审计工作完成率 of the 人社局 disclosure typed as 292% instead of 100%: imported as written, and listed
    for a person to check in the summary, its JSON and the dry-run JSON of that indicator."""
    from monitor.importers.disclosure import parse_text
    from monitor.importers.load import summary_json
    from monitor.importers.output import document_json, summary_lines
    from tests.conftest import SEED_HRSS

    lines = SEED_HRSS.read_text(encoding="utf-8").splitlines()
    assert lines[548] == "\t\t质量指标\t审计工作完成率\t100%\t质量指标\t审计工作完成率\t100%"
    lines[548] = "\t\t质量指标\t审计工作完成率\t292%\t质量指标\t审计工作完成率\t100%"
    doc = parse_text("\n".join(lines), source="typo.txt")
    flag = "比率类指标的目标超过100%（292%），请核对"
    (shown,) = [line for line in summary_lines(doc) if line.startswith("  可疑")]
    assert shown.endswith(f"审计工作完成率 '292%': {flag}") and "第549行" in shown
    assert [(s["name"], s["value"], s["reason"]) for s in summary_json(doc)["suspicious"]] == [
        ("审计工作完成率", "292%", flag)]
    targets = [i["target"] for p in document_json(doc)["projects"] for i in p["indicators"] + p["period_indicators"]
               if i["name"] == "审计工作完成率"]
    assert sorted(t.get("suspicious") or "" for t in targets) == ["", flag]


def test_a_stored_range_is_lit_and_scored_with_both_bounds(engine, monkeypatch):
    """培训合格率 "90%-95%" with 96% reported for the year: through the store, the evaluation lights it red (over
    the upper bound) and the self-evaluation scores 50 × (1 − |96 − 95| ÷ 95) = 49.47 of its 产出 50."""
    from sqlalchemy import select
    from sqlmodel import Session

    import tests.evaluation_seed_data as seed
    from monitor.config import Config
    from monitor.evaluation import run_evaluation
    from monitor.reports.data import load_year
    from monitor.reports.selfeval import build_selfeval
    from monitor.store.models import IndicatorState

    monkeypatch.setattr(seed, "INDICATORS", [("pass", "db", "质量指标", "培训合格率", "90%-95%")])
    ids = seed.store(engine, reports=[("pass", {"value": "96", "as_of": date(Y, 12, 31)})], spending=[])
    settings = Config()
    run_evaluation(engine, settings, as_of=date(Y, 12, 31))
    with Session(engine) as session:
        state = session.exec(select(IndicatorState).where(IndicatorState.indicator_id == ids["indicator"]["pass"])
                             ).scalar_one()
        assert (state.light, state.status, state.reason) == ("red", "over_cap", "截至12月31日报告为96%，超过上限95%")
        project = next(p for p in build_selfeval(load_year(session, Y), settings.scoring) if p.rows)
    (row,) = project.rows
    assert (row.points, row.score) == (D("50.00"), D("49.47"))
