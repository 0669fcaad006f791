"""Record what only a person can add to the self-evaluation: a score inside the qualitative band and the
偏差原因分析及改进措施 text. The band check is the scorer's, so the portal, CLI and API refuse alike."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

from monitor.reports.data import ProjectData, ReportError, load_year
from monitor.reports.selfeval import score_one
from monitor.store.models import Indicator, SelfEvalEntry
from monitor.store.types import now
from rules import calendar as cal
from rules.scoring import BandError, ScoringRules, check_pick
from rules.terms import GRADES, SCHEDULED_KINDS


def record_entry(
    session: Session,
    *,
    indicator_id: int,
    year: int,
    rules: ScoringRules,
    score: Decimal | str | None = None,
    explanation: str | None = None,
    user_id: int | None = None,
    channel: str = "portal",
) -> SelfEvalEntry:
    """Append a new entry superseding the current one; what is not given is carried over from it.

    A score is accepted only for an indicator scored by a person (qualitative, or unparsed with a grade) and
    only inside the band of the reported grade; otherwise `BandError` with the message to show.
    """
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise ReportError(f"没有编号为 {indicator_id} 的指标")
    data = load_year(session, year, project_id=indicator.project_id)
    (project_data,) = data.projects
    result, _ = score_one(project_data, year, rules)
    scored = next((s for s in result.indicators if s.key == indicator_id), None)
    if scored is None:
        raise ReportError(f"指标 {indicator.name} 不在 {year} 年度自评范围内（仅年度指标计分）")
    current = session.exec(
        select(SelfEvalEntry).where(SelfEvalEntry.indicator_id == indicator_id, SelfEvalEntry.year == year)
        .order_by(col(SelfEvalEntry.id).desc())).first()
    value: Decimal | None = current.score if current else None
    if score is not None and str(score).strip() != "":
        try:
            value = Decimal(str(score).strip())
        except InvalidOperation as exc:
            raise BandError(f"{indicator.name}：得分“{score}”不是数字") from exc
        grade = _reported_grade(project_data, indicator_id, year)
        if scored.band is None:
            raise BandError(_not_pickable(indicator, scored.status, grade, year))
        check_pick(indicator.name, grade, scored.points, value, rules)
    text = explanation if explanation is not None else (current.explanation if current else None)
    entry = SelfEvalEntry(
        indicator_id=indicator_id, year=year, score=value, explanation=(text or "").strip() or None,
        user_id=user_id, channel=channel, created_at=now(),
        supersedes_id=current.id if current else None, revision=(current.revision + 1) if current else 1,
    )
    session.add(entry)
    session.flush()
    return entry


def _not_pickable(indicator: Indicator, status: str, grade: str | None, year: int) -> str:
    """Why a person's score is refused, for the case at hand: a grade still to be reported, a grade outside the
    three bands, or an indicator the system scores from what was reported."""
    graded = indicator.kind == "qualitative" or (indicator.kind == "unparsed" and status != "scored")
    if not graded:
        what = "完成情况" if indicator.kind in SCHEDULED_KINDS else "实际完成值"
        return f"{indicator.name}指标由系统按{what}计分，无需人工评分"
    if grade is None:
        return (f"{indicator.name}指标尚未填报 {year} 年度的评价等级（{' / '.join(GRADES)}），"
                "请先填报等级，再在等级区间内评分")
    return f"{indicator.name}指标的评价等级“{grade}”不在三档之内，请先更正等级"


def _reported_grade(project: ProjectData, indicator_id: int, year: int) -> str | None:
    for ind in project.indicators:
        if ind.id == indicator_id:
            latest = ind.latest(cal.year_end(year))
            return latest.grade if latest else None
    return None
