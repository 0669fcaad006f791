"""Real target tables of other provinces, as extraction tools and web pages give them, read by the one
header-driven reader. The expected values are read off each document by hand (tests/data/layouts/README.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.importers.disclosure import parse_file, parse_text
from monitor.importers.document import ImportFailure
from monitor.importers.output import document_json

LAYOUTS = Path(__file__).parent / "data" / "layouts"

CHAIWEI = [  # 上海市普陀区 拆违经费 2026: one 年度(/项目)指标值 column, 成本指标 as 一级 (2021 framework)
    ("成本指标", "经济成本指标", "成本控制合理性", "合理"),
    ("产出指标", "数量指标", "完成年度拆违计划", "=100.00(%)"),
    ("产出指标", "质量指标", "违法建筑销项正确率", "=100.00(%)"),
    ("产出指标", "时效指标", "新增违建处置率", "=100.00(%)"),
    ("效益指标", "社会效益指标", "群众政策知晓度", "≥90.00(%)"),
    ("效益指标", "生态效益指标", "提升城市环境美化指数", "提高"),
    ("效益指标", "可持续影响指标", "新增违建发生数", "降低"),
    ("满意度指标", "服务对象满意度指标", "群众满意度", "≥90.00(%)"),
]


def _indicators(project) -> list[tuple[str, str, str, str]]:
    return [(i.level1, i.level2, i.name, i.value) for i in project.indicators]


@pytest.mark.parametrize("name,family", [
    ("002_shpt_chengguan_2026_chaiwei.txt", "cells"),
    ("016_shpt_chengguan_2026_chaiwei_rowtext.txt", "rowtext"),
    ("017_shpt_chengguan_2026_chaiwei_excel_tsv.txt", "tabs"),
])
def test_the_chaiwei_table_reads_the_same_in_every_extraction(name, family):
    doc = parse_file(LAYOUTS / name)
    assert doc.layout == family and doc.year == 2026
    [project] = doc.projects
    assert project.name == "拆违经费"
    assert project.total_funds == Decimal("10308000.00") and project.annual_funds == Decimal("3498000.00")
    assert project.funds_unit == "元"
    assert project.implementing_unit == "上海市普陀区城市管理行政执法局执法大队"
    assert doc.department_name == "普陀区城市管理行政执法局执法大队"
    assert project.period == "2024-01-01至2026-12-31"
    assert _indicators(project) == CHAIWEI
    assert all(i.half == "annual" for i in project.indicators) and project.period_indicators == []
    assert doc.rejected == [] and doc.accounting()["balanced"]


def test_three_extractions_of_one_table_give_identical_projects_and_indicators():
    docs = [parse_file(LAYOUTS / n) for n in ("002_shpt_chengguan_2026_chaiwei.txt",
                                              "016_shpt_chengguan_2026_chaiwei_rowtext.txt",
                                              "017_shpt_chengguan_2026_chaiwei_excel_tsv.txt")]
    seen = {tuple((p.name, p.total_funds, p.annual_funds, p.implementing_unit, tuple(_indicators(p)))
                  for p in d.projects) for d in docs}
    assert len(seen) == 1


def test_run_on_cells_are_cut_at_the_header_words_and_values_split_off():
    doc = parse_file(LAYOUTS / "004_wuhan_qingshan_jyj_2020_bozhuo.txt")
    assert doc.layout == "runon" and doc.year == 2020 and doc.department_name == "青山区教育局"
    [project] = doc.projects
    assert project.name == "农村义务教育薄弱学校改造补助资金" and project.implementing_unit == "化工区学校"
    assert project.annual_funds == Decimal("160000.00") and project.funds_unit == "万元"  # 16 万元
    assert _indicators(project) == [
        ("产出指标", "数量指标", "农村义务教育学校改造覆盖率", "100%"),
        ("产出指标", "质量指标", "校舍维修改造质量合格率", "100%"),
        ("产出指标", "质量指标", "购置设施设备质量合格率", "100%"),
        ("产出指标", "时效指标", "预算资金当年下达率", "100%"),
        ("产出指标", "时效指标", "项目按计划完成率", "100%"),
        ("产出指标", "成本指标", "建设项目成本控制率", "100%"),
        ("效益指标", "可持续影响指标", "义务教育优质均衡发展情况", "稳步提高"),
        ("满意度指标", "服务对象满意度指标", "学生家长满意度", "≥90%"),
        ("满意度指标", "服务对象满意度指标", "学校满意度", "≥90%"),
    ]
    assert len(doc.repairs) == 9 and all(r.field == "name/value" for r in doc.repairs)


def test_pipe_rows_with_many_projects_and_split_values():
    doc = parse_file(LAYOUTS / "010_sichuan_jingyan_mata_2023_markdown.txt", allow_partial=True)
    assert doc.layout == "pipes" and doc.year == 2023
    assert (doc.department_code, doc.department_name) == ("820", "马踏镇部门")
    first, second = doc.projects
    assert (first.name, first.annual_funds, first.implementing_unit) == (
        "村组干部报酬", Decimal("3309840.00"), "井研县马踏镇人民政府")
    assert first.annual_goal == "按时发放村组干部报酬" and first.funds_unit == "元"
    assert _indicators(first) == [
        ("效益指标", "社会效益指标", "维护社会稳定", "≥95%"),
        ("产出指标", "时效指标", "维持时效", "≥1年"),
        ("产出指标", "质量指标", "按时发放", "≥1人/年"),
        ("效益指标", "经济效益指标", "促进村集体经济发展", "≥95%"),
        ("产出指标", "数量指标", "村组干部230人", "≥230个"),
        ("效益指标", "生态效益指标", "保护生态环境卫生", "≥95%"),
        ("效益指标", "可持续影响指标", "项目维持时效", "≥95%"),
        ("满意度指标", "服务对象满意度指标", "人民群众满意度", "≥95%"),
    ]
    assert (second.name, second.annual_funds) == ("基层组织活动经费", Decimal("660000.00"))
    rec = doc.reconciliation  # the unit's row says 8,827,620.53 元; the two projects read (the table is cut) less
    assert (rec.disclosed_total, rec.imported_total, rec.ok) == (Decimal("8827620.53"), Decimal("3969840.00"), False)
    assert rec.mismatches == [{"reason": "单位预算数合计与各项目预算数之和不符", "line": 4,
                               "disclosed": "8827620.53", "imported": "3969840.00"}]
    assert _indicators(second) == [
        ("满意度指标", "服务对象满意度指标", "辖区内群众满意度", "≥95%"),
        ("效益指标", "经济效益指标", "促进农村集体经济发展", "≥95%"),
        ("效益指标", "可持续影响指标", "经济、环境等方面可持续发展", "≥95%"),
        ("产出指标", "质量指标", "保障村社区正常运转", "≥95%"),
    ]


def test_a_pipe_table_cut_off_at_the_end_lists_the_cut_row_with_its_line():
    doc = parse_file(LAYOUTS / "010_sichuan_jingyan_mata_2023_markdown.txt", allow_partial=True)
    [cut] = doc.rejected
    assert cut.line == 17 and "截断" in cut.reason and "行政村数量" in cut.text
    assert doc.accounting()["balanced"]
    projects = document_json(doc)["projects"]
    assert [(p["name"], p["layout"], p["funds_unit"], p["incomplete"]) for p in projects] == [
        ("村组干部报酬", "pipes", "元", []), ("基层组织活动经费", "pipes", "元", [17])]


def test_one_cell_a_line_with_bars_reads_the_self_evaluation_targets_in_yuan():
    doc = parse_file(LAYOUTS / "014_sichuan_qingshen_fagaiju_2023_ziping_onecell.txt")
    assert doc.layout == "cells_marked" and doc.year == 2023 and doc.department_name == "青神县发展和改革局本级"
    [project] = doc.projects
    assert project.name == "工资性支出"  # printed as 51000021R000000019951-工资性支出
    assert project.implementing_unit == "青神县发展和改革局"
    assert project.annual_funds == Decimal("2389300.00") and project.funds_unit == "万元"  # 年初预算 238.93 万元
    assert _indicators(project) == [
        ("产出指标", "数量指标", "发放(缴纳)覆盖率", "=100%"),
        ("效益指标", "社会效益指标", "足额保障率(参保率)", "=100%"),
    ]


def test_space_rows_with_project_level_one_labels_and_funds_from_subtotals():
    doc = parse_file(LAYOUTS / "021_sichuan_guangyuan_zhaohua_weijian_2021_tefu.txt")
    assert doc.layout == "rowtext" and doc.year == 2021 and doc.department_name == "区卫生健康局"
    [project] = doc.projects
    assert project.name == "特困家庭再扶助(独生子女死亡再扶助)"
    assert project.annual_funds == Decimal("63000.00") and project.funds_unit == "万元"  # 6.30 万元
    assert _indicators(project) == [
        ("产出指标", "数量指标", "对符合政策法规的独生子伤残、死亡家庭进行扶助", "63人"),
        ("产出指标", "质量指标", "按政策、法律、法规乡镇申报、初审确认对象资格,县级按要求复审", "100%"),
        ("产出指标", "时效指标", "项目实施时间", "2021年1月-12月"),
        ("产出指标", "时效指标", "资金拨付", "12月底到位"),
        ("产出指标", "成本指标", "成本控制", "严格按照预算标准1000元/人给补助对象兑付补助"),
        ("效益指标", "社会效益指标", "促进人口与经济、社会、资源、环境协调和可持续发展", "100%"),
        ("效益指标", "可持续影响指标", "实现社会稳定和谐发展", "长期"),
        ("满意度指标", "服务对象满意度指标", "受益群众满意度", "≥90%"),
        ("满意度指标", "服务对象满意度指标", "社会满意度", "100%"),
    ]
    assert [(r.field, r.after) for r in doc.repairs] == [("annual_funds", "6.30")]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(p.name for p in LAYOUTS.glob("0*.txt"))), data=st.data())
def test_damaged_layouts_never_crash(name, data):
    lines = (LAYOUTS / name).read_text(encoding="utf-8").splitlines()
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "swap", "cut"]))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif action == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]) - 1)))]
    try:
        doc = parse_text("\n".join(lines), source="damaged.txt")
    except ImportFailure as exc:
        assert exc.file == "damaged.txt" and exc.message
        return
    assert doc.accounting()["balanced"]


def test_a_self_evaluation_shows_each_indicators_printed_results_in_the_dry_run_json():
    lines = (LAYOUTS / "014_sichuan_qingshen_fagaiju_2023_ziping_onecell.txt").read_text(encoding="utf-8").splitlines()
    assert [lines[i] for i in (79, 83, 84, 85, 86)] == ["发放(缴纳)覆盖率 |", "|", "60 |", "|", "|"]
    lines[83], lines[85], lines[86] = "98% |", "58.8 |", "2人未及时参保 |"  # 完成值, 得分, 未完成原因分析
    doc = parse_text("\n".join(lines) + "\n", source="ziping.txt")
    first, second = document_json(doc)["projects"][0]["indicators"]
    assert (first["name"], first["actual"], first["points"], first["score"], first["deviation_reason"]) == (
        "发放(缴纳)覆盖率", "98%", "60", "58.8", "2人未及时参保")
    assert (second["actual"], second["points"], second["score"], second["deviation_reason"]) == (None, "30", None, None)


def test_a_target_table_without_result_columns_adds_no_result_keys():
    doc = parse_file(LAYOUTS / "016_shpt_chengguan_2026_chaiwei_rowtext.txt")
    [project] = document_json(doc)["projects"]
    assert (project["layout"], project["funds_unit"], project["incomplete"]) == ("rowtext", "元", [])
    assert not any({"actual", "points", "score", "deviation_reason"} & set(i) for i in project["indicators"])
