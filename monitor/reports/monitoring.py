"""The mid-year 项目支出绩效目标执行监控表 (双监控): spending and every indicator through the end of month X.

What the department reported is shown as reported; every cell it left empty says 未填报. The system's own
forecast or light goes to 备注, marked as the system's, never into the department's columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from monitor.reports.data import IndicatorData, ProjectData, YearData
from monitor.reports.format import MISSING, amount_text, percent, quantity_text, wan
from rules import calendar as cal
from rules.formatting import fmt_day
from rules.reasons import listed, said
from rules.terms import DEVIATION_CAUSES, FUND_SOURCES, GRADES_EN, LIGHT_NAMES, SCHEDULED_KINDS

NOT_NAMED = "—"


@dataclass
class FundsRow:
    """One 资金 row of the tables: 年度资金总额, then one per fund source. `budget_wan` is the 年初预算数,
    `adjusted_wan` the 全年预算数 at the cut-off (after the adjustments dated by then), `rate` the 执行率 against
    it in percent; a source's spent is None (未填报) when the department reported only the total."""

    label: str
    budget_wan: Decimal | None
    spent_wan: Decimal | None
    rate: Decimal | None  # percent
    forecast_wan: Decimal | None
    adjusted_wan: Decimal | None = None
    total: bool = False


MONITOR_FUND_ORDER = ("fiscal", "other", "carryover")
SELFEVAL_FUND_ORDER = ("fiscal", "carryover", "other")  # the 自评表 prints 上年结转资金 between the two


def funds_rows(p: ProjectData, cutoff: date, order: tuple[str, ...] = MONITOR_FUND_ORDER) -> list[FundsRow]:
    """年度资金总额 and its sources at `cutoff`, in the order the table prints them, from stored data: 财政拨款
    and 其他资金 always (the tables print them), 上年结转 when there is some budget or spending of it."""
    spent = p.spent_until(cutoff)
    split = p.split_until(cutoff)
    budget = p.budget_on(cutoff)
    rows = [FundsRow("年度资金总额", wan(p.annual_funds), wan(spent), _rate(spent, budget), wan(p.forecast_spent),
                     wan(budget), total=True)]
    for i, source in enumerate(order):
        name = FUND_SOURCES[source]
        part_budget = p.budget_on(cutoff, source)
        part_spent = None if split is None else split[source]
        if source == "carryover" and part_budget is None and not part_spent:
            continue
        rows.append(FundsRow(("其中：" if i == 0 else "") + name, wan(p.initial_by_source.get(source)),
                             wan(part_spent), _rate(part_spent, part_budget), None, wan(part_budget)))
    return rows


def _rate(spent: Decimal | None, budget: Decimal | None) -> Decimal | None:
    return None if spent is None or not budget or budget <= 0 else spent / budget * 100


@dataclass
class MonitorRow:
    indicator_id: int
    level1: str
    level2: str
    name: str
    target_text: str
    progress: str
    progress_en: str  # the same in English, for a round's page read in English (the table itself is Chinese)
    forecast: str
    causes: tuple[str, ...]  # one text per DEVIATION_CAUSES
    likelihood: str
    note: str
    light: str | None

    @property
    def level2_key(self) -> str:
        return f"{self.level1}/{self.level2}"


@dataclass
class MonitorProject:
    project_id: int
    year: int
    through_month: int
    name: str
    department: str
    implementing_unit: str
    funds: list[FundsRow]
    annual_goal: str
    goal_progress: str
    rows: list[MonitorRow]
    light: str | None
    budget_light: str | None

    @property
    def period(self) -> str:
        return f"1-{self.through_month}月"


def through_month_for(data: YearData, requested: int | None, default: int) -> int:
    month = requested or data.monitor_through_month or default
    if not 1 <= month <= 12:
        raise ValueError(f"--through: 月份应为 1-12，得到 {month}")
    return month


def build_monitoring(data: YearData, through_month: int) -> list[MonitorProject]:
    cutoff = cal.month_end(data.year, through_month)
    return [_project(p, data.year, through_month, cutoff) for p in data.projects]


