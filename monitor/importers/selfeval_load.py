"""Store a read self-evaluation: the targets as any import does, then the year's results through the one way
each fact enters kpiwatch (reports and spending through `monitor.progress.service`, the budget change through
`monitor.progress.budget`), all audited, and the department's printed scores beside them for 自评复核.

Everything happens in the caller's transaction: a refused report or adjustment leaves the store unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from monitor.importers.document import ImportFailure, money_text
from monitor.importers.load import StoreResult, column_length, resolve_identity, store_document
from monitor.importers.output import document_json
from monitor.importers.selfeval_table import (
    SelfEvalTable,
    as_document,
    is_selfeval,
    plain,
    read_selfevals,
    reading,
)
from monitor.progress.budget import budget_figures, record_adjustment
from monitor.progress.entries import ReportEntry, SpendingEntry, read_adjustment
from monitor.progress.service import record_reports, record_spending
from monitor.progress.validation import ValidationFailed
from monitor.store import audit
from monitor.store.models import BudgetYear, Indicator, PrintedSelfEvalScore, Project, User
from monitor.store.rows import stored_id
from monitor.store.types import SHANGHAI
from rules import calendar as cal
from rules.terms import UNPARSED

CHANNEL = "import"
PRINTED = ("points", "score", "rate", "actual")  # what a re-import compares and audits


@dataclass
class SelfEvalFile:
    """The tables of one file (one per project), with the file's SHA-256 and the family it was read as."""

    path: str
    tables: list[SelfEvalTable]
    sha256: str
    format: str


@dataclass
class SelfEvalStored:
    targets: StoreResult
    project_ids: list[int]
    reports: int
    spending: int
    adjustments: int
    # 实际完成值 kept as printed and not stored as a report: {"project", "line", "name", "actual", "reason"}
    kept: list[dict] = field(default_factory=list)


def read_file(path: Path, *, allow_partial: bool = False) -> SelfEvalFile:
    """The self-evaluations in an .xlsx, .xls, .docx, .html or text file (its cell grid), one table a project;
    `allow_partial` keeps the complete rows of a table cut off at the end."""
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
    tables = read_selfevals(grid, str(path), allow_partial=allow_partial)
    return SelfEvalFile(str(path), tables, hashlib.sha256(data).hexdigest(), grid.family)


def dry_run_json(read: SelfEvalFile, *, department_code: str | None = None) -> dict:
    """What an import would store, as `kpiwatch import --dry-run --json` shows targets, and per project the
    self-evaluation's own figures: budget, spending, the execution row and the printed total; per indicator
    what its 实际完成值 would be stored as (a value, a grade) or why it is kept as printed only."""
    check_actuals(read.tables)
    doc = as_document(read.tables, read.sha256, read.format)
    resolve_identity(doc, year=None, department_code=department_code)
    data = document_json(doc, department_code=department_code)
    for project, table in zip(data["projects"], read.tables, strict=True):
        project["selfeval"] = {
            "initial_budget": money_text(table.initial_budget), "budget": money_text(table.budget),
            "spent": money_text(table.spent), "execution_points": plain(table.execution_points),
            "execution_rate": plain(table.execution_rate), "execution_score": plain(table.execution_score),
            "total_score": plain(table.total_score), "total_line": table.total_line, "cut_at": table.cut_at}
        for shown, ind in zip(project["indicators"], table.indicators, strict=True):
            got = reading(ind, (shown.get("target") or {}).get("kind", UNPARSED))
            shown["reported"] = ({"value": plain(got.value)} if got.value is not None
                                 else {"grade": got.grade} if got.grade else None)
            shown["kept_as_printed"] = got.problem
    return data


def dry_run_lines(data: dict) -> list[str]:
    """The dry run on one screen: each project's money, every indicator's printed figures and what is kept."""
    lines = [f"{data['source']['file']}: {data['department']['code'] or '?'} {data['department']['name'] or ''} "
             f"{data['year']}年度 自评表 {len(data['projects'])} 张（试运行，未写入数据库）"]
    for p in data["projects"]:
        s = p["selfeval"]
        lines.append(f"  「{p['name']}」（{p['layout']}，金额单位 {p['funds_unit']}）：年初预算数 "
                     f"{s['initial_budget']} 元，全年预算数 {s['budget']} 元，全年执行数 {s['spent']} 元；"
                     f"执行率 {s['execution_rate'] or '未填'}%，得分 {s['execution_score'] or '未填'}；"
                     f"总分 {s['total_score'] or '未填'}")
        for i in p["indicators"]:
            stored = (f"填报 {i['reported']['value']}" if i["reported"] and "value" in i["reported"]
                      else f"等级「{i['reported']['grade']}」" if i["reported"] else "不作填报")
            lines.append(f"    第{i['line']}行 {i['level1']}/{i['level2']}/{i['name']} {i['value']}：实际完成值 "
                         f"{i['actual'] or '未填'}，分值 {i['points']}，得分 {i['score'] or '未填'} → {stored}")
            if i["kept_as_printed"]:
                lines.append(f"      ! {i['kept_as_printed']}")
        lines += [f"    不完整 第{line}行：未导入" for line in p["incomplete"]]
    lines += [f"  ! {w}" for w in data["warnings"]]
    return lines


