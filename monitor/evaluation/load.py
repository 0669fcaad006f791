"""Read what the evaluation needs, one chunk of projects at a time, as plain DataFrames.

Plain SQL through pandas: numbers come as floats (CAST … AS DOUBLE PRECISION, so SQLite and PostgreSQL give
the same dtype without building a Decimal per row) and dates as ISO text. Only the columns the rules use are
read, and the long texts only where a rule needs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from monitor.store.bulk import driver_connection
from monitor.store.facts import in_force_frame
from monitor.store.models import Indicator
from monitor.store.target_versions import adjusted_targets
from rules.calendar import SHANGHAI
from rules.targets import RANGE, Target
from rules.terms import MEASURED_KINDS, QUALITATIVE, SCHEDULED_KINDS

_SCHEDULED = ", ".join(f"'{k}'" for k in SCHEDULED_KINDS)


@dataclass
class Chunk:
    projects: pd.DataFrame
    indicators: pd.DataFrame
    occurrences: pd.DataFrame
    reports: pd.DataFrame
    spending: pd.DataFrame
    adjustments: pd.DataFrame


def project_chunks(engine: Engine, size: int, *, department_id: int | None = None) -> Iterator[tuple[int, int]]:
    """(first, last) project id of consecutive chunks of at most `size` projects."""
    where = "WHERE department_id = :dept" if department_id is not None else ""
    with engine.connect() as conn:
        ids = pd.read_sql_query(text(f"SELECT id FROM project {where} ORDER BY id"), conn,
                                params={"dept": department_id})["id"].to_numpy()
    for i in range(0, len(ids), size):
        part = ids[i:i + size]
        yield int(part[0]), int(part[-1])


def department_id(engine: Engine, code: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM department WHERE code = :code"), {"code": code}).scalar()


def _days(series: pd.Series) -> pd.Series:
    """ISO dates as datetime64, converting each distinct text once (a few hundred days, millions of rows)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[s]")
    days = pd.to_datetime(pd.Series(uniques), format="ISO8601", errors="coerce").to_numpy().astype("datetime64[s]")
    out = np.where(codes >= 0, days[np.maximum(codes, 0)], np.datetime64("NaT", "s"))
    return pd.Series(out, index=series.index, dtype="datetime64[s]")


def query_frame(conn: Connection, sql: str, params: dict, types: str) -> pd.DataFrame:
    """Run `sql` on the raw driver cursor and build the frame column by column.

    `types` has one letter per selected column: "i" integer, "f" float (NULL → NaN; also for nullable ids),
    "o" anything else. Skipping SQLAlchemy's row objects and pandas' row-wise constructor is what makes reading
    millions of rows cheap; the column names come from the cursor.
    """
    raw = driver_connection(conn)
    if conn.dialect.name != "sqlite":
        sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    cur = raw.cursor()
    try:
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        cur.close()
    if len(names) != len(types):
        raise ValueError(f"{len(names)} columns but types {types!r}")
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=True, nrows=len(rows))
    for name, kind in zip(names, types, strict=True):
        column = frame[name]
        if kind == "i" and column.dtype != np.int64:
            frame[name] = column.astype(np.int64)
        elif kind == "f" and column.dtype != np.float64:
            frame[name] = pd.to_numeric(column, errors="coerce").astype(np.float64)
        elif kind == "o" and column.dtype != object:
            frame[name] = column.astype(object)
    return frame


def _local_days(series: pd.Series) -> pd.Series:
    """Aware instants (objects or text with offsets) as Shanghai calendar days."""
    if series.isna().all():
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[s]")
    try:  # SQLite keeps the wall-clock time without its offset: that is already Shanghai time
        stamps = pd.to_datetime(series, errors="coerce", format="mixed")
    except (TypeError, ValueError):
        stamps = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(SHANGHAI).dt.tz_localize(None)
    return stamps.dt.normalize().astype("datetime64[s]")


def _scope(department_id: int | None, only: Collection[int] | None) -> str:
    """The SQL that narrows a chunk's projects `p` to a department, or to a set of ids (written out: they are
    ints, and a handful)."""
    dept = " AND p.department_id = :dept" if department_id is not None else ""
    return dept + (f" AND p.id IN ({', '.join(str(int(i)) for i in sorted(only))})" if only else "")


