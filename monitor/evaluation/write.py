"""Write one chunk's results: upsert the current states, append a change row only where a light or status
moved, upsert the project states. Bulk statements only: `INSERT … ON CONFLICT` through the driver's
executemany on SQLite, COPY into a temporary table and one `INSERT … SELECT … ON CONFLICT` on PostgreSQL (states
the chunk had none of yet, COPY straight into the table), and delete-then-insert for any other database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy.engine import Connection

from monitor.store.bulk import driver_connection

STATE_COLUMNS = ["indicator_id", "occurrence", "light", "status", "expected", "actual", "ratio",
                 "forecast", "likelihood", "reason", "reason_en", "since", "run_id"]
CHANGE_COLUMNS = ["indicator_id", "occurrence", "as_of", "light", "status", "previous_light", "previous_status",
                  "reason", "reason_en", "run_id"]
PROJECT_COLUMNS = ["project_id", "as_of", "light", "budget_light", "spent", "execution_rate", "execution_ratio",
                   "forecast_spent", "reason", "reason_en", "run_id"]
# What each column's values are in Python, for COPY (`Copy.set_types`): told once instead of looked up for every
# value, copying a state costs about a quarter less. Text COPY sends text, so the server still parses each value
# by its column's own type (the ISO dates go as text, the measures as float8 into NUMERIC).
COPY_TYPES = {
    "indicatorstate": ["int8", "text", "text", "text", "float8", "float8", "float8", "float8", "text", "text", "text",
                       "text", "int8"],
    "indicatorstatechange": ["int8", "text", "text", "text", "text", "text", "text", "text", "text", "int8"],
    "projectstate": ["int8", "text", "text", "text", "numeric", "float8", "float8", "numeric", "text", "text", "int8"],
}


def _measure(values: pd.Series) -> list:
    """Measures rounded to the column's 6 decimals; NaN → NULL."""
    arr = np.round(values.to_numpy(dtype=np.float64), 6)
    return [None if v != v else float(v) for v in arr.tolist()]


def _nullable(values: pd.Series) -> list:
    """Missing values (NaN, NA, None, whatever the dtype) as None, so every driver writes NULL."""
    return values.astype(object).where(values.notna(), None).tolist()


def _money(values: pd.Series, dialect: str) -> list:
    """元 with two places, as exact Decimals (as text for SQLite's driver, which has no decimal type): money
    never goes to the database as a float."""
    exact = Decimal if dialect != "sqlite" else str
    return [None if v != v else exact(Decimal(f"{v:.2f}")) for v in values.to_numpy(dtype=np.float64).tolist()]


MEASURES = ["expected", "actual", "ratio", "forecast"]


def merge_previous(states: pd.DataFrame, previous: pd.DataFrame, as_of: date
                   ) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    """(states with `since` and `rewrite` — whether the stored row differs beyond its date —, the changes to
    append, ids of previous rows that no longer exist)."""
    prev = previous.rename(columns={"id": "prev_id", "light": "previous_light", "status": "previous_status",
                                    "since": "prev_since", "reason": "prev_reason", "reason_en": "prev_reason_en",
                                    "likelihood": "prev_likelihood",
                                    **{m: f"prev_{m}" for m in MEASURES}})
    merged = states.merge(prev, on=["indicator_id", "occurrence"], how="left")
    changed = (merged["previous_light"].isna() | (merged["light"] != merged["previous_light"])
               | (merged["status"] != merged["previous_status"])).to_numpy()
    merged["since"] = np.where(changed | merged["prev_since"].isna(), as_of.isoformat(), merged["prev_since"])
    rewrite = changed | (merged["reason"] != merged["prev_reason"]).to_numpy()
    # a state stored before reasons were kept in English (NULL) gets its English on the next run
    rewrite |= (merged["reason_en"] != merged["prev_reason_en"].fillna("")).to_numpy()
    rewrite |= (merged["likelihood"].fillna("") != merged["prev_likelihood"].fillna("")).to_numpy()
    for m in MEASURES:
        new = np.round(merged[m].to_numpy(dtype=np.float64), 6)
        old = merged[f"prev_{m}"].to_numpy(dtype=np.float64)
        rewrite |= ~((new == old) | (np.isnan(new) & np.isnan(old))) & ~np.isclose(new, old, rtol=0, atol=5e-7)
    merged["rewrite"] = rewrite
    changes = merged[changed]
    if len(previous):
        gone = previous[~previous.set_index(["indicator_id", "occurrence"]).index.isin(
            states.set_index(["indicator_id", "occurrence"]).index)]["id"]
    else:
        gone = previous["id"] if "id" in previous else pd.Series(dtype="int64")
    return merged, changes, [int(i) for i in gone]


