"""Evaluation: from targets, reports and spending to a light, a status and a one-sentence reason per indicator.

Pure and vectorised: every function takes pandas DataFrames and an as-of date and returns DataFrames; there is
no loop over indicators. The monitor layer loads the frames from the store (in chunks of projects) and writes
the result back; tests build the frames by hand from the seed documents' real 指标值.

Input frames (extra columns are ignored):
- projects:    project_id, year, plan_start, plan_end (dates or NaT), annual_funds (float 元, may be NaN)
- indicators:  indicator_id, project_id, kind, comparator, target_value (float), unit, direction, name,
               value_text, parse_reason; optionally target_upper (float, a range's upper bound)
- occurrences: indicator_id, start, due — one row per occurrence of deadline / window / recurring targets
- reports:     indicator_id, value, as_of, occurrence_due, completed_on, grade, forecast — EFFECTIVE rows
               only (the caller drops superseded ones); `as_of` is the date the fact refers to
- spending:    project_id, amount, as_of — effective rows only
- adjustments: optional; project_id, amount (signed float 元), effective_on — the budget adjustments in force;
               the budget the spending is measured against is annual_funds (年初预算数) plus those dated on or
               before the as-of date (`rules.budget`)

Output of `evaluate_indicators` (one row per indicator, or per occurrence of a time-bound one):
indicator_id, project_id, occurrence ("" or the due date in ISO form), light, status, expected, actual,
ratio (percent), forecast, likelihood, reason.

Rules (defaults; every threshold lives in `EvaluationSettings`, rules/terms.py):
- The active period is the budget year, narrowed to the project's plan window where that overlaps the year
  (a plan window wholly outside the year is used as is).
- Cumulative quantities, higher is better: ratio = actual ÷ (target × 序时进度 at the report's date), in %;
  below 60 red, below 80 yellow, else green; at or above 120% of the annual target blue; a reported 0 red.
- Caps (≤, <): within the cap green, over it red (`over_cap`); a forecast over the cap yellow (`behind`).
  "= x": green only when exactly met. "±x以内" compares the absolute deviation with x. > and < are strict.
  A range ("90%-95%", comparator "[]", upper bound in the optional column `target_upper`) is a window like
  "= x": green inside both bounds, red over the upper one, below the lower one judged as a floor.
- Point measures (percent, and per-unit quantities such as 人均/单价): the latest value against the target;
  below it but at least `percent_yellow_from` % of it yellow, else red. Before the measuring date and
  unreported: `not_due`.
- Deadline / window / recurring, per occurrence: done green `met`; due within `warning_days` yellow
  `due_soon`; past due red `overdue` (a closed window: `missed`); otherwise grey `not_due`. Kept: every
  occurrence that has started plus the next one to come.
- Qualitative: the grade maps to green / yellow / red; none within `needs_grade_days` of the period end
  grey `needs_grade`, earlier grey `not_due`.
- Nothing reported once something is expected, or the last report older than `staleness_days` (and the
  target not yet met): grey `no_report`. Missing is never "no deviation".
- Unparsed (or not yet parsed) targets: grey `unparsed`.

Every threshold is decided exactly (`rules.exact`): a ratio exactly at 60% of 序时进度 is yellow, never red by a
float's 59.99999999999999; figures compare as the decimals they were stored as.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from rules.exact import sign
from rules.formatting import fmt_number, fmt_percent
from rules.lights import project_states
from rules.reasons import PHRASES, Reasons, columns, dates, day_counts, say, subset, words
from rules.targets import RANGE, note_en
from rules.terms import (
    GRADE_LIGHTS,
    GRADES_EN,
    LIKELIHOODS,
    MEASURED_KINDS,
    QUALITATIVE,
    SCHEDULED_KINDS,
    SYMBOL,
    UNPARSED,
    EvaluationSettings,
)
from rules.time_progress import DAY, active_periods, as_days, days_between, elapsed_days, progress

CERTAIN, POSSIBLE, IMPOSSIBLE = LIKELIHOODS
STATE_COLUMNS = ["indicator_id", "project_id", "occurrence", "light", "status", "expected", "actual", "ratio",
                 "forecast", "likelihood", "reason", "reason_en"]
NO_OCCURRENCE = ""


def occurrence_keys(dues: np.ndarray) -> np.ndarray:
    """The state key of each occurrence: its due date in ISO form (`occurrence_due` reads it back)."""
    return np.datetime_as_string(dues.astype("datetime64[D]"), unit="D").astype(object)


def occurrence_due(key: str) -> date | None:
    """The due date a state key names, None for an indicator without occurrences (or a key that is no date)."""
    try:
        return date.fromisoformat(key) if key else None
    except ValueError:
        return None

# Names and units that mark a per-unit value (a rate, an average, a unit cost): compared as measured, not
# accumulated over the year.
NON_CUMULATIVE_NAME = (
    r"人均|户均|平均|均价|单价|单位|标准|每人|每户|每次|每天|每月|每年|比例|比重|占比|率|指数|时长|周期"
)


@dataclass(frozen=True)
class Evaluation:
    indicators: pd.DataFrame
    projects: pd.DataFrame



# ------------------------------------------------------------------------------------------ the rules


def evaluate(
    *,
    projects: pd.DataFrame,
    indicators: pd.DataFrame,
    occurrences: pd.DataFrame,
    reports: pd.DataFrame,
    spending: pd.DataFrame,
    as_of: date,
    settings: EvaluationSettings = EvaluationSettings(),
    adjustments: pd.DataFrame | None = None,
) -> Evaluation:
    """Indicator states and project states (双监控) for one set of projects at `as_of`."""
    states = evaluate_indicators(projects=projects, indicators=indicators, occurrences=occurrences,
                                 reports=reports, as_of=as_of, settings=settings)
    return Evaluation(states, project_states(projects, states, spending, as_of=as_of, settings=settings,
                                             adjustments=adjustments))


def evaluate_indicators(
    *,
    projects: pd.DataFrame,
    indicators: pd.DataFrame,
    occurrences: pd.DataFrame,
    reports: pd.DataFrame,
    as_of: date,
    settings: EvaluationSettings = EvaluationSettings(),
) -> pd.DataFrame:
    periods = active_periods(projects)
    ind = indicators.merge(periods, on="project_id", how="left")
    ind = ind[ind["start"].notna()] if len(ind) else ind
    kind = ind["kind"].fillna(UNPARSED)
    reports = _facts_until(reports, as_of)
    parts = [
        _measured(ind[kind.isin(MEASURED_KINDS) & ind["target_value"].notna()], reports, as_of, settings),
        _scheduled(ind[kind.isin(SCHEDULED_KINDS)], occurrences, reports, as_of, settings),
        _qualitative(ind[kind == QUALITATIVE], reports, as_of, settings),
        _unparsed(ind[~kind.isin(MEASURED_KINDS + SCHEDULED_KINDS + (QUALITATIVE,))
                      | (kind.isin(MEASURED_KINDS) & ind["target_value"].isna())]),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in STATE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return out[STATE_COLUMNS].sort_values(["indicator_id", "occurrence"], kind="stable", ignore_index=True)


def _facts_until(reports: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Reports about facts on or before `as_of` (a later evaluation date sees later facts, not earlier ones)."""
    if reports.empty:
        return reports.assign(fact=pd.Series(dtype="datetime64[s]"))
    fact_dates = as_days(reports["as_of"])
    if "completed_on" in reports:
        completed = as_days(reports["completed_on"])
        fact_dates = np.where(np.isnat(fact_dates), completed, fact_dates)
    if "created_on" in reports:
        created = as_days(reports["created_on"])
        fact_dates = np.where(np.isnat(fact_dates), created, fact_dates)
    keep = np.isnat(fact_dates) | (fact_dates <= np.datetime64(as_of, "D"))
    return reports[keep].assign(fact=fact_dates[keep])


