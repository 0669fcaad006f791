"""Excel in the official tables' layout: one sheet per project with merged headers, numbers stored as numbers
(万元 with two decimals, rates as percentages), plus summary sheets for a department or the bureau.

Every value goes through `monitor.spreadsheets.cells.put` (text never becomes a formula) and every finished
sheet through `monitor.spreadsheets.layout.lay_out` (row heights from the text, print setup)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from monitor.reports.format import MISSING
from monitor.reports.monitoring import MonitorProject
from monitor.reports.selfeval import SelfEvalProject
from monitor.reports.summary import DepartmentSummary, RankingRow
from monitor.spreadsheets import cells, layout
from rules.terms import DEVIATION_CAUSES, SCORE_GRADES

BOX = layout.BOX
HEAD_FILL = PatternFill("solid", fgColor="EEF1F5")
WAN = "#,##0.00"
PCT = "0.00%"
SCORE = "0.00"
MISSING_FONT = Font(name="Noto Sans CJK SC", color="B3261E", bold=True)
FONT = Font(name="Noto Sans CJK SC", size=10)
BOLD = Font(name="Noto Sans CJK SC", size=10, bold=True)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
MONITOR_TITLE, SELFEVAL_TITLE = "项目支出绩效目标执行监控表", "项目支出绩效自评表"
# relative column widths (scaled to the A4 landscape page): the official tables' proportions
MONITOR_WIDTHS = [8, 9, 15, 10, 14, 10, 7.5, 7.5, 7.5, 7.5, 7.5, 8, 18]
SELFEVAL_WIDTHS = [10, 12, 20, 14, 18, 8, 8, 26, 30]
SUMMARY_WIDTHS = [6, 34, 14, 14, 10, 10, 8, 12]
RANKING_WIDTHS = [6, 34, 8, 14, 14, 10, 10, 8, 6, 6, 6, 6, 12]


def _sheet_title(index: int, name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "", name)
    title = f"{index}-{clean}"[:31]
    while title in used:
        title = title[:29] + f"~{len(used)}"
    used.add(title)
    return title


def _put(ws: Worksheet, ref: str, value, *, head: bool = False, fmt: str | None = None, merge: str | None = None):
    if isinstance(value, Decimal):
        value = float(value)  # openpyxl writes numbers; the Decimal was already rounded to what is shown
    cell = cells.put(ws[ref], value)
    cell.font = BOLD if head else (MISSING_FONT if value == MISSING else FONT)
    cell.alignment = CENTRE if head else WRAP
    if head:
        cell.fill = HEAD_FILL
    if fmt:
        cell.number_format = fmt
    if merge:
        ws.merge_cells(f"{ref}:{merge}")
        layout.box(ws, f"{ref}:{merge}")
    cell.border = BOX
    return cell


def _merge_runs(ws: Worksheet, column: str, first: int, values: list[str]) -> None:
    """Merge vertical runs of the same 一级/二级指标, as the printed tables do."""
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            if i - start > 1:
                ws.merge_cells(f"{column}{first + start}:{column}{first + i - 1}")
            start = i


def _money_or_missing(value: Decimal | None):
    return MISSING if value is None else value


def _rate_or_missing(percent: Decimal | None):
    """A percentage (85.5) as the fraction Excel formats as 85.50%, or 未填报."""
    return MISSING if percent is None else (percent / 100).quantize(Decimal("0.0001"))


def monitor_sheet(ws: Worksheet, p: MonitorProject) -> None:
    layout.set_column_widths(ws, MONITOR_WIDTHS)
    _put(ws, "A1", "项目支出绩效目标执行监控表", head=True, merge="M1").font = Font(name=FONT.name, size=14, bold=True)
    _put(ws, "A2", f"（{p.year}年度　数据截至{p.through_month}月底）", merge="K2")
    _put(ws, "L2", "单位：万元", merge="M2")
    _put(ws, "A3", "项目名称", head=True)
    _put(ws, "B3", p.name, merge="M3")
    _put(ws, "A4", "主管部门及代码", head=True)
    _put(ws, "B4", p.department, merge="F4")
    _put(ws, "G4", "实施单位", head=True)
    _put(ws, "H4", p.implementing_unit, merge="M4")
    _put(ws, "A5", "项目资金（万元）", head=True, merge=f"A{5 + len(p.funds)}")
    _put(ws, "B5", "", head=True, merge="C5")
    for ref, text in (("D5", "年初预算数"), ("E5", "全年预算数"), ("F5", f"{p.period}执行数"),
                      ("G5", f"{p.period}执行率")):
        _put(ws, ref, text, head=True)
    _put(ws, "H5", "全年预计执行数", head=True, merge="M5")
    for i, f in enumerate(p.funds):
        row = 6 + i
        _put(ws, f"B{row}", f.label, merge=f"C{row}")
        _put(ws, f"D{row}", f.budget_wan if f.budget_wan is not None else "—", fmt=WAN)
        _put(ws, f"E{row}", f.adjusted_wan if f.adjusted_wan is not None else "—", fmt=WAN)
        _put(ws, f"F{row}", _money_or_missing(f.spent_wan), fmt=WAN)
        _put(ws, f"G{row}", _rate_or_missing(f.rate), fmt=PCT)
        _put(ws, f"H{row}", _money_or_missing(f.forecast_wan) if f.total else "—", fmt=WAN, merge=f"M{row}")
    goal = 6 + len(p.funds)
    _put(ws, f"A{goal}", "年度总体目标", head=True, merge=f"A{goal + 1}")
    _put(ws, f"B{goal}", "年初设定目标", head=True, merge=f"F{goal}")
    _put(ws, f"G{goal}", f"{p.period}实际完成情况", head=True, merge=f"M{goal}")
    _put(ws, f"B{goal + 1}", p.annual_goal, merge=f"F{goal + 1}")
    _put(ws, f"G{goal + 1}", p.goal_progress, merge=f"M{goal + 1}")
    head = goal + 2
    for col, text in zip("ABCDEF", ("一级指标", "二级指标", "三级指标", "年度指标值", f"{p.period}执行情况",
                                    "全年预计完成情况"), strict=True):
        _put(ws, f"{col}{head}", text, head=True, merge=f"{col}{head + 1}")
    _put(ws, f"G{head}", "偏差原因分析", head=True, merge=f"K{head}")
    for col, text in zip("GHIJK", DEVIATION_CAUSES, strict=True):
        _put(ws, f"{col}{head + 1}", text, head=True)
    _put(ws, f"L{head}", "完成目标可能性", head=True, merge=f"L{head + 1}")
    _put(ws, f"M{head}", "备注", head=True, merge=f"M{head + 1}")
    first = head + 2
    for i, r in enumerate(p.rows):
        row = first + i
        values = [r.level1, r.level2, r.name, r.target_text, r.progress, r.forecast, *r.causes, r.likelihood, r.note]
        for col, value in zip("ABCDEFGHIJKLM", values, strict=True):
            _put(ws, f"{col}{row}", value)
    _merge_runs(ws, "A", first, [r.level1 for r in p.rows])
    _merge_runs(ws, "B", first, [f"{r.level1}/{r.level2}" for r in p.rows])
    layout.lay_out(ws, title=MONITOR_TITLE, subject=p.name, repeat_rows=(head, head + 1), freeze=f"A{first}")


def selfeval_sheet(ws: Worksheet, p: SelfEvalProject) -> None:
    layout.set_column_widths(ws, SELFEVAL_WIDTHS)
    _put(ws, "A1", "项目支出绩效自评表", head=True, merge="I1").font = Font(name=FONT.name, size=14, bold=True)
    _put(ws, "A2", f"（{p.year}年度）", merge="G2")
    _put(ws, "H2", "单位：万元", merge="I2")
    _put(ws, "A3", "项目名称", head=True)
    _put(ws, "B3", p.name, merge="I3")
    _put(ws, "A4", "主管部门及代码", head=True)
    _put(ws, "B4", p.department, merge="E4")
    _put(ws, "F4", "实施单位", head=True)
    _put(ws, "G4", p.implementing_unit, merge="I4")
    last = 5 + len(p.funds)
    _put(ws, "A5", "项目资金（万元）", head=True, merge=f"A{last}")
    _put(ws, "B5", "", head=True, merge="C5")
    for col, text in zip("DEFGHI", ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"), strict=True):
        _put(ws, f"{col}5", text, head=True)
    for i, f in enumerate(p.funds):
        row = 6 + i
        _put(ws, f"B{row}", f.label, merge=f"C{row}")
        _put(ws, f"D{row}", f.budget_wan if f.budget_wan is not None else "—", fmt=WAN)
        _put(ws, f"E{row}", f.adjusted_wan if f.adjusted_wan is not None else "—", fmt=WAN)
        _put(ws, f"F{row}", _money_or_missing(f.spent_wan), fmt=WAN)
        _put(ws, f"H{row}", _rate_or_missing(f.rate), fmt=PCT)
        if f.total:
            _put(ws, f"G{row}", p.execution_points, fmt=SCORE)
            _put(ws, f"I{row}", p.execution_score, fmt=SCORE)
        else:
            _put(ws, f"G{row}", "—")
            _put(ws, f"I{row}", "—")
    goal = last + 1
    _put(ws, f"A{goal}", "年度总体目标", head=True, merge=f"A{goal + 1}")
    _put(ws, f"B{goal}", "预期目标", head=True, merge=f"E{goal}")
    _put(ws, f"F{goal}", "实际完成情况", head=True, merge=f"I{goal}")
    _put(ws, f"B{goal + 1}", p.annual_goal, merge=f"E{goal + 1}")
    _put(ws, f"F{goal + 1}", p.goal_actual, merge=f"I{goal + 1}")
    head = goal + 2
    for col, text in zip("ABCDEFGHI", ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                                       "计分依据", "偏差原因分析及改进措施"), strict=True):
        _put(ws, f"{col}{head}", text, head=True)
    first = head + 1
    for i, r in enumerate(p.rows):
        row = first + i
        for col, value in zip("ABCDE", (r.level1, r.level2, r.name, r.target_text, r.actual_text), strict=True):
            _put(ws, f"{col}{row}", value)
        _put(ws, f"F{row}", r.points, fmt=SCORE)
        _put(ws, f"G{row}", r.score, fmt=SCORE)
        _put(ws, f"H{row}", r.rule)
        _put(ws, f"I{row}", r.explanation)
    _merge_runs(ws, "A", first, [r.level1 for r in p.rows])
    _merge_runs(ws, "B", first, [f"{r.level1}/{r.level2}" for r in p.rows])
    total = first + len(p.rows)
    _put(ws, f"A{total}", "总分", head=True, merge=f"E{total}")
    _put(ws, f"F{total}", 100, fmt=SCORE)
    _put(ws, f"G{total}", p.total, fmt=SCORE).font = BOLD
    _put(ws, f"H{total}", "自评等级", head=True)
    _put(ws, f"I{total}", p.grade).font = BOLD
    row = total + 1
    if p.missing_explanations:
        _put(ws, f"A{row}", "尚缺偏差原因分析及改进措施：" + "、".join(p.missing_explanations), merge=f"I{row}")
        row += 1
    if p.needs_person:
        _put(ws, f"A{row}", "定性指标待人工评分（暂按区间下限）：" + "、".join(p.needs_person), merge=f"I{row}")
        row += 1
    for w in p.warnings:
        _put(ws, f"A{row}", w, merge=f"I{row}")
        row += 1
    layout.lay_out(ws, title=SELFEVAL_TITLE, subject=p.name, repeat_rows=(head, head), freeze=f"A{first}")


def summary_sheet(ws: Worksheet, year: int, summaries: list[DepartmentSummary]) -> None:
    """One table: the column heads once (repeated on every printed page), then each department's projects
    and its total; with several departments each starts with a row naming it."""
    layout.set_column_widths(ws, SUMMARY_WIDTHS)
    title = f"{year}年度 部门项目绩效自评汇总"
    subject = summaries[0].department if len(summaries) == 1 else ""
    _put(ws, "A1", f"{title}　{subject}".strip(), head=True, merge="H1")
    for col, text in zip("ABCDEFGH", ("序号", "项目名称", "全年预算数（万元）", "全年执行数（万元）", "执行率",
                                      "自评得分", "等级", "缺偏差说明"), strict=True):
        _put(ws, f"{col}2", text, head=True)
    row = 3
    for s in summaries:
        if len(summaries) > 1:
            _put(ws, f"A{row}", s.department, head=True, merge=f"H{row}")
            row += 1
        for i, p in enumerate(s.projects, start=1):
            _put(ws, f"A{row}", i)
            _put(ws, f"B{row}", p.name)
            _put(ws, f"C{row}", p.budget_wan if p.budget_wan is not None else "—", fmt=WAN)
            _put(ws, f"D{row}", _money_or_missing(p.spent_wan), fmt=WAN)
            _put(ws, f"E{row}", _rate_or_missing(p.execution_rate), fmt=PCT)
            _put(ws, f"F{row}", p.total, fmt=SCORE)
            _put(ws, f"G{row}", p.grade)
            _put(ws, f"H{row}", len(p.missing_explanations))
            row += 1
        _put(ws, f"A{row}", "合计 / 平均", head=True, merge=f"B{row}")
        _put(ws, f"C{row}", s.budget_wan, fmt=WAN)
        _put(ws, f"D{row}", s.spent_wan, fmt=WAN)
        _put(ws, f"E{row}", (s.execution_rate / 100).quantize(Decimal("0.0001")), fmt=PCT)
        _put(ws, f"F{row}", s.mean_score, fmt=SCORE)
        _put(ws, f"G{row}", s.grade)
        _put(ws, f"H{row}", s.missing_explanations)
        row += 1
    layout.lay_out(ws, title=title, subject=subject, repeat_rows=(2, 2), freeze="A3")


def ranking_sheet(ws: Worksheet, year: int, ranking: list[RankingRow]) -> None:
    layout.set_column_widths(ws, RANKING_WIDTHS)
    _put(ws, "A1", f"{year}年度 各部门项目绩效自评排名", head=True, merge="M1")
    heads = ("名次", "部门", "项目数", "预算数（万元）", "执行数（万元）", "执行率", "平均得分", "等级",
             *SCORE_GRADES, "缺偏差说明")
    for col, text in zip("ABCDEFGHIJKLM", heads, strict=True):
        _put(ws, f"{col}2", text, head=True)
    for i, r in enumerate(ranking, start=3):
        s = r.summary
        values = [r.rank, s.department, len(s.projects), s.budget_wan, s.spent_wan,
                  (s.execution_rate / 100).quantize(Decimal("0.0001")), s.mean_score, s.grade,
                  *(s.grades[g] for g in SCORE_GRADES), s.missing_explanations]
        formats = [None, None, None, WAN, WAN, PCT, SCORE, None, None, None, None, None, None]
        for col, value, fmt in zip("ABCDEFGHIJKLM", values, formats, strict=True):
            _put(ws, f"{col}{i}", value, fmt=fmt)
    layout.lay_out(ws, title=f"{year}年度 各部门项目绩效自评排名", repeat_rows=(2, 2), freeze="A3")


def _no_projects(wb: Workbook, name: str, title: str) -> None:
    ws = wb.create_sheet(name)
    layout.set_column_widths(ws, [1])
    _put(ws, "A1", "（无项目）")
    layout.lay_out(ws, title=title)


def save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def monitor_workbook(projects: list[MonitorProject]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for i, p in enumerate(projects, start=1):
        monitor_sheet(wb.create_sheet(_sheet_title(i, p.name, used)), p)
    if not projects:
        _no_projects(wb, "监控表", MONITOR_TITLE)
    return save(wb)


def selfeval_workbook(year: int, projects: list[SelfEvalProject], summaries: list[DepartmentSummary],
                      ranking: list[RankingRow] | None = None) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    if ranking:
        ranking_sheet(wb.create_sheet("部门排名"), year, ranking)
        used.add("部门排名")
    if len(projects) > 1:
        summary_sheet(wb.create_sheet("部门汇总"), year, summaries)
        used.add("部门汇总")
    for i, p in enumerate(projects, start=1):
        selfeval_sheet(wb.create_sheet(_sheet_title(i, p.name, used)), p)
    if not projects:
        _no_projects(wb, "自评表", SELFEVAL_TITLE)
    return save(wb)
