"""Reports on a real seed project: 房屋修缮费用 of 晋城市人力资源和社会保障局 (144), copied from
monitor/examples/000_65cb778bbbd667b7.txt (lines 667-702), with sample reports a department would file."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from monitor.config import Config
from monitor.reports import ReportRequest, produce
from monitor.reports.data import ReportError, load_year
from monitor.reports.produce import PDF_PARALLEL_FROM
from monitor.reports.selfeval import build_selfeval
from monitor.reports.summary import rank, summarise
from monitor.store.models import BudgetYear, Department, Indicator, Project, Report, Spending
from monitor.store.types import SHANGHAI
from rules.targets import parse_target

SETTINGS = Config()

# (一级指标, 二级指标, 三级指标, 指标值) — the 年度目标 column of the seed table, verbatim except the one name the
# printed table cut short ("本单位工作人员"), completed from its 实施期 column as the importer does.
HOUSE_REPAIR = [
    ("产出指标", "数量指标", "二级直线条吊面积", "≥34.6平方米"),
    ("产出指标", "数量指标", "平面无造型吊面积", "72米"),
    ("产出指标", "质量指标", "工程验收合格率", "100%"),
    ("产出指标", "质量指标", "资金足额支付率", "100%"),
    ("产出指标", "时效指标", "工程完成时间", "2023年10月"),
    ("产出指标", "时效指标", "资金支付时间", "2024年5月底前"),
    ("产出指标", "成本指标", "二级直线条吊单价", "400元/平方米"),
    ("产出指标", "成本指标", "平面无造型吊单价", "310元/平方米"),
    ("效益指标", "社会效益指标", "工作环境安全舒适度提升", "提升"),
    ("满意度指标", "服务对象满意度", "本单位工作人员满意度", "≥95%"),  # annual name truncated in print
]
GOAL = "2024年完成对五楼会议室全面维修工作的项目资金支付。保障本单位工作正常运转,提高工作人员工作效率"


def add_project(session: Session, *, department: Department, year: BudgetYear, name: str, funds: D,
                rows=HOUSE_REPAIR, key: str | None = None) -> tuple[Project, dict[str, Indicator]]:
    project = Project(department_id=department.id, budget_year_id=year.id, import_key=key or name, name=name,
                      implementing_unit=department.name, annual_funds=funds, total_funds=funds,
                      annual_city_county=funds, annual_central=D(0), annual_provincial=D(0),
                      annual_self_raised=D(0), annual_goal=GOAL)
    session.add(project)
    session.flush()
    indicators = {}
    for position, (level1, level2, name_, text) in enumerate(rows):
        t = parse_target(text, year=year.year, level2=level2, name=name_)
        ind = Indicator(project_id=project.id, half="annual", level1=level1, level2=level2, name=name_,
                        value_text=text, position=position, kind=t.kind, comparator=t.comparator,
                        target_value=t.value, unit=t.unit, direction=t.direction, target_json=t.to_json())
        session.add(ind)
        indicators[name_] = ind
    session.flush()
    return project, indicators


def report(session: Session, ind: Indicator, **fields) -> Report:
    row = Report(indicator_id=ind.id, channel="portal", created_at=datetime(2024, 12, 20, tzinfo=SHANGHAI), **fields)
    session.add(row)
    session.flush()
    return row


def seed_house_repair(session: Session) -> Project:
    """The department's year: mid-year reports (as of 31 July) and year-end reports (as of 31 December)."""
    dept = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    project, ind = add_project(session, department=dept, year=year, name="房屋修缮费用", funds=D("78300"))
    file_reports(session, project, ind)
    return project


