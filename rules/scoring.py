"""Self-evaluation scoring (项目支出绩效自评表): points per level, per indicator, total and grade.

Pure: no database, no clock. Every number (weights, bands, shares, grade thresholds) comes from
`ScoringRules`, whose defaults are the common provincial practice (财预〔2020〕10号 自评表) and which the
application fills from `[scoring]` in config.toml, because provinces differ.

Rules as implemented (p = the indicator's points, a = 实际完成值, t = 年度指标值):
- level weights 预算执行率 10 / 产出 50 / 效益 30 / 满意度 10 by default, a project's own where it has them
  (`with_level_weights`); a level with no indicator hands its points to its heir (满意度 → 效益 by default);
- inside a level each indicator's 分值 is its own weight (Indicator.weight, in points, as the tables print it);
  indicators without one share what the weighted ones leave of the level's points equally (all of it when none
  has a weight); weights that do not add up to the level's points are scaled to them in proportion, and the
  project's notes say so (`LevelShares.note`), so the 分值 column always adds up to the level's points; shares
  are printed with two decimals by largest remainder (`allocate`);
- 预算执行率: min(执行率 × 10, 10) (执行率 as a fraction; a zero budget scores 0);
- met or not is judged by the comparator as the light judges it (> and < strict, "=" exactly, a range with both
  bounds included); met → p; otherwise, by direction:
- higher is better: p × a ÷ t (never below 0);
- lower is better: p × (1 − (a − t) ÷ t), 0 from a ≥ 2t (multiple configurable); t = 0 → 0 when over;
  or, with `cap_formula = "ratio"`, p × t ÷ a (指标值 ÷ 完成值 × 分值);
- exact ("=") and ranges: p × (1 − |a − b| ÷ b) for the bound b that is missed, 0 when b = 0; an "=" target
  may instead score p × smaller ÷ larger (`exact_formula = "ratio"`) or 0 (`"all_or_nothing"`);
- a target not met never scores p: at most p − 0.01 (">90%" with 90 reported is not met, in the light or here);
- deadline / window / recurring: per occurrence p ÷ n when done on time, × late_share when done late,
  × missed_share when not done;
- qualitative (and unparsed targets with a grade): the grade fixes a band of p (达成 80–100%, 部分达成 60–80%,
  未达成 0–60%) and a person picks inside it; a pick outside is refused (`BandError`); without a pick the
  draft uses the band's lower end and says so;
- nothing reported → 0 points, shown as 未填报 (never "无偏差");
- every score is computed in Decimal from the printed points and rounded once, to two decimals; the total is the
  sum of the printed rows, as the table's 总分 is (so a perfect project scores exactly 100.00);
- grade 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, else 差 (of the printed total); every indicator below its points needs
  偏差原因分析及改进措施.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from rules.targets import RANGE
from rules.terms import CAP_FORMULAS, EXACT_FORMULAS, GRADES, MEASURED_KINDS, SCHEDULED_KINDS, SCORE_GRADES, SYMBOL

__all__ = [
    "LEVELS",
    "EXECUTION",
    "LEVEL_WEIGHT_FIELDS",
    "GRADE_BANDS",
    "LevelShares",
    "BandError",
    "ScoringRules",
    "IndicatorInput",
    "IndicatorScore",
    "ProjectScore",
    "allocate",
    "band_for",
    "check_pick",
    "execution_score",
    "grade_for",
    "level_of",
    "level_shares",
    "levels_from_rows",
    "read_weight",
    "score_indicator",
    "score_project",
    "with_level_weights",
]

LEVELS: tuple[str, ...] = ("产出", "效益", "满意度")
EXECUTION = "预算执行率"
# A project's level weights, by the name its table prints, and the `ScoringRules` field each one overrides.
LEVEL_WEIGHT_FIELDS: dict[str, str] = {EXECUTION: "weight_execution", "产出": "weight_output",
                                       "效益": "weight_effect", "满意度": "weight_satisfaction"}
# Weights are points out of 100: a million is a slip of the keyboard, not a weight (and far inside NUMERIC(24, 6)).
MAX_WEIGHT = Decimal(10) ** 6
# The three grades a department reports for a qualitative indicator, mapped to the band names in ScoringRules.
GRADE_BANDS: dict[str, str] = dict(zip(GRADES, ("achieved", "partial", "failed"), strict=True))
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class BandError(ValueError):
    """A person's score outside the band the grade allows; the message is shown to that person as is."""


