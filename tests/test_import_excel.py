"""The Excel template: export, fill, import with row-level errors, and the text → store → workbook → store round
trip."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.importers.document import ImportFailure
from monitor.importers.excel import INDICATOR_COLUMNS, read_workbook, write_template
from monitor.importers.load import store_document
from monitor.store.db import session_scope
from monitor.store.models import Indicator, Project
from tests.conftest import SEED_UNION
from tests.import_seeds import hrss_document


@pytest.fixture(scope="module")
def hrss():
    return hrss_document()


def _filled(tmp_path, projects, indicators):
    path = write_template(tmp_path / "filled.xlsx")
    wb = load_workbook(path)
    ws, iws = wb["项目"], wb["指标"]
    headers = [c.value for c in ws[1]]
    for row in projects:
        ws.append([row.get(h) for h in headers])
    for row in indicators:
        iws.append([row.get(h) for h in INDICATOR_COLUMNS])
    wb.save(path)
    return path


GOOD_PROJECT = {"部门代码": "301", "部门名称": "晋城市测试局", "预算年度": 2024, "项目名称": "就业见习",
                "年度资金总额（元）": 200000, "实施期资金总额（元）": "200,000.00",
                "年度-市县（区）财政资金（元）": 200000}
GOOD_INDICATORS = [
    {"项目标识": "就业见习", "目标类别": "年度目标", "二级指标": "数量指标", "三级指标": "见习人数",
     "指标值": "≥200人次"},
    {"项目标识": "就业见习", "目标类别": "年度目标", "二级指标": "服务对象满意度", "三级指标": "满意度",
     "指标值": "≥90%"},
    {"项目标识": "就业见习", "目标类别": "实施期目标", "一级指标": "产出指标", "二级指标": "时效指标",
     "三级指标": "完成时间", "指标值": "2024年12月底前"},
]


def test_blank_template_has_chinese_headers_help_and_validation(tmp_path):
    path = write_template(tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["说明", "项目", "指标"]
    assert [c.value for c in wb["指标"][1]] == INDICATOR_COLUMNS
    assert "项目名称" in [c.value for c in wb["项目"][1]]
    assert "年度目标" in wb["说明"]["A5"].value
    kinds = {dv.type for dv in wb["指标"].data_validations.dataValidation}
    assert kinds == {"list"}
    assert {dv.type for dv in wb["项目"].data_validations.dataValidation} == {"decimal"}


def test_filled_template_reads_back(tmp_path):
    doc = read_workbook(_filled(tmp_path, [GOOD_PROJECT], GOOD_INDICATORS))
    assert (doc.department_code, doc.department_name, doc.year, doc.format) == ("301", "晋城市测试局", 2024, "xlsx")
    [project] = doc.projects
    assert project.annual_funds == Decimal("200000.00") and project.total_funds == Decimal("200000.00")
    assert project.annual_by_source["city_county"] == Decimal("200000.00")
    assert [(i.half, i.level1, i.level2, i.name, i.value, i.line) for i in project.indicators] == [
        ("annual", "产出指标", "数量指标", "见习人数", "≥200人次", 2),
        ("annual", "满意度指标", "服务对象满意度指标", "满意度", "≥90%", 3),
        ("period", "产出指标", "时效指标", "完成时间", "2024年12月底前", 4),
    ]
    assert [(r.line, r.before, r.after) for r in doc.repairs] == [(3, "服务对象满意度", "服务对象满意度指标")]


def test_values_excel_turned_into_numbers_and_dates_read_back_as_typed(tmp_path):
    from datetime import datetime

    path = _filled(tmp_path, [{**GOOD_PROJECT, "填报日期": datetime(2024, 1, 31)}], GOOD_INDICATORS)
    wb = load_workbook(path)
    iws = wb["指标"]
    assert iws.column_dimensions["F"].number_format == "@"  # the template keeps typed 指标值 as text
    assert wb["项目"].column_dimensions["A"].number_format == "@"  # and 部门代码 "001" as 001
    iws["F2"] = 0.95  # what Excel stores when "95%" is typed into a General cell
    iws["F2"].number_format = "0%"
    iws["F3"] = 1
    iws["F3"].number_format = "0.00%"
    iws["F4"] = datetime(2024, 5, 31)
    iws["F4"].number_format = "yyyy-mm-dd"
    wb.save(path)
    doc = read_workbook(path)
    assert [i.value for i in doc.projects[0].indicators] == ["95%", "100%", "2024-05-31"]
    assert doc.projects[0].filled_at.isoformat() == "2024-01-31T00:00:00+08:00"


def test_row_level_errors_name_sheet_row_and_column(tmp_path):
    bad_project = {**GOOD_PROJECT, "年度资金总额（元）": "二十万"}
    bad_indicators = GOOD_INDICATORS + [
        {"项目标识": "不存在的项目", "目标类别": "年度目标", "二级指标": "数量指标", "三级指标": "x", "指标值": "1"},
        {"项目标识": "就业见习", "目标类别": "年度", "二级指标": "数量", "三级指标": "y", "指标值": "1"},
        {"项目标识": "就业见习", "目标类别": "年度目标", "一级指标": "效益指标", "二级指标": "质量指标",
         "三级指标": "z"},
    ]
    with pytest.raises(ImportFailure) as err:
        read_workbook(_filled(tmp_path, [bad_project], bad_indicators))
    got = {(p["sheet"], p["row"], p["column"]) for p in err.value.problems}
    assert got == {
        ("项目", 2, "年度资金总额（元）"),
        ("指标", 5, "项目标识"),
        ("指标", 6, "目标类别"),
        ("指标", 6, "二级指标"),
        ("指标", 7, "一级指标"),
        ("指标", 7, "指标值"),
    }
    assert "filled.xlsx" in str(err.value) and "二十万" in str(err.value)
    assert "  - 「项目」表 第2行 「年度资金总额（元）」列：「二十万」不是金额（元）" in str(err.value).splitlines()
    assert "  - 「指标」表 第5行 「项目标识」列：「不存在的项目」不在「项目」表中" in str(err.value).splitlines()


@pytest.mark.parametrize("column,value,problem", [
    ("年度资金总额（元）", "NaN", "「NaN」不是金额（元）"),
    ("年度资金总额（元）", "Infinity", "「Infinity」不是金额（元）"),
    ("年度资金总额（元）", "1e30", "金额过大：1e30（上限 9999999999999999.99 元）"),
    ("实施期资金总额（元）", -1, "金额不能为负：-1"),
    ("预算年度", 2024.5, "「2024.5」不是整数"),
    ("预算年度", "2024年", "「2024年」不是整数"),
])
def test_a_cell_that_is_not_a_usable_number_is_named(tmp_path, column, value, problem):
    with pytest.raises(ImportFailure) as err:
        read_workbook(_filled(tmp_path, [{**GOOD_PROJECT, column: value}], GOOD_INDICATORS))
    said = err.value.problems
    assert [{k: v for k, v in p.items() if k != "problem_en"} for p in said] == [
        {"sheet": "项目", "row": 2, "column": column, "problem": problem}]
    assert str(value) in said[0]["problem_en"] and "不是" not in said[0]["problem_en"]  # its English beside it


def test_broken_and_foreign_workbooks_are_refused(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ImportFailure, match="无法读取Excel文件"):
        read_workbook(broken)
    from openpyxl import Workbook

    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    with pytest.raises(ImportFailure, match="缺少工作表「项目」"):
        read_workbook(other)


def _snapshot(engine, code):
    from monitor.store.models import Department

    with Session(engine) as s:
        dept = s.execute(select(Department).where(Department.code == code)).scalars().one()
        out = {}
        for p in s.execute(select(Project).where(Project.department_id == dept.id)).scalars():
            fields = (p.name, p.implementing_unit, p.attribute, p.period, Decimal(p.total_funds),
                      Decimal(p.annual_funds), Decimal(p.annual_city_county or 0), Decimal(p.annual_central or 0),
                      p.overview, p.annual_goal, p.period_goal, p.filled_at)
            items = sorted((i.half, i.level1, i.level2, i.name, i.value_text, i.position) for i in
                           s.execute(select(Indicator).where(Indicator.project_id == p.id)).scalars())
            out[p.import_key] = (fields, items)
        return dept.name, out


def test_round_trip_text_to_store_to_workbook_to_empty_store(engine, db_url, hrss, tmp_path, monkeypatch):
    with session_scope(engine) as s:
        store_document(s, hrss)
    before = _snapshot(engine, "144")
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "144.xlsx"
    result = CliRunner().invoke(app, ["template", "export", "--department", "144", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "19" in result.output
    from openpyxl import load_workbook

    sheet = load_workbook(out)["项目"]
    filled = {row[4]: row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert filled["2023年已完成未支付项目"] == "2024-01-31 16:28:58"  # as printed in the document, Shanghai time
    with session_scope(engine) as s:  # empty the store, then import the workbook
        for table in ("indicator", "project", "importrun", "department", "budgetyear"):
            s.execute(Project.metadata.tables[table].delete())
    result = CliRunner().invoke(app, ["import", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store"]["created"] == {"projects": 19, "indicators": 474}
    assert _snapshot(engine, "144") == before
    again = CliRunner().invoke(app, ["import", str(out), "--json"])
    assert json.loads(again.stdout)["store"]["unchanged"] == {"projects": 19, "indicators": 474}


def test_blank_export_and_dry_run_json_contract(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["template", "export", "--out", "blank.xlsx"])
    assert result.exit_code == 0 and (tmp_path / "blank.xlsx").exists()
    result = CliRunner().invoke(app, ["import", str(SEED_UNION), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["department"] == {"code": "959", "name": "晋城市总工会"} and data["year"] == 2024
    first = data["projects"][0]
    keys = ("name", "implementing_unit", "attribute", "period", "total_funds", "annual_funds")
    assert {k: first[k] for k in keys} == {
        "name": "工人文化宫运行经费", "implementing_unit": "晋城市总工会", "attribute": "一次性项目（1年结束）",
        "period": "1年", "total_funds": "1500000.00", "annual_funds": "1500000.00"}
    assert first["funds_by_source"] == {"central": "0.00", "provincial": "0.00", "city_county": "1500000.00",
                                        "self_raised": "0.00"}
    assert {i["half"] for i in first["indicators"]} == {"annual"} and len(first["indicators"]) == 17
    assert len(first["period_indicators"]) == 17
    item = first["indicators"][0]
    assert {k: item[k] for k in ("level1", "level2", "name", "value", "half")} == {
        "level1": "产出指标", "level2": "数量指标", "name": "供热面积", "value": "＞30000平方米", "half": "annual"}
    assert item["target"]["text"] == "＞30000平方米"
    assert data["reconciliation"]["ok"] is True and data["reconciliation"]["disclosed_total"] == "8877000.00"
    assert data["rejected"] == [] and isinstance(data["repairs"], list)
    assert not (tmp_path / "kpiwatch.sqlite").exists()


@pytest.mark.parametrize("name,reason", [
    ("folder.xlsx", "folder.xlsx: 无法写入（Is a directory）"),
    ("blank.csv", "blank.csv: 模板是 Excel 工作簿，文件名请以 .xlsx 结尾"),
])
def test_export_to_a_place_it_cannot_write_says_so(tmp_path, monkeypatch, name, reason):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.xlsx").mkdir()
    result = CliRunner().invoke(app, ["template", "export", "--out", name])
    assert result.exit_code == 1
    assert result.output == f"导出失败：{reason}\n"
    assert not (tmp_path / "blank.csv").exists()


def test_a_fill_date_written_with_another_offset_is_stored_as_the_same_instant(engine, tmp_path):
    from monitor.importers.excel import export_department

    path = _filled(tmp_path, [{**GOOD_PROJECT, "填报日期": "2024-01-31T08:28:58+00:00"}], GOOD_INDICATORS)
    with session_scope(engine) as s:
        store_document(s, read_workbook(path))
    with session_scope(engine) as s:
        export_department(s, tmp_path / "out.xlsx", "301")
    row = next(load_workbook(tmp_path / "out.xlsx")["项目"].iter_rows(min_row=2, values_only=True))
    assert row[-1] == "2024-01-31 16:28:58"  # 08:28:58 UTC is 16:28:58 in Shanghai, on SQLite as on PostgreSQL
