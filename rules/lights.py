"""Roll-ups: a project's light from its indicators, its budget-execution light (双监控), department counts.

Grey handling (the rule books only rank red > yellow > green > blue): a grey indicator that lacks data it
should have (`no_report`, `needs_grade`, `unparsed`) ranks between yellow and green, so a project with a
missing report is never shown green, while a real red or yellow still wins. `not_due` indicators do not take
part: nothing is expected of them yet. A project with nothing to judge is grey.

Budget execution: spent (the latest effective 执行数 on or before the as-of date) ÷ the budget in force at the
as-of date (年初预算数 plus the adjustments dated by then, `rules.budget`: 全年预算数) = 执行率;
÷ 序时进度 at the spending's date = the ratio that sets the light (below 60% red, below 80% yellow, else
green; decided exactly at the thresholds, so exactly 60% is yellow: see `rules.exact`). A zero or missing
budget gives 执行率 0 and a grey light ("nothing to execute"), never a division error; no spending reported, or
a report older than the staleness limit, is grey too: missing is 未填报, not zero.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from rules.budget import budgets_in_force
from rules.exact import sign
from rules.formatting import fmt_number, fmt_percent
from rules.reasons import LANGUAGES, Reasons, columns, dates, day_counts, say
from rules.terms import LIGHT_NAMES_EN, LIGHT_SHORT_NAMES, LIGHTS, LIGHTS_BY_SEVERITY, SEVERITY, EvaluationSettings
from rules.time_progress import active_periods, as_days, days_between, elapsed_days, progress

_BY_SEVERITY = np.array(LIGHTS_BY_SEVERITY, dtype=object)
PROJECT_COLUMNS = ["project_id", "light", "budget_light", "spent", "execution_rate", "execution_ratio",
                   "forecast_spent", "reason", "reason_en"]


def project_lights(states: pd.DataFrame) -> pd.DataFrame:
    """project_id, light, and counts per light (red, yellow, green, blue, grey) over judged indicators."""
    judged = states[states["status"] != "not_due"]
    codes, projects = pd.factorize(judged["project_id"])
    severity = judged["light"].map(SEVERITY).fillna(SEVERITY["grey"]).to_numpy(dtype=np.int64)
    worst = np.full(len(projects), -1, dtype=np.int64)
    np.maximum.at(worst, codes, severity)
    out = pd.DataFrame({"project_id": projects})
    for light, level in SEVERITY.items():
        out[light] = np.bincount(codes[severity == level], minlength=len(projects))
    out["light"] = _BY_SEVERITY[np.maximum(worst, 0)]
    return out[["project_id", *LIGHTS, "light"]]


def project_states(
    projects: pd.DataFrame,
    states: pd.DataFrame,
    spending: pd.DataFrame,
    *,
    as_of: date,
    settings: EvaluationSettings = EvaluationSettings(),
    adjustments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    if projects.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PROJECT_COLUMNS})
    s = settings
    today = np.datetime64(as_of, "D")
    periods = active_periods(projects)
    budgets = projects[["project_id"]].assign(annual_funds=budgets_in_force(projects, adjustments, as_of))
    df = budgets.merge(periods, on="project_id", how="left")
    lights = project_lights(states) if len(states) else pd.DataFrame(columns=["project_id", "light", *LIGHTS])
    df = df.merge(lights, on="project_id", how="left")
    for light in LIGHTS:
        df[light] = df[light].fillna(0).astype(np.int64)
    df["light"] = df["light"].fillna("grey")

    sp = spending
    if len(sp):
        sp = sp.assign(day=as_days(sp["as_of"]))
        sp = sp[sp["day"] <= today]
        order = ["project_id", "day"] + (["id"] if "id" in sp else [])
        sp = sp.sort_values(order, kind="stable").drop_duplicates("project_id", keep="last")
        df = df.merge(sp[["project_id", "amount", "day"]], on="project_id", how="left")
    else:
        df["amount"] = np.nan
        df["day"] = np.datetime64("NaT", "D")
    start, end = as_days(df["start"]), as_days(df["end"])
    funds = df["annual_funds"].to_numpy(dtype=np.float64)
    spent = df["amount"].to_numpy(dtype=np.float64)
    day = as_days(df["day"])
    reported = ~np.isnan(spent)
    no_budget = ~(funds > 0)
    elapsed = progress(np.where(reported, day, today), start, end, mode=s.progress_mode, curve=s.progress_curve)
    f = elapsed.fraction
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(no_budget, 0.0, spent / np.where(no_budget, 1, funds) * 100)
        ratio = np.where(no_budget, 0.0, np.where(f > 0, rate / np.where(f > 0, f, 1), np.nan))
    rate = np.where(reported | no_budget, rate, np.nan)
    ratio = np.where(reported | no_budget, ratio, np.nan)
    forecast = np.where(reported,
                        spent * elapsed_days(end, start) / elapsed_days(np.where(reported, day, today), start),
                        np.nan)
    stale = reported & (days_between(np.where(reported, day, today), today) > s.staleness_days)
    # ratio < x, decided exactly: spent × 100 < x × funds × 序时进度
    def below(threshold) -> np.ndarray:
        return sign([spent, 100], [threshold, funds, elapsed], len(df)) < 0

    conds = [no_budget, ~reported, stale, np.isnan(ratio), below(s.budget_red_below), below(s.budget_yellow_below)]
    rule = np.select(conds, np.arange(len(conds)), len(conds))
    budget_light = np.array(["grey", "grey", "grey", "green", "red", "yellow", "green"], dtype=object)[rule]

    unit = "元"
    spent_text = fmt_number(spent, unit).to_numpy(dtype=object)
    funds_text = fmt_number(funds, unit).to_numpy(dtype=object)
    budget = Reasons(len(df))
    for group in np.unique(rule):
        idx = np.flatnonzero(rule == group)
        if group == 0:
            budget.put(idx, "budget_zero")
        elif group == 1:
            budget.put(idx, "budget_no_report",
                       today={lang: text[0] for lang, text in dates(np.full(1, today)).items()})
        elif group == 2:
            budget.put(idx, "budget_stale", day=dates(day[idx]), days=day_counts(np.full(len(idx), s.staleness_days)))
        elif group == 3:
            budget.put(idx, "budget_no_schedule", day=dates(day[idx]), spent=spent_text[idx])
        else:
            budget.put(idx, "budget", day=dates(day[idx]), spent=spent_text[idx], rate=fmt_percent(rate[idx]),
                       ratio=fmt_percent(ratio[idx]), funds=funds_text[idx])
    judged = (df[list(LIGHTS)].sum(axis=1) > 0).to_numpy()
    counts = {lang: np.full(len(df), "", dtype=object) for lang in LANGUAGES}
    for light in LIGHTS:  # "红2 黄1" / "Red 2, Yellow 1"
        n = df[light].to_numpy()
        shown, number = n > 0, n.astype(str).astype(object)
        zh, en = counts["zh"], counts["en"]
        counts["zh"] = np.where(shown, zh + np.where(zh == "", "", " ") + LIGHT_SHORT_NAMES[light] + number, zh)
        counts["en"] = np.where(shown, en + np.where(en == "", "", ", ") + LIGHT_NAMES_EN[light] + " " + number, en)
    indicators = Reasons(len(df))
    rows = np.arange(len(df))
    indicators.put(rows[judged], "indicator_counts", counts={lang: c[judged] for lang, c in counts.items()})
    indicators.put(rows[~judged], "nothing_to_judge")
    reasons = columns(say("project", len(df), indicators=indicators.text, budget=budget.text))
    return pd.DataFrame({
        "project_id": df["project_id"].to_numpy(),
        "light": df["light"].to_numpy(dtype=object),
        "budget_light": budget_light,
        "spent": spent,
        "execution_rate": rate,
        "execution_ratio": ratio,
        "forecast_spent": forecast,
        **reasons,
        **{light: df[light].to_numpy() for light in LIGHTS},
    })


def department_summary(projects: pd.DataFrame, project_states_frame: pd.DataFrame) -> pd.DataFrame:
    """Per department: number of projects and how many are red / yellow / green / blue / grey (project light)
    and how many have a red / yellow budget light."""
    df = projects[["project_id", "department_id"]].merge(project_states_frame[["project_id", "light", "budget_light"]],
                                                       on="project_id", how="left")
    df["light"] = df["light"].fillna("grey")
    counts = pd.crosstab(df["department_id"], df["light"])
    for light in LIGHTS:
        if light not in counts:
            counts[light] = 0
    out = counts[list(LIGHTS)].copy()
    out.insert(0, "projects", out.sum(axis=1))
    out["budget_red"] = df.assign(r=df["budget_light"] == "red").groupby("department_id")["r"].sum()
    out["budget_yellow"] = df.assign(r=df["budget_light"] == "yellow").groupby("department_id")["r"].sum()
    return out.reset_index()