def _project(p: ProjectData, year: int, month: int, cutoff: date) -> MonitorProject:
    spent = p.spent_until(cutoff)
    funds = funds_rows(p, cutoff)
    rate = funds[0].rate
    rows = [_row(ind, cutoff) for ind in p.indicators_on(cutoff)]
    reported = sum(1 for ind in p.indicators if ind.reports_until(cutoff))
    goal_progress = (f"（系统汇总）截至{month}月底，{len(rows)} 项年度指标中已填报 {reported} 项，"
                     f"未填报 {len(rows) - reported} 项；资金执行 {amount_text(wan(spent))} 万元"
                     f"（执行率 {percent(rate)}）。"
                     + ("全年预计执行数为系统按已执行进度预测，请部门核实。" if p.forecast_spent is not None else ""))
    return MonitorProject(
        project_id=p.id, year=year, through_month=month, name=p.name, department=p.department_label,
        implementing_unit=p.implementing_unit or MISSING, funds=funds, annual_goal=p.annual_goal or MISSING,
        goal_progress=goal_progress, rows=rows, light=p.light, budget_light=p.budget_light,
    )


def progress_text(ind: IndicatorData, cutoff: date, lang: str = "zh") -> str:
    """What was done by `cutoff`, in words, from the department's own reports: in Chinese for the official table
    (dates in ISO form), in English on an English page (dates as the English reasons write them)."""
    def day(d: date) -> str:
        return d.isoformat() if lang == "zh" else fmt_day([d], cutoff.year, lang=lang).iloc[0]

    facts = ind.reports_until(cutoff)
    if ind.kind in SCHEDULED_KINDS and ind.occurrences:
        parts: list[tuple[str, str]] = []  # (done / late / missing, text)
        completions = ind.completions(cutoff)
        for _start, due in ind.occurrences:
            when = completions.get(due)
            if when is not None:
                kind = "late" if when > due else "done"
                parts.append((kind, said(f"progress_period_{kind}", lang, due=day(due), done=day(when))))
            elif due <= cutoff:
                parts.append(("missing", said("progress_period_missing", lang, due=day(due))))
        if not parts:
            return said("progress_not_due", lang)
        if len(parts) > 4:
            done_count = sum(1 for kind, _ in parts if kind != "missing")
            return said("progress_periods", lang, done=str(done_count), all=str(len(parts)),
                        open=listed([text for kind, text in parts if kind != "done"], lang))
        return listed([text for _, text in parts], lang)
    latest = facts[-1] if facts else None
    missing = said("progress_missing", lang)
    if latest is None:
        return missing
    if latest.grade:
        grade = latest.grade if lang == "zh" else GRADES_EN.get(latest.grade, latest.grade)
        return said("progress_graded", lang, grade=grade, explanation=latest.explanation) if latest.explanation \
            else grade
    if latest.value is not None:
        return said("progress_value", lang, value=quantity_text(latest.value, ind.unit or ""),
                    day=day(latest.as_of or latest.effective_on))
    if latest.completed_on:
        return said("progress_completed", lang, day=day(latest.completed_on))
    return latest.explanation or missing


def _row(ind: IndicatorData, cutoff: date) -> MonitorRow:
    latest = ind.latest(cutoff)
    forecast = MISSING
    causes = tuple(MISSING for _ in DEVIATION_CAUSES)
    likelihood = MISSING
    notes = []
    if latest is not None:
        if latest.forecast_text:
            forecast = latest.forecast_text
        elif latest.forecast is not None:
            forecast = quantity_text(latest.forecast, ind.unit)
        if latest.deviation_causes:
            given = {k: str(v) for k, v in latest.deviation_causes.items() if v not in (None, "")}
            # the department did its deviation analysis: causes it did not name are blank ("—"), not 未填报
            causes = tuple(given.get(c, NOT_NAMED) for c in DEVIATION_CAUSES) if given else causes
        likelihood = latest.likelihood or MISSING
        if latest.note:
            notes.append(latest.note)
    if ind.light:
        notes.append(f"系统评估：{LIGHT_NAMES.get(ind.light, ind.light)}")
    if forecast == MISSING and ind.state_forecast is not None:
        notes.append(f"系统预测全年 {quantity_text(ind.state_forecast, ind.unit)}")
    if likelihood == MISSING and ind.state_likelihood:
        notes.append(f"系统判断：{ind.state_likelihood}")
    return MonitorRow(
        indicator_id=ind.id, level1=ind.level1, level2=ind.level2, name=ind.name, target_text=ind.target_cell,
        progress=progress_text(ind, cutoff), progress_en=progress_text(ind, cutoff, "en"), forecast=forecast,
        causes=causes, likelihood=likelihood,
        note="；".join(notes), light=ind.light,
    )
