"""The paths that used to lose data without a word: each now reads right, or is refused naming file and line/cell
with the store left exactly as it was."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.importers.disclosure import parse_text
from monitor.importers.load import store_document
from monitor.store.db import session_scope
from monitor.store.models import Indicator, Project
from tests.conftest import SEED_UNION
from tests.import_seeds import union_document


def _table(*, funds_label: str = "项目资金（元）", annual: str = "200,000", indicators: str | None = None,
           header: str = "绩效指标\t一级指标\t二级指标\t三级指标\t指标值\t二级指标\t三级指标\t指标值") -> str:
    """One seed-style TAB table (line numbers: title 1, 项目名称 3, funds 6, indicator header 9)."""
    rows = indicators if indicators is not None else (
        "\t产出指标\t数量指标\t培训人数\t500人\t数量指标\t培训人数\t500人\n"
        "满意度指标\t服务对象满意度指标\t学员满意度\t≥90%\t服务对象满意度指标\t学员满意度\t≥90%\n")
    return ("晋城市市级预算部门（单位）项目支出绩效目标表\n(2024年度)\n"
            "项目名称\t\t职业技能培训\t\t\t\n"
            "主管部门及代码\t\t144-晋城市人力资源和社会保障局\t\t实施单位\t晋城市人力资源和社会保障局\n"
            "项目属性\t\t经常性项目\t\t项目期\t1年\n"
            f"{funds_label}\t\t实施期资金总额：\t{annual}\t年度资金总额：\t{annual}\n"
            "\t\t其中：中央财政资金\t0\t其中：中央财政资金\t0\n"
            "总体目标\t\t培训500人\t\t培训500人\n"
            f"{header}\n{rows}"
            "负责人：\t\t经办人：\t\t联系电话：\t\t填报日期：\t20240131162858\n")


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (s.execute(select(func.count()).select_from(Project)).scalar_one(),
                s.execute(select(func.count()).select_from(Indicator)).scalar_one())


def _refused(db_url, engine, tmp_path, monkeypatch, name: str, content: bytes) -> dict:
    """Import `content` through the CLI over a store holding the union seed; the store must not move."""
    with session_scope(engine) as s:
        store_document(s, union_document())
    before = _counts(engine)
    path = tmp_path / name
    path.write_bytes(content)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", str(path), "--json"])
    assert result.exit_code == 1, result.output
    assert _counts(engine) == before
    error = json.loads(result.stdout)
    assert error["file"] == str(path)
    return error


def test_header_line_with_the_merged_performance_label_in_front_reads_every_indicator():
    lines = SEED_UNION.read_text(encoding="utf-8").splitlines()
    assert lines[779] == "一级指标 二级指标 三级指标 指标值 二级指标 三级指标 指标值"
    lines[779] = "绩效指标 " + lines[779]  # how pdftotext -layout prints the merged cell beside the header
    doc = parse_text("\n".join(lines), source="layout.txt")
    first = union_document().projects[0]
    assert [(i.half, i.level2, i.name, i.value) for i in doc.projects[0].indicators] == [
        (i.half, i.level2, i.name, i.value) for i in first.indicators]
    assert len(doc.projects[0].indicators) == 34


@pytest.mark.parametrize("label", ["项目资金（万元）", "项目资金(万元)", "金额单位：万元"])
def test_amounts_printed_in_wan_yuan_are_stored_in_yuan(label):
    text = _table(funds_label=label, annual="20")
    project = parse_text(text, source="wan.txt").projects[0]
    assert project.annual_funds == Decimal("200000.00") and project.total_funds == Decimal("200000.00")
    assert project.annual_by_source["central"] == Decimal("0.00")
    assert project.funds_unit == "万元"


def test_an_amount_that_carries_its_own_unit_is_converted():
    project = parse_text(_table(annual="16万元"), source="cell.txt").projects[0]
    assert project.annual_funds == Decimal("160000.00")


def test_an_amount_whose_unit_cannot_be_told_is_refused_naming_the_cell(db_url, engine, tmp_path, monkeypatch):
    error = _refused(db_url, engine, tmp_path, monkeypatch, "nounit.txt",
                     _table(funds_label="项目资金", annual="20").encode())
    assert error["line"] == 6 and error["field"] == "实施期资金总额"
    assert "单位无法确定" in error["error"] and "「20」" in error["error"]


def test_a_table_with_an_indicator_header_and_no_rows_read_is_an_error(db_url, engine, tmp_path, monkeypatch):
    error = _refused(db_url, engine, tmp_path, monkeypatch, "norows.txt", _table(indicators="").encode())
    assert error["line"] == 9 and "没有读到任何指标行" in error["error"] and "职业技能培训" in error["error"]


def test_a_table_without_any_indicator_header_is_an_error_naming_its_title(db_url, engine, tmp_path, monkeypatch):
    text = _table(header="", indicators="").replace("\n\n", "\n")
    error = _refused(db_url, engine, tmp_path, monkeypatch, "noheader.txt", text.encode())
    assert error["line"] == 1 and "读到0个指标" in error["error"]


def test_a_single_value_column_is_the_years_targets_and_keeps_the_funds():
    text = _table(header="绩效指标\t一级指标\t二级指标\t三级指标\t指标值", indicators=(
        "\t产出指标\t数量指标\t培训人数\t500人\n"
        "\t\t质量指标\t结业率\t≥95%\n"
        "\t满意度指标\t服务对象满意度指标\t学员满意度\t≥90%\n"))
    doc = parse_text(text, source="single.txt")
    project = doc.projects[0]
    assert [(i.half, i.level2, i.name, i.value) for i in project.indicators] == [
        ("annual", "数量指标", "培训人数", "500人"),
        ("annual", "质量指标", "结业率", "≥95%"),
        ("annual", "服务对象满意度指标", "学员满意度", "≥90%"),
    ]
    assert project.annual_funds == Decimal("200000.00") and project.total_funds == Decimal("200000.00")
    assert doc.rejected == [] and doc.accounting()["balanced"]


def _docx_bytes(tmp_path) -> bytes:
    path = tmp_path / "made.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return path.read_bytes()


def test_a_damaged_word_file_is_refused_as_word_not_sent_to_the_excel_reader(db_url, engine, tmp_path, monkeypatch):
    error = _refused(db_url, engine, tmp_path, monkeypatch, "目标表.docx", _docx_bytes(tmp_path))
    assert "Word" in error["error"] and "Excel" not in error["error"]


def test_a_title_found_without_any_table_after_it_names_its_line(db_url, engine, tmp_path, monkeypatch):
    text = "关于公开2024年部门预算的说明\n附件：项目支出绩效目标表\n（详见附件，另行公开）\n"
    error = _refused(db_url, engine, tmp_path, monkeypatch, "only-title.txt", text.encode())
    assert error["line"] == 2 and "找到了标题" in error["error"] and "没有「项目名称」" in error["error"]


def test_a_title_whose_indicator_header_is_not_understood_names_the_header_line(db_url, engine, tmp_path,
                                                                                 monkeypatch):
    text = ("2024年度财政项目支出绩效目标申报表\n项目名称\n道路保洁\n项目资金（元）\n年度资金申请总额\n100,000.00\n"
            "一级指标\n二级指标\n三级指标\n目标要求\n产出指标\n数量指标\n保洁面积\n10万平方米\n")
    error = _refused(db_url, engine, tmp_path, monkeypatch, "no-value-column.txt", text.encode())
    assert (error["line"], error["field"]) == (7, "一级指标")
    assert "无法识别的表格版式" in error["error"] and "认不出指标值列" in error["error"]