def store_selfevals(session: Session, user: User, read: SelfEvalFile, *, today: date,
                    department_code: str | None = None) -> SelfEvalStored:
    """Targets, year-end reports, year-end spending, the budget adjustment and the printed scores of every table
    of the file; `department_code` for tables whose 主管部门 prints no code."""
    check_actuals(read.tables)
    targets = store_document(session, as_document(read.tables, read.sha256, read.format),
                             department_code=department_code, partial=True)
    stored = SelfEvalStored(targets=targets, project_ids=[], reports=0, spending=0, adjustments=0)
    for table in read.tables:
        _store_table(session, user, table, targets.department_id, today, stored)
    return stored


def check_actuals(tables: list[SelfEvalTable]) -> None:
    """Refuse an 实际完成值 longer than the printed score keeps, at its line, before anything is stored."""
    limit = column_length(PrintedSelfEvalScore, "actual")
    for table in tables:
        for ind in table.indicators:
            if len(ind.actual or "") > limit:
                raise ImportFailure(f"「{ind.name}」的实际完成值超过{limit}个字符",
                                    en=f"the actual of 「{ind.name}」 is over {limit} characters",
                                    file=table.source, line=ind.line,
                                    field_name="实际完成值")


def _store_table(session: Session, user: User, table: SelfEvalTable, department_id: int, today: date,
                 stored: SelfEvalStored) -> None:
    project = session.exec(select(Project).join(BudgetYear).where(
        col(Project.department_id) == department_id, col(BudgetYear.year) == table.year,
        col(Project.import_key) == (table.import_key or table.name))).first()
    assert project is not None  # just stored
    project_id = stored_id(project)
    year_end = cal.year_end(table.year)
    note = f"自评表导入（{Path(table.source).name}）"
    indicators = {i.name: i for i in session.exec(
        select(Indicator).where(col(Indicator.project_id) == project_id, col(Indicator.half) == "annual"))}
    entries, kept = [], {}
    for ind in table.indicators:
        got = reading(ind, indicators[ind.name].kind or UNPARSED)
        if got.problem:
            kept[ind.name] = got.problem
            stored.kept.append({"project": table.name, "line": ind.line, "name": ind.name, "actual": ind.actual,
                                "reason": got.problem})
        if got.value is None and got.grade is None:
            continue
        entries.append(ReportEntry(indicator_id=indicators[ind.name].id, value=got.value, grade=got.grade,
                                   as_of=year_end, explanation=ind.reason or None,
                                   note=f"{note}：实际完成值「{ind.actual}」"))
    try:
        reports = record_reports(session, user, entries, channel=CHANNEL, today=today, default_note=note)
        spent, _same = record_spending(session, user, [SpendingEntry(project_id=project_id, amount=table.spent,
                                                                      as_of=year_end, note=f"{note}：全年执行数")],
                                       channel=CHANNEL, today=today, default_note=note)
        adjusted = _adjust(session, user, project, table, year_end, note, today)
    except ValidationFailed as exc:
        raise ImportFailure(f"自评表「{table.name}」中的实际完成值或资金无法作为填报保存：{exc.said('zh')}",
                            en=f"the actual values or funds of the self-evaluation 「{table.name}」 cannot be "
                               f"stored as reports: {exc.said('en')}", file=table.source) from exc
    _keep_scores(session, user, project, table, indicators, kept)
    stored.project_ids.append(project_id)
    stored.reports += len(reports.stored)
    stored.spending += len(spent)
    stored.adjustments += int(adjusted)


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
                 indicators: dict[str, Indicator], kept: dict[str, str]) -> None:
    """The printed 分值/得分 (and 执行率, 实际完成值), one row each, updated in place on a re-import; every change
    audited, with the 实际完成值 that could not become a report quoted verbatim in the audit note."""
    project_id = stored_id(project)
    existing = {(s.row, s.indicator_id): s for s in session.exec(
        select(PrintedSelfEvalScore).where(col(PrintedSelfEvalScore.project_id) == project_id))}
    now = datetime.now(SHANGHAI)
    wanted = [("execution", None, "预算执行率", table.execution_points, table.execution_score, table.execution_rate,
               None, table.funds_line),
              *[("indicator", indicators[i.name].id, i.name, i.points, i.score, None, (i.actual or "").strip() or None,
                 i.line) for i in table.indicators],
              ("total", None, "总分", None, table.total_score, None, None, table.total_line)]
    for row, indicator_id, name, points, score, rate, actual, line in wanted:
        current = existing.get((row, indicator_id))
        before = audit.snapshot(current, PRINTED) if current is not None else None
        if current is None:
            current = PrintedSelfEvalScore(project_id=project_id, indicator_id=indicator_id, row=row, name=name)
            session.add(current)
        current.points, current.score, current.rate, current.actual = points, score, rate, actual
        current.source_file, current.line, current.imported_at = table.source, line, now
        session.flush()
        after = audit.snapshot(current, PRINTED)
        if before != after:
            audit.record(session, actor=user, channel=CHANNEL, action="create" if before is None else "update",
                         entity="printed_selfeval_score", entity_id=current.id, department_id=project.department_id,
                         before=before, after=after,
                         note=f"自评表导入：{name}" + (f"；{kept[name]}" if name in kept else ""))