def file_reports(session: Session, project: Project, ind: dict[str, Indicator]) -> None:
    """What the department reports for 房屋修缮费用 over the year (same for hand-built and imported rows)."""
    session.add(Spending(project_id=project.id, amount=D("39150"), as_of=date(2024, 6, 30), channel="portal"))
    session.add(Spending(project_id=project.id, amount=D("70470"), as_of=date(2024, 11, 30), channel="portal"))
    report(session, ind["二级直线条吊面积"], value=D("34.6"), as_of=date(2024, 7, 31), forecast=D("34.6"),
           likelihood="确定能")
    report(session, ind["平面无造型吊面积"], value=D("72"), as_of=date(2024, 12, 31))
    report(session, ind["工程验收合格率"], value=D("100"), as_of=date(2024, 12, 31))
    early = report(session, ind["资金足额支付率"], value=D("50"), as_of=date(2024, 7, 31), likelihood="有可能",
                   forecast_text="年底前支付完毕",
                   deviation_causes={"经费保障": "结算审核未完成，尾款暂缓支付"})
    # a correction of the July figure: the superseded 50 must not be shown
    report(session, ind["资金足额支付率"], value=D("60"), as_of=date(2024, 7, 31), likelihood="有可能",
           supersedes_id=early.id, revision=2, forecast_text="年底前支付完毕",
           deviation_causes={"经费保障": "结算审核未完成，尾款暂缓支付"})
    report(session, ind["资金足额支付率"], value=D("90"), as_of=date(2024, 12, 31))
    report(session, ind["工程完成时间"], completed_on=date(2023, 10, 20))
    report(session, ind["资金支付时间"], completed_on=date(2024, 6, 12),
           occurrence_due=date(2024, 5, 31))
    report(session, ind["二级直线条吊单价"], value=D("420"), as_of=date(2024, 12, 31))
    report(session, ind["平面无造型吊单价"], value=D("300"), as_of=date(2024, 12, 31))
    report(session, ind["工作环境安全舒适度提升"], grade="达成年度指标", explanation="会议室吊顶维修完成，环境明显改善",
           as_of=date(2024, 12, 31))
    report(session, ind["本单位工作人员满意度"], value=D("92"), as_of=date(2024, 12, 31))
    session.commit()


def test_seed_project_scores_what_a_person_computes_on_paper(session):
    """房屋修缮费用, 2024: 78 300 元, 10 annual indicators (产出 8, 效益 1, 满意度 1).

    预算执行率  70 470 ÷ 78 300 = 90%  → 0.9 × 10                         =  9.00
    产出 50 ÷ 8 = 6.25 each:
      二级直线条吊面积 34.6 ≥ 34.6                                          =  6.25
      平面无造型吊面积 72 ≥ 72                                              =  6.25
      工程验收合格率 100 ≥ 100                                              =  6.25
      资金足额支付率 90 of 100 → 6.25 × 90 ÷ 100 = 5.625                    →  5.63
      工程完成时间 done 2023-10-20, due 2023-10-31: on time                  =  6.25
      资金支付时间 done 2024-06-12, due 2024-05-31: late → 6.25 × 0.5 = 3.125 →  3.13
      二级直线条吊单价 420 over the 400 cap → 6.25 × (1 − 20 ÷ 400) = 5.9375  →  5.94
      平面无造型吊单价 300 ≤ 310                                             =  6.25
    效益 30: 工作环境安全舒适度提升 达成 → band [24, 30], not yet picked → 24 (draft)
    满意度 10: 本单位工作人员满意度 92 of ≥95 → 10 × 92 ÷ 95 = 9.684…             →  9.68
    total 9 + 45.95 + 24 + 9.68 = 88.63 → 良
    """
    project = seed_house_repair(session)
    (result,) = build_selfeval(load_year(session, 2024), SETTINGS.scoring)
    assert result.project_id == project.id
    assert (result.execution_rate, result.execution_score) == (D("90.00"), D("9.00"))
    scores = {r.name: r.score for r in result.rows}
    assert scores == {
        "二级直线条吊面积": D("6.25"), "平面无造型吊面积": D("6.25"), "工程验收合格率": D("6.25"),
        "资金足额支付率": D("5.63"), "工程完成时间": D("6.25"), "资金支付时间": D("3.13"),
        "二级直线条吊单价": D("5.94"), "平面无造型吊单价": D("6.25"), "工作环境安全舒适度提升": D("24.00"),
        "本单位工作人员满意度": D("9.68"),
    }
    assert (result.total, result.grade) == (D("88.63"), "良")
    assert result.needs_person == ["工作环境安全舒适度提升"]
    # every indicator below full points lacks its 偏差原因分析: the July causes of 资金足额支付率 explained
    # July, not the year-end figure, so they do not count for the self-evaluation
    assert result.missing_explanations == ["资金足额支付率", "资金支付时间", "二级直线条吊单价",
                                           "工作环境安全舒适度提升", "本单位工作人员满意度"]