def read_rows(conn: Connection, lo: int, hi: int, *, halves: Sequence[str], department_id: int | None = None,
              only: Collection[int] | None = None,
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The raw rows of one chunk, as the database gives them (the benchmark's read-only baseline): projects,
    indicators, reports, spending and budget adjustments; with `only`, of those of its projects alone."""
    params = {"lo": lo, "hi": hi, "dept": department_id}
    dept = _scope(department_id, only)
    halves_sql = ", ".join(f"'{h}'" for h in halves if h.isalnum())
    projects = query_frame(conn, f"""
        SELECT p.id AS project_id, p.department_id, d.code AS department_code, d.name AS department,
               p.name AS project, b.year, p.plan_start, p.plan_end,
               CAST(p.annual_funds AS DOUBLE PRECISION) AS annual_funds
        FROM project p JOIN budgetyear b ON b.id = p.budget_year_id JOIN department d ON d.id = p.department_id
        WHERE p.id BETWEEN :lo AND :hi{dept}""", params, "iioooioof")
    indicators = query_frame(conn, f"""
        SELECT i.id AS indicator_id, i.project_id, i.kind, i.comparator,
               CAST(i.target_value AS DOUBLE PRECISION) AS target_value, i.unit, i.direction, i.name, i.level2,
               i.parse_reason,
               CASE WHEN i.kind IS NULL OR i.kind NOT IN ('quantity', 'percent', 'qualitative')
                         OR i.target_value IS NULL AND i.kind IN ('quantity', 'percent')
                    THEN i.value_text END AS value_text,
               CASE WHEN i.kind IN ({_SCHEDULED}) OR i.comparator = '{RANGE}' THEN CAST(i.target_json AS TEXT)
                    END AS target_json
        FROM indicator i JOIN project p ON p.id = i.project_id
        WHERE i.project_id BETWEEN :lo AND :hi AND i.half IN ({halves_sql}){dept}""", params, "iioofooooooo")
    reports = query_frame(conn, f"""
        SELECT r.id, r.indicator_id, r.supersedes_id, CAST(r.value AS DOUBLE PRECISION) AS value,
               CAST(r.as_of AS TEXT) AS as_of, CAST(r.occurrence_due AS TEXT) AS occurrence_due,
               CAST(r.completed_on AS TEXT) AS completed_on, r.grade,
               CAST(r.forecast AS DOUBLE PRECISION) AS forecast,
               CASE WHEN r.as_of IS NULL AND r.completed_on IS NULL THEN r.created_at END AS created_at
        FROM report r JOIN indicator i ON i.id = r.indicator_id JOIN project p ON p.id = i.project_id
        WHERE i.project_id BETWEEN :lo AND :hi AND i.half IN ({halves_sql}){dept}""", params, "iiffoooofo")
    spending = query_frame(conn, f"""
        SELECT s.id, s.project_id, s.supersedes_id, CAST(s.amount AS DOUBLE PRECISION) AS amount,
               CAST(s.as_of AS TEXT) AS as_of
        FROM spending s JOIN project p ON p.id = s.project_id
        WHERE s.project_id BETWEEN :lo AND :hi{dept}""", params, "iiffo")
    adjustments = query_frame(conn, f"""
        SELECT a.id, a.project_id, a.supersedes_id, CAST(a.amount AS DOUBLE PRECISION) AS amount,
               CAST(a.effective_on AS TEXT) AS effective_on
        FROM budgetadjustment a JOIN project p ON p.id = a.project_id
        WHERE a.project_id BETWEEN :lo AND :hi{dept}""", params, "iiffo")
    return projects, indicators, reports, spending, adjustments


def load_chunk(conn: Connection, lo: int, hi: int, *, halves: Sequence[str] = ("annual",),
               department_id: int | None = None, as_of: date | None = None, only: Collection[int] | None = None,
               ) -> Chunk:
    """One chunk, ready for the rules; with `as_of`, each indicator carries the target in force that day (an
    approved target adjustment effective by then replaces the imported one), so a replay before the adjustment's
    day judges against the old target and one after it against the new."""
    projects, indicators, reports, spending, adjustments = read_rows(conn, lo, hi, halves=halves,
                                                                     department_id=department_id, only=only)
    if as_of is not None:
        _use_targets_in_force(conn, indicators, lo, hi, as_of)
    projects["plan_start"] = _local_days(projects["plan_start"])
    projects["plan_end"] = _local_days(projects["plan_end"])
    reports = in_force_frame(reports)
    reports = reports.assign(
        as_of=_days(reports["as_of"]),
        occurrence_due=_days(reports["occurrence_due"]),
        completed_on=_days(reports["completed_on"]),
        created_on=_local_days(reports["created_at"]),
    ).drop(columns=["created_at", "supersedes_id"])
    spending = in_force_frame(spending).assign(as_of=lambda f: _days(f["as_of"])).drop(columns=["supersedes_id"])
    adjustments = (in_force_frame(adjustments).assign(effective_on=lambda f: _days(f["effective_on"]))
                   .drop(columns=["supersedes_id"]))
    occurrences = _occurrences(indicators)
    indicators = indicators.assign(target_upper=_upper_bounds(indicators)).drop(columns=["target_json"])
    return Chunk(projects, indicators, occurrences, reports, spending, adjustments)


_MEASURED_OR_GRADED = (*MEASURED_KINDS, QUALITATIVE)


def _use_targets_in_force(conn: Connection, indicators: pd.DataFrame, lo: int, hi: int, as_of: date) -> None:
    """Overwrite, in place, the target columns of the indicators an approved adjustment changed by `as_of`, with
    the columns `read_rows` would have read had the adjusted target been imported (the same conditional texts)."""
    if indicators.empty:
        return
    ids = select(col(Indicator.id)).where(col(Indicator.project_id).between(lo, hi)).scalar_subquery()
    versions = adjusted_targets(conn, ids, as_of)
    if not versions:
        return
    rows = pd.Index(indicators["indicator_id"]).get_indexer(list(versions))
    for version, row in zip(versions.values(), rows, strict=True):
        if row < 0:  # a half the evaluation does not read
            continue
        target = version.target
        stored = Indicator.target_columns(target)
        kind, value = stored["kind"], stored["target_value"]
        needs_text = kind not in _MEASURED_OR_GRADED or (value is None and kind in MEASURED_KINDS)
        needs_json = kind in SCHEDULED_KINDS or stored["comparator"] == RANGE
        changed = {"kind": kind, "comparator": stored["comparator"],
                   "target_value": np.nan if value is None else float(value), "unit": stored["unit"],
                   "direction": stored["direction"], "parse_reason": stored["parse_reason"],
                   "value_text": target.text if needs_text else None,
                   "target_json": json.dumps(stored["target_json"], ensure_ascii=False) if needs_json else None}
        for name, new in changed.items():
            indicators.iat[row, indicators.columns.get_loc(name)] = new


def _upper_bounds(indicators: pd.DataFrame) -> np.ndarray:
    """A range's upper bound from its stored reading (each distinct text decoded once); NaN for other targets."""
    ranged = ((indicators["comparator"] == RANGE) & indicators["target_json"].notna()).to_numpy()
    codes, uniques = pd.factorize(indicators["target_json"][ranged])
    bounds = [Target.from_json(json.loads(raw)).upper for raw in uniques]
    upper = np.full(len(indicators), np.nan)
    upper[ranged] = np.array([np.nan if b is None else float(b) for b in bounds] + [np.nan])[codes]
    return upper


def _occurrences(indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per occurrence of the stored targets (`target_json`, each distinct text decoded once).

    An import writes `target_json` and `kind` from one reading, so a timed row always has its occurrences stored;
    the verbatim 指标值 is never parsed here."""
    timed = indicators[indicators["kind"].isin(SCHEDULED_KINDS) & indicators["target_json"].notna()]
    codes, uniques = pd.factorize(timed["target_json"])
    rows = [(code, occ.start, occ.due) for code, raw in enumerate(uniques)
            for occ in Target.from_json(json.loads(raw)).occurrences]
    table = pd.DataFrame({
        "code": np.array([r[0] for r in rows], dtype=np.int64),
        "start": np.array([r[1] for r in rows], dtype="datetime64[D]").astype("datetime64[s]"),
        "due": np.array([r[2] for r in rows], dtype="datetime64[D]").astype("datetime64[s]"),
    })
    return (pd.DataFrame({"indicator_id": timed["indicator_id"].to_numpy(dtype=np.int64), "code": codes})
            .merge(table, on="code")[["indicator_id", "start", "due"]])


def previous_states(conn: Connection, lo: int, hi: int, department_id: int | None = None,
                    only: Collection[int] | None = None) -> pd.DataFrame:
    """The stored states of a chunk (with `only`, of those of its projects), with everything a new state is
    compared against."""
    dept = _scope(department_id, only)
    return query_frame(conn, f"""
        SELECT s.id, s.indicator_id, s.occurrence, s.light, s.status, CAST(s.since AS TEXT) AS since,
               CAST(s.expected AS DOUBLE PRECISION) AS expected, CAST(s.actual AS DOUBLE PRECISION) AS actual,
               CAST(s.ratio AS DOUBLE PRECISION) AS ratio, CAST(s.forecast AS DOUBLE PRECISION) AS forecast,
               s.likelihood, s.reason, s.reason_en
        FROM indicatorstate s JOIN indicator i ON i.id = s.indicator_id JOIN project p ON p.id = i.project_id
        WHERE i.project_id BETWEEN :lo AND :hi{dept}""", {"lo": lo, "hi": hi, "dept": department_id},
                       "iioooo" + "ffff" + "ooo")
