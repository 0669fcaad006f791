"""自评复核: a department's self-evaluation re-scored with kpiwatch's rules, and every disagreement with its reason.

Finance bureaus must spot-check self-evaluations; the arithmetic is the work: full points given for a target that
was missed, points taken from a target that was met, printed scores that do not add up to the printed 总分, a
执行率 that is not 全年执行数 ÷ 全年预算数, a graded indicator scored outside its grade's band. The department's
figures are the ones it printed (kept by the self-evaluation import); ours are `build_selfeval`'s, from the same
facts, so the two stand side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from monitor.importers.selfeval_table import Reading, read_actual
from monitor.reports.data import IndicatorData, load_year
from monitor.reports.format import two
from monitor.reports.selfeval import SelfEvalProject, SelfEvalRow, build_selfeval
from monitor.store.models import PrintedSelfEvalScore
from rules import calendar as cal
from rules.scoring import ScoringRules
from rules.terms import UNPARSED

HUNDRED = Decimal(100)


@dataclass
class ReviewRow:
    name: str
    department_score: Decimal | None
    kpiwatch_score: Decimal
    reason: str  # "" when the two agree
    kind: str = "indicator"  # or the review's own rows, named by it: "execution" (预算执行率), "total" (总分)
    actual: str | None = None  # the 实际完成值 the department printed (indicator rows)

    def to_json(self) -> dict:
        return {"name": self.name, "department_score": _text(self.department_score),
                "kpiwatch_score": _text(self.kpiwatch_score), "actual": self.actual, "reason": self.reason}


@dataclass
class ReviewProject:
    name: str
    department: str
    department_id: int
    department_total: Decimal | None
    kpiwatch_total: Decimal
    rows: list[ReviewRow] = field(default_factory=list)
    total_reason: str = ""

    @property
    def disagreements(self) -> list[ReviewRow]:
        return [r for r in self.rows if r.reason]

    def to_json(self) -> dict:
        return {"name": self.name, "department": self.department,
                "department_total": _text(self.department_total), "kpiwatch_total": _text(self.kpiwatch_total),
                "rows": [r.to_json() for r in self.rows]}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(two(value), "f")


def build_review(session: Session, year: int, rules: ScoringRules, *, department: str | None = None,
                 department_ids: set[int] | None = None) -> list[ReviewProject]:
    """Every project of the year that has an imported self-evaluation, re-scored and compared row by row."""
    data = load_year(session, year, department=department, department_ids=department_ids)
    printed: dict[int, list[PrintedSelfEvalScore]] = {}
    ids = [p.id for p in data.projects]
    for row in session.exec(select(PrintedSelfEvalScore).where(col(PrintedSelfEvalScore.project_id).in_(ids))):
        printed.setdefault(row.project_id, []).append(row)
    cutoff = cal.year_end(year)
    held = {ind.id: ind for p in data.projects for ind in p.indicators_on(cutoff)}
    unread = {row.id: got for rows in printed.values() for row in rows if row.indicator_id in held
              if (got := _unread(held[row.indicator_id], row.actual, cutoff)) is not None}
    return [_review(project, printed[project.project_id], unread) for project in build_selfeval(data, rules)
            if project.project_id in printed]


def review_json(projects: list[ReviewProject]) -> dict:
    return {"projects": [p.to_json() for p in projects]}


def _unread(ind: IndicatorData, actual: str | None, cutoff: date) -> Reading | None:
    """The printed 实际完成值 of an indicator kpiwatch holds no report for and could not make one of, with why;
    the import's own reading of it, so the review and the import give the same reason. No 偏差原因分析 is
    given: a grade printed with one was stored as a report, so only one printed without it comes here."""
    if not actual or ind.latest(cutoff) is not None:
        return None
    got = read_actual(actual, ind.target_cell, ind.kind or UNPARSED, None)
    return got if got.why is not None else None


def _review(ours: SelfEvalProject, printed: list[PrintedSelfEvalScore],
            unread: dict[int | None, Reading]) -> ReviewProject:
    by_indicator = {p.indicator_id: p for p in printed if p.row == "indicator"}
    execution = next((p for p in printed if p.row == "execution"), None)
    total = next((p for p in printed if p.row == "total"), None)
    review = ReviewProject(name=ours.name, department=ours.department, department_id=ours.department_id,
                           department_total=total.score if total else None, kpiwatch_total=ours.total)
    review.rows.append(_execution_row(ours, execution))
    for row in ours.rows:
        mine = by_indicator.get(row.indicator_id)
        if mine is not None:
            compared = _indicator_row(row, mine, unread.get(mine.id))
            review.kpiwatch_total += compared.kpiwatch_score - row.score
            review.rows.append(compared)
    review.rows.append(_total_row(review))
    return review


def _indicator_row(row: SelfEvalRow, mine: PrintedSelfEvalScore, unread: Reading | None) -> ReviewRow:
    """A graded indicator waits for a person to pick a score inside its grade's band: the department's printed
    得分 is that pick when it lies inside (then ours is the same), and the nearest end of the band when not.
    An 实际完成值 kpiwatch could not read is quoted with why, whatever the department scored it."""
    printed = mine.score
    if unread is not None:
        return ReviewRow(row.name, printed, row.score, _unread_reason(row, printed, unread), actual=mine.actual)
    if row.status != "needs_pick" or row.band is None or printed is None:
        return ReviewRow(row.name, printed, row.score, _indicator_reason(row, printed), actual=mine.actual)
    low, high = row.band
    if low <= printed <= high:
        return ReviewRow(row.name, printed, printed, "", actual=mine.actual)
    ours = min(max(printed, low), high)
    return ReviewRow(row.name, printed, ours,
                     f"评价等级「{row.grade}」的得分区间为[{_text(low)}, {_text(high)}]，自评得分 {_text(printed)} "
                     f"不在区间内，应得 {_text(ours)}", actual=mine.actual)


def _unread_reason(row: SelfEvalRow, printed: Decimal | None, unread: Reading) -> str:
    said = f"实际完成值「{unread.actual}」{unread.why}，kpiwatch 无法据此评分：{row.rule}"
    if printed is None:
        return f"自评表未填得分；{said}，得 {_text(row.score)}"
    return f"{said}，{'得' if two(printed) == two(row.score) else '应得'} {_text(row.score)}"


def _execution_row(ours: SelfEvalProject, printed: PrintedSelfEvalScore | None) -> ReviewRow:
    score = printed.score if printed else None
    reasons = []
    if printed is not None and printed.rate is not None and ours.spent_yuan is not None and ours.budget_yuan:
        rate = two(ours.spent_yuan / ours.budget_yuan * HUNDRED)
        if two(printed.rate) != rate:
            reasons.append(f"执行率 {_text(printed.rate)}% 与金额不符：全年执行数 {_text(ours.spent_yuan)} 元 ÷ "
                           f"全年预算数 {_text(ours.budget_yuan)} 元 = {_text(rate)}%")
    if score is None:
        reasons.append(f"自评表未填得分；按 kpiwatch 规则得 {_text(ours.execution_score)}")
    elif two(score) != two(ours.execution_score):
        reasons.append(f"得分应为 {_text(ours.execution_score)}（执行率 × {_text(ours.execution_points)}，"
                       f"最高 {_text(ours.execution_points)}）")
    return ReviewRow("预算执行率", score, ours.execution_score, "；".join(reasons), "execution")


def _indicator_reason(row: SelfEvalRow, printed: Decimal | None) -> str:
    if printed is None:
        return f"自评表未填得分；按 kpiwatch 规则：{row.rule}，得 {_text(row.score)}"
    if two(printed) == two(row.score):
        return ""
    if row.status == "scored" and row.score < row.points and two(printed) >= two(row.points):
        return f"未达到目标却给满分：{row.rule}，应得 {_text(row.score)}"
    if row.status == "scored" and row.score == row.points and printed < row.points:
        return f"目标已达到却扣分：{row.rule}，应得满分 {_text(row.points)}"
    return f"得分不同：{row.rule}，应得 {_text(row.score)}"


def _total_row(review: ReviewProject) -> ReviewRow:
    printed = [r.department_score for r in review.rows if r.department_score is not None]
    added = sum(printed, Decimal(0))
    reasons = [] if review.department_total is not None else ["自评表未填总分"]
    if review.department_total is not None and two(added) != two(review.department_total):
        reasons.append(f"各项得分之和 {_text(added)} 与总分 {_text(review.department_total)} 不符")
    if review.department_total is not None and two(review.department_total) != two(review.kpiwatch_total):
        reasons.append(f"按 kpiwatch 规则总分为 {_text(review.kpiwatch_total)}")
    review.total_reason = "；".join(reasons)
    return ReviewRow("总分", review.department_total, review.kpiwatch_total, review.total_reason, "total")


COLUMNS = ("项目", "部门", "指标", "部门自评得分", "kpiwatch 得分", "不一致原因")


def _table_rows(projects: list[ReviewProject]) -> list[list[str]]:
    """One line per compared row: the project and department repeated so a filtered sheet still says whose."""
    return [[p.name, p.department, r.name, _text(r.department_score) or "", _text(r.kpiwatch_score) or "", r.reason]
            for p in projects for r in p.rows]


def review_xlsx(projects: list[ReviewProject], year: int) -> bytes:
    """The comparison as a workbook; every value through `cells.put`, so a name starting with = stays text."""
    import io

    from openpyxl import Workbook

    from monitor.spreadsheets.cells import put

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"{year}年自评复核"
    for r, values in enumerate([list(COLUMNS), *_table_rows(projects)], 1):
        for c, value in enumerate(values, 1):
            put(sheet.cell(row=r, column=c), value)
    for letter, width in zip("ABCDEF", (28, 24, 24, 14, 14, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def review_html(projects: list[ReviewProject], year: int) -> str:
    """A standalone page (the file the command writes); every text escaped."""
    from html import escape

    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr" + (' class="disagree"' if row[5] else "") + ">" +
                   "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in _table_rows(projects))
    count = sum(len(p.disagreements) for p in projects)
    return (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{year}年度绩效自评复核</title>'
            "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px}"
            ".disagree{background:#fde8e8}</style>"
            f"<h1>{year}年度绩效自评复核</h1><p>{len(projects)} 个项目，{count} 处不一致</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></html>")