def test_missing_facts_show_as_not_filled_in_the_monitoring_table(session):
    seed_house_repair(session)
    html = produce(session, ReportRequest("monitor", 2024, "html", through=7), SETTINGS).decode()
    assert "项目支出绩效目标执行监控表" in html and "数据截至7月底" in html
    assert "无偏差" not in html
    assert "未填报" in html
    assert "60%（截至2024-07-31）" in html  # the corrected July figure
    assert "50%（截至" not in html  # the superseded one is gone
    assert "结算审核未完成，尾款暂缓支付" in html


def test_excel_monitoring_table_holds_numbers_and_chinese(session):
    seed_house_repair(session)
    data = produce(session, ReportRequest("monitor", 2024, "xlsx", through=7), SETTINGS)
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["A1"].value == "项目支出绩效目标执行监控表"
    assert ws["B3"].value == "房屋修缮费用"
    assert ws["B4"].value == "144-晋城市人力资源和社会保障局"
    # funds in 万元 as numbers: 78 300 元 budget, 39 150 元 spent by 31 July = 50 %
    assert ws["D6"].value == pytest.approx(7.83) and ws["D6"].number_format == "#,##0.00"
    assert ws["E6"].value == pytest.approx(7.83)  # 全年预算数: never adjusted, so the 年初预算数
    assert ws["F6"].value == pytest.approx(3.915, abs=0.006)
    assert ws["G6"].value == pytest.approx(0.5) and ws["G6"].number_format == "0.00%"
    assert "A5:A8" in {str(r) for r in ws.merged_cells.ranges}
    rows = {ws.cell(r, 3).value: [ws.cell(r, c).value for c in range(1, 14)] for r in range(13, ws.max_row + 1)}
    pay = rows["资金足额支付率"]
    assert pay[4] == "60%（截至2024-07-31）" and pay[5] == "年底前支付完毕"
    # causes the department did not name are blank, not 未填报 (it did its analysis) and never "无偏差"
    assert pay[6] == "结算审核未完成，尾款暂缓支付" and pay[7:11] == ["—"] * 4 and pay[11] == "有可能"
    assert rows["平面无造型吊面积"][6:11] == ["未填报"] * 5  # nothing reported by July: every cause column says so
    assert rows["本单位工作人员满意度"][4] == "未填报"  # reported only in December


def test_excel_self_evaluation_holds_the_scores(session):
    seed_house_repair(session)
    data = produce(session, ReportRequest("selfeval", 2024, "xlsx"), SETTINGS)
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["A1"].value == "项目支出绩效自评表"
    assert ws["F6"].value == pytest.approx(7.05) and ws["H6"].value == pytest.approx(0.9)
    assert ws["I6"].value == pytest.approx(9.0)
    by_name = {ws.cell(r, 3).value: r for r in range(10, ws.max_row + 1)}
    assert ws.cell(by_name["二级直线条吊单价"], 7).value == pytest.approx(5.94)
    assert ws.cell(by_name["二级直线条吊单价"], 9).value == "未填报"
    total_row = next(r for r in range(10, ws.max_row + 1) if ws.cell(r, 1).value == "总分")
    assert ws.cell(total_row, 7).value == pytest.approx(88.63) and ws.cell(total_row, 9).value == "良"


def test_pdf_self_evaluation_has_embedded_chinese_fonts_and_the_numbers(session, tmp_path):
    seed_house_repair(session)
    pdf = tmp_path / "selfeval.pdf"
    pdf.write_bytes(produce(session, ReportRequest("selfeval", 2024, "pdf"), SETTINGS))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("项目支出绩效自评表", "房屋修缮费用", "144-晋城市人力资源和社会保障局", "88.63", "良", "7.83",
                     "7.05", "90.00%", "5.94", "未填报"):
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # the "emb" column


