"""自评复核: a department's self-evaluation table imported, re-scored with kpiwatch's rules, and compared.

The sample (tests/selfeval_sample.py) is project 社区养老服务补助 of 144-某区民政局, 2024, amounts in 万元:
年初预算数 100, 全年预算数 120, 全年执行数 108; the execution row prints 分值 10, 执行率 95.00%, 得分 9.5.

Worked out by hand with the default rules (执行 10, 产出 50, 效益 30, 满意度 10; the printed 分值 fill each level):
- 预算执行率: 108 ÷ 120 = 90.00%, not the printed 95.00%; score 0.90 × 10 = 9.00 (printed 9.5).
- 服务老人人数 ≥500人, actual 450: missed, 30 × 450 ÷ 500 = 27.00; printed 30 (full points for a missed target).
- 服务合格率 ≥95%, actual 98%: met, 20.00; printed 18 (points taken from a met target).
- 覆盖社区数 ≥10个, actual 12: met, 30.00; printed 30 (agree).
- 服务对象满意度 ≥90%, actual 92%: met, 10.00; printed 10 (agree).
- kpiwatch total 9 + 27 + 20 + 30 + 10 = 96.00. Printed scores add up to 9.5 + 30 + 18 + 30 + 10 = 97.50,
  but the printed 总分 is 100.00.
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
from tests.selfeval_sample import HEADER, INDICATORS, write

TODAY = date(2025, 3, 10)


def _admin(session: Session) -> User:
    existing = session.exec(select(User).where(User.username == "bureau")).first()
    if existing is not None:
        return existing
    user = User(username="bureau", display_name="财政局", password_hash="x", role="admin")
    session.add(user)
    session.flush()
    return user


def _import(engine, path: Path) -> None:
    read = read_file(path)
    with Session(engine) as session:
        store_selfevals(session, _admin(session), read, today=TODAY)
        session.commit()


def test_reimported_selfevaluation_shows_both_scores_and_every_disagreement(engine, tmp_path) -> None:
    _import(engine, write(tmp_path / "自评表.xlsx"))
    with Session(engine) as session:
        result = review_json(build_review(session, 2024, ScoringRules()))
    assert result == {"projects": [{
        "name": "社区养老服务补助", "department": result["projects"][0]["department"],
        "department_total": "100.00", "kpiwatch_total": "96.00",
        "rows": [
            {"name": "预算执行率", "department_score": "9.50", "kpiwatch_score": "9.00", "actual": None,
             "reason": "执行率 95.00% 与金额不符：全年执行数 1080000.00 元 ÷ 全年预算数 1200000.00 元 = 90.00%；"
                       "得分应为 9.00（执行率 × 10.00，最高 10.00）"},
            {"name": "服务老人人数", "department_score": "30.00", "kpiwatch_score": "27.00", "actual": "450人",
             "reason": "未达到目标却给满分：30 × 450 ÷ 500，应得 27.00"},
            {"name": "服务合格率", "department_score": "18.00", "kpiwatch_score": "20.00", "actual": "98%",
             "reason": "目标已达到却扣分：98 ≥ 95：满分，应得满分 20.00"},
            {"name": "覆盖社区数", "department_score": "30.00", "kpiwatch_score": "30.00", "actual": "12个",
             "reason": ""},
            {"name": "服务对象满意度", "department_score": "10.00", "kpiwatch_score": "10.00", "actual": "92%",
             "reason": ""},
            {"name": "总分", "department_score": "100.00", "kpiwatch_score": "96.00", "actual": None,
             "reason": "各项得分之和 97.50 与总分 100.00 不符；按 kpiwatch 规则总分为 96.00"},
        ]}]}
    assert "某区民政局" in result["projects"][0]["department"]


def test_selfevaluation_results_are_stored_as_audited_reports_spending_and_adjustment(engine, tmp_path) -> None:
    _import(engine, write(tmp_path / "自评表.xlsx"))
    with Session(engine) as session:
        project = session.exec(select(Project).where(Project.name == "社区养老服务补助")).one()
        assert project.annual_funds == Decimal("1000000.00")  # 年初预算数 100 万元
        weights = {i.name: i.weight for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
        assert weights == {"服务老人人数": 30, "服务合格率": 20, "覆盖社区数": 30, "服务对象满意度": 10}
        reports = session.exec(select(Report).join(Indicator).where(Indicator.project_id == project.id)).all()
        assert sorted((r.value, r.as_of, r.channel) for r in reports) == [
            (Decimal(v), date(2024, 12, 31), "import") for v in ("12", "92", "98", "450")]
        assert all("自评表导入" in (r.note or "") for r in reports)
        spending = session.exec(select(Spending).where(Spending.project_id == project.id)).one()
        assert (spending.amount, spending.as_of) == (Decimal("1080000.00"), date(2024, 12, 31))
        adjustment = session.exec(select(BudgetAdjustment).where(BudgetAdjustment.project_id == project.id)).one()
        assert (adjustment.amount, adjustment.effective_on) == (Decimal("200000.00"), date(2024, 12, 31))
        audited = {e.entity for e in session.exec(select(AuditEvent)).all()}
        assert {"report", "spending", "budget_adjustment", "printed_selfeval_score"} <= audited


def test_reimporting_the_same_selfevaluation_changes_nothing(engine, tmp_path) -> None:
    path = write(tmp_path / "自评表.xlsx")
    _import(engine, path)
    with Session(engine) as session:
        before = [session.exec(select(func.count()).select_from(m)).one()
                  for m in (Report, Spending, BudgetAdjustment, PrintedSelfEvalScore)]
    _import(engine, path)
    with Session(engine) as session:
        after = [session.exec(select(func.count()).select_from(m)).one()
                 for m in (Report, Spending, BudgetAdjustment, PrintedSelfEvalScore)]
    assert after == before


def _nothing_stored(engine) -> bool:
    with Session(engine) as session:
        return all(session.exec(select(func.count()).select_from(m)).one() == 0
                   for m in (Project, Report, PrintedSelfEvalScore))


def test_a_score_that_is_not_a_number_names_its_cell_and_stores_nothing(engine, tmp_path) -> None:
    rows = [list(r) for r in INDICATORS]
    rows[1][7] = "十八"  # 得分 of 服务合格率: column H, sheet row 11
    with pytest.raises(ImportFailure) as failure:
        _import(engine, write(tmp_path / "坏.xlsx", indicators=rows))
    assert "H11" in failure.value.message and "十八" in failure.value.message and failure.value.line == 11
    assert _nothing_stored(engine)


def test_a_table_without_a_points_column_is_refused_naming_the_header(engine, tmp_path) -> None:
    header = [h for h in HEADER if h != "分值"]
    rows = [r[:6] + r[7:] for r in INDICATORS]
    with pytest.raises(ImportFailure) as failure:
        _import(engine, write(tmp_path / "无分值.xlsx", header=header, indicators=rows))
    assert "分值" in failure.value.message and failure.value.line == 9
    assert _nothing_stored(engine)


def test_cli_imports_a_selfevaluation_and_writes_the_review_as_json_and_xlsx(engine, db_url, tmp_path,
                                                                             monkeypatch) -> None:
    from openpyxl import load_workbook

    from monitor.cli.main import app

    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    with Session(engine) as session:
        _admin(session)
        session.commit()
    runner = CliRunner()
    imported = runner.invoke(app, ["import-selfeval", str(write(tmp_path / "自评表.xlsx")), "--user", "bureau"])
    assert imported.exit_code == 0, imported.output
    assert "4 条年末填报" in imported.output and "1 笔预算调整" in imported.output
    shown = runner.invoke(app, ["report", "review", "--year", "2024", "--department", "144", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    project = json.loads(shown.output)["projects"][0]
    assert (project["department_total"], project["kpiwatch_total"]) == ("100.00", "96.00")
    assert [r["name"] for r in project["rows"] if r["reason"]] == ["预算执行率", "服务老人人数", "服务合格率", "总分"]
    out = tmp_path / "复核.xlsx"
    written = runner.invoke(app, ["report", "review", "--year", "2024", "--format", "xlsx", "--out", str(out)])
    assert written.exit_code == 0, written.output
    sheet = load_workbook(out).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[2][2:5] == ["服务老人人数", "30.00", "27.00"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_the_bureau_reads_the_review_page_and_a_department_may_not(engine, tmp_path) -> None:
    import dataclasses
    import re

    from fastapi.testclient import TestClient

    from monitor.accounts.passwords import hash_password
    from monitor.config import Config
    from monitor.store.models import Department
    from monitor.web.app import create_app

    _import(engine, write(tmp_path / "自评表.xlsx"))
    with Session(engine) as session:
        hashed = hash_password("correct-horse-42")
        department = session.exec(select(Department).where(Department.code == "144")).one()
        session.add_all([User(username="auditor", password_hash=hashed, role="auditor"),
                         User(username="clerk", password_hash=hashed, role="clerk", department_id=department.id)])
        session.commit()
    app = create_app(dataclasses.replace(Config(), secret_key="test-secret"), engine)

    def client(username: str) -> TestClient:
        c = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token is not None
        c.post("/login", data={"username": username, "password": "correct-horse-42", "next": "/",
                               "csrf_token": token.group(1)}, follow_redirects=False)
        return c

    page = client("auditor").get("/reports/review?year=2024")
    assert page.status_code == 200
    assert "未达到目标却给满分" in page.text and "目标已达到却扣分" in page.text and "96.00" in page.text
    assert page.text.count('class="disagree"') == 4
    assert client("clerk").get("/reports/review?year=2024").status_code == 403


def test_a_selfevaluation_of_a_stored_project_keeps_what_its_target_table_gave(engine, tmp_path) -> None:
    """The self-evaluation prints no 实施期 targets and no 项目概况: importing it must not remove or empty them."""
    from monitor.importers.document import ParsedIndicator
    from monitor.importers.load import store_document
    from monitor.importers.selfeval_table import as_document

    [table] = read_file(write(tmp_path / "自评表.xlsx")).tables
    targets = as_document([table], "target-table", "text")
    targets.projects[0].overview = "为辖区老人提供居家养老服务"
    targets.projects[0].indicators.append(ParsedIndicator(half="period", level1="产出指标", level2="数量指标",
                                                          name="服务老人人数", value="≥1500人", line=1))
    with Session(engine) as session:
        store_document(session, targets)
        session.commit()
    _import(engine, tmp_path / "自评表.xlsx")
    with Session(engine) as session:
        project = session.exec(select(Project)).one()
        assert project.overview == "为辖区老人提供居家养老服务"
        halves = sorted(i.half for i in session.exec(select(Indicator).where(Indicator.name == "服务老人人数")))
        assert halves == ["annual", "period"]


REAL = Path(__file__).parent / "data" / "layouts" / "014_sichuan_qingshen_fagaiju_2023_ziping_onecell.txt"


def test_the_published_sichuan_selfevaluation_imports_what_it_prints(engine) -> None:
    """014 (青神县发展和改革局, 工资性支出, 2023), one cell a line, read by eye: 年初预算 238.93, 调整后预算数
    251.89, 预算执行数 251.89 万元, 执行率 100.00%, 权重 10, 得分 blank; 发放(缴纳)覆盖率 = 100 % 权重 60 and
    足额保障率(参保率) = 100 % 权重 30, 完成值 and 得分 left blank. So: funds 2389300.00 元, spending 2518900.00,
    an adjustment of +129600.00, no report, and a review saying the department scored nothing itself."""
    read = read_file(REAL)
    [table] = read.tables
    assert (table.year, table.name, table.implementing_unit) == (2023, "工资性支出", "青神县发展和改革局")
    assert [(i.level1, i.level2, i.name, i.target, i.points) for i in table.indicators] == [
        ("产出指标", "数量指标", "发放(缴纳)覆盖率", "=100%", Decimal(60)),
        ("效益指标", "社会效益指标", "足额保障率(参保率)", "=100%", Decimal(30))]
    with Session(engine) as session:
        store_selfevals(session, _admin(session), read, today=TODAY, department_code="0013")
        session.commit()
        project = session.exec(select(Project)).one()
        assert project.annual_funds == Decimal("2389300.00")
        assert session.exec(select(func.count()).select_from(Report)).one() == 0
        assert session.exec(select(Spending)).one().amount == Decimal("2518900.00")
        assert session.exec(select(BudgetAdjustment)).one().amount == Decimal("129600.00")
        review = review_json(build_review(session, 2023, ScoringRules()))["projects"][0]
    assert review["rows"][0] == {"name": "预算执行率", "department_score": None, "kpiwatch_score": "10.00",
                                 "actual": None, "reason": "自评表未填得分；按 kpiwatch 规则得 10.00"}
    assert [r["department_score"] for r in review["rows"]] == [None, None, None, None]


@pytest.mark.parametrize("suffix", [".docx", ".html"])
def test_the_same_selfevaluation_as_a_word_file_or_a_web_page_reads_the_same(tmp_path, suffix) -> None:
    from tests.selfeval_sample import write_docx, write_html

    [from_excel] = read_file(write(tmp_path / "自评表.xlsx")).tables
    [from_word] = read_file((write_docx if suffix == ".docx" else write_html)(tmp_path / f"自评表{suffix}")).tables
    assert [(i.level1, i.name, i.target, i.actual, i.points, i.score) for i in from_word.indicators] == [
        (i.level1, i.name, i.target, i.actual, i.points, i.score) for i in from_excel.indicators]
    assert (from_word.initial_budget, from_word.budget, from_word.spent, from_word.execution_rate,
            from_word.total_score) == (Decimal("1000000.00"), Decimal("1200000.00"), Decimal("1080000.00"),
                                       Decimal("95.00"), Decimal(100))


def test_the_target_import_reads_a_selfevaluation_workbook_by_its_headers(tmp_path) -> None:
    from monitor.importers.output import SELFEVAL_TARGETS_ONLY, parse_any

    doc = parse_any(write(tmp_path / "自评表.xlsx"))
    assert [(i.name, i.value, i.weight) for i in doc.projects[0].indicators] == [
        ("服务老人人数", "≥500人", 30), ("服务合格率", "≥95%", 20), ("覆盖社区数", "≥10个", 30),
        ("服务对象满意度", "≥90%", 10)]
    assert SELFEVAL_TARGETS_ONLY in doc.warnings
