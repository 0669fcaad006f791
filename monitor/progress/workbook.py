"""The Excel/CSV round trip: a workbook pre-filled with a department's indicators, and reading it back.

The file is checked as a whole: every row is stored, or none is and the user gets every problem as
(sheet, row, column, problem). Columns are found by their header text, so reordering them is harmless;
rows whose input columns are all empty are skipped, so the untouched download uploads as "nothing new".
CSV files carry the same columns as one sheet (UTF-8, with or without BOM, or GB18030 as Excel saves it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session, col, select

from monitor.progress import parsing, service
from monitor.progress.entries import ReportEntry, SpendingEntry, read_report, read_spending
from monitor.progress.schedule import describe_target
from monitor.progress.validation import Problem, ValidationFailed
from monitor.spreadsheets import layout
from monitor.spreadsheets.cells import csv_row, put
from monitor.spreadsheets.limits import Limits, too_big, too_long, too_many_rows
from monitor.store import facts
from monitor.store.models import Department, Indicator, Project, Report, Spending, User
from monitor.store.rows import stored_id
from rules.budget import budget_in_force
from rules.terms import DEVIATION_CAUSES, FUND_SOURCES, GRADES, LIKELIHOODS

DEFAULT_LIMITS = Limits()

REPORT_SHEET = "指标填报"
SPENDING_SHEET = "项目支出"
GUIDE_SHEET = "填表说明"

# (header, entry field) — the first ten are read-only context, the rest are what the clerk fills in.
REPORT_CONTEXT = ["指标编号", "项目编号", "项目名称", "一级指标", "二级指标", "三级指标", "指标值", "类型", "可选期次",
                  "最近填报"]
REPORT_INPUTS = [("数值", "value"), ("截至日期", "as_of"), ("完成期次", "occurrence_due"), ("完成日期", "completed_on"),
                 ("评价等级", "grade"), ("情况说明", "explanation"), ("全年预计完成情况", "forecast")] + [
                 (f"偏差原因-{c}", f"cause:{c}") for c in DEVIATION_CAUSES] + [
                 ("完成目标可能性", "likelihood"), ("备注", "note")]
SPENDING_CONTEXT = ["项目编号", "项目名称", "全年预算数(元)", "最近执行数(元)"]
# the total, then (optional) its parts by source: a row may give the total alone, as before
SPENDING_INPUTS = [("执行数(元)", "amount")] + [(f"其中：{name}(元)", key) for key, name in FUND_SOURCES.items()] + [
                   ("截至日期", "as_of"), ("备注", "note")]
FIELD_HEADERS = {f: h for h, f in REPORT_INPUTS} | {"indicator_id": "指标编号", "deviation_causes": "偏差原因-其他"}
SPENDING_HEADERS = {"project_id": "项目编号"} | {f: h for h, f in SPENDING_INPUTS}
FONT_NAME = "Noto Sans CJK SC"
# column widths (Excel units): the report sheet is wider than A4 landscape and prints at about 75 %
REPORT_WIDTHS = ([5, 5, 11, 6, 7, 11, 8, 8, 8, 9] + [7, 10.5, 10.5, 10.5, 8, 9, 8] + [6.5] * len(DEVIATION_CAUSES)
                 + [7, 9])
SPENDING_WIDTHS = [6, 30, 14, 22, 14, 12, 12, 12, 11, 20]


@dataclass(frozen=True)
class UploadProblem:
    sheet: str
    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"{self.sheet} 第{self.row}行 {self.column}：{self.problem}"


class UploadRejected(ValueError):
    def __init__(self, problems: list[UploadProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ParsedUpload:
    reports: list[ReportEntry] = field(default_factory=list)
    report_rows: list[tuple[str, int]] = field(default_factory=list)
    spending: list[SpendingEntry] = field(default_factory=list)
    spending_rows: list[tuple[str, int]] = field(default_factory=list)
    problems: list[UploadProblem] = field(default_factory=list)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet -> header -> column letter


@dataclass
class UploadResult:
    stored_reports: int
    stored_spending: int
    unchanged: int
    notices: list[UploadProblem] = field(default_factory=list)  # what was assumed (a year-end date), per cell
    projects: tuple[int, ...] = ()  # the projects something new was stored for, whose lights are now out of date


# ---- export ---------------------------------------------------------------------------------------------

def _summary(report: Report | None, unit: str | None) -> str:
    if report is None:
        return "未填报"
    if report.value is not None:
        text = f"{format(report.value.normalize(), 'f')}{unit or ''}"
        return f"{text}（截至 {report.as_of.isoformat()}）" if report.as_of else text
    if report.completed_on is not None:
        due = report.occurrence_due.isoformat() if report.occurrence_due else ""
        return f"期次 {due} 于 {report.completed_on.isoformat()} 完成"
    return report.grade or ""


def department_rows(session: Session, department_ids: Iterable[int], on: date | None = None
                    ) -> tuple[list[list[Any]], list[list[Any]]]:
    """The context columns of both sheets for the given departments, in a stable order; with `on`, each 指标值 is
    the target in force that day (an approved 目标调整), else as imported."""
    projects = session.exec(select(Project).where(col(Project.department_id).in_(list(department_ids)))
                            .order_by(col(Project.id))).all()
    by_id = {stored_id(p.id): p for p in projects}
    ids: list[int] = []
    if by_id:
        query = select(col(Indicator.id)).where(col(Indicator.project_id).in_(list(by_id)))
        ids = [stored_id(i) for i in session.exec(query).all()]
    infos = service.load_infos(session, ids, on)
    effective = facts.effective_reports(session, infos)
    spending = facts.effective_spending(session, by_id)
    adjustments = facts.effective_adjustments(session, by_id)
    report_rows = []
    for info in sorted(infos.values(),
                       key=lambda i: (i.project.id, i.indicator.half, i.indicator.position, i.indicator.id)):
        ind = info.indicator
        report_rows.append([ind.id, info.project.id, info.project.name, ind.level1, ind.level2, ind.name,
                            info.target.text, describe_target(info),
                            "、".join(d.isoformat() for d in info.occurrence_dues),
                            _summary(service.latest(effective[info.indicator_id]), info.target.unit)])
    spending_rows = []
    for p in projects:
        spent = service.latest_spending(spending.get(stored_id(p.id), []))
        moves = [(a.effective_on, a.amount) for a in adjustments[stored_id(p.id)]]
        # no adjustment is dated after the day it was recorded, so all of them are in force by now
        spending_rows.append([p.id, p.name, budget_in_force(p.annual_funds, moves, date.max),
                              f"{spent.amount}（截至 {spent.as_of.isoformat()}）" if spent else "未填报"])
    return report_rows, spending_rows


def _sheet(ws, context: list[str], inputs: list[tuple[str, str]], rows: list[list[Any]], widths: Sequence[float], *,
           title: str, subject: str) -> None:
    headers = context + [h for h, _ in inputs]
    grey = PatternFill("solid", fgColor="E7EAEE")
    yellow = PatternFill("solid", fgColor="FFF4CC")
    head_font = Font(name=FONT_NAME, size=10, bold=True)
    body_font = Font(name=FONT_NAME, size=10)
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, header in enumerate(headers, start=1):
        cell = put(ws.cell(row=1, column=index), header)
        cell.font = head_font
        cell.fill = grey if index <= len(context) else yellow
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for r, row in enumerate(rows, start=2):
        for index, value in enumerate(row, start=1):
            cell = put(ws.cell(row=r, column=index), value)
            cell.fill = grey
        for index in range(1, len(headers) + 1):
            cell = ws.cell(row=r, column=index)
            cell.font = body_font
            cell.alignment = wrap
    layout.set_column_widths(ws, widths, fit=False)
    layout.box(ws, layout.table_ref(1, len(rows) + 1, len(headers)))
    layout.lay_out(ws, title=title, subject=subject, repeat_rows=(1, 1),
                   freeze=ws.cell(row=2, column=len(context) + 1).coordinate)


def build_workbook(session: Session, department_ids: Iterable[int], on: date | None = None) -> bytes:
    department_ids = list(department_ids)
    report_rows, spending_rows = department_rows(session, department_ids, on)
    names = session.exec(select(Department.name).where(col(Department.id).in_(department_ids))
                         .order_by(Department.code)).all()
    subject = "、".join(names)
    wb = Workbook()
    ws = wb.active
    ws.title = REPORT_SHEET
    _sheet(ws, REPORT_CONTEXT, REPORT_INPUTS, report_rows, REPORT_WIDTHS, title=f"绩效监控填报表 {REPORT_SHEET}",
           subject=subject)
    last = max(len(report_rows) + 1, 2)
    for header, choices in (("评价等级", GRADES), ("完成目标可能性", LIKELIHOODS)):
        letter = get_column_letter(REPORT_CONTEXT.__len__() + [h for h, _ in REPORT_INPUTS].index(header) + 1)
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        ws.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{last}")
    _sheet(wb.create_sheet(SPENDING_SHEET), SPENDING_CONTEXT, SPENDING_INPUTS, spending_rows, SPENDING_WIDTHS,
           title=f"绩效监控填报表 {SPENDING_SHEET}", subject=subject)
    guide = wb.create_sheet(GUIDE_SHEET)
    for line in (
        "只填黄色列；灰色列是系统导出的内容，请勿修改“指标编号”“项目编号”。",
        "数量、百分比指标：填“数值”（累计数；满意度、合格率等填最新测量值）和“截至日期”。",
        "截止、时段、周期指标：填“完成期次”（从“可选期次”中选一个日期）和“完成日期”。",
        f"定性指标：填“评价等级”（{' / '.join(GRADES)}），未完全达成时填写“情况说明”。",
        f"可选：全年预计完成情况、偏差原因（{'、'.join(DEVIATION_CAUSES)}）、"
        f"完成目标可能性（{' / '.join(LIKELIHOODS)}）。",
        "日期写成 2024-07-31。整张表一并校验：有任何一行出错，则全部不保存，并列出出错的工作表、行、列。",
        "同一文件重复上传不会重复保存；同一截至日期（或同一期次）填了新值，视为对原记录的更正。",
        "项目支出：填截至某日的累计执行数（元）。",
        "预算年度结束后填报年末结果（评价等级、全年完成值、全年执行数）：“截至日期”可不填，按该年度 12月31日 记入；"
        "次年补录的数据仍计入该年度自评。",
    ):
        guide.append([line])
    for (cell,) in guide.iter_rows(max_col=1):
        cell.font = Font(name=FONT_NAME, size=10)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    layout.set_column_widths(guide, [1])
    layout.box(guide, f"A1:A{guide.max_row}")
    layout.lay_out(guide, title=f"绩效监控填报表 {GUIDE_SHEET}", subject=subject)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def build_csv(session: Session, department_ids: Iterable[int], on: date | None = None) -> str:
    report_rows, _ = department_rows(session, department_ids, on)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(REPORT_CONTEXT + [h for h, _ in REPORT_INPUTS])
    for row in report_rows:
        writer.writerow(csv_row(row) + [""] * len(REPORT_INPUTS))
    return out.getvalue()


# ---- import ---------------------------------------------------------------------------------------------

def _read_table(parsed: ParsedUpload, sheet: str, rows: list[tuple[int, list[Any]]]) -> None:
    if not rows:
        return
    _, header = rows[0]
    names = [str(h).strip() if h is not None else "" for h in header]
    letters = {name: get_column_letter(i + 1) for i, name in enumerate(names) if name}
    parsed.columns[sheet] = letters
    if "指标编号" in letters:
        key, inputs, kind = "指标编号", REPORT_INPUTS, "report"
    elif "项目编号" in letters and "执行数(元)" in letters:
        key, inputs, kind = "项目编号", SPENDING_INPUTS, "spending"
    else:
        parsed.problems.append(UploadProblem(sheet, 1, "表头",
                                             "找不到“指标编号”或“项目编号/执行数(元)”列 (unknown layout)"))
        return
    present = [(h, f) for h, f in inputs if h in letters]
    if not present:
        parsed.problems.append(UploadProblem(sheet, 1, "表头", "没有可填写的列 (no input columns)"))
        return
    index = {name: i for i, name in enumerate(names) if name}

    def cell(cells: list[Any], name: str) -> Any:
        i = index.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    for row_number, cells in rows[1:]:
        values = {f: cell(cells, h) for h, f in present}
        if all(parsing.blank(v) for v in values.values()):
            continue
        if kind == "report":
            causes = {f.split(":", 1)[1]: v for f, v in values.items() if f.startswith("cause:")}
            parsed.reports.append(read_report(cell(cells, key), deviation_causes=causes,
                                              **{f: v for f, v in values.items() if not f.startswith("cause:")}))
            parsed.report_rows.append((sheet, row_number))
        else:
            parsed.spending.append(read_spending(cell(cells, key), **values))
            parsed.spending_rows.append((sheet, row_number))


def parse_xlsx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedUpload:
    parsed = ParsedUpload()
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        parsed.problems.append(UploadProblem("-", 0, "-",
                                             f"不是有效的 Excel 文件 (not an .xlsx workbook): {type(exc).__name__}"))
        return parsed
    try:
        for ws in wb.worksheets:
            if ws.title == GUIDE_SHEET:
                continue
            rows = _bounded_rows(parsed, ws.title, enumerate(ws.iter_rows(values_only=True), start=1), limits)
            if rows is None:
                return parsed
            _read_table(parsed, ws.title, rows)
    finally:
        wb.close()
    if not parsed.columns:
        parsed.problems.append(UploadProblem("-", 0, "-", "工作簿中没有数据 (empty workbook)"))
    return parsed


def _bounded_rows(parsed: ParsedUpload, sheet: str, numbered: Iterable[tuple[int, Sequence[Any]]],
                  limits: Limits) -> list[tuple[int, list[Any]]] | None:
    """The rows, streamed and checked against the row and cell limits; None (with the problem noted) past one."""
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in numbered:
        problem = too_many_rows(number, limits)
        if problem:
            parsed.problems.append(UploadProblem(sheet, number, "-", problem))
            return None
        for column, value in enumerate(cells):
            problem = too_long(value, limits)
            if problem:
                parsed.problems.append(UploadProblem(sheet, number, get_column_letter(column + 1), problem))
                return None
        rows.append((number, list(cells)))
    return rows


def parse_csv(data: bytes, name: str = "CSV", limits: Limits = DEFAULT_LIMITS) -> ParsedUpload:
    parsed = ParsedUpload()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        parsed.problems.append(UploadProblem(name, 0, "-", "无法识别文件编码，请另存为 UTF-8 (unknown encoding)"))
        return parsed
    if "\x00" in text:
        parsed.problems.append(UploadProblem(name, text[:text.index("\x00")].count("\n") + 1, "-",
                                             "含有空字符（NUL），不是文本文件 (a NUL character: not a text file)"))
        return parsed
    lines_read = [0]

    def numbered() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            lines_read[0] = number
            yield number, row

    try:
        rows = _bounded_rows(parsed, name, numbered(), limits)
    except csv.Error as exc:
        # An unbalanced quote swallows the rest of the file into one field until the field-size limit trips.
        line = lines_read[0] + 1
        parsed.problems.append(UploadProblem(name, line, "-", (
            f"CSV 格式错误（第{line}行起，可能是引号不成对或单元格过长）：{str(exc)[:80]} "
            "(malformed CSV: an unbalanced quote or an over-long cell)")))
        return parsed
    if rows is not None:
        _read_table(parsed, name, rows)
    return parsed


def parse_upload(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedUpload:
    """What an uploaded workbook or CSV says, after its size is checked against `limits` (nothing opened past one)."""
    suffix = Path(filename).suffix.lower()
    shown = Path(filename).name or "-"
    if not data.strip():
        return ParsedUpload(problems=[UploadProblem(shown, 0, "-", "文件是空的 (empty file)")])
    refused = too_big(data, limits)
    if refused:
        return ParsedUpload(problems=[UploadProblem(shown, 0, "-", refused)])
    if suffix in (".xlsx", ".xlsm"):
        return parse_xlsx(data, limits)
    if suffix in (".csv", ".txt"):
        return parse_csv(data, shown, limits)
    if data[:2] == b"PK":
        return parse_xlsx(data, limits)
    return parse_csv(data, Path(filename).name or "CSV", limits)


def _located(parsed: ParsedUpload, problems: Sequence[Problem], rows: list[tuple[str, int]],
             headers: dict[str, str]) -> list[UploadProblem]:
    out = []
    for p in problems:
        sheet, row = rows[p.index] if p.index is not None else ("-", 0)
        header = headers.get(p.field, p.field)
        letter = parsed.columns.get(sheet, {}).get(header, "")
        out.append(UploadProblem(sheet, row, f"{letter} {header}".strip(), p.message))
    return out


def import_upload(session: Session, user: User, parsed: ParsedUpload, *, channel: str, today: date) -> UploadResult:
    """Store everything in `parsed` in `session` or raise `UploadRejected` (the caller commits or rolls back)."""
    problems = list(parsed.problems)
    stored_reports: list[Report] = []
    unchanged = 0
    notices: list[UploadProblem] = []
    if parsed.reports:
        try:
            result = service.record_reports(session, user, parsed.reports, channel=channel, today=today)
            stored_reports, unchanged = result.stored, len(result.unchanged)
            notices += _located(parsed, result.notices, parsed.report_rows, FIELD_HEADERS)
        except ValidationFailed as exc:
            problems += _located(parsed, exc.problems, parsed.report_rows, FIELD_HEADERS)
    stored_spending: list[Spending] = []
    if parsed.spending:
        try:
            stored_spending, same = service.record_spending(session, user, parsed.spending, channel=channel,
                                                            today=today)
            unchanged += len(same)
            notices += _located(parsed, service.spending_notices(session, parsed.spending, today),
                                parsed.spending_rows, SPENDING_HEADERS)
        except ValidationFailed as exc:
            problems += _located(parsed, exc.problems, parsed.spending_rows, SPENDING_HEADERS)
    if problems:
        raise UploadRejected(sorted(problems, key=lambda p: (p.sheet, p.row, p.column)))
    indicators = {r.indicator_id for r in stored_reports}
    projects = {s.project_id for s in stored_spending}
    if indicators:
        projects |= set(session.exec(select(Indicator.project_id).where(col(Indicator.id).in_(indicators))).all())
    return UploadResult(len(stored_reports), len(stored_spending), unchanged, notices, tuple(sorted(projects)))
