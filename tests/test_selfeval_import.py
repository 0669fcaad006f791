"""Importing self-evaluations as departments really send them: a dry run first, several tables in one file, grades
in words as 实际完成值, and a table cut off at the end.

The documents are built here from the published Sichuan table (014, 青神县发展和改革局, 工资性支出, 2023, one cell a
line, amounts in 万元) and from the 财政部-layout workbook of tests/selfeval_sample.py; every expected figure is read
from the document or worked out by hand in the test's docstring.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from monitor.importers.document import ImportFailure
from monitor.importers.selfeval_load import read_file, store_selfevals
from monitor.reports.review import build_review, review_json
from monitor.store.models import (
    AuditEvent,
    BudgetAdjustment,
    Indicator,
    PrintedSelfEvalScore,
    Project,
    Report,
    Spending,
    User,
)
from rules.scoring import ScoringRules
from tests.selfeval_sample import GRADED, INDICATORS, write

TODAY = date(2025, 3, 10)
REAL = Path(__file__).parent / "data" / "layouts" / "014_sichuan_qingshen_fagaiju_2023_ziping_onecell.txt"
STORED = (Project, Indicator, Report, Spending, BudgetAdjustment, PrintedSelfEvalScore, AuditEvent)


def _admin(session: Session) -> User:
    existing = session.exec(select(User).where(User.username == "bureau")).first()
    if existing is not None:
        return existing
    user = User(username="bureau", display_name="财政局", password_hash="x", role="admin")
    session.add(user)
    session.flush()
    return user


def _counts(engine) -> list[int]:
    with Session(engine) as session:
        return [session.exec(select(func.count()).select_from(m)).one() for m in STORED]


def _cli(monkeypatch, db_url: str, engine, *args: str):
    from monitor.cli.main import app

    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    with Session(engine) as session:
        _admin(session)
        session.commit()
    return CliRunner().invoke(app, list(args))


def _real_lines() -> list[str]:
    return REAL.read_text(encoding="utf-8").splitlines()


def _second_project() -> list[str]:
    """014 as a second project, 公用经费, with figures of its own (line numbers of 014, 1-based):
    年初预算 100.00, 调整后预算数 120.00, 预算执行数 108.00 万元, 执行率 90.00%, 权重 10, 得分 9;
    发放(缴纳)覆盖率 = 100 %: 完成值 100, 权重 60, 得分 60; 足额保障率(参保率) = 100 %: 完成值 95, 权重 30,
    得分 30, 未完成原因 2人未及时参保; 合计 权重 100, 得分 99."""
    lines = _real_lines()
    changes = {9: ("51000021R000000019951-工资性支出 |", "51000021R000000019952-公用经费 |"),
               32: ("238.93 |", "100.00 |"), 33: ("251.89 |", "120.00 |"), 34: ("251.89 |", "108.00 |"),
               35: ("100.00% |", "90.00% |"), 37: ("|", "9 |"),
               40: ("238.93 |", "100.00 |"), 41: ("251.89 |", "120.00 |"), 42: ("251.89 |", "108.00 |"),
               43: ("100.00% |", "90.00% |"),
               84: ("|", "100 |"), 86: ("|", "60 |"), 94: ("|", "95 |"), 96: ("|", "30 |"),
               97: ("|", "2人未及时参保 |"), 100: ("|", "99 |")}
    for number, (before, after) in changes.items():
        assert lines[number - 1] == before, number
        lines[number - 1] = after
    return lines


def _two_projects(tmp_path: Path) -> Path:
    path = tmp_path / "两个项目自评表.txt"
    path.write_text("\n".join(_real_lines() + _second_project()) + "\n", encoding="utf-8")
    return path


def _import(engine, path: Path, *, department_code: str | None = None, allow_partial: bool = False) -> None:
    read = read_file(path, allow_partial=allow_partial)
    with Session(engine) as session:
        store_selfevals(session, _admin(session), read, today=TODAY, department_code=department_code)
        session.commit()


# ------------------------------------------------------------------------------------------ the dry run


def test_a_dry_run_shows_what_would_be_stored_and_stores_nothing(engine, db_url, tmp_path, monkeypatch) -> None:
    """The workbook of tests/selfeval_sample.py as printed: 年初预算数 100, 全年预算数 120, 全年执行数 108 万元,
    执行率 95.00%, 分值 10, 得分 9.5, 总分 100; 服务老人人数 ≥500人, 450人, 30, 30, 部分老人迁出辖区."""
    before = _counts(engine)
    shown = _cli(monkeypatch, db_url, engine, "import-selfeval", str(write(tmp_path / "自评表.xlsx")), "--dry-run",
                 "--json")
    assert shown.exit_code == 0, shown.output
    [project] = json.loads(shown.output)["projects"]
    assert (project["name"], project["layout"], project["funds_unit"], project["incomplete"]) == (
        "社区养老服务补助", "xlsx", "万元", [])
    assert project["selfeval"] == {"initial_budget": "1000000.00", "budget": "1200000.00", "spent": "1080000.00",
                                   "execution_points": "10", "execution_rate": "95.00", "execution_score": "9.5",
                                   "total_score": "100", "total_line": 14, "cut_at": None}
    assert [(i["name"], i["value"], i["actual"], i["points"], i["score"], i["deviation_reason"], i["reported"])
            for i in project["indicators"]] == [
        ("服务老人人数", "≥500人", "450人", "30", "30", "部分老人迁出辖区", {"value": "450"}),
        ("服务合格率", "≥95%", "98%", "20", "18", None, {"value": "98"}),
        ("覆盖社区数", "≥10个", "12个", "30", "30", None, {"value": "12"}),
        ("服务对象满意度", "≥90%", "92%", "10", "10", None, {"value": "92"})]
    assert _counts(engine) == before


def test_a_dry_run_in_words_lists_the_money_and_every_indicator() -> None:
    """014 read by eye: 年初预算 238.93, 调整后预算数 251.89, 预算执行数 251.89 万元; 权重 60 and 30, 完成值 and
    得分 left blank."""
    from monitor.cli.main import app

    shown = CliRunner().invoke(app, ["import-selfeval", str(REAL), "--dry-run", "--department-code", "0013"])
    assert shown.exit_code == 0, shown.output
    assert "「工资性支出」（cells_marked，金额单位 万元）：年初预算数 2389300.00 元，全年预算数 2518900.00 元，" \
           "全年执行数 2518900.00 元" in shown.output
    assert ("第80行 产出指标/数量指标/发放(缴纳)覆盖率 =100%：实际完成值 未填，分值 60，得分 未填 → 不作填报"
            in shown.output)
    assert "未写入数据库" in shown.output


# ------------------------------------------------------------------------------------------ several tables


def test_two_tables_in_one_file_import_as_two_projects_with_their_own_money(engine, tmp_path) -> None:
    """工资性支出: 年初 238.93, 调整后 251.89, 执行 251.89 万元; 公用经费: 100.00, 120.00, 108.00 万元."""
    _import(engine, _two_projects(tmp_path), department_code="0013")
    with Session(engine) as session:
        projects = {p.name: p for p in session.exec(select(Project))}
        assert {n: p.annual_funds for n, p in projects.items()} == {"工资性支出": Decimal("2389300.00"),
                                                                   "公用经费": Decimal("1000000.00")}
        spent = {s.project_id: s.amount for s in session.exec(select(Spending))}
        adjusted = {a.project_id: a.amount for a in session.exec(select(BudgetAdjustment))}
        assert {n: (spent[p.id], adjusted[p.id]) for n, p in projects.items()} == {
            "工资性支出": (Decimal("2518900.00"), Decimal("129600.00")),
            "公用经费": (Decimal("1080000.00"), Decimal("200000.00"))}
        reports = session.exec(select(Indicator.name, Report.value).join(Report)
                               .where(Indicator.project_id == projects["公用经费"].id)).all()
        assert sorted(reports) == [("发放(缴纳)覆盖率", Decimal(100)), ("足额保障率(参保率)", Decimal(95))]


def test_the_review_lists_each_project_of_a_file_with_two_tables(engine, db_url, tmp_path, monkeypatch) -> None:
    """By hand (each project's level weights from its rows: 60 + 30 leave 10 for 预算执行率):
    工资性支出: 251.89 ÷ 251.89 = 100% → 10.00; nothing reported → 0 and 0; total 10.00; nothing printed.
    公用经费: 108 ÷ 120 = 90.00% → 9.00 (printed 9, 90.00%: agree); 覆盖率 100 = 100 → 60.00 (agree);
    保障率 95 against = 100: 30 × (1 − |95 − 100| ÷ 100) = 28.50, printed 30; total 9 + 60 + 28.5 = 97.50,
    printed 99 = 9 + 60 + 30."""
    imported = _cli(monkeypatch, db_url, engine, "import-selfeval", str(_two_projects(tmp_path)), "--user",
                    "bureau", "--department-code", "0013")
    assert imported.exit_code == 0, imported.output
    shown = _cli(monkeypatch, db_url, engine, "report", "review", "--year", "2023", "--format", "json")
    assert shown.exit_code == 0, shown.output
    projects = {p["name"]: p for p in json.loads(shown.output)["projects"]}
    assert {n: (p["department_total"], p["kpiwatch_total"]) for n, p in projects.items()} == {
        "工资性支出": (None, "10.00"), "公用经费": ("99.00", "97.50")}
    assert [(r["name"], r["department_score"], r["kpiwatch_score"], r["reason"])
            for r in projects["公用经费"]["rows"]] == [
        ("预算执行率", "9.00", "9.00", ""),
        ("发放(缴纳)覆盖率", "60.00", "60.00", ""),
        ("足额保障率(参保率)", "30.00", "28.50", "未达到目标却给满分：30 × (1 − |95 − 100| ÷ 100)，应得 28.50"),
        ("总分", "99.00", "97.50", "按 kpiwatch 规则总分为 97.50")]


def test_a_table_continued_over_a_page_reads_as_one_table(tmp_path) -> None:
    """The page break falls between 公用经费's two indicator rows: a page number, the title marked 续 and the
    indicator header printed again; both rows are still read, with their own figures and lines."""
    lines = _second_project()
    header = lines[67:77]
    assert header[0] == "一级指标 |" and header[-1] == "未完成原因分析 |"
    lines[87:87] = ["— 2 —", "部门预算项目支出绩效自评表(2023年度)(续) |", *header]
    path = tmp_path / "跨页.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [table] = read_file(path).tables
    assert [(i.name, i.target, i.actual, i.points, i.score, i.line) for i in table.indicators] == [
        ("发放(缴纳)覆盖率", "=100%", "100", Decimal(60), Decimal(60), 80),
        ("足额保障率(参保率)", "=100%", "95", Decimal(30), Decimal(30), 102)]
    assert (table.total_score, table.cut_at) == (Decimal(99), None)


# ------------------------------------------------------------------------------------------ grades in words

# 社区覆盖情况 of GRADED in the review: its 实际完成值 is no grade, so kpiwatch has no report to score
UNREAD = "实际完成值「大部分覆盖」既不是数字也不是已知的评价等级，kpiwatch 无法据此评分：未填报，应得 0.00"


def test_grades_in_words_become_year_end_graded_reports(engine, tmp_path) -> None:
    """良 is 达成年度指标, 基本完成 and 中 are 部分达成年度指标并具有一定效果 (rules.terms.GRADE_WORDS); 500人 is a
    value; 大部分覆盖 is neither, so it is no report."""
    _import(engine, write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5"))
    with Session(engine) as session:
        reports = session.exec(select(Indicator.name, Report.value, Report.grade, Report.as_of).join(Report)).all()
    assert sorted(reports) == [
        ("工作推进情况", None, "部分达成年度指标并具有一定效果", date(2024, 12, 31)),
        ("服务对象满意度", None, "部分达成年度指标并具有一定效果", date(2024, 12, 31)),
        ("服务老人人数", Decimal(500), None, date(2024, 12, 31)),
        ("服务质量", None, "达成年度指标", date(2024, 12, 31))]


def test_an_actual_neither_a_number_nor_a_grade_is_kept_as_printed_and_flagged(engine, db_url, tmp_path,
                                                                               monkeypatch) -> None:
    path = write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5")
    shown = _cli(monkeypatch, db_url, engine, "import-selfeval", str(path), "--dry-run", "--json")
    [row] = [i for i in json.loads(shown.output)["projects"][0]["indicators"] if i["name"] == "社区覆盖情况"]
    assert (row["actual"], row["reported"]) == ("大部分覆盖", None)
    assert row["kept_as_printed"] == ("实际完成值「大部分覆盖」既不是数字也不是已知的评价等级，按原文保留，"
                                      "未作为填报导入")
    imported = _cli(monkeypatch, db_url, engine, "import-selfeval", str(path), "--user", "bureau")
    assert imported.exit_code == 0, imported.output
    assert "! 第13行「社区养老服务补助/社区覆盖情况」：实际完成值「大部分覆盖」既不是数字" in imported.output
    with Session(engine) as session:
        notes = [e.note for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "printed_selfeval_score"))]
    assert any("社区覆盖情况" in (n or "") and "「大部分覆盖」" in (n or "") for n in notes)


def test_the_review_rescores_graded_indicators_inside_their_grades_bands(engine, tmp_path) -> None:
    """By hand, with the bands 达成 80–100 %, 部分达成 60–80 % of the points:
    预算执行率 108 ÷ 120 = 90% → 9.00 (printed 9.5); 服务老人人数 500 ≥ 500 → 30.00 (agree);
    服务质量 良 = 达成: [16, 20], printed 18 inside → 18.00; 工作推进情况 基本完成 = 部分达成: [12, 16], printed 15
    inside → 15.00; 社区覆盖情况 大部分覆盖 not read → 未填报 0.00, printed 9, quoted with why it was not read;
    服务对象满意度 中 = 部分达成: [6, 8], printed 10 outside → 8.00.
    kpiwatch total 9 + 30 + 18 + 15 + 0 + 8 = 80.00; printed 91.5 = their sum."""
    _import(engine, write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5"))
    with Session(engine) as session:
        [project] = review_json(build_review(session, 2024, ScoringRules()))["projects"]
    assert (project["department_total"], project["kpiwatch_total"]) == ("91.50", "80.00")
    assert [(r["name"], r["department_score"], r["kpiwatch_score"], r["reason"]) for r in project["rows"][1:]] == [
        ("服务老人人数", "30.00", "30.00", ""),
        ("服务质量", "18.00", "18.00", ""),
        ("工作推进情况", "15.00", "15.00", ""),
        ("社区覆盖情况", "9.00", "0.00", UNREAD),
        ("服务对象满意度", "10.00", "8.00",
         "评价等级「部分达成年度指标并具有一定效果」的得分区间为[6.00, 8.00]，自评得分 10.00 不在区间内，应得 8.00"),
        ("总分", "91.50", "80.00", "按 kpiwatch 规则总分为 80.00")]


def test_the_printed_actual_of_every_indicator_is_stored_verbatim_beside_its_score(engine, tmp_path) -> None:
    _import(engine, write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5"))
    with Session(engine) as session:
        printed = {(p.row, p.name): p.actual for p in session.exec(select(PrintedSelfEvalScore))}
    assert printed == {("execution", "预算执行率"): None, ("indicator", "服务老人人数"): "500人",
                       ("indicator", "服务质量"): "良", ("indicator", "工作推进情况"): "基本完成",
                       ("indicator", "社区覆盖情况"): "大部分覆盖", ("indicator", "服务对象满意度"): "中",
                       ("total", "总分"): None}


def test_an_actual_longer_than_the_store_keeps_is_refused_at_its_line_and_stores_nothing(engine, tmp_path) -> None:
    rows = [list(r) for r in GRADED]
    rows[3][5] = "覆" * 501  # 社区覆盖情况, sheet row 13
    with pytest.raises(ImportFailure) as failure:
        _import(engine, write(tmp_path / "长.xlsx", indicators=rows, total="91.5"))
    assert failure.value.message == "「社区覆盖情况」的实际完成值超过500个字符" and failure.value.line == 13
    assert failure.value.field_name == "实际完成值"
    assert _counts(engine) == [0] * len(STORED)


def test_the_review_files_quote_an_actual_kpiwatch_could_not_read_and_say_why(engine, tmp_path) -> None:
    """社区覆盖情况 prints 大部分覆盖 against 全覆盖 (qualitative): not a grade, so no report and 0.00 for a printed
    9; the json, Excel and html review each quote it with that reason."""
    from openpyxl import load_workbook

    from monitor.reports.review import review_html, review_xlsx

    _import(engine, write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5"))
    with Session(engine) as session:
        projects = build_review(session, 2024, ScoringRules())
    [row] = [r for r in review_json(projects)["projects"][0]["rows"] if r["name"] == "社区覆盖情况"]
    assert (row["actual"], row["department_score"], row["kpiwatch_score"], row["reason"]) == (
        "大部分覆盖", "9.00", "0.00", UNREAD)
    (tmp_path / "复核.xlsx").write_bytes(review_xlsx(projects, 2024))
    sheet = load_workbook(tmp_path / "复核.xlsx").active
    assert ["社区覆盖情况", "9.00", "0.00", UNREAD] in [[c.value for c in r][2:] for r in sheet.iter_rows()]
    assert f"<td>社区覆盖情况</td><td>9.00</td><td>0.00</td><td>{UNREAD}</td>" in review_html(projects, 2024)


def test_the_review_says_a_word_printed_for_a_measured_target_is_not_a_number(engine, tmp_path) -> None:
    """服务老人人数 ≥500人 printed as 大部分老人 with 30 points: no number, so no report; kpiwatch scores it
    未填报, 0.00."""
    rows = [list(r) for r in INDICATORS]
    rows[0][5] = "大部分老人"
    _import(engine, write(tmp_path / "文字.xlsx", indicators=rows))
    with Session(engine) as session:
        [row] = [r for r in review_json(build_review(session, 2024, ScoringRules()))["projects"][0]["rows"]
                 if r["name"] == "服务老人人数"]
    assert (row["actual"], row["department_score"], row["kpiwatch_score"], row["reason"]) == (
        "大部分老人", "30.00", "0.00",
        "实际完成值「大部分老人」不是数字，而指标值「≥500人」是数值，kpiwatch 无法据此评分：未填报，应得 0.00")


def test_the_review_page_quotes_an_actual_kpiwatch_could_not_read(engine, tmp_path) -> None:
    from monitor.accounts.passwords import hash_password
    from tests.test_progress_world import PASSWORD
    from tests.test_web_portal import login, make_client

    _import(engine, write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5"))
    with Session(engine) as session:
        session.add(User(username="auditor", password_hash=hash_password(PASSWORD), role="auditor"))
        session.commit()
    client = make_client(engine)
    login(client, "auditor")
    page = client.get("/reports/review?year=2024")
    assert page.status_code == 200
    assert UNREAD in page.text


# ------------------------------------------------------------------------------------------ cut off at the end


def _cut_off(tmp_path: Path) -> Path:
    """014 ending inside its second indicator row (效益指标 / 社会效益指标 / 足额保障率(参保率) / = / 100, lines
    88–92): no 权重, no 合计 row."""
    lines = _real_lines()[:92]
    assert lines[87] == "效益指标 |" and lines[91] == "100 |"
    path = tmp_path / "截断.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_selfevaluation_cut_off_in_its_indicator_rows_is_refused_naming_the_line(engine, db_url, tmp_path,
                                                                                   monkeypatch) -> None:
    before = _counts(engine)
    refused = _cli(monkeypatch, db_url, engine, "import-selfeval", str(_cut_off(tmp_path)), "--user", "bureau",
                   "--department-code", "0013")
    assert refused.exit_code == 1
    assert "第92行" in refused.output and "截断" in refused.output and "--allow-partial" in refused.output
    assert _counts(engine) == before
    with pytest.raises(ImportFailure) as failure:
        read_file(_cut_off(tmp_path))
    assert failure.value.line == 92


def test_with_allow_partial_a_cut_off_table_imports_its_complete_rows_and_lists_the_rest(engine, db_url, tmp_path,
                                                                                         monkeypatch) -> None:
    path = str(_cut_off(tmp_path))
    shown = _cli(monkeypatch, db_url, engine, "import-selfeval", path, "--dry-run", "--json", "--allow-partial",
                 "--department-code", "0013")
    [project] = json.loads(shown.output)["projects"]
    assert ([i["name"] for i in project["indicators"]], project["incomplete"]) == (["发放(缴纳)覆盖率"], [88])
    imported = _cli(monkeypatch, db_url, engine, "import-selfeval", path, "--allow-partial", "--user", "bureau",
                    "--department-code", "0013")
    assert imported.exit_code == 0, imported.output
    assert "不完整 第88行：效益指标 社会效益指标 足额保障率(参保率) = 100，未导入" in imported.output
    with Session(engine) as session:
        assert session.exec(select(Indicator.name)).all() == ["发放(缴纳)覆盖率"]


def test_reimporting_a_selfevaluation_with_grades_adds_nothing(engine, tmp_path) -> None:
    path = write(tmp_path / "定性.xlsx", indicators=GRADED, total="91.5")
    _import(engine, path)
    before = _counts(engine)
    _import(engine, path)
    assert _counts(engine) == before


def test_a_workbook_cut_off_in_its_indicator_rows_keeps_only_the_complete_rows_when_allowed(tmp_path) -> None:
    """The sample workbook saved short: row 13 (服务对象满意度) keeps its name and 指标值 but lost 分值 and 得分, and
    the 总分 row is gone. Refused at row 13; with allow_partial the three complete rows are read."""
    from openpyxl import load_workbook

    path = write(tmp_path / "截断.xlsx")
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None and sheet["D13"].value == "服务对象满意度" and sheet["A14"].value == "总分"
    sheet.delete_rows(14)
    for column in "FGHI":
        sheet[f"{column}13"] = None
    workbook.save(path)
    with pytest.raises(ImportFailure) as failure:
        read_file(path)
    assert failure.value.line == 13 and "截断" in failure.value.message
    [table] = read_file(path, allow_partial=True).tables
    assert [i.name for i in table.indicators] == ["服务老人人数", "服务合格率", "覆盖社区数"]
    assert [(r.line, r.text) for r in table.incomplete] == [(13, "满意度指标 服务对象满意度指标 服务对象满意度 ≥90%")]
