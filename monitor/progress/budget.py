"""Budget adjustments (预算调整) and the budget figures every channel shows: 年初预算数, the adjustments, 全年预算数.

The finance bureau records an adjustment (date, signed amount in 元, fund source, reason) through the portal, the
API or the CLI; every channel reads what was typed with `entries.read_adjustment` and stores it with
`record_adjustment`, which refuses anyone but the bureau's admins (`permissions.require_bureau_writer`), checks
every field, and writes the row and its audit event together. Append-only: a correction names the row it
supersedes; an adjustment is withdrawn by correcting it to 0. What the budget is on a day follows from the
adjustments in force (`monitor.store.facts`) by `rules.budget.budget_in_force`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from monitor.accounts import permissions
from monitor.progress.entries import MAX_TEXT, NO_SUCH_PROJECT, AdjustmentEntry
from monitor.progress.validation import Problem, ValidationFailed, checked_day
from monitor.store import audit
from monitor.store.facts import effective_adjustments
from monitor.store.models import BudgetAdjustment, BudgetYear, Project, User
from monitor.store.rows import stored_id
from monitor.store.types import now
from rules.budget import budget_in_force
from rules.terms import FUND_SOURCES

ADJUSTMENT_FIELDS = ("id", "project_id", "revision", "supersedes_id", "amount", "source", "effective_on", "reason",
                     "channel")
MAX_AMOUNT = Decimal("1e16")
ADJUSTMENT_AMOUNT = "调整金额"


def _problems(entry: AdjustmentEntry, year: int, today: date) -> list[Problem]:
    problems = [Problem(name, message) for name, messages in entry.unreadable.items() for message in messages]
    problems += _amount_problems(entry)
    return _labelled(problems + _other_problems(entry, year, today))


def _labelled(problems: list[Problem]) -> list[Problem]:
    """The amount of an adjustment is a 调整金额, not the 执行数 the shared labels call `amount`."""
    return [Problem(p.field, p.message, p.index, ADJUSTMENT_AMOUNT) if p.field == "amount" else p for p in problems]


def _amount_problems(entry: AdjustmentEntry) -> list[Problem]:
    problems: list[Problem] = []
    if entry.amount is None and "amount" not in entry.unreadable:
        problems.append(Problem("amount", "请填写调整金额（元，调减为负数）(amount is required; a cut is negative)"))
    elif entry.amount is not None:
        if entry.amount != entry.amount.quantize(Decimal("0.01")):
            problems.append(Problem("amount", f"{entry.amount} 最多两位小数（元）(at most 2 decimals)"))
        elif abs(entry.amount) >= MAX_AMOUNT:
            problems.append(Problem("amount", f"{entry.amount} 过大 (too large)"))
    return problems


def _other_problems(entry: AdjustmentEntry, year: int, today: date) -> list[Problem]:
    problems: list[Problem] = []
    if entry.effective_on is None and "effective_on" not in entry.unreadable:
        problems.append(Problem("effective_on", "请填写调整日期 (the date the adjustment takes effect is required)"))
    elif entry.effective_on is not None:
        checked_day(entry.effective_on, "effective_on", year, today, problems)
    if not (entry.reason or "").strip():
        problems.append(Problem("reason", "请填写调整原因 (a reason is required)"))
    elif len(entry.reason or "") > MAX_TEXT:
        problems.append(Problem("reason", f"过长（{len(entry.reason or '')} 字，最多 {MAX_TEXT}）(too long)"))
    return problems


def record_adjustment(session: Session, user: User, entry: AdjustmentEntry, *, channel: str,
                      today: date) -> BudgetAdjustment:
    """Store one adjustment (or the correction of one in force) with its audit event; nothing when refused.

    Raises `permissions.NotAllowed` for anyone but the bureau's admins, `permissions.NotVisible` for a project
    that does not exist, `ValidationFailed` naming each field that is wrong; a budget may not go below 0 on any
    day, for the project or for the adjusted source."""
    permissions.require_bureau_writer(user)
    project = session.get(Project, entry.project_id) if entry.project_id is not None else None
    if project is None:
        raise permissions.NotVisible(NO_SUCH_PROJECT.format(entry.project_id))
    year = session.exec(select(col(BudgetYear.year)).where(BudgetYear.id == project.budget_year_id)).one()
    problems = _problems(entry, year, today)
    rows = effective_adjustments(session, [stored_id(project)])[stored_id(project)]
    old = None
    if entry.supersedes_id is not None:
        old = next((r for r in rows if r.id == entry.supersedes_id), None)
        if old is None:
            problems.append(Problem("supersedes_id", f"记录 {entry.supersedes_id} 不是本项目当前有效的调整 "
                                                     "(not an adjustment in force of this project)"))
    source = entry.source or (old.source if old is not None else "fiscal")
    if not problems:
        assert entry.amount is not None and entry.effective_on is not None  # checked above
        kept = [r for r in rows if r is not old]
        problems += _labelled(_negative(project, kept, entry.amount, entry.effective_on, source))
    if problems:
        raise ValidationFailed(problems)
    assert entry.amount is not None and entry.effective_on is not None
    row = BudgetAdjustment(project_id=stored_id(project), revision=old.revision + 1 if old else 1,
                           supersedes_id=old.id if old else None, amount=entry.amount, source=source,
                           effective_on=entry.effective_on, reason=(entry.reason or "").strip(), user_id=user.id,
                           channel=channel, created_at=now())
    session.add(row)
    session.flush()
    audit.record(session, actor=user, channel=channel, action="correct" if old else "adjust",
                 entity="budget_adjustment", entity_id=row.id, department_id=project.department_id,
                 before=audit.snapshot(old, ADJUSTMENT_FIELDS) if old else None,
                 after=audit.snapshot(row, ADJUSTMENT_FIELDS))
    return row


def _negative(project: Project, kept: Sequence[BudgetAdjustment], amount: Decimal, on: date,
              source: str) -> list[Problem]:
    """A budget below 0 on some day, with the new adjustment: for the project, or for the source adjusted where
    its own budget is known (上年结转 always is: it has only what adjustments gave it)."""
    moves = [(r.effective_on, r.amount, r.source) for r in kept] + [(on, amount, source)]
    initial = initial_budgets(project)
    known = initial[source] is not None or source == "carryover"
    for day in sorted({d for d, _a, _s in moves}):
        total = budget_in_force(project.annual_funds, [(d, a) for d, a, _s in moves], day)
        part = (budget_in_force(initial[source], [(d, a) for d, a, s in moves if s == source], day)
                if known else None)
        if (total is not None and total < 0) or (part is not None and part < 0):
            shown = total if total is not None and total < 0 else part
            return [Problem("amount", f"调整后{day.isoformat()}起预算为 {shown} 元，不能为负数 "
                                      "(the budget would fall below 0)")]
    return []


def initial_budgets(project: Project) -> dict[str, Decimal | None]:
    """年初预算数 per fund source, as the imported table splits the annual funds (上年结转 has none)."""
    def total(*values: Decimal | None) -> Decimal | None:
        present = [v for v in values if v is not None]
        return sum(present, Decimal(0)) if present else None

    return {"fiscal": total(project.annual_central, project.annual_provincial, project.annual_city_county),
            "other": total(project.annual_self_raised, project.annual_other), "carryover": None}


def adjustment_history(session: Session, project_id: int) -> list[BudgetAdjustment]:
    """Every adjustment of a project, corrected ones too, newest first."""
    return list(session.exec(select(BudgetAdjustment).where(BudgetAdjustment.project_id == project_id)
                             .order_by(col(BudgetAdjustment.id).desc())).all())


@dataclass(frozen=True)
class BudgetFigures:
    """A project's budget on a day: 年初预算数, the adjustments in force by then, and 全年预算数 (调整后)."""

    initial: Decimal | None
    adjustments: tuple[BudgetAdjustment, ...]
    in_force: Decimal | None


def budget_figures(session: Session, project: Project, on: date) -> BudgetFigures:
    rows = effective_adjustments(session, [stored_id(project)])[stored_id(project)]
    current = tuple(r for r in rows if r.effective_on <= on)
    return BudgetFigures(project.annual_funds, current,
                         budget_in_force(project.annual_funds, [(r.effective_on, r.amount) for r in rows], on))


def adjustment_json(row: BudgetAdjustment, superseded: set[int] | None = None) -> dict:
    data = audit.snapshot(row, ADJUSTMENT_FIELDS) | {
        "source_name": FUND_SOURCES.get(row.source, row.source), "user_id": row.user_id,
        "created_at": row.created_at.isoformat() if row.created_at else None}
    if superseded is not None:
        data["effective"] = row.id not in superseded
    return data
