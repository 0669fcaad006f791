"""Read and change a project's scoring weights, the same way for the portal, the template and the API.

Only the finance bureau's administrators change weights (they decide how a project is scored, so a department
must not raise its own score). A change is all or nothing: every value is checked first, each problem names its
field, and nothing is stored while one remains. Each change leaves an audit event naming who and through which
channel, recorded by the store for every path alike (`monitor.store.audit.audit_target_changes`).

Level weights may be 0 (a project without 满意度) and must add up to 100 with the defaults they leave in place,
since the grades (优 ≥ 90 …) are out of 100. Indicator weights must be above 0; a level's indicator weights that
do not add up to its points are scaled with a visible note when scoring (`rules.scoring.level_shares`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import overload

from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed
from monitor.store.models import Indicator, Project, User
from monitor.store.rows import stored_id
from rules.formatting import fmt_decimal
from rules.scoring import (
    LEVEL_WEIGHT_FIELDS,
    IndicatorInput,
    ScoringRules,
    read_weight,
    score_project,
    with_level_weights,
)

FULL_MARKS = Decimal(100)
# How the API and the forms name the four level weights (the store's columns are weight_<key>).
LEVEL_KEYS: dict[str, str] = {name.removeprefix("weight_"): level for level, name in LEVEL_WEIGHT_FIELDS.items()}


@dataclass(frozen=True)
class WeightProblem:
    field: str  # "levels.output", "indicators.17": what the API and the forms call it
    label: str  # the same in Chinese: 产出 / 指标「培训人数」
    message: str

    def __str__(self) -> str:
        return f"{self.label}：{self.message}"

    def to_json(self) -> dict:
        return {"field": self.field, "label": self.label, "problem": self.message}


class WeightsRefused(ValueError):
    """Nothing was stored; `problems` says what to fix, one per field."""

    def __init__(self, problems: list[WeightProblem]) -> None:
        super().__init__("；".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class WeightsChange:
    """What to change: level weights by API key (execution/output/effect/satisfaction) and indicator weights by
    id, each a raw value as typed; None or "" puts it back to the default (equal shares, the configured level).
    Anything not named is left as it is."""

    levels: dict[str, object] = field(default_factory=dict)
    indicators: dict[int, object] = field(default_factory=dict)


@dataclass(frozen=True)
class IndicatorWeight:
    id: int
    level1: str
    level2: str
    name: str
    weight: Decimal | None  # as stored; None = an equal share
    points: Decimal | None  # the 分值 the self-evaluation prints; None for an indicator not scored (实施期)


@dataclass(frozen=True)
class ProjectWeights:
    project_id: int
    levels: dict[str, Decimal]  # in force, by API key
    own_levels: dict[str, Decimal | None]  # the project's own, None where the default applies
    indicators: list[IndicatorWeight]
    notes: list[str]  # levels whose indicator weights are scaled to the level's points


def _indicators(session: Session, project_id: int) -> list[Indicator]:
    query = (select(Indicator).where(col(Indicator.project_id) == project_id)
             .order_by(col(Indicator.half).desc(), col(Indicator.position), col(Indicator.id)))
    return list(session.exec(query).all())


def project_weights(session: Session, project: Project, rules: ScoringRules) -> ProjectWeights:
    """The weights in force and the 分值 they give each annual indicator, with the scorer's notes."""
    indicators = _indicators(session, stored_id(project))
    effective = with_level_weights(rules, project.level_weights())
    annual = [i for i in indicators if i.half == "annual"]
    # scored by the scorer itself, so the 分值 here are the ones the self-evaluation prints
    scored = score_project(None, None, [IndicatorInput(key=stored_id(i), level1=i.level1, name=i.name,
                                                       kind="unparsed", weight=i.weight) for i in annual], effective)
    points = {s.key: s.points for s in scored.indicators}
    levels = {key: _tidy(getattr(effective, LEVEL_WEIGHT_FIELDS[level])) for key, level in LEVEL_KEYS.items()}
    own = {key: _tidy(project.level_weights()[level]) for key, level in LEVEL_KEYS.items()}
    return ProjectWeights(
        project_id=stored_id(project), levels=levels, own_levels=own,
        indicators=[IndicatorWeight(id=stored_id(i), level1=i.level1, level2=i.level2, name=i.name,
                                    weight=_tidy(i.weight), points=points.get(stored_id(i))) for i in indicators],
        notes=list(scored.weight_notes))


