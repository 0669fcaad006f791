"""A 项目支出绩效自评表 in the official layout (财政部 template), written as a real .xlsx for the importer tests.

The numbers are chosen so that every kind of disagreement appears once; the tests work the expected scores out
by hand from these rows.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HEADER = ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
          "偏差原因分析及改进措施"]
INDICATORS = [
    ["", "产出指标", "数量指标", "服务老人人数", "≥500人", "450人", "30", "30", "部分老人迁出辖区"],
    ["", "", "质量指标", "服务合格率", "≥95%", "98%", "20", "18", ""],
    ["", "效益指标", "社会效益指标", "覆盖社区数", "≥10个", "12个", "30", "30", ""],
    ["", "满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "92%", "10", "10", ""],
]

# The same table graded in words (rules.terms.GRADE_WORDS), to be written with total="91.5"; 大部分覆盖 is no grade.
GRADED = [
    ["", "产出指标", "数量指标", "服务老人人数", "≥500人", "500人", "30", "30", ""],
    ["", "", "质量指标", "服务质量", "优", "良", "20", "18", ""],
    ["", "效益指标", "社会效益指标", "工作推进情况", "按时完成", "基本完成", "20", "15", "个别社区延期"],
    ["", "", "可持续影响指标", "社区覆盖情况", "全覆盖", "大部分覆盖", "10", "9", ""],
    ["", "满意度指标", "服务对象满意度指标", "服务对象满意度", "满意", "中", "10", "10", "部分老人反映服务时间不便"],
]


def write(path: Path, *, indicators: list[list[str]] | None = None, header: list[str] | None = None,
          total: str = "100") -> Path:
    """The table as a department fills it in: amounts in 万元, one project, 总分 at the bottom."""
    wb = Workbook()
    ws = wb.active
    rows: list[list[str]] = [
        ["项目支出绩效自评表"],
        ["（2024年度）"],
        ["项目名称", "社区养老服务补助"],
        ["主管部门及代码", "144-某区民政局", "实施单位", "某区养老服务中心"],
        ["项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["", "年度资金总额", "100", "120", "108", "10", "95.00%", "9.5"],
        ["年度总体目标", "预期目标", "实际完成情况"],
        ["", "为500名老人提供居家养老服务", "为450名老人提供了服务"],
        header or HEADER,
        *(indicators if indicators is not None else INDICATORS),
        ["总分", "", "", "", "", "", "100", total, ""],
    ]
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def write_docx(path: Path) -> Path:
    """The same table as a Word file: one table 9 columns wide, the label cells merged over the rows they head
    (项目资金 over its two rows, 产出指标 over its two indicators), as departments' Word templates do."""
    import docx

    document = docx.Document()
    document.add_paragraph("项目支出绩效自评表")
    document.add_paragraph("（2024年度）")
    rows: list[list[str]] = [
        ["项目名称", "社区养老服务补助"],
        ["主管部门及代码", "144-某区民政局", "实施单位", "某区养老服务中心"],
        ["项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["", "年度资金总额", "100", "120", "108", "10", "95.00%", "9.5"],
        HEADER, *INDICATORS, ["总分", "", "", "", "", "", "100", "100", ""],
    ]
    table = document.add_table(rows=len(rows), cols=len(HEADER))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value:
                table.cell(r, c).text = value
    table.cell(2, 0).merge(table.cell(3, 0))  # 项目资金 spans its two rows
    table.cell(5, 1).merge(table.cell(6, 1))  # 产出指标 spans its two indicators
    document.save(str(path))
    return path


def write_html(path: Path) -> Path:
    """The same table as a saved web page: 项目资金 and 产出指标 merged over their rows (rowspan), names and
    amounts across merged columns (colspan), as the portals of finance bureaus publish them."""
    ind = INDICATORS
    page = f"""<!doctype html><html><head><meta charset="utf-8"></head><body>
<h2>项目支出绩效自评表</h2><p>（2024年度）</p>
<table border="1">
<tr><td>项目名称</td><td colspan="8">社区养老服务补助</td></tr>
<tr><td>主管部门及代码</td><td colspan="3">144-某区民政局</td><td>实施单位</td>
<td colspan="4">某区养老服务中心</td></tr>
<tr><td rowspan="2" colspan="2">项目资金（万元）</td><td>年初预算数</td><td>全年预算数</td><td>全年执行数</td>
<td>分值</td><td>执行率</td><td colspan="2">得分</td></tr>
<tr><td>100</td><td>120</td><td>108</td><td>10</td><td>95.00%</td><td colspan="2">9.5</td></tr>
<tr>{"".join(f"<td>{h}</td>" for h in HEADER)}</tr>
<tr><td rowspan="4">绩效指标</td><td rowspan="2">产出指标</td>{"".join(f"<td>{v}</td>" for v in ind[0][2:])}</tr>
<tr>{"".join(f"<td>{v}</td>" for v in ind[1][2:])}</tr>
<tr>{"".join(f"<td>{v}</td>" for v in ind[2][1:])}</tr>
<tr>{"".join(f"<td>{v}</td>" for v in ind[3][1:])}</tr>
<tr><td colspan="6">总分</td><td>100</td><td>100</td><td></td></tr>
</table></body></html>"""
    path.write_text(page, encoding="utf-8")
    return path
