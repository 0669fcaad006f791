"""A department's projects at a glance, and the finance bureau's ranking of departments by score."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from monitor.reports.format import two, wan
from monitor.reports.selfeval import SelfEvalProject
from rules.scoring import ScoringRules, grade_for
from rules.terms import SCORE_GRADES


@dataclass
class DepartmentSummary:
    department: str
    department_id: int
    projects: list[SelfEvalProject]
    budget_wan: Decimal
    spent_wan: Decimal
    execution_rate: Decimal  # percent, over the department's whole budget
    mean_score: Decimal
    grade: str
    grades: dict[str, int] = field(default_factory=dict)
    missing_explanations: int = 0


@dataclass
class RankingRow:
    rank: int
    summary: DepartmentSummary


def summarise(projects: list[SelfEvalProject], rules: ScoringRules | None = None) -> list[DepartmentSummary]:
    """One summary per department in the order the projects came (by department code)."""
    rules = rules or ScoringRules()
    groups: dict[int, list[SelfEvalProject]] = {}
    for p in projects:
        groups.setdefault(p.department_id, []).append(p)
    out = []
    for department_id, items in groups.items():
        budget = sum((p.budget_yuan or Decimal(0) for p in items), Decimal(0))
        spent = sum((p.spent_yuan or Decimal(0) for p in items), Decimal(0))
        mean = two(sum((p.total for p in items), Decimal(0)) / len(items))
        counts = Counter(p.grade for p in items)
        out.append(DepartmentSummary(
            department=items[0].department, department_id=department_id, projects=items,
            budget_wan=wan(budget), spent_wan=wan(spent),
            execution_rate=two(spent / budget * 100) if budget else Decimal("0.00"),
            mean_score=mean, grade=grade_for(mean, rules), grades={g: counts.get(g, 0) for g in SCORE_GRADES},
            missing_explanations=sum(len(p.missing_explanations) for p in items),
        ))
    return out


def rank(summaries: list[DepartmentSummary]) -> list[RankingRow]:
    """Highest mean score first; ties share a rank and are broken for display by execution rate."""
    ordered = sorted(summaries, key=lambda s: (-s.mean_score, -s.execution_rate, s.department))
    rows: list[RankingRow] = []
    for i, s in enumerate(ordered):
        position = rows[-1].rank if rows and rows[-1].summary.mean_score == s.mean_score else i + 1
        rows.append(RankingRow(rank=position, summary=s))
    return rows
