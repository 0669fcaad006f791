"""Store a read self-evaluation: the targets as any import does, then the year's results through the one way
each fact enters kpiwatch (reports and spending through `monitor.progress.service`, the budget change through
`monitor.progress.budget`), all audited, and the department's printed scores beside them for 自评复核.

Everything happens in the caller's transaction: a refused report or adjustment leaves the store unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from monitor.importers.document import ImportFailure
from monitor.importers.load import StoreResult, store_document
from monitor.importers.selfeval_table import SelfEvalTable, as_document, is_selfeval, measured, read_selfeval
from monitor.progress.budget import budget_figures, record_adjustment
from monitor.progress.entries import ReportEntry, SpendingEntry, read_adjustment
from monitor.progress.service import record_reports, record_spending
from monitor.progress.validation import ValidationFailed
from monitor.store import audit
from monitor.store.models import BudgetYear, Department, Indicator, PrintedSelfEvalScore, Project, User
from monitor.store.rows import stored_id
from monitor.store.types import SHANGHAI
from rules import calendar as cal

CHANNEL = "import"


@dataclass
class SelfEvalStored:
    targets: StoreResult
    project_id: int
    reports: int
    spending: int
    adjustment: bool


def read_file(path: Path) -> tuple[SelfEvalTable, str, str]:
    """The self-evaluation in an .xlsx, .xls, .docx, .html or text file (its cell grid), its SHA-256 and format."""
    from monitor.importers import files

    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        grid = files.xlsx_grid(path)
    elif suffix == ".xls":
        grid = files.xls_grid(path)
    elif suffix == ".docx":
        grid = files.docx_grid(path)
    elif suffix in (".html", ".htm"):
        grid = files.html_grid(data, spans=True)
    else:  # text as extraction tools and web pages give it, in any of the families the target reader knows
        from monitor.importers import grid as text_grid
        from monitor.importers.disclosure import decode

        grid = text_grid.build(decode(data, str(path)))
    if not is_selfeval(grid):
        raise ImportFailure("文件中没有找到「项目支出绩效自评表」", en="the file holds no 「项目支出绩效自评表」",
                            file=str(path))
    return read_selfeval(grid, str(path)), hashlib.sha256(data).hexdigest(), grid.family


def store_selfeval(session: Session, user: User, table: SelfEvalTable, *, sha256: str, fmt: str,
                   today: date, department_code: str | None = None) -> SelfEvalStored:
    """Targets, year-end reports, year-end spending, the budget adjustment and the printed scores of one table;
    `department_code` for a table whose 主管部门 prints no code."""
    targets = store_document(session, as_document(table, sha256, fmt), department_code=department_code,
                             partial=True)
    department = session.exec(select(Department).where(col(Department.id) == targets.department_id)).one()
    project = session.exec(select(Project).join(BudgetYear).where(
        col(Project.department_id) == department.id, col(BudgetYear.year) == table.year,
        col(Project.import_key) == table.name)).first()
    assert project is not None  # just stored
    project_id = stored_id(project)
    year_end = cal.year_end(table.year)
    note = f"自评表导入（{Path(table.source).name}）"
    indicators = {i.name: i for i in session.exec(
        select(Indicator).where(col(Indicator.project_id) == project_id, col(Indicator.half) == "annual"))}
    entries = []
    for ind in table.indicators:
        value = measured(ind.actual)
        if value is None:
            continue  # words (达成年度指标…) are a grade a person gives, not a measured value
        entries.append(ReportEntry(indicator_id=indicators[ind.name].id, value=value, as_of=year_end,
                                   explanation=ind.reason or None, note=f"{note}：实际完成值「{ind.actual}」"))
    try:
        reports = record_reports(session, user, entries, channel=CHANNEL, today=today, default_note=note)
        _spent, _same = record_spending(session, user, [SpendingEntry(project_id=project_id, amount=table.spent,
                                                                       as_of=year_end, note=f"{note}：全年执行数")],
                                        channel=CHANNEL, today=today, default_note=note)
        adjusted = _adjust(session, user, project, table, year_end, note, today)
    except ValidationFailed as exc:
        raise ImportFailure(f"自评表中的实际完成值或资金无法作为填报保存：{exc.said('zh')}",
                            en=f"the self-evaluation's actual values or funds cannot be stored as reports: "
                               f"{exc.said('en')}",
                            file=table.source) from exc
    _keep_scores(session, user, project, table, indicators)
    return SelfEvalStored(targets=targets, project_id=project_id, reports=len(reports.stored),
                          spending=len(_spent), adjustment=adjusted)


def _adjust(session: Session, user: User, project: Project, table: SelfEvalTable, year_end: date, note: str,
            today: date) -> bool:
    """全年预算数 − 年初预算数 as one adjustment at year end, unless the budget in force already says so."""
    in_force = budget_figures(session, project, year_end).in_force or table.initial_budget
    difference = table.budget - in_force
    if difference == 0:
        return False
    entry = read_adjustment(stored_id(project), amount=difference, effective_on=year_end,
                            reason=f"{note}：全年预算数（调整后）{table.budget} 元，"
                                   f"年初预算数 {table.initial_budget} 元")
    record_adjustment(session, user, entry, channel=CHANNEL, today=today)
    return True


def _keep_scores(session: Session, user: User, project: Project, table: SelfEvalTable,
                 indicators: dict[str, Indicator]) -> None:
    """The printed 分值/得分 (and 执行率), one row each, updated in place on a re-import; every change audited."""
    project_id = stored_id(project)
    existing = {(s.row, s.indicator_id): s for s in session.exec(
        select(PrintedSelfEvalScore).where(col(PrintedSelfEvalScore.project_id) == project_id))}
    now = datetime.now(SHANGHAI)
    wanted = [("execution", None, "预算执行率", table.execution_points, table.execution_score, table.execution_rate,
               table.funds_line),
              *[("indicator", indicators[i.name].id, i.name, i.points, i.score, None, i.line)
                for i in table.indicators],
              ("total", None, "总分", None, table.total_score, None, table.total_line)]
    for row, indicator_id, name, points, score, rate, line in wanted:
        current = existing.get((row, indicator_id))
        before = audit.snapshot(current, ("points", "score", "rate")) if current is not None else None
        if current is None:
            current = PrintedSelfEvalScore(project_id=project_id, indicator_id=indicator_id, row=row, name=name)
            session.add(current)
        current.points, current.score, current.rate = points, score, rate
        current.source_file, current.line, current.imported_at = table.source, line, now
        session.flush()
        after = audit.snapshot(current, ("points", "score", "rate"))
        if before != after:
            audit.record(session, actor=user, channel=CHANNEL, action="create" if before is None else "update",
                         entity="printed_selfeval_score", entity_id=current.id, department_id=project.department_id,
                         before=before, after=after, note=f"自评表导入：{name}")