def test_unknown_year_and_project_are_named(session):
    seed_house_repair(session)
    with pytest.raises(ReportError, match="2023"):
        load_year(session, 2023)
    with pytest.raises(ReportError, match="999"):
        load_year(session, 2024, project_id=999)
    with pytest.raises(ReportError, match="没有代码为 145 的部门"):
        load_year(session, 2024, department="145")
    with pytest.raises(ReportError, match="未知格式"):
        ReportRequest("selfeval", 2024, "docx")


def test_department_summary_and_bureau_ranking(session):
    """144: one project at 88.63 (良), 7.83 万 budget, 7.05 万 spent (90%).
    959: one project with nothing reported: execution 0 and every indicator 未填报 → 0.00 (差). 144 ranks first."""
    seed_house_repair(session)
    year = session.exec(select(BudgetYear)).scalars().one()
    union = Department(code="959", name="晋城市总工会")
    session.add(union)
    session.flush()
    add_project(session, department=union, year=year, name="困难职工帮扶", funds=D("500000"))
    session.commit()
    summaries = summarise(build_selfeval(load_year(session, 2024), SETTINGS.scoring))
    hr, un = summaries
    assert (hr.department, hr.budget_wan, hr.spent_wan, hr.execution_rate, hr.mean_score, hr.grade) == (
        "144-晋城市人力资源和社会保障局", D("7.83"), D("7.05"), D("90.00"), D("88.63"), "良")
    assert (un.mean_score, un.grade, un.grades["差"], un.spent_wan) == (D("0.00"), "差", 1, D("0.00"))
    assert [(r.rank, r.summary.department) for r in rank(summaries)] == [
        (1, "144-晋城市人力资源和社会保障局"), (2, "959-晋城市总工会")]
    ws = load_workbook(io.BytesIO(produce(session, ReportRequest("ranking", 2024, "xlsx"), SETTINGS))).active
    assert [ws.cell(3, c).value for c in (1, 2, 7, 8)] == [1, "144-晋城市人力资源和社会保障局", 88.63, "良"]
    assert [ws.cell(4, c).value for c in (1, 2, 7, 8)] == [2, "959-晋城市总工会", 0, "差"]


def test_a_long_department_pdf_is_laid_out_in_chunks_and_keeps_every_project_in_order(session, tmp_path):
    seed_house_repair(session)
    dept = session.exec(select(Department)).scalars().one()
    year = session.exec(select(BudgetYear)).scalars().one()
    for i in range(2, PDF_PARALLEL_FROM + 1):
        add_project(session, department=dept, year=year, name=f"房屋修缮费用（第{i}批）", funds=D("10000"))
    session.commit()
    pdf = tmp_path / "dept.pdf"
    pdf.write_bytes(produce(session, ReportRequest("selfeval", 2024, "pdf", department="144"), SETTINGS))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    positions = [text.index(f"房屋修缮费用（第{i}批）") for i in range(2, PDF_PARALLEL_FROM + 1)]
    assert positions == sorted(positions) and text.index("88.63") < positions[0]
    assert "自评得分分布" not in text  # charts are images; their page is the last one
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) >= PDF_PARALLEL_FROM


def test_cut_off_month_comes_from_the_budget_year_then_config(session):
    seed_house_repair(session)
    year = session.exec(select(BudgetYear)).scalars().one()
    html = produce(session, ReportRequest("monitor", 2024, "html", charts=False), SETTINGS).decode()
    assert "数据截至7月底" in html  # [reports] monitor_through_month default
    year.monitor_through_month = 6
    session.add(year)
    session.commit()
    html = produce(session, ReportRequest("monitor", 2024, "html", charts=False), SETTINGS).decode()
    assert "数据截至6月底" in html and "1-6月执行数" in html
    assert "34.6平方米（截至" not in html  # reported as of 31 July: after the June cut-off