@dataclass(frozen=True)
class ScoringRules:
    weight_execution: Decimal = Decimal(10)
    weight_output: Decimal = Decimal(50)
    weight_effect: Decimal = Decimal(30)
    weight_satisfaction: Decimal = Decimal(10)
    redistribute: dict[str, str] = field(default_factory=lambda: {"满意度": "效益"})
    lower_zero_multiple: Decimal = Decimal(2)
    late_share: Decimal = Decimal("0.5")
    missed_share: Decimal = Decimal(0)
    band_achieved: tuple[Decimal, ...] = (Decimal(80), Decimal(100))
    band_partial: tuple[Decimal, ...] = (Decimal(60), Decimal(80))
    band_failed: tuple[Decimal, ...] = (Decimal(0), Decimal(60))
    grade_excellent: Decimal = Decimal(90)
    grade_good: Decimal = Decimal(80)
    grade_fair: Decimal = Decimal(60)
    decimals: int = 2
    cap_formula: str = CAP_FORMULAS[0]
    exact_formula: str = EXACT_FORMULAS[0]

    def level_weight(self, level: str) -> Decimal:
        return {"产出": self.weight_output, "效益": self.weight_effect,
                "满意度": self.weight_satisfaction}.get(level, ZERO)

    def band(self, name: str) -> tuple[Decimal, Decimal]:
        low, high = {"achieved": self.band_achieved, "partial": self.band_partial,
                     "failed": self.band_failed}[name]
        return Decimal(low), Decimal(high)


@dataclass(frozen=True)
class IndicatorInput:
    """One 三级指标 as the scorer needs it.

    `actual` is the reported 实际完成值 (quantity/percent), judged against `target` by `comparator` (the
    direction's non-strict one if not given) and scored by `direction`; `occurrences` the status of each due occurrence
    of a time-bound target ("on_time", "late", "missed"); `grade` the department's qualitative grade;
    `picked` a person's score in points; `explanation` the 偏差原因分析及改进措施 text.
    """

    key: Hashable
    level1: str
    name: str
    kind: str
    direction: str | None = None
    target: Decimal | None = None
    comparator: str | None = None  # as written; decides whether the target is met (> and < are strict)
    upper: Decimal | None = None  # a range's upper bound (comparator rules.targets.RANGE)
    weight: Decimal | None = None
    actual: Decimal | None = None
    occurrences: tuple[str, ...] = ()
    grade: str | None = None
    picked: Decimal | None = None
    explanation: str | None = None
    level2: str = ""


@dataclass(frozen=True)
class IndicatorScore:
    key: Hashable
    level: str
    name: str
    points: Decimal
    score: Decimal
    status: str  # "scored", "no_report", "needs_pick", "unscorable"
    rule: str  # the arithmetic in words, shown in the report
    band: tuple[Decimal, Decimal] | None = None
    explanation: str | None = None

    @property
    def below_full(self) -> bool:
        return self.score < self.points

    @property
    def missing_explanation(self) -> bool:
        return self.below_full and not (self.explanation or "").strip()


@dataclass(frozen=True)
class ProjectScore:
    execution_rate: Decimal  # fraction: 0.85 is 85 %
    execution_points: Decimal
    execution_score: Decimal
    level_points: dict[str, Decimal]
    indicators: tuple[IndicatorScore, ...]
    total: Decimal
    grade: str
    warnings: tuple[str, ...] = ()  # everything the report must say about how it scored, weight_notes included
    weight_notes: tuple[str, ...] = ()  # levels whose indicator weights were scaled to the level's points

    @property
    def missing_explanations(self) -> tuple[IndicatorScore, ...]:
        return tuple(s for s in self.indicators if s.missing_explanation)

    @property
    def needs_person(self) -> tuple[IndicatorScore, ...]:
        return tuple(s for s in self.indicators if s.status == "needs_pick")


def level_of(level1: str) -> str | None:
    """"产出指标" → "产出" etc.; None for a 一级指标 that is none of the three."""
    text = (level1 or "").strip()
    for level in LEVELS:
        if text.startswith(level):
            return level
    return None