def change_weights(session: Session, user: User, project: Project, change: WeightsChange, *, channel: str,
                   rules: ScoringRules) -> bool:
    """Apply `change` in the caller's transaction (the caller commits); True if anything changed.

    Raises `NotAllowed` for anyone but an administrator and `WeightsRefused` (nothing changed) for bad values."""
    if user.role != "admin" or user.disabled:
        raise NotAllowed("仅财政局管理员可以修改分值/权重 (only finance-bureau administrators change weights)")
    problems: list[WeightProblem] = []
    levels: dict[str, Decimal | None] = {}
    for key, raw in change.levels.items():
        level = LEVEL_KEYS.get(key)
        if level is None:
            problems.append(WeightProblem(f"levels.{key}", key, f"不是一级分值（应为 {'、'.join(LEVEL_KEYS)}）"))
            continue
        levels[level] = _read(raw, f"levels.{key}", level, problems, zero_allowed=True)
    by_id = {stored_id(i): i for i in _indicators(session, stored_id(project))}
    weights: dict[int, Decimal | None] = {}
    for indicator_id, raw in change.indicators.items():
        indicator = by_id.get(indicator_id)
        if indicator is None:
            problems.append(WeightProblem(f"indicators.{indicator_id}", f"指标 {indicator_id}",
                                          "不是本项目的指标"))
            continue
        weights[indicator_id] = _read(raw, f"indicators.{indicator_id}", f"指标「{indicator.name}」", problems)
    stored = project.level_weights()
    after = {level: levels.get(level, stored[level]) for level in LEVEL_WEIGHT_FIELDS}
    effective = with_level_weights(rules, after)
    total = sum((Decimal(getattr(effective, name)) for name in LEVEL_WEIGHT_FIELDS.values()), Decimal(0))
    if levels and not problems and total != FULL_MARKS:
        shown = "、".join(f"{level} {fmt_decimal(getattr(effective, name))}"
                         for level, name in LEVEL_WEIGHT_FIELDS.items())
        problems.append(WeightProblem("levels", "一级分值", f"合计须为 100 分，现为 {fmt_decimal(total)}（{shown}）"))
    if problems:
        raise WeightsRefused(problems)
    if any(value is not None for value in after.values()):
        # once a project has its own levels, all four are its own: the template then shows what is in force
        levels = {level: Decimal(getattr(effective, name)) for level, name in LEVEL_WEIGHT_FIELDS.items()}
    elif levels:
        levels = dict(after)
    changed = False
    previous = {key: session.info[key] for key in ("actor", "channel") if key in session.info}
    session.info.update(actor=user, channel=channel)  # the audit events (monitor.store.audit) name who and how
    try:
        for level, value in levels.items():
            if not _same(stored[level], value):
                setattr(project, LEVEL_WEIGHT_FIELDS[level], value)
                session.add(project)
                changed = True
        for indicator_id, value in weights.items():
            indicator = by_id[indicator_id]
            if not _same(indicator.weight, value):
                indicator.weight = value
                session.add(indicator)
                changed = True
        session.flush()
    finally:
        for key in ("actor", "channel"):
            session.info.pop(key, None)
        session.info.update(previous)
    return changed


def _read(raw: object, name: str, label: str, problems: list[WeightProblem], *,
          zero_allowed: bool = False) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        return read_weight(raw, zero_allowed=zero_allowed)
    except ValueError as exc:
        problems.append(WeightProblem(name, label, str(exc)))
        return None


@overload
def _tidy(value: Decimal) -> Decimal: ...
@overload
def _tidy(value: Decimal | None) -> Decimal | None: ...
def _tidy(value: Decimal | None) -> Decimal | None:
    """30.000000 as PostgreSQL's NUMERIC(24, 6) gives it back is 30, not 3E+1 (what `normalize` alone makes)."""
    if value is None:
        return None
    value = Decimal(value).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and Decimal(a) == Decimal(b))


__all__ = ["LEVEL_KEYS", "ProjectWeights", "WeightProblem", "WeightsChange", "WeightsRefused", "change_weights",
           "project_weights"]