def _latest(reports: pd.DataFrame, column: str, ids: pd.Series) -> pd.DataFrame:
    """The most recent report (by fact date, then id) with `column` filled, one per indicator in `ids`."""
    rows = reports[reports["indicator_id"].isin(ids) & reports[column].notna()]
    order = ["indicator_id", "fact"] + (["id"] if "id" in rows else [])
    return rows.sort_values(order, kind="stable").drop_duplicates("indicator_id", keep="last")


def _measured(ind: pd.DataFrame, reports: pd.DataFrame, as_of: date, s: EvaluationSettings) -> pd.DataFrame:
    if ind.empty:
        return ind
    latest = _latest(reports, "value", ind["indicator_id"])[["indicator_id", "value", "fact", "forecast"]]
    df = ind.merge(latest, on="indicator_id", how="left")
    n = len(df)
    today = np.datetime64(as_of, "D")
    start, end = as_days(df["start"]), as_days(df["end"])
    target = df["target_value"].to_numpy(dtype=np.float64)
    cmp = df["comparator"].fillna(">=").to_numpy(dtype=object)
    unit = df["unit"].fillna("").to_numpy(dtype=object)
    name = df["name"].fillna("")
    band = df.get("parse_reason", pd.Series([None] * n)).fillna("").str.startswith("±").to_numpy()
    actual_raw = df["value"].to_numpy(dtype=np.float64)
    actual = np.where(band, np.abs(actual_raw), actual_raw)
    reported = ~np.isnan(actual)
    rep_day = as_days(df["fact"])
    units = pd.Series(unit)
    per_unit = units.str.contains("/") & ~units.str.endswith("/年")  # 元/天 is a rate; 吨/年 is the year's total
    cumulative = ((df["kind"] == "quantity") & ~per_unit.to_numpy()
                  & ~name.str.contains(NON_CUMULATIVE_NAME).to_numpy()).to_numpy()
    lower = np.isin(cmp, ["<=", "<"])
    exact = cmp == "="
    # "=" is the window [target, target]; a range "90%-95%" the window [target, upper]
    window = exact | (cmp == RANGE)
    upper = df["target_upper"].to_numpy(dtype=np.float64) if "target_upper" in df else np.full(n, np.nan)
    upper = np.where(exact, target, upper)
    higher = ~lower & ~window

    elapsed_now = progress(as_of, start, end, mode=s.progress_mode, curve=s.progress_curve)
    elapsed = progress(np.where(reported, rep_day, today), start, end, mode=s.progress_mode, curve=s.progress_curve)
    f_now, f_rep = elapsed_now.fraction, elapsed.fraction
    expected = np.where(cumulative, target * np.where(reported, f_rep, f_now), target)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, actual / expected * 100, np.nan)
    days_in = elapsed_days(np.where(reported, rep_day, today), start)
    days_total = elapsed_days(end, start)
    rep_forecast = df["forecast"].to_numpy(dtype=np.float64)
    forecast = np.where(cumulative, actual * days_total / days_in, actual)
    forecast = np.where(np.isnan(rep_forecast), forecast, rep_forecast)
    forecast = np.where(reported, forecast, np.nan)

    # Every threshold below is decided exactly (rules.exact): figures compare as the decimals they were stored
    # as, ratios as products (actual × 100 < 60 × target × 序时进度), never through a rounded division.
    vs_target = np.sign(actual - target)  # exact: two floats read from decimals order as the decimals do
    met = np.select([cmp == ">", lower, window], [vs_target > 0, np.where(cmp == "<", vs_target < 0, vs_target <= 0),
                                                  (vs_target >= 0) & (actual <= upper)], vs_target >= 0)
    met &= reported
    over = reported & np.select([cmp == "<", cmp == "<=", window], [vs_target >= 0, vs_target > 0, actual > upper],
                                False)
    short = reported & ~met & ~over  # the rows whose band a ratio decides

    def forecast_vs(percent, where: np.ndarray) -> np.ndarray:
        """sign(forecast − target × percent ÷ 100); a linear projection is actual × days_total ÷ days_in."""
        given = ~np.isnan(rep_forecast)
        projecting = cumulative & ~given & (days_in != days_total)
        own = np.where(given, rep_forecast, actual)
        if percent == 100:
            plain = np.sign(own - target)
        else:
            plain = sign([own, 100], [target, percent], n, where & ~projecting)
        projected = sign([actual, days_total, 100], [target, days_in, percent], n, where & projecting)
        return np.where(projecting, projected, plain)

    blue = reported & higher & (target > 0) & (sign([actual, 100], [target, s.blue_at], n, reported & higher) >= 0)
    ended = today >= end
    stale = reported & (days_between(np.where(reported, rep_day, today), today) > s.staleness_days)
    # point measures are due at their measuring date; cumulative ones once the period has run a while
    measure_day = _measure_day(start, end, s.percent_due_month)
    expected_by_now = np.where(cumulative, (days_between(start, today) >= s.staleness_days) & (f_now > 0),
                               today >= measure_day)
    point_ratio = np.where(target > 0, actual / np.where(target > 0, target, 1) * 100, np.nan)
    near_target = (target > 0) & (sign([actual, 100], [target, s.percent_yellow_from], n, short & ~cumulative) >= 0)
    forecast_over = lower & cumulative & reported & (forecast_vs(100, lower & cumulative & reported) > 0)
    # a cap is only "within" if the latest figure is fresh and the year-end projection stays under it
    cap_pending = lower & cumulative & (stale | forecast_over)

    def progress_below(percent) -> np.ndarray:
        """ratio < percent, i.e. actual × 100 < percent × target × 序时进度 at the report's date."""
        return sign([actual, 100], [percent, target, elapsed], n, short & cumulative) < 0

    # first matching rule wins; the index is also the reason template (see _measured_reasons)
    conds = [
        ~reported & expected_by_now,                                   # 0 no_report
        ~reported,                                                     # 1 not_due
        over,                                                          # 2 over_cap
        blue,                                                          # 3 blue
        met & (~lower | ended) & ~cap_pending,                         # 4 met
        met & ~cap_pending,                                            # 5 within cap, year running
        stale & cumulative,                                            # 6 stale → no_report
        forecast_over,                                                 # 7 forecast over cap
        actual == 0,                                                   # 8 reported 0
        cumulative & (expected <= 0),                                  # 9 nothing expected yet
        ~cumulative & near_target,                                     # 10 point measure near target
        ~cumulative,                                                   # 11 point measure short
        progress_below(s.red_below),                                   # 12
        progress_below(s.yellow_below),                                # 13
    ]
    lights = ["grey", "grey", "red", "blue", "green", "green", "grey", "yellow", "red", "green", "yellow", "red",
              "red", "yellow", "green"]
    statuses = ["no_report", "not_due", "over_cap", "met", "met", "on_track", "no_report", "behind", "behind",
                "on_track", "behind", "behind", "behind", "behind", "on_track"]
    rule = np.select(conds, np.arange(len(conds)), len(conds))
    light = np.array(lights, dtype=object)[rule]
    status = np.array(statuses, dtype=object)[rule]

    open_higher = reported & higher & ~met
    likelihood = np.select(
        [met & ~lower, higher & (forecast_vs(100, open_higher) >= 0),
         higher & (forecast_vs(s.likelihood_possible_from, open_higher) >= 0), higher, over & cumulative, over,
         forecast_over, lower],
        [CERTAIN, CERTAIN, POSSIBLE, IMPOSSIBLE, IMPOSSIBLE, POSSIBLE, POSSIBLE, CERTAIN],
        POSSIBLE,
    ).astype(object)
    likelihood = np.where(window & met, CERTAIN, likelihood)
    likelihood[~reported] = None  # nothing reported, nothing to judge

    reasons = _measured_reasons(
        rule=rule, df=df, actual=actual_raw, target=target, expected=expected, ratio=ratio, point_ratio=point_ratio,
        forecast=forecast, cmp=cmp, unit=unit, rep_day=rep_day, cumulative=cumulative, lower=lower,
        as_of=as_of, measure_day=measure_day, staleness=s.staleness_days, blue_at=float(s.blue_at), upper=upper,
    )
    return pd.DataFrame({
        "indicator_id": df["indicator_id"].to_numpy(),
        "project_id": df["project_id"].to_numpy(),
        "occurrence": NO_OCCURRENCE,
        "light": light,
        "status": status,
        "expected": np.where(reported | cumulative, expected, np.nan),
        "actual": actual_raw,
        "ratio": np.where(cumulative, ratio, point_ratio),
        "forecast": forecast,
        "likelihood": likelihood,
        **reasons,
    })