def test_report_text_is_escaped(session):
    seed_house_repair(session)
    project = session.exec(select(Project)).scalars().one()
    project.name = '<script>alert("x")</script>维修'
    session.add(project)
    session.commit()
    for kind in ("monitor", "selfeval", "summary"):
        html = produce(session, ReportRequest(kind, 2024, "html", charts=False), SETTINGS).decode()
        assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_imported_seed_table_scores_the_same_as_on_paper(session):
    """The real importer reads 房屋修缮费用 from the 144 disclosure; with the same reports it scores 88.63 (良),
    the arithmetic of `test_seed_project_scores_what_a_person_computes_on_paper`."""
    from monitor.importers.disclosure import parse_file
    from monitor.importers.load import store_document
    from tests.conftest import SEED_HRSS

    store_document(session, parse_file(SEED_HRSS))
    session.commit()
    project = session.exec(select(Project).where(Project.name == "房屋修缮费用")).scalars().one()
    assert project.annual_funds == D("78300")
    rows = session.exec(select(Indicator).where(Indicator.project_id == project.id, Indicator.half == "annual")
                        .order_by(Indicator.position)).scalars().all()
    assert [(r.level1, r.name, r.value_text) for r in rows] == [(a, c, d) for a, _b, c, d in HOUSE_REPAIR]
    file_reports(session, project, {r.name: r for r in rows})
    (result,) = build_selfeval(load_year(session, 2024, project_id=project.id), SETTINGS.scoring)
    assert (result.execution_score, result.total, result.grade) == (D("9.00"), D("88.63"), "良")


def test_charts_draw_every_chinese_glyph_with_the_cjk_font(session):
    """matplotlib warns "Glyph … missing from font(s)" whenever it would draw a tofu box; here that is an error."""
    import warnings

    from monitor.reports import charts

    seed_house_repair(session)
    data = load_year(session, 2024)
    projects = build_selfeval(data, SETTINGS.scoring)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pngs = [charts.lights_by_department(data), charts.spending_curve(data, 7), charts.score_distribution(projects)]
    assert all(png.startswith(b"\x89PNG") and len(png) > 5000 for png in pngs)
    assert charts.cjk_font().get_family() == ["Noto Sans CJK SC"]


def test_indicator_points_add_up_to_ninety_when_a_level_does_not_divide_evenly(session):
    """产出 50 over 7 indicators is 7.142857… each: printed by largest remainder as 7.15, 7.15 and five 7.14, so
    the 分值 column adds up to 50, as the indicators are worth 50 + 30 + 10 (never 7 × 7.14 = 49.98)."""
    dept = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    add_project(session, department=dept, year=year, name="房屋修缮费用", funds=D("78300"),
                rows=[r for r in HOUSE_REPAIR if r[2] != "平面无造型吊单价"])
    session.commit()
    (result,) = build_selfeval(load_year(session, 2024), SETTINGS.scoring)
    assert [r.points for r in result.rows][:7] == [D("7.15")] * 2 + [D("7.14")] * 5
    assert sum(r.points for r in result.rows) == D(90)
    assert result.goal_actual.endswith("9 项指标得分 0 / 90。"), result.goal_actual


def test_self_evaluation_of_unreported_spending_shows_the_rate_as_not_filled_never_zero(session):
    """No spending reported for the year: 全年执行数 and 执行率 are 未填报 (the score is 0), in every format."""
    dept = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    add_project(session, department=dept, year=year, name="房屋修缮费用", funds=D("78300"))
    session.commit()
    (result,) = build_selfeval(load_year(session, 2024), SETTINGS.scoring)
    assert (result.spent_wan, result.execution_rate, result.execution_score) == (None, None, D("0.00"))
    ws = load_workbook(io.BytesIO(produce(session, ReportRequest("selfeval", 2024, "xlsx"), SETTINGS))).worksheets[0]
    assert (ws["F6"].value, ws["H6"].value, ws["I6"].value) == ("未填报", "未填报", 0)
    produced = produce(session, ReportRequest("summary", 2024, "xlsx"), SETTINGS)
    summary = load_workbook(io.BytesIO(produced)).worksheets[0]
    assert [summary.cell(3, c).value for c in (2, 4, 5)] == ["房屋修缮费用", "未填报", "未填报"]
    html = produce(session, ReportRequest("selfeval", 2024, "html"), SETTINGS).decode()
    assert "0.00%" not in html