def _unit(rules: ScoringRules) -> Decimal:
    return Decimal(1).scaleb(-rules.decimals)


def _q(value: Decimal, rules: ScoringRules) -> Decimal:
    return value.quantize(_unit(rules), rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal], rules: ScoringRules) -> list[Decimal]:
    """`total` split in proportion to `weights`, each share printed with `rules.decimals` places, the shares adding
    up to the printed total: each share is rounded down, and the units left over go one each to the largest
    remainders (the first rows on a tie). 产出 50 over three indicators is 16.67 + 16.67 + 16.66, not 3 × 16.67.

    In integers throughout (units of the last printed place; weights scaled to whole numbers), so it is exact."""
    if not weights:
        return []
    unit = _unit(rules)
    units = int(_q(Decimal(total), rules) / unit)
    exponents = [Decimal(w).as_tuple().exponent for w in weights]
    places = max([0, *(-e for e in exponents if isinstance(e, int))])
    scaled = [int(Decimal(w).scaleb(places)) for w in weights]
    whole = sum(scaled)
    floors = [units * w // whole for w in scaled]
    remainders = [units * w % whole for w in scaled]
    for i in sorted(range(len(scaled)), key=lambda i: (-remainders[i], i))[: units - sum(floors)]:
        floors[i] += 1
    return [Decimal(f) * unit for f in floors]


def read_weight(raw: object, *, zero_allowed: bool = False) -> Decimal:
    """A 分值/权重 as typed or printed ("15", "15.5", "15分", a number cell), or `ValueError` with the reason in
    Chinese (the caller adds the field or cell). Indicator weights must be above 0 (a row worth nothing is a row
    to delete, and 0 would silently hand its share to the others); a level's weight may be 0 (a project
    without 满意度)."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("必填，须为数字")
    text = format(raw, "f") if isinstance(raw, Decimal) else str(raw).strip()
    number = text.removesuffix("分").strip().replace(",", "")
    try:
        value = Decimal(number)
    except ArithmeticError:
        raise ValueError(f"「{text}」不是数字") from None
    if not value.is_finite():
        raise ValueError(f"「{text}」不是数字")
    if value < 0 or (value == 0 and not zero_allowed):
        raise ValueError(f"须{'不小于' if zero_allowed else '大于'}0，而不是「{text}」")
    if value >= MAX_WEIGHT:
        raise ValueError(f"「{text}」过大（分值以分计，满分通常为 100）")
    return value


def with_level_weights(rules: ScoringRules, weights: Mapping[str, Decimal | None]) -> ScoringRules:
    """`rules` with a project's own level weights (keys of `LEVEL_WEIGHT_FIELDS`) where it has them; a None or
    missing level keeps the configured default."""
    if all(weights.get(level) is None for level in LEVEL_WEIGHT_FIELDS):
        return rules

    def pick(level: str) -> Decimal:
        value = weights.get(level)
        return Decimal(getattr(rules, LEVEL_WEIGHT_FIELDS[level])) if value is None else Decimal(value)

    return replace(rules, weight_execution=pick(EXECUTION), weight_output=pick("产出"), weight_effect=pick("效益"),
                   weight_satisfaction=pick("满意度"))


def levels_from_rows(rows: Sequence[tuple[str, Decimal | None]]) -> dict[str, Decimal] | None:
    """The level weights a table implies when it prints a weight on every row, (一级指标, weight) each: each
    level the sum of its rows, 预算执行率 what they leave of 100 (a Sichuan 自评表: rows of 60 and 30 leave 10).
    None when a row has no weight or a level is unknown, or the rows leave nothing for 预算执行率: the table
    does not say, and the configured levels stay (with its rows scaled to them, visibly)."""
    sums = dict.fromkeys(LEVELS, ZERO)
    for level1, weight in rows:
        level = level_of(level1)
        if level is None or weight is None:
            return None
        sums[level] += Decimal(weight)
    rest = HUNDRED - sum(sums.values(), ZERO)
    if not rows or rest <= 0:
        return None
    return {EXECUTION: rest, **sums}


@dataclass(frozen=True)
class LevelShares:
    """The printed 分值 of each indicator of one level, and why they differ from the weights given, if they do."""

    points: list[Decimal]
    note: str | None = None


def level_shares(level: str, weights: Sequence[Decimal | None], points: Decimal,
                 rules: ScoringRules) -> LevelShares:
    """Each indicator's 分值 within a level worth `points`: its own weight when the weights add up to the level's
    points; the indicators without a weight share what is left equally; when the weights exceed the points (or
    do not reach them and every indicator has one) all are scaled in proportion, with a note saying so.

    Scaling rather than refusing: the store can always come to disagree (the configured defaults change, a
    re-import adds a row, an empty level hands its points on), and a score must still be given, visibly."""
    if not weights:
        return LevelShares([])
    given = [Decimal(w) for w in weights if w is not None and Decimal(w) > 0]
    unweighted = len(weights) - len(given)
    total = sum(given, ZERO)
    if not given:
        return LevelShares(allocate(points, [ONE] * len(weights), rules),
                           None if points > 0 else f"{level}本级分值为 0，其 {len(weights)} 项指标不计分")
    count = len(given)
    if unweighted and total < points:
        # integers throughout: each weighted w × n, each unweighted the rest (points − Σw), n = unweighted
        scaled = [Decimal(w) * unweighted if w is not None and Decimal(w) > 0 else points - total for w in weights]
        return LevelShares(allocate(points, scaled, rules))
    if unweighted:
        # no points left for them: each counts as the mean weight (Σw ÷ k), and the level is scaled
        scaled = [Decimal(w) * count if w is not None and Decimal(w) > 0 else total for w in weights]
        shown = total + total * unweighted / count
        note = (f"{level}指标分值合计 {_fmt(total)}（另有 {unweighted} 项未设分值，按平均分值计，共 "
                f"{_fmt(_q(shown, rules))}），与本级分值 {_fmt(points)} 不符，已按比例折算")
        return LevelShares(allocate(points, scaled, rules), note)
    shares = allocate(points, given, rules)
    if total == points:
        return LevelShares(shares)
    if points == 0:
        return LevelShares(shares, f"{level}本级分值为 0，其 {len(weights)} 项指标不计分")
    return LevelShares(shares, f"{level}指标分值合计 {_fmt(total)}，与本级分值 {_fmt(points)} 不符，已按比例折算")


# The comparator a direction means when none is given: the non-strict one.
_NON_STRICT = {"higher_is_better": ">=", "lower_is_better": "<=", "exact": "=", "within": RANGE}


def _met(comparator: str, a: Decimal, t: Decimal, upper: Decimal) -> bool:
    """Whether `a` meets the target, as the light judges it (rules.evaluation): > and < are strict."""
    if comparator in ("=", RANGE):
        return t <= a <= upper
    return {">=": a >= t, ">": a > t, "<=": a <= t, "<": a < t}.get(comparator, a >= t)


def _fmt(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def execution_score(spent: Decimal | None, budget: Decimal | None, rules: ScoringRules) -> tuple[Decimal, Decimal]:
    """(执行率 as a fraction, 得分): min(rate × weight, weight); no budget or no spending gives 0."""
    if not budget or budget <= 0 or spent is None:
        return ZERO, ZERO
    rate = Decimal(spent) / Decimal(budget)
    score = min(rate * rules.weight_execution, rules.weight_execution)
    return rate, _q(max(score, ZERO), rules)


def band_for(grade: str | None, points: Decimal, rules: ScoringRules) -> tuple[Decimal, Decimal] | None:
    """The interval of points a qualitative grade allows, or None for an unknown/missing grade."""
    name = GRADE_BANDS.get((grade or "").strip())
    if name is None:
        return None
    low, high = rules.band(name)
    return _q(points * low / HUNDRED, rules), _q(points * high / HUNDRED, rules)


def check_pick(name: str, grade: str | None, points: Decimal, picked: Decimal, rules: ScoringRules) -> Decimal:
    """A person's score for a qualitative indicator, or `BandError` if outside the grade's band."""
    band = band_for(grade, points, rules)
    if band is None:
        band = (ZERO, _q(points, rules))
    picked = Decimal(picked)
    if not band[0] <= picked <= band[1]:
        raise BandError(f"{name}指标的实际得分区间为[{_fmt(band[0])}, {_fmt(band[1])}]，请调整后再保存")
    return picked


def score_indicator(item: IndicatorInput, points: Decimal, rules: ScoringRules) -> IndicatorScore:
    level = level_of(item.level1) or item.level1
    points = _q(points, rules)  # scored from the points the report prints, so its rule can be recomputed by hand

    def done(raw: Decimal, rule: str, status: str = "scored",
             band: tuple[Decimal, Decimal] | None = None) -> IndicatorScore:
        value = _q(min(max(raw, ZERO), points), rules)
        return IndicatorScore(key=item.key, level=level, name=item.name, points=points, score=value, status=status,
                              rule=rule, band=band, explanation=item.explanation)

    shown = _fmt(points)  # the rule quotes the points the report prints, not 7.142857…

    if item.kind in ("qualitative", "unparsed"):
        if not item.grade:
            if item.kind == "unparsed" and item.actual is None:
                return done(ZERO, "指标值无法自动解析且未填报等级：需人工评分", status="unscorable")
            if item.kind == "qualitative":
                return done(ZERO, "未填报", status="no_report")
        band = band_for(item.grade, points, rules)
        if band is None:
            return done(ZERO, f"等级“{item.grade}”不在三档之内：需人工评分", status="unscorable")
        if item.picked is None:
            return done(band[0], f"{item.grade}：得分区间[{_fmt(band[0])}, {_fmt(band[1])}]，待人工评分（暂按下限）",
                        status="needs_pick", band=band)
        picked = check_pick(item.name, item.grade, points, item.picked, rules)
        return done(picked, f"{item.grade}：人工评分 {_fmt(picked)}（区间[{_fmt(band[0])}, {_fmt(band[1])}]）",
                    band=band)

    if item.kind in SCHEDULED_KINDS:
        if not item.occurrences:
            return done(ZERO, "未填报", status="no_report")
        n = len(item.occurrences)
        shares = {"on_time": ONE, "late": rules.late_share, "missed": rules.missed_share}
        earned = sum((shares.get(s, ZERO) for s in item.occurrences), ZERO)
        counts = {s: item.occurrences.count(s) for s in ("on_time", "late", "missed")}
        rule = (f"按时 {counts['on_time']}、逾期 {counts['late']}、未完成 {counts['missed']} / 共 {n} 次："
                f"{shown} × {_fmt(_q(earned, rules))} ÷ {n}")
        if counts["on_time"] == n:
            rule = f"按时完成（{n} 次）：满分"
        return done(points * earned / n, rule)

    if item.kind in MEASURED_KINDS:
        if item.actual is None:
            return done(ZERO, "未填报", status="no_report")
        a, t = Decimal(item.actual), item.target
        if t is None:
            return done(ZERO, "无指标值，无法计分", status="unscorable")
        direction = item.direction or "higher_is_better"
        comparator = item.comparator or _NON_STRICT.get(direction, ">=")
        upper = item.upper if comparator == RANGE else t
        if upper is None:
            return done(ZERO, "区间指标缺少上限，无法计分", status="unscorable")
        if _met(comparator, a, t, upper):
            if comparator == RANGE:
                return done(points, f"{_fmt(a)} 在 {_fmt(t)}～{_fmt(upper)} 之内：满分")
            return done(points, f"{_fmt(a)} {SYMBOL[comparator]} {_fmt(t)}：满分")

        def short(raw: Decimal, rule: str) -> IndicatorScore:
            """A target not met never scores full points: at most one unit of the last place below them."""
            scored = done(raw, rule)
            if scored.score < scored.points or scored.points <= 0:
                return scored
            return replace(scored, score=scored.points - _unit(rules), rule=f"{rule}，未达到目标{_fmt(t)}，不得满分")

        if direction == "lower_is_better" and rules.cap_formula == "ratio":
            if t <= 0:
                return done(ZERO, f"{_fmt(a)} 超出上限 {_fmt(t)}：0 分")
            return short(points * t / a, f"{shown} × {_fmt(t)} ÷ {_fmt(a)}")
        if direction == "lower_is_better":
            if t <= 0 or a >= t * rules.lower_zero_multiple:
                return done(ZERO, f"{_fmt(a)} 超出上限 {_fmt(t)} 达 {_fmt(rules.lower_zero_multiple)} 倍及以上：0 分")
            return short(points * (ONE - (a - t) / t), f"{shown} × (1 − ({_fmt(a)} − {_fmt(t)}) ÷ {_fmt(t)})")
        if direction == "exact" and rules.exact_formula == "all_or_nothing":
            return done(ZERO, f"{_fmt(a)} ≠ {_fmt(t)}：0 分")
        if direction == "exact" and rules.exact_formula == "ratio":
            if t <= 0 or a <= 0:
                return done(ZERO, f"{_fmt(a)} ≠ {_fmt(t)}：0 分")
            low, high = sorted((a, t))
            return short(points * low / high, f"{shown} × {_fmt(low)} ÷ {_fmt(high)}")
        if direction in ("exact", "within"):
            bound = t if a < t else upper
            if bound == 0:
                return done(ZERO, f"{_fmt(a)} ≠ 0：0 分")
            return short(points * (ONE - abs(a - bound) / abs(bound)),
                         f"{shown} × (1 − |{_fmt(a)} − {_fmt(bound)}| ÷ {_fmt(bound)})")
        if t <= 0:
            return done(ZERO, f"{_fmt(a)} {'≤' if comparator == '>' else '<'} {_fmt(t)}：0 分")
        return short(points * a / t, f"{shown} × {_fmt(a)} ÷ {_fmt(t)}")

    return done(ZERO, f"无法计分的指标类型 {item.kind}", status="unscorable")


def _level_points(present: set[str], rules: ScoringRules) -> tuple[dict[str, Decimal], list[str]]:
    """Points per level after handing an empty level's points to its heir (following chains)."""
    points = {level: rules.level_weight(level) for level in LEVELS}
    warnings: list[str] = []
    for level in LEVELS:
        if level in present or points[level] == 0:
            continue
        heir, seen = rules.redistribute.get(level), {level}
        while heir is not None and heir not in present and heir not in seen:
            seen.add(heir)
            heir = rules.redistribute.get(heir)
        if heir in present:
            points[heir] += points[level]
        else:
            warnings.append(f"无{level}指标，其 {_fmt(points[level])} 分未能分配")
        points[level] = ZERO
    return points, warnings


def score_project(
    spent: Decimal | None,
    budget: Decimal | None,
    indicators: Sequence[IndicatorInput],
    rules: ScoringRules | None = None,
) -> ProjectScore:
    """Score one project's self-evaluation: budget execution plus every annual indicator."""
    rules = rules or ScoringRules()
    rate, exec_score = execution_score(spent, budget, rules)
    warnings: list[str] = []
    by_level: dict[str, list[IndicatorInput]] = {}
    for item in indicators:
        level = level_of(item.level1)
        if level is None:
            warnings.append(f"{item.name}：一级指标“{item.level1}”不属于产出/效益/满意度，未计分")
            continue
        by_level.setdefault(level, []).append(item)
    level_points, more = _level_points(set(by_level), rules)
    warnings += more
    scores: list[IndicatorScore] = []
    notes: list[str] = []
    for level in LEVELS:
        items = by_level.get(level, [])
        shares = level_shares(level, [i.weight for i in items], level_points[level], rules)
        notes += [shares.note] if shares.note else []
        scores.extend(score_indicator(item, points, rules) for item, points in zip(items, shares.points, strict=True))
    warnings += notes
    total = exec_score + sum((s.score for s in scores), ZERO)
    return ProjectScore(
        execution_rate=rate,
        execution_points=rules.weight_execution,
        execution_score=exec_score,
        level_points=level_points,
        indicators=tuple(scores),
        total=_q(total, rules),
        grade=grade_for(total, rules),
        warnings=tuple(warnings),
        weight_notes=tuple(notes),
    )


def grade_for(total: Decimal, rules: ScoringRules | None = None) -> str:
    rules = rules or ScoringRules()
    excellent, good, fair, poor = SCORE_GRADES
    if total >= rules.grade_excellent:
        return excellent
    if total >= rules.grade_good:
        return good
    if total >= rules.grade_fair:
        return fair
    return poor
