"""Word, Excel, web pages and PDFs with real tables: the 拆违经费 table in its official layout (not our template),
made in each format here, imports to exactly what its text extraction gives; PDFs without a table say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.importers.disclosure import parse_file
from monitor.importers.document import ImportFailure
from monitor.importers.output import parse_any

LAYOUTS = Path(__file__).parent / "data" / "layouts"
GOAL = "1.完成市、区相关部门下达的年度拆违任务。2.新增违建“零增长”，坚决做到“无增减存”。"
# The printed table, row by row; "" is the continuation of a cell merged with the one above or to the left.
ROWS = [
    ["项目名称", "拆违经费", "", "项目性质", "阶段性项目", "项目类别", "特定目标类"],
    ["主管部门", "普陀区城市管理行政执法局执法大队", "", "实施单位", "上海市普陀区城市管理行政执法局执法大队", "", ""],
    ["计划开始日期", "2024-01-01", "", "计划完成日期", "2026-12-31", "", ""],
    ["项目资金（元）", "项目资金总额", "10,308,000.00", "年度资金申请总额", "3,498,000.00", "", ""],
    ["", "其中：财政资金", "10,308,000.00", "其中：当年财政拨款", "3,498,000.00", "", ""],
    ["", "", "", "上年结转资金", "0.00", "", ""],
    ["", "其他资金", "0.00", "其他资金", "0.00", "", ""],
    ["项目绩效目标", "项目总体目标(2024年-2026年)", "", "年度总体目标", "", "", ""],
    ["", GOAL, "", GOAL, "", "", ""],
    ["绩效指标", "一级指标", "二级指标", "三级指标", "年度(/项目)指标值", "", ""],
    ["", "成本指标", "经济成本指标", "成本控制合理性", "合理", "", ""],
    ["", "产出指标", "数量指标", "完成年度拆违计划", "=100.00(%)", "", ""],
    ["", "", "质量指标", "违法建筑销项正确率", "=100.00(%)", "", ""],
    ["", "", "时效指标", "新增违建处置率", "=100.00(%)", "", ""],
    ["", "效益指标", "社会效益指标", "群众政策知晓度", "≥90.00(%)", "", ""],
    ["", "", "生态效益指标", "提升城市环境美化指数", "提高", "", ""],
    ["", "", "可持续影响指标", "新增违建发生数", "降低", "", ""],
    ["", "满意度指标", "服务对象满意度指标", "群众满意度", "≥90.00(%)", "", ""],
]
TITLE, YEAR = "财政项目支出绩效目标申报表", "（2026年度）"


def _what(doc) -> list:
    return [(p.name, p.total_funds, p.annual_funds, p.implementing_unit, p.funds_unit,
             [(i.half, i.level1, i.level2, i.name, i.value) for i in p.indicators]) for p in doc.projects]


@pytest.fixture(scope="module")
def from_text():
    return _what(parse_file(LAYOUTS / "017_shpt_chengguan_2026_chaiwei_excel_tsv.txt"))


def _html() -> str:
    body = []
    for row in ROWS:
        cells = "".join(f"<td>{c}</td>" for c in row)
        body.append(f"<tr>{cells}</tr>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>"
            "table{border-collapse:collapse;font-family:'Noto Serif CJK SC';font-size:7pt}"
            "td{border:0.8pt solid black;padding:2pt}</style></head><body>"
            f"<p>{TITLE}</p><p>{YEAR}</p><table>{''.join(body)}</table></body></html>")


def test_a_word_file_imports_what_its_text_gives(tmp_path, from_text):
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph(YEAR)
    table = document.add_table(rows=len(ROWS), cols=len(ROWS[0]))
    for r, row in enumerate(ROWS):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(3, 0).merge(table.cell(6, 0))  # 项目资金（元） spans its four rows, as printed
    table.cell(9, 0).merge(table.cell(17, 0))  # 绩效指标 spans the indicator rows
    table.cell(0, 1).merge(table.cell(0, 2))
    path = tmp_path / "目标表.docx"
    document.save(str(path))
    doc = parse_any(path)
    assert doc.format == "docx" and _what(doc) == from_text


def test_a_workbook_that_is_not_our_template_imports_what_its_text_gives(tmp_path, from_text):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([TITLE])
    sheet.append([YEAR])
    for row in ROWS:
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # "=100.00(%)" is printed text, as a department's workbook holds it
    sheet.merge_cells("A6:A9")
    sheet.merge_cells("A12:A20")
    path = tmp_path / "目标表.xlsx"
    workbook.save(path)
    doc = parse_any(path)
    assert doc.format == "xlsx" and _what(doc) == from_text


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_saved_web_page_imports_what_its_text_gives(tmp_path, from_text, encoding):
    path = tmp_path / "目标表.html"
    path.write_bytes(_html().replace("<meta charset='utf-8'>", "").encode(encoding))  # no charset declared
    doc = parse_any(path)
    assert doc.format == "html" and _what(doc) == from_text


def test_a_ruled_pdf_imports_what_its_text_gives(tmp_path, from_text):
    from weasyprint import HTML

    path = tmp_path / "目标表.pdf"
    HTML(string=_html()).write_pdf(str(path))
    doc = parse_any(path)
    assert doc.format == "pdf" and _what(doc) == from_text


@pytest.mark.parametrize("name", ["shanghai_putuo_sifaju_2026_dept_budget.pdf",
                                  "shanghai_putuo_wanli_2025_dept_budget.pdf"])
def test_a_budget_pdf_without_target_tables_is_told_so(name):
    with pytest.raises(ImportFailure, match="PDF中没有绩效目标表"):
        parse_any(LAYOUTS / "pdf" / name)


def test_a_scanned_pdf_without_a_text_layer_gets_its_clear_error(tmp_path, monkeypatch):
    from PIL import Image

    path = tmp_path / "扫描件.pdf"
    Image.new("RGB", (600, 800), "white").save(path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", str(path), "--dry-run", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["file"] == str(path) and "没有文字层" in error["error"]


def _seed_rows(project) -> list[list[str]]:
    """A seed project printed in its official 晋城 layout: 实施期 and 年度 halves side by side."""
    rows = [
        ["项目名称", project.name, "", "", "", "", "", ""],
        ["主管部门及代码", f"{project.department_code}-{project.department_name}", "", "", "实施单位",
         project.implementing_unit, "", ""],
        ["项目属性", project.attribute, "", "", "项目期", project.period, "", ""],
        ["项目资金（元）", "实施期资金总额：", f"{project.total_funds:,}", "", "年度资金总额：",
         f"{project.annual_funds:,}", "", ""],
        ["绩效指标", "一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"],
    ]
    period, annual = project.period_indicators, project.annual_indicators
    for k in range(max(len(period), len(annual))):
        p = period[k] if k < len(period) else None
        a = annual[k] if k < len(annual) else None
        rows.append(["", (p or a).level1, p.level2 if p else "", p.name if p else "", p.value if p else "",
                     a.level2 if a else "", a.name if a else "", a.value if a else ""])
    rows.append(["负责人：", "", "经办人：", "", "联系电话：", "", "填报日期：", "20240131162858"])
    return rows


def _seed_what(project) -> tuple:
    return (project.name, project.total_funds, project.annual_funds, project.implementing_unit,
            [(i.half, i.level1, i.level2, i.name, i.value) for i in project.period_indicators],
            [(i.half, i.level1, i.level2, i.name, i.value) for i in project.annual_indicators])


@pytest.fixture(scope="module")
def seed_project():
    from tests.import_seeds import union_document

    return union_document().projects[0]


SEED_TITLE = "晋城市市级预算部门（单位）项目支出绩效目标表"


def test_a_seed_project_written_as_word_imports_what_its_text_gives(tmp_path, seed_project):
    import docx

    rows = _seed_rows(seed_project)
    document = docx.Document()
    document.add_paragraph(SEED_TITLE)
    document.add_paragraph("（2024年度）")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    path = tmp_path / "seed.docx"
    document.save(str(path))
    doc = parse_any(path)
    assert (doc.department_code, doc.year) == ("959", 2024)
    assert [_seed_what(p) for p in doc.projects] == [_seed_what(seed_project)]


def _seed_workbook(path: Path, project) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([SEED_TITLE])
    sheet.append(["（2024年度）"])
    for row in _seed_rows(project):
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    workbook.save(path)
    return path


@pytest.mark.slow
def test_a_seed_project_saved_as_an_old_xls_imports_what_its_text_gives(tmp_path, seed_project):
    from tests.test_office_render import soffice

    xlsx = _seed_workbook(tmp_path / "seed.xlsx", seed_project)
    soffice([xlsx], "xls:MS Excel 97", tmp_path / "out", tmp_path / "profile")
    doc = parse_any(tmp_path / "out" / "seed.xls")
    assert doc.format == "xls" and [_seed_what(p) for p in doc.projects] == [_seed_what(seed_project)]


def test_a_seed_project_written_as_a_workbook_imports_what_its_text_gives(tmp_path, seed_project):
    path = _seed_workbook(tmp_path / "seed.xlsx", seed_project)
    assert [_seed_what(p) for p in parse_any(path).projects] == [_seed_what(seed_project)]


def test_a_seed_project_written_as_a_web_page_imports_what_its_text_gives(tmp_path, seed_project):
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in _seed_rows(seed_project))
    path = tmp_path / "seed.html"
    path.write_text(f"<html><body><h3>{SEED_TITLE}</h3><p>（2024年度）</p><table>{body}</table></body></html>",
                    encoding="utf-8")
    assert [_seed_what(p) for p in parse_any(path).projects] == [_seed_what(seed_project)]


def test_a_ruled_pdf_imports_the_same_without_poppler_on_the_machine(tmp_path, from_text, monkeypatch):
    from weasyprint import HTML

    from monitor.importers import files

    path = tmp_path / "目标表.pdf"
    HTML(string=_html()).write_pdf(str(path))
    monkeypatch.setattr(files.shutil, "which", lambda _name: None)  # pages found by pypdf's text instead
    assert [len(t) > 0 for t in files.page_texts(path)] == [True]
    assert _what(parse_any(path)) == from_text
