"""The year-end 项目支出绩效自评表: facts through 31 December, scored by `rules.scoring`."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from monitor.reports.data import IndicatorData, ProjectData, YearData
from monitor.reports.format import MISSING, amount_text, two, wan
from monitor.reports.monitoring import SELFEVAL_FUND_ORDER, FundsRow, funds_rows, progress_text
from rules import calendar as cal
from rules.scoring import (
    IndicatorInput,
    IndicatorScore,
    ProjectScore,
    ScoringRules,
    score_project,
    with_level_weights,
)
from rules.terms import SCHEDULED_KINDS


@dataclass
class SelfEvalRow:
    indicator_id: int
    level1: str
    level2: str
    name: str
    target_text: str
    actual_text: str
    points: Decimal
    score: Decimal
    status: str
    rule: str
    explanation: str  # 偏差原因分析及改进措施, or 未填报 when it is needed and missing, "" when not needed
    needs_explanation: bool
    band: tuple[Decimal, Decimal] | None = None  # the interval a person picks in (qualitative only)
    grade: str | None = None  # the grade reported for the year (qualitative only)

    @property
    def level2_key(self) -> str:
        return f"{self.level1}/{self.level2}"


@dataclass
class SelfEvalProject:
    project_id: int
    year: int
    name: str
    department: str
    department_id: int
    implementing_unit: str
    budget_start_wan: Decimal | None  # 年初预算数
    budget_wan: Decimal | None  # 全年预算数 (调整后, at 31 December)
    spent_wan: Decimal | None  # 全年执行数
    execution_points: Decimal
    execution_rate: Decimal | None  # percent; None while the year's spending is 未填报
    execution_score: Decimal
    annual_goal: str
    goal_actual: str
    rows: list[SelfEvalRow]
    total: Decimal
    grade: str
    missing_explanations: list[str]
    needs_person: list[str]
    warnings: list[str]
    spent_yuan: Decimal | None
    budget_yuan: Decimal | None
    funds: list[FundsRow] = field(default_factory=list)  # 年度资金总额 and its sources, as the table prints them


def occurrence_statuses(ind: IndicatorData, cutoff: date) -> tuple[str, ...]:
    """"on_time" / "late" / "missed" for every occurrence due by `cutoff`, from the reported completion dates."""
    completions = ind.completions(cutoff)
    statuses = []
    for _start, due in ind.occurrences:
        if due > cutoff:
            continue
        when = completions.get(due)
        statuses.append("missed" if when is None else "on_time" if when <= due else "late")
    return tuple(statuses)


def _input(ind: IndicatorData, cutoff: date) -> IndicatorInput:
    latest = ind.latest(cutoff)
    occurrences: tuple[str, ...] = ()
    if ind.kind in SCHEDULED_KINDS:
        facts = ind.reports_until(cutoff)
        # nothing reported at all is 未填报, not "missed"
        occurrences = occurrence_statuses(ind, cutoff) if any(f.completed_on for f in facts) else ()
    return IndicatorInput(
        key=ind.id, level1=ind.level1, level2=ind.level2, name=ind.name, kind=ind.kind or "unparsed",
        direction=ind.direction, comparator=ind.comparator, target=ind.target, upper=ind.upper, weight=ind.weight,
        actual=latest.value if latest is not None else None, occurrences=occurrences,
        grade=latest.grade if latest is not None else None, picked=ind.picked,
        explanation=ind.selfeval_explanation or _reported_explanation(ind, cutoff),
    )


def _reported_explanation(ind: IndicatorData, cutoff: date) -> str | None:
    """Deviation causes the department gave in its reports count as its 偏差原因分析 until it writes one."""
    latest = ind.latest(cutoff)
    if latest is None or not latest.deviation_causes:
        return None
    parts = [f"{k}：{v}" for k, v in latest.deviation_causes.items() if v not in (None, "")]
    return "；".join(parts) or None


def score_one(p: ProjectData, year: int, rules: ScoringRules) -> tuple[ProjectScore, date]:
    cutoff = cal.year_end(year)
    spent = p.spent_until(cutoff)
    inputs = [_input(ind, cutoff) for ind in p.indicators_on(cutoff)]
    return score_project(spent, p.budget_on(cutoff), inputs, with_level_weights(rules, p.level_weights)), cutoff


def build_selfeval(data: YearData, rules: ScoringRules) -> list[SelfEvalProject]:
    return [_project(p, data.year, rules) for p in data.projects]


def _project(p: ProjectData, year: int, rules: ScoringRules) -> SelfEvalProject:
    result, cutoff = score_one(p, year, rules)
    by_id: dict[Hashable, IndicatorScore] = {s.key: s for s in result.indicators}
    rows = []
    for ind in p.indicators_on(cutoff):
        scored = by_id.get(ind.id)
        if scored is None:
            continue
        needs = scored.below_full
        text = scored.explanation or ""
        rows.append(SelfEvalRow(
            indicator_id=ind.id, level1=ind.level1, level2=ind.level2, name=ind.name,
            target_text=ind.target_cell, actual_text=progress_text(ind, cutoff), points=two(scored.points),
            score=scored.score, status=scored.status, rule=scored.rule,
            explanation=text if text.strip() else (MISSING if needs else ""), needs_explanation=needs,
            band=scored.band, grade=(latest.grade if (latest := ind.latest(cutoff)) is not None else None),
        ))
    spent = p.spent_until(cutoff)
    return SelfEvalProject(
        project_id=p.id, year=year, name=p.name, department=p.department_label, department_id=p.department_id,
        implementing_unit=p.implementing_unit or MISSING, budget_start_wan=wan(p.annual_funds),
        budget_wan=wan(p.budget_on(cutoff)), spent_wan=wan(spent), execution_points=two(result.execution_points),
        execution_rate=None if spent is None else two(result.execution_rate * 100),
        execution_score=result.execution_score,
        annual_goal=p.annual_goal or MISSING,
        goal_actual=(f"（系统汇总）全年执行 {amount_text(wan(spent))} 万元；"
                     f"{len(rows)} 项指标得分 {amount_text(result.total - result.execution_score)} / "
                     f"{amount_text(two(sum(result.level_points.values(), Decimal(0))))}。"),
        rows=rows, total=result.total, grade=result.grade,
        missing_explanations=[s.name for s in result.missing_explanations],
        needs_person=[s.name for s in result.needs_person], warnings=list(result.warnings),
        spent_yuan=spent, budget_yuan=p.budget_on(cutoff), funds=funds_rows(p, cutoff, SELFEVAL_FUND_ORDER),
    )