def _measure_day(start: np.ndarray, end: np.ndarray, month: int) -> np.ndarray:
    """When a point measure (percent, unit value) is due: the end of `month` in the period's last year, or the
    period end if that comes first."""
    year = end.astype("datetime64[Y]")
    month_start = year.astype("datetime64[M]") + np.timedelta64(month - 1, "M")
    last = (month_start + np.timedelta64(1, "M")).astype("datetime64[D]") - DAY
    return np.minimum(last, end)


def _measured_reasons(*, rule, df, actual, target, expected, ratio, point_ratio, forecast, cmp, unit, rep_day,
                      cumulative, lower, as_of, measure_day, staleness, blue_at, upper) -> dict[str, np.ndarray]:
    """One short sentence per row and language, by rule (`rules.reasons`): the figures are rendered once for all
    rows (once per distinct value, see `fmt_number`), then each rule's rows get their phrase by array
    concatenation."""
    def text(values) -> np.ndarray:
        return np.asarray(values, dtype=object)

    out = Reasons(len(df))
    today = {lang: day[0] for lang, day in dates(np.full(1, np.datetime64(as_of, "D"))).items()}
    actual_all = text(fmt_number(actual, unit))
    expected_all = text(fmt_number(expected, unit))
    target_num = text(fmt_number(target, unit))
    plain = text(pd.Series(cmp).map(SYMBOL).fillna("")) + target_num
    target_all: dict[str, np.ndarray] | np.ndarray = plain
    cap_all = target_num
    ranged = cmp == RANGE
    if ranged.any():  # "90%至95%"; over a range is over its upper bound
        upper_num = text(fmt_number(upper, unit))
        spans = say("range", len(df), lower=target_num, upper=upper_num)
        target_all = {lang: np.where(ranged, spans[lang], plain) for lang in spans}
        cap_all = np.where(ranged, upper_num, target_num)
    day_all = dates(rep_day, as_of.year)
    word_all = words(np.where(cumulative, np.where(lower, "word_total", "word_done"), "word_reported"))

    for group in np.unique(rule):
        idx = np.flatnonzero(rule == group)
        cum, lo = cumulative[idx], lower[idx]
        if group == 0:  # nothing reported, something expected
            out.put(idx[cum], "no_report_cumulative", today=today, expected=expected_all[idx[cum]])
            out.put(idx[~cum], "no_report_point", today=today, target=subset(target_all, idx[~cum]))
            continue
        if group == 1:
            out.put(idx[cum], "not_due_cumulative", today=today)
            out.put(idx[~cum], "not_due_point", measure_day=dates(measure_day[idx[~cum]]))
            continue
        a, e, t, cap = actual_all[idx], expected_all[idx], subset(target_all, idx), cap_all[idx]
        head = say("head", len(idx), day=subset(day_all, idx), word=subset(word_all, idx), actual=a)
        if group == 2:
            out.put(idx, "over_cap", head=head, cap=cap)
        elif group == 3:
            out.put(idx, "blue", head=head, share=text(fmt_percent(actual[idx] / target[idx] * 100)),
                    blue_at=f"{blue_at:g}")
        elif group in (4, 5):
            out.put(idx[lo], "within_cap", head=subset(head, lo), cap=cap[lo])
            out.put(idx[~lo], "met", head=subset(head, ~lo), target=subset(t, ~lo))
        elif group == 6:
            out.put(idx, "stale", head=head, day=subset(day_all, idx), word=subset(word_all, idx), actual=a,
                    days=day_counts(np.full(len(idx), staleness)))
        elif group == 7:
            out.put(idx, "forecast_over", head=head, forecast=text(fmt_number(forecast[idx], unit[idx])), cap=cap)
        elif group in (10, 11):
            out.put(idx, "point_short", head=head, target=t, share=text(fmt_percent(point_ratio[idx])))
        elif group in (12, 13):
            out.put(idx, "progress_short", head=head, expected=e, share=text(fmt_percent(ratio[idx])))
        else:  # 8 reported 0, 9 nothing expected yet, 14 on track
            out.put(idx[cum], "on_track_cumulative", head=subset(head, cum), expected=e[cum])
            out.put(idx[~cum], "on_track_point", head=subset(head, ~cum), target=subset(t, ~cum))
    return out.columns()