def test_a_completion_without_its_period_counts_for_one_month_as_the_evaluation_counts_it(session):
    """A monthly task reported once, "done 15 February", without naming the month: like the lights, both tables
    count it for the first month due on or after that day (February), not for every month of the year."""
    from monitor.reports.monitoring import progress_text
    from monitor.reports.selfeval import occurrence_statuses

    dept = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    _project, ind = add_project(session, department=dept, year=year, name="遗属补助", funds=D("10000"),
                                rows=[("产出指标", "时效指标", "遗属补助发放时间", "每月")])
    report(session, ind["遗属补助发放时间"], completed_on=date(2024, 2, 15))
    session.commit()
    (loaded,) = load_year(session, 2024).projects[0].indicators
    assert progress_text(loaded, date(2024, 3, 31)) == (
        "2024-01-31期：未填报；2024-02-29期：2024-02-15完成；2024-03-31期：未填报")
    assert occurrence_statuses(loaded, date(2024, 3, 31)) == ("missed", "on_time", "missed")


def test_what_was_done_reads_in_english_with_the_same_periods_and_dates(session):
    """A round's page read in English says the 执行情况 in English: each period, its due date, its completion."""
    from monitor.reports.monitoring import progress_text

    dept = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    _project, ind = add_project(session, department=dept, year=year, name="遗属补助", funds=D("10000"),
                                rows=[("产出指标", "时效指标", "遗属补助发放时间", "每月")])
    report(session, ind["遗属补助发放时间"], completed_on=date(2024, 2, 15))
    session.commit()
    (loaded,) = load_year(session, 2024).projects[0].indicators
    assert progress_text(loaded, date(2024, 3, 31), "en") == (
        "31 Jan period: not reported; 29 Feb period: done on 15 Feb; 31 Mar period: not reported")


def test_monitoring_table_writes_amounts_as_the_target_does(session):
    """工人文化宫运行经费's 维修成本 ≤27万 (seed 959): 148 500 元 spent by June is written 14.85万元, as its light's
    reason writes it, beside the 27万 target."""
    dept = Department(code="959", name="晋城市总工会")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    _project, ind = add_project(session, department=dept, year=year, name="工人文化宫运行经费", funds=D("1500000"),
                                rows=[("产出指标", "成本指标", "维修成本", "≤27万")])
    report(session, ind["维修成本"], value=D("148500"), as_of=date(2024, 6, 30), forecast=D("297000"))
    session.commit()
    html = produce(session, ReportRequest("monitor", 2024, "html", through=7), SETTINGS).decode()
    assert "14.85万元（截至2024-06-30）" in html and "29.7万元" in html and "148500" not in html


def test_a_grade_reported_on_an_evening_counts_for_that_day_in_shanghai(session):
    """A qualitative grade has no as-of date: it counts from the Shanghai day it was reported. 31 July at 20:00
    Shanghai time (12:00 UTC) is still inside a monitoring table through July, whatever zone the server runs in."""
    dept = Department(code="959", name="晋城市总工会")
    year = BudgetYear(year=2024)
    session.add_all([dept, year])
    session.flush()
    _project, ind = add_project(session, department=dept, year=year, name="帮扶送温暖", funds=D("3000000"))
    session.add(Report(indicator_id=ind["工作环境安全舒适度提升"].id, channel="portal", grade="达成年度指标",
                       explanation="已完成", created_at=datetime(2024, 7, 31, 20, 0, tzinfo=SHANGHAI)))
    session.commit()
    session.expunge_all()
    data = load_year(session, 2024)
    (fact,) = next(i for i in data.projects[0].indicators if i.name == "工作环境安全舒适度提升").reports
    assert fact.effective_on == date(2024, 7, 31)