def write_states(conn: Connection, states: pd.DataFrame, previous: pd.DataFrame, projects: pd.DataFrame, *,
                 as_of: date, run_id: int | None) -> dict[str, int]:
    """Write one chunk's results: only states whose light, status, numbers or reason differ are
    rewritten, in bulk. The as-of date is written once a project (`projectstate`), not on every state: the
    UPDATE of every state's date that this replaced was most of PostgreSQL's daily run (each updated row is a
    new row version there)."""
    merged, changes, gone = merge_previous(states, previous, as_of)
    day = as_of.isoformat()
    if gone:
        conn.exec_driver_sql(_param_sql(conn, "DELETE FROM indicatorstate WHERE id = ?"), [(i,) for i in gone])
    out = merged[merged["rewrite"].to_numpy()]
    state_rows = list(zip(
        out["indicator_id"].astype(int).tolist(), out["occurrence"].tolist(), out["light"].tolist(),
        out["status"].tolist(), _measure(out["expected"]),
        _measure(out["actual"]), _measure(out["ratio"]), _measure(out["forecast"]),
        _nullable(out["likelihood"]), out["reason"].tolist(), out["reason_en"].tolist(), out["since"].tolist(),
        [run_id] * len(out),
        strict=True,
    ))
    fresh = out["prev_id"].isna().to_numpy()
    _insert_new(conn, "indicatorstate", STATE_COLUMNS, ["indicator_id", "occurrence"],
                [row for row, new in zip(state_rows, fresh, strict=True) if new])
    _upsert(conn, "indicatorstate", STATE_COLUMNS, ["indicator_id", "occurrence"],
            [row for row, new in zip(state_rows, fresh, strict=True) if not new])
    change_rows = list(zip(
        changes["indicator_id"].astype(int).tolist(), changes["occurrence"].tolist(), [day] * len(changes),
        changes["light"].tolist(), changes["status"].tolist(),
        _nullable(changes["previous_light"]), _nullable(changes["previous_status"]),
        changes["reason"].tolist(), changes["reason_en"].tolist(), [run_id] * len(changes),
        strict=True,
    ))
    if change_rows:
        _insert(conn, "indicatorstatechange", CHANGE_COLUMNS, change_rows)
    project_rows = list(zip(
        projects["project_id"].astype(int).tolist(), [day] * len(projects), projects["light"].tolist(),
        projects["budget_light"].tolist(), _money(projects["spent"], conn.dialect.name),
        _measure(projects["execution_rate"]), _measure(projects["execution_ratio"]),
        _money(projects["forecast_spent"], conn.dialect.name), projects["reason"].tolist(),
        projects["reason_en"].tolist(), [run_id] * len(projects),
        strict=True,
    ))
    _upsert(conn, "projectstate", PROJECT_COLUMNS, ["project_id"], project_rows)
    return {"states": len(merged), "rewritten": len(state_rows), "changes": len(change_rows), "removed": len(gone),
            "projects": len(project_rows)}


def _param_sql(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def _insert(conn: Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    if conn.dialect.name == "postgresql":
        with driver_connection(conn).cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.set_types(COPY_TYPES[table])
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(_param_sql(conn, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"), rows)


def _upsert(conn: Connection, table: str, columns: list[str], key: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    dialect = conn.dialect.name
    if dialect == "postgresql":
        _copy_upsert(conn, table, columns, conflict, rows)
    elif dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}", rows)
    else:  # portable: remove the rows with these keys, then insert them afresh
        where = " AND ".join(f"{k} = ?" for k in key)
        positions = [columns.index(k) for k in key]
        conn.exec_driver_sql(_param_sql(conn, f"DELETE FROM {table} WHERE {where}"),
                             [tuple(r[p] for p in positions) for r in rows])
        _insert(conn, table, columns, rows)


def _insert_new(conn: Connection, table: str, columns: list[str], key: list[str], rows: list[tuple]) -> None:
    """Rows whose keys the chunk's read found nowhere (a first evaluation: all of them). On PostgreSQL they are
    copied straight into the table, which costs about two thirds of the staged upsert; should another writer have
    stored one of those keys since (a report's re-evaluation), the copy is undone to its savepoint and the rows are
    upserted after all."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        _upsert(conn, table, columns, key, rows)
        return
    try:
        with conn.begin_nested():
            _insert(conn, table, columns, rows)
    except psycopg.errors.UniqueViolation:
        _upsert(conn, table, columns, key, rows)


def _copy_upsert(conn: Connection, table: str, columns: list[str], conflict: str, rows: list[tuple]) -> None:
    names = ", ".join(columns)
    staging = f"_stage_{table}"
    with driver_connection(conn).cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
                    f"SELECT {names} FROM {table} WITH NO DATA")
        cur.execute(f"DELETE FROM {staging}")
        with cur.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            copy.set_types(COPY_TYPES[table])
            for row in rows:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} {conflict}")
        cur.execute(f"DELETE FROM {staging}")