def _scheduled(ind: pd.DataFrame, occurrences: pd.DataFrame, reports: pd.DataFrame, as_of: date,
               s: EvaluationSettings) -> pd.DataFrame:
    if ind.empty:
        return ind
    today = np.datetime64(as_of, "D")
    occ = occurrences[occurrences["indicator_id"].isin(ind["indicator_id"])][["indicator_id", "start", "due"]]
    occ = occ.assign(start=as_days(occ["start"]), due=as_days(occ["due"]))
    occ = occ.sort_values(["indicator_id", "due"], kind="stable")
    started = occ["start"].to_numpy() <= today
    upcoming = occ[~started].drop_duplicates("indicator_id", keep="first")
    occ = pd.concat([occ[started], upcoming]).sort_values(["indicator_id", "due"], kind="stable")
    no_dates = ind[~ind["indicator_id"].isin(occ["indicator_id"])]
    occ = occ.merge(ind[["indicator_id", "project_id", "kind"]], on="indicator_id", how="inner")

    done = _completions(occ, reports)
    occ = occ.merge(done, on=["indicator_id", "due"], how="left")
    due = occ["due"].to_numpy()
    start = occ["start"].to_numpy()
    completed = as_days(occ["completed_on"])
    is_done = ~np.isnat(completed)
    days_left = ((due - today) / DAY).astype(np.int64)
    window = (occ["kind"] == "window").to_numpy()
    conds = [is_done, start > today, (due < today) & window, due < today, days_left <= s.warning_days]
    rule = np.select(conds, np.arange(len(conds)), len(conds))
    light = np.array(["green", "grey", "red", "red", "yellow", "grey"], dtype=object)[rule]
    status = np.array(["met", "not_due", "missed", "overdue", "due_soon", "not_due"], dtype=object)[rule]
    likelihood = np.array([CERTAIN, None, IMPOSSIBLE, POSSIBLE, POSSIBLE, None], dtype=object)[rule]

    due_all = dates(due, as_of.year)
    reasons = Reasons(len(occ))
    for group in np.unique(rule):
        idx = np.flatnonzero(rule == group)
        d = subset(due_all, idx)
        if group == 0:
            late = ((completed[idx] - due[idx]) / DAY).astype(np.int64)
            done = say("done", len(idx), completed=dates(completed[idx], as_of.year), due=d)
            if (late > 0).any():
                late_done = say("done_late", len(idx), completed=dates(completed[idx], as_of.year), due=d,
                                days=day_counts(late))
                done = {lang: np.where(late > 0, late_done[lang], done[lang]) for lang in done}
            reasons.set(idx, done)
        elif group == 1:
            reasons.put(idx, "not_started", start=dates(start[idx], as_of.year), due=d)
        elif group == 2:
            reasons.put(idx, "window_closed", start=dates(start[idx], as_of.year), due=d)
        elif group == 3:
            reasons.put(idx, "overdue", due=d, days=day_counts(-days_left[idx]))
        elif group == 4:
            left = days_left[idx] > 0
            reasons.put(idx[left], "due_soon", due=subset(d, left), days=day_counts(days_left[idx][left]))
            reasons.put(idx[~left], "due_today", due=subset(d, ~left))
        else:
            reasons.put(idx, "due_later", due=d)
    out = pd.DataFrame({
        "indicator_id": occ["indicator_id"].to_numpy(),
        "project_id": occ["project_id"].to_numpy(),
        "occurrence": occurrence_keys(due),
        "light": light,
        "status": status,
        "expected": np.nan,
        "actual": np.nan,
        "ratio": np.nan,
        "forecast": np.nan,
        "likelihood": likelihood,
        **reasons.columns(),
    })
    if len(no_dates):
        out = pd.concat([out, _unparsed(no_dates, "cause_no_dates")], ignore_index=True)
    return out


