"""The disclosure parser on the two real seed documents, checked against values read by eye from the text.

The tables below were written by reading the seed files (line numbers given), not from the parser's output.
"Annual" counts every 年度目标 indicator printed in the right half, across continued pages, minus the rows the
document prints twice; the annual rows the document leaves unusable are listed separately as rejected.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.importers.budget_table import find_rows
from monitor.importers.disclosure import parse_file, parse_text
from monitor.importers.document import ImportFailure
from monitor.importers.output import document_json
from tests.conftest import SEED_HRSS, SEED_UNION
from tests.import_seeds import hrss_document, union_document

# name, annual funds (元), total funds (元), annual indicators, period indicators, first table line
HRSS_PROJECTS = [
    ("2023年已完成未支付项目", "200000", "200000", 10, 10, 525),
    ("创业就业专项", "13000000", "30000000", 22, 22, 562),  # continued at 606
    ("档案整理费用", "139300", "139300", 7, 9, 632),  # 2 annual rows garbled (656, 657)
    ("房屋修缮费用", "78300", "78300", 10, 10, 667),
    ("建国前老工人及企业抗美援朝老战士生活补贴", "223100", "295000", 14, 15, 703),
    ("建国前老工人及企业抗美援朝老战士生活补贴", "71900", "205000", 14, 15, 742),
    ("评比达标表彰活动奖金", "1800000", "1800000", 7, 6, 782),
    ("人才工作专项经费", "1200000", "1200000", 11, 11, 814),
    ("人才教育培训", "430000", "430000", 12, 12, 851),
    ("人力资源市场改造", "4079000", "4079000", 26, 26, 888),  # continued at 931
    ("人事人才及社保专项", "900000", "900000", 23, 23, 962),  # continued at 1005
    ("省级就业补助资金市本级", "600000", "600000", 10, 9, 1033),
    ("省级人力资源服务产业园资金", "1000000", "1000000", 6, 6, 1068),
    ("事业单位招聘专业技术人员经费", "600000", "600000", 12, 11, 1100),  # two annual rows printed twice
    ("信息系统维护费", "60000", "60000", 9, 9, 1138),
    ("遗属补助", "18200", "18200", 8, 8, 1174),
    ("职业技能提升工程工作经费", "6550000", "6900000", 19, 19, 1208),  # scrambled; continued at 1251
    ("中央就业补助资金-见习补贴", "6500000", "6500000", 9, 8, 1276),
    ("中央就业补助资金市本级", "9500000", "9500000", 8, 8, 1310),
]

UNION_PROJECTS = [
    ("工人文化宫运行经费", "1500000", "1500000", 17, 17, 708),
    ("退休职工补贴医保取暖费及在职职工社保等", "3097016.27", "3097016.27", 21, 21, 850),
    ("大病医疗互助风险金", "1000000", "1000000", 7, 7, 1026),
    ("劳模疗养体检", "280000", "280000", 8, 8, 1129),
    ("帮扶送温暖", "3000000", "3000000", 6, 6, 1251),
]

# project, half, 二级指标, name, value — verbatim from the documents
HRSS_SAMPLE = [
    ("2023年已完成未支付项目", "annual", "数量指标", "租用会议室天数", "64天"),
    ("2023年已完成未支付项目", "annual", "成本指标", "租用谈话室成本", "308元/天"),
    ("2023年已完成未支付项目", "annual", "服务对象满意度指标", "审计人员满意度", "≥90%"),
    ("创业就业专项", "annual", "经济效益指标", "城镇新增就业人数", "≥3.9万人"),
    ("创业就业专项", "annual", "数量指标", "补贴人力资源产业园企业", "≥1家"),
    ("创业就业专项", "annual", "数量指标", "补贴人力资源产业园数量", "≥1家"),
    ("创业就业专项", "annual", "服务对象满意度指标", "享受补贴人员满意度", "≥80%"),
    ("创业就业专项", "period", "生态效益指标", "因就业印发群体性事件数", "0件"),
    ("房屋修缮费用", "annual", "成本指标", "平面无造型吊单价", "310元/平方米"),
    ("人才教育培训", "annual", "成本指标", "人均培训成本(元)", "≤400元/人/次"),
    ("人力资源市场改造", "annual", "数量指标", "墙顶面油漆涂料面积", "3860平方米"),
    ("人力资源市场改造", "annual", "成本指标", "工程成本", "≤407.9万元"),
    ("人力资源市场改造", "annual", "服务对象满意度指标", "服务对象满意度", "≥95%"),
    ("人事人才及社保专项", "annual", "数量指标", "工伤诉讼应诉次数", "≥10次"),
    ("人事人才及社保专项", "annual", "时效指标", "办公用品购置和办公设备", "每月序时进行"),
    ("人事人才及社保专项", "period", "时效指标", "办公用品购置和办公设备", "每月"),
    ("事业单位招聘专业技术人员经费", "annual", "成本指标", "岗位招聘成本", "≤47万元"),
    ("事业单位招聘专业技术人员经费", "annual", "服务对象满意度指标", "招聘单位满意度", "≥95%"),
    ("省级就业补助资金市本级", "annual", "成本指标", "劳务输出补助资金", "60万元"),
    ("中央就业补助资金-见习补贴", "annual", "质量指标", "就业见习人员和岗位的匹配", "≥90%"),
    ("职业技能提升工程工作经费", "annual", "数量指标", "组织创业培训讲师大赛", "1场"),
    ("职业技能提升工程工作经费", "annual", "成本指标", "技能工作站补贴", "≤300000元/个"),
    ("遗属补助", "annual", "成本指标", "住宅取暖补贴标准", "3920元"),
]

UNION_SAMPLE = [
    ("工人文化宫运行经费", "annual", "数量指标", "供热面积", "＞30000平方米"),
    ("工人文化宫运行经费", "annual", "社会效益指标", "保障文化宫正常运转", "保障"),
    ("工人文化宫运行经费", "annual", "服务对象满意度指标", "职工/群众满意度", "≥90%"),
    ("退休职工补贴医保取暖费及在职职工社保等", "annual", "时效指标", "在职社保缴纳时间", "每月"),
    ("退休职工补贴医保取暖费及在职职工社保等", "annual", "质量指标", "退休人员医保、补贴、体检和在职人员社保", "100%"),
    ("退休职工补贴医保取暖费及在职职工社保等", "annual", "成本指标", "在职人员社保成本", "1801812.89元"),
    ("大病医疗互助风险金", "annual", "成本指标", "大病医疗互助风险金", "≤100万元"),
    ("大病医疗互助风险金", "annual", "社会效益指标", "缓解职工就医压力", "缓解"),
    ("劳模疗养体检", "annual", "时效指标", "疗养时间", "第二三季度"),
    ("帮扶送温暖", "annual", "时效指标", "慰问时间", "2月底之前"),
]


@pytest.fixture(scope="module")
def hrss():
    return hrss_document()


@pytest.fixture(scope="module")
def union():
    return union_document()


def _by_key(doc):
    return {p.import_key: p for p in doc.projects}


@pytest.mark.parametrize("which,expected", [("hrss", HRSS_PROJECTS), ("union", UNION_PROJECTS)])
def test_every_project_name_funds_and_indicator_count(request, which, expected):
    doc = request.getfixturevalue(which)
    got = [(p.name, p.annual_funds, p.total_funds, len(p.annual_indicators), len(p.period_indicators), p.line)
           for p in doc.projects]
    want = [(n, Decimal(a), Decimal(t), ai, pi, line) for n, a, t, ai, pi, line in expected]
    assert got == want


def test_header_of_hrss(hrss):
    assert (hrss.layout, hrss.department_code, hrss.department_name, hrss.year) == (
        "tabs", "144", "晋城市人力资源和社会保障局", 2024)
    first = hrss.projects[0]
    assert first.implementing_unit == "晋城市人力资源和社会保障局"
    assert first.attribute == "一次性项目（1年结束）" and first.period == "1年"
    assert first.annual_by_source["city_county"] == Decimal("200000") and first.annual_by_source["central"] == 0
    assert first.basis.startswith("运审社通【2023】19号")
    assert first.filled_at.isoformat() == "2024-01-31T16:28:58+08:00"
    pingbi = _by_key(hrss)["评比达标表彰活动奖金"]  # line 793: only the 年度 side prints 单位自筹
    assert pingbi.annual_by_source["self_raised"] == 0 and pingbi.total_by_source["self_raised"] is None
    jianxi = _by_key(hrss)["中央就业补助资金-见习补贴"]
    assert jianxi.annual_by_source["central"] == Decimal("6500000")
    assert _by_key(hrss)["创业就业专项"].annual_goal.startswith("用于按规定落实各项就业创业扶持政策")
    assert "预计15家企业" in _by_key(hrss)["创业就业专项"].annual_goal


def test_header_of_union(union):
    assert (union.layout, union.department_code, union.department_name, union.year) == (
        "rowtext", "959", "晋城市总工会", 2024)
    gong = union.projects[0]
    assert gong.overview.startswith("工人文化宫是晋城市总工会的附属事业单位")
    assert gong.overview.endswith("维修费等27万）。")
    assert gong.measures.startswith("严格执行政府会议纪要文件")
    assert gong.period_goal.startswith("需预算资金150万元") and gong.annual_goal.startswith("保证消防、电力等系统设备")
    laomo = _by_key(union)["劳模疗养体检"]
    assert "晋城市总工会2024年单位预算公开报告" not in (laomo.overview or "")
    assert laomo.annual_by_source["city_county"] == Decimal("280000")


@pytest.mark.parametrize("which,sample", [("hrss", HRSS_SAMPLE), ("union", UNION_SAMPLE)])
def test_sample_indicators_verbatim(request, which, sample):
    doc = request.getfixturevalue(which)
    projects = _by_key(doc)
    for project, half, level2, name, value in sample:
        found = [(i.level2, i.value) for i in projects[project].indicators if i.half == half and i.name == name]
        assert found == [(level2, value)], (project, name)


def test_reconciliation_totals(hrss, union):
    assert hrss.reconciliation.to_json()["disclosed_total"] == "46949800.00"
    assert hrss.reconciliation.to_json()["imported_total"] == "46949800.00"
    assert hrss.reconciliation.ok and hrss.reconciliation.mismatches == []
    assert len(hrss.reconciliation.disclosed_rows) == 20  # the unit's total + 19 projects
    assert union.reconciliation.disclosed_total == Decimal("8877000.00")
    assert union.reconciliation.ok
    # 表十二 prints 309.70万元 for a project of 3,097,016.27元: within rounding, and said so
    assert [r.get("project") for r in union.reconciliation.rounding] == [None, "退休职工补贴医保取暖费及在职职工社保等"]


def test_each_seed_project_reports_the_text_family_it_was_read_as(hrss, union):
    for doc, family in ((hrss, "tabs"), (union, "rowtext")):
        data = document_json(doc)
        assert data["source"]["layout"] == family
        assert {p["layout"] for p in data["projects"]} == {family}


def test_the_budget_table_is_read_by_how_its_own_rows_are_separated():
    # 表十二 as printed: TAB cells in the first seed (from line 413), wrapped space text in the second (from 577)
    hrss = find_rows(SEED_HRSS.read_text(encoding="utf-8").splitlines())
    assert hrss is not None and len(hrss) == 20
    assert hrss[:3] == [("晋城市人力资源和社会保障局", Decimal("46949800.00"), 413),
                        ("事业单位招聘专业技术人员经费", Decimal("600000.00"), 414),
                        ("人才教育培训", Decimal("430000.00"), 415)]
    union = find_rows(SEED_UNION.read_text(encoding="utf-8").splitlines())
    assert union == [("晋城市总工会", Decimal("8877000.00"), 577), ("劳模疗养体检", Decimal("280000.00"), 579),
                     ("大病医疗互助风险金", Decimal("1000000.00"), 581), ("帮扶送温暖", Decimal("3000000.00"), 583),
                     ("退休职工补贴医保取暖费及在职职工社保等", Decimal("3097000.00"), 585),
                     ("工人文化宫运行经费", Decimal("1500000.00"), 590)]


def test_truncated_annual_names_are_restored_and_recorded(hrss):
    repairs = {(r.line, r.before): r.after for r in hrss.repairs if r.field == "name"}
    assert repairs[(600, "城镇新增就业人")] == "城镇新增就业人数"
    assert repairs[(588, "补贴人力资源产")] == "补贴人力资源产业园企业"
    assert repairs[(589, "补贴人力资源产")] == "补贴人力资源产业园数量"
    assert repairs[(986, "人力资源和社会")] == "人力资源和社会保障年报"  # right half printed in another order
    annual = {i.name for p in hrss.projects for i in p.annual_indicators}
    assert "城镇新增就业人" not in annual and "城镇新增就业人数" in annual


def test_level_names_are_normalised_and_recorded(hrss):
    level2 = {i.level2 for p in hrss.projects for i in p.indicators}
    assert level2 <= {"数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标", "生态效益指标",
                      "可持续影响指标", "服务对象满意度指标"}
    repairs = {(r.line, r.before, r.after) for r in hrss.repairs if r.field == "level2"}
    assert (734, "经济收益指标", "经济效益指标") in repairs
    assert (559, "服务对象满意度", "服务对象满意度指标") in repairs
    assert (628, "服务对象满意度指", "服务对象满意度指标") in repairs
    jianguo = _by_key(hrss)["建国前老工人及企业抗美援朝老战士生活补贴"]
    assert [i.level2 for i in jianguo.annual_indicators if i.name == "建国前退休老工人津补贴"] == ["经济效益指标"]


def test_continued_and_repeated_tables_merge_without_duplicates(hrss):
    projects = _by_key(hrss)
    chuangye = projects["创业就业专项"]
    assert chuangye.source_lines == [562, 606]
    assert [i.name for i in chuangye.annual_indicators][-2:] == ["就业扶持政策经办服务满", "享受补贴人员满意度"]
    assert projects["人力资源市场改造"].source_lines == [888, 931]
    zhaopin = projects["事业单位招聘专业技术人员经费"]
    names = [(i.level2, i.name) for i in zhaopin.annual_indicators]
    assert len(names) == len(set(names))
    assert [i.name for i in zhaopin.annual_indicators].count("保障社会公众对事业单位") == 1
    assert sorted((d.line, d.kept_line) for d in hrss.duplicates) == [(1131, 1130), (1134, 1133)]


def test_same_name_different_funds_stay_apart(hrss):
    same = [p for p in hrss.projects if p.name == "建国前老工人及企业抗美援朝老战士生活补贴"]
    assert [(p.import_key, p.annual_funds) for p in same] == [
        ("建国前老工人及企业抗美援朝老战士生活补贴", Decimal("223100.00")),
        ("建国前老工人及企业抗美援朝老战士生活补贴#2", Decimal("71900.00")),
    ]
    assert [i.value for i in same[0].annual_indicators if i.name == "补助发放金额"] == ["2640年"]
    assert [i.value for i in same[1].annual_indicators if i.name == "补助发放金额"] == ["2640元"]


def test_every_indicator_row_is_accounted_for(hrss, union):
    for doc in (hrss, union):
        acc = doc.accounting()
        assert acc["balanced"], acc
        assert acc["rows"] == acc["imported"] + acc["duplicates"] + acc["rejected"]
    assert hrss.accounting()["annual"] == 237 and union.accounting()["annual"] == 59
    assert [(r.line, r.half, r.reason) for r in hrss.rejected] == [
        (656, "annual", "指标值与指标名称相同（单元格错位）"),
        (657, "annual", "缺少指标值"),
    ]
    assert union.rejected == [] and union.duplicates == []


def test_glued_name_and_value_are_split_and_recorded(union):
    splits = {(r.line, r.before): r.after for r in union.repairs if r.field == "name/value"}
    assert splits[(971, "在职社保缴纳时间每月")] == "在职社保缴纳时间 | 每月"
    assert splits[(1107, "大病医疗互助风险金≤100万元")] == "大病医疗互助风险金 | ≤100万元"


def test_prose_and_catalogue_are_ignored(hrss, union):
    assert hrss.table_count == 23 and union.table_count == 5
    names = {i.name for doc in (hrss, union) for p in doc.projects for i in p.indicators}
    assert not any("政府购买服务" in n or "名词解释" in n for n in names)


def test_unknown_layout_is_a_clear_error():
    text = ("晋城市市级预算部门（单位）项目支出绩效目标表\n(2024年度)\n项目名称|创业就业专项\n"
            "一级指标|二级指标|三级指标|指标值\n")
    with pytest.raises(ImportFailure) as err:
        parse_text(text, source="bad.txt")
    assert err.value.line == 4 and "版式" in err.value.message


def test_text_without_any_target_table_is_refused():
    with pytest.raises(ImportFailure, match="没有找到任何「项目支出绩效目标表」"):
        parse_text("2024年项目支出预算表（本年预算）\n合计\t1\n", source="x.txt")


def test_truncated_table_names_its_line(tmp_path):
    lines = SEED_HRSS.read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "cut.txt"
    cut.write_text("\n".join(lines[:1320]), encoding="utf-8")  # stops inside the last table
    with pytest.raises(ImportFailure) as err:
        parse_file(cut)
    assert err.value.line == 1310 and err.value.field_name == "填报日期"
    assert "cut.txt" in str(err.value)


def test_binary_and_empty_files_are_refused(tmp_path):
    blob = tmp_path / "blob.txt"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(ImportFailure, match="二进制"):
        parse_file(blob)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    with pytest.raises(ImportFailure, match="文件为空"):
        parse_file(empty)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "gb18030", "utf-8-sig"])
def test_the_union_document_reads_the_same_in_the_encodings_windows_tools_save(tmp_path, encoding, union):
    path = tmp_path / f"union-{encoding}.txt"
    data = SEED_UNION.read_text(encoding="utf-8").encode(encoding)
    path.write_bytes(b"\xfe\xff" + data if encoding == "utf-16-be" else data)
    doc = parse_file(path)
    assert [(p.name, p.annual_funds, len(p.indicators)) for p in doc.projects] == [
        (p.name, p.annual_funds, len(p.indicators)) for p in union.projects]


def test_a_pdf_is_refused_with_what_to_do(tmp_path):
    pdf = tmp_path / "budget.txt"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    with pytest.raises(ImportFailure, match="这是PDF文件；请先把它转成文本"):
        parse_file(pdf)


def test_table_without_annual_funds_names_the_field():
    text = ("晋城市市级预算部门（单位）项目支出绩效目标表\n(2024年度)\n项目名称\t\t测试项目\t\t\n"
            "主管部门及代码\t144-测试局\t实施单位\t测试局\n"
            "绩效指标\t一级指标\t二级指标\t三级指标\t指标值\t二级指标\t三级指标\t指标值\n"
            "\t产出指标\t数量指标\t人数\t5人\t数量指标\t人数\t5人\n"
            "负责人：\t经办人：\t联系电话：\t填报日期：\t20240101120000\n")
    with pytest.raises(ImportFailure) as err:
        parse_text(text, source="nofunds.txt")
    assert err.value.field_name == "年度资金总额" and err.value.line == 3