def _completions(occ: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """The earliest completion per (indicator, occurrence due date). A report naming its occurrence counts for
    that one; a report without one counts for the first occurrence due on or after its completion date (or, if
    it came after all of them, for the last one, late)."""
    empty = pd.DataFrame({"indicator_id": pd.Series(dtype=occ["indicator_id"].dtype),
                          "due": pd.Series(dtype="datetime64[s]"), "completed_on": pd.Series(dtype="datetime64[s]")})
    if reports.empty or "completed_on" not in reports:
        return empty
    done = reports[reports["completed_on"].notna() & reports["indicator_id"].isin(occ["indicator_id"])]
    if done.empty:
        return empty
    done = done.assign(completed_on=as_days(done["completed_on"]).astype("datetime64[s]"),
                       occurrence_due=as_days(done["occurrence_due"]).astype("datetime64[s]"))
    named = done[done["occurrence_due"].notna()][["indicator_id", "occurrence_due", "completed_on"]]
    named = named.rename(columns={"occurrence_due": "due"})
    loose = done[done["occurrence_due"].isna()][["indicator_id", "completed_on"]]
    if len(loose):
        keys = occ[["indicator_id", "due"]].assign(due=lambda f: f["due"].astype("datetime64[s]"))
        keys = keys.sort_values("due", kind="stable")
        loose = loose.sort_values("completed_on", kind="stable")
        ahead = pd.merge_asof(loose, keys, left_on="completed_on", right_on="due", by="indicator_id",
                              direction="forward")
        late = pd.merge_asof(loose, keys, left_on="completed_on", right_on="due", by="indicator_id",
                             direction="backward")  # done after the last due date: counts for that one, late
        ahead["due"] = ahead["due"].fillna(late["due"])
        named = pd.concat([named, ahead.dropna(subset=["due"])[["indicator_id", "due", "completed_on"]]],
                          ignore_index=True)
    named = named.assign(due=named["due"].astype("datetime64[s]"))
    first = named.groupby(["indicator_id", "due"], as_index=False)["completed_on"].min()
    first["due"] = as_days(first["due"])
    return first


def _qualitative(ind: pd.DataFrame, reports: pd.DataFrame, as_of: date, s: EvaluationSettings) -> pd.DataFrame:
    if ind.empty:
        return ind
    latest = _latest(reports, "grade", ind["indicator_id"])[["indicator_id", "grade", "fact"]]
    df = ind.merge(latest, on="indicator_id", how="left")
    today = np.datetime64(as_of, "D")
    grade = df["grade"].to_numpy(dtype=object)
    graded = df["grade"].isin(list(GRADE_LIGHTS)).to_numpy()
    end = as_days(df["end"])
    near_end = (end - today) / DAY <= s.needs_grade_days
    grades = df["grade"].astype(object)
    light = np.where(graded, grades.map({g: v[0] for g, v in GRADE_LIGHTS.items()}).to_numpy(dtype=object), "grey")
    status = np.where(graded, grades.map({g: v[1] for g, v in GRADE_LIGHTS.items()}).to_numpy(dtype=object),
                      np.where(near_end, "needs_grade", "not_due"))
    likelihood = np.where(graded, grades.map({g: v[2] for g, v in GRADE_LIGHTS.items()}).to_numpy(dtype=object),
                          None)
    reasons = Reasons(len(df))
    rows = np.arange(len(df))
    named = pd.Series(grade[graded], dtype=object)
    reasons.put(rows[graded], "graded", grade={"zh": named.astype(str).to_numpy(dtype=object),
                                              "en": named.map(GRADES_EN).to_numpy(dtype=object)})
    reasons.put(rows[~graded & near_end], "needs_grade")
    reasons.put(rows[~graded & ~near_end], "grade_later")
    return pd.DataFrame({
        "indicator_id": df["indicator_id"].to_numpy(),
        "project_id": df["project_id"].to_numpy(),
        "occurrence": NO_OCCURRENCE,
        "light": light,
        "status": status,
        "expected": np.nan,
        "actual": np.nan,
        "ratio": np.nan,
        "forecast": np.nan,
        "likelihood": likelihood,
        **reasons.columns(),
    })


def _unparsed(ind: pd.DataFrame, why: str = "cause_unreadable") -> pd.DataFrame:
    """Grey `unparsed`; the cause is the grammar's own note on the 指标值 where it left one, in each language (a note
    no longer written, from an older grammar, says the phrase `why` names in English), else that phrase."""
    if ind.empty:
        return ind
    n = len(ind)
    text = ind["value_text"].fillna("").astype(str) if "value_text" in ind else pd.Series("", index=ind.index)
    noted = (ind["parse_reason"].to_numpy(dtype=object) if "parse_reason" in ind and why == "cause_unreadable"
             else np.full(n, None, dtype=object))
    given = pd.notna(noted)
    english = np.array([note_en(v) if isinstance(v, str) else None for v in noted], dtype=object)
    cause = {"zh": np.where(given, noted, PHRASES[why]["zh"]).astype(object),
             "en": np.where(given & pd.notna(english), english, PHRASES[why]["en"]).astype(object)}
    reasons = columns(say("unparsed", n, text=text, cause=cause))
    return pd.DataFrame({
        "indicator_id": ind["indicator_id"].to_numpy(),
        "project_id": ind["project_id"].to_numpy(),
        "occurrence": NO_OCCURRENCE,
        "light": "grey",
        "status": "unparsed",
        "expected": np.nan,
        "actual": np.nan,
        "ratio": np.nan,
        "forecast": np.nan,
        "likelihood": None,
        **reasons,
    })
