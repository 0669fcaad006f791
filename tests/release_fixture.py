"""Stores of a released schema with real data in every table: what an upgrade must carry over unharmed.

`tests/data/release_<version>.sql` holds plain INSERT statements (one per row, parents before children) taken
from a SQLite store that the released kpiwatch itself filled, trimmed to a few rows per table plus every row
they reference. `load(url, fixture)` creates that release's schema with its own revision (`REVISIONS`) and
inserts the rows, on SQLite or PostgreSQL alike.

How `release_0_1_0.sql` was made, with kpiwatch 0.1.0 (revision 0001), in an empty folder: `kpiwatch demo
--no-serve --dir store`; then, on that store (`KPIWATCH_DATABASE_URL`) with an SMTP sink on 127.0.0.1:8025
(`python -m aiosmtpd -n -l 127.0.0.1:8025`): `kpiwatch tokens create` (two), `kpiwatch notify --as-of 2024-07-31`
(sent), `kpiwatch notify --as-of 2024-08-01 --no-send`, `kpiwatch report score --indicator 18 --explanation …`,
a corrected report and a corrected spending (`monitor.progress.service.record_reports` / `record_spending`
with `supersedes_id`), an acknowledgement and two waivers, one revoked (`monitor.notify.actions`),
`kpiwatch scheduler --run-seconds 70` (the job store, a job lease, job runs), and with the SMTP port closed
and `max_attempts = 1`: `kpiwatch evaluate --as-of 2024-08-05`, `kpiwatch notify --as-of 2024-08-05`
(failed), `kpiwatch evaluate --as-of 2024-08-06`, `kpiwatch notify --as-of 2024-08-06 --no-send` (pending).
Then `python -m tests.release_fixture store/kpiwatch.sqlite > tests/data/release_0_1_0.sql`, with the seed
documents' paths (the checkout's) replaced by an installed kpiwatch's. At the next release, do the same with that
release's code and add its file and revision to `REVISIONS`.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Boolean, MetaData, create_engine, select, text
from sqlalchemy.engine import Engine

from monitor.store.db import make_engine
from monitor.store.migrate import upgrade

DATA = Path(__file__).parent / "data"
# Each released fixture and the schema revision of that release.
REVISIONS = {"release_0_1_0.sql": "0001"}
PREVIOUS_RELEASE = DATA / "release_0_1_0.sql"

ROWS_PER_TABLE = 3
FIRST = {"outboxmessage": 0}  # only the shortest message of each status: a digest's HTML is 130 KB
# Rows every fixture keeps beyond the first few of each table: one of each kind that an upgrade must not lose.
KEEP = {
    "department": "1 = 1",
    "user": "1 = 1",
    "outboxmessage": "id IN (SELECT (SELECT id FROM outboxmessage WHERE status = o.status "
                     "ORDER BY length(raw), id LIMIT 1) FROM outboxmessage o)",
    "auditevent": "id IN (SELECT min(id) FROM auditevent GROUP BY action, entity)",
    "report": "supersedes_id IS NOT NULL",
    "spending": "supersedes_id IS NOT NULL",
    "waiver": "1 = 1",
    "apscheduler_jobs": "1 = 1",
    "indicatorstatechange": "id IN (SELECT min(id) FROM indicatorstatechange WHERE previous_light IS NOT NULL)",
}
_BYTES = re.compile(r"(?<=[(,] )X'([0-9A-F]*)'|(?<=\()X'([0-9A-F]*)'")


def dump(sqlite_path: Path) -> str:
    """The fixture text of a SQLite store: a few rows of every table and, recursively, every row they reference."""
    engine = create_engine(f"sqlite:///{sqlite_path}")
    schema = MetaData()
    schema.reflect(engine)
    tables = [t for t in schema.sorted_tables if t.name != "alembic_version"]
    raw = sqlite3.connect(sqlite_path)
    chosen: dict[str, set] = {}
    for table in tables:
        key = _key(table)
        first = f'SELECT {key} FROM "{table.name}" ORDER BY {key} LIMIT {FIRST.get(table.name, ROWS_PER_TABLE)}'
        keep = f'SELECT {key} FROM "{table.name}" WHERE {KEEP.get(table.name, "0 = 1")}'
        chosen[table.name] = {r[0] for r in raw.execute(first)} | {r[0] for r in raw.execute(keep)}
    _close_over_references(raw, tables, chosen)
    lines = [f"-- kpiwatch release fixture: {sum(map(len, chosen.values()))} rows; see tests/release_fixture.py.", ""]
    for table in tables:
        columns = [c.name for c in table.columns]
        booleans = {c.name for c in table.columns if isinstance(c.type, Boolean)}
        rows = raw.execute(f'SELECT {", ".join(_q(c) for c in columns)} FROM "{table.name}" '
                           f'WHERE {_key(table)} IN ({", ".join(_literal(k) for k in chosen[table.name]) or "NULL"})')
        for row in _parents_first(table, columns, rows.fetchall()):
            values = ", ".join(_literal(v, boolean=c in booleans) for c, v in zip(columns, row, strict=True))
            lines.append(f'INSERT INTO "{table.name}" ({", ".join(_q(c) for c in columns)}) VALUES ({values});')
    return "\n".join(lines) + "\n"


def load(url: str, fixture: Path = PREVIOUS_RELEASE) -> dict[str, int]:
    """Create the fixture's release schema at `url` and insert its rows; returns the rows inserted per table."""
    upgrade(url, REVISIONS[fixture.name])
    sql = fixture.read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for name in re.findall(r'^INSERT INTO "([^"]+)"', sql, flags=re.MULTILINE):
        counts[name] = counts.get(name, 0) + 1
    engine = make_engine(url)
    try:
        connection = engine.raw_connection()
        try:
            if engine.dialect.name == "sqlite":
                connection.driver_connection.executescript(sql)
            else:
                _load_postgresql(connection, sql, list(counts))
        finally:
            connection.close()
    finally:
        engine.dispose()
    return counts


def _load_postgresql(connection: Any, sql: str, tables: list[str]) -> None:
    """The same statements on PostgreSQL: binary literals as bytea, naive instants read as Shanghai wall-clock
    time (what SQLite keeps), and each id sequence moved past the ids inserted."""
    sql = _BYTES.sub(lambda m: f"'\\x{m.group(1) or m.group(2)}'::bytea", sql)
    cursor = connection.cursor()
    cursor.execute("SET TIME ZONE 'Asia/Shanghai'")
    cursor.execute(sql)
    for name in tables:
        cursor.execute(f"SELECT pg_get_serial_sequence('\"{name}\"', 'id')")
        (sequence,) = cursor.fetchone() if cursor.description else (None,)
        if sequence:
            cursor.execute(f'SELECT setval(\'{sequence}\', (SELECT max(id) FROM "{name}"))')
    connection.commit()


def snapshot(url: str) -> dict[str, list[dict]]:
    """Every row of every table at `url`, as stored (the database's own schema, not the models), sorted by key."""
    engine = make_engine(url)
    try:
        return snapshot_engine(engine)
    finally:
        engine.dispose()


def snapshot_engine(engine: Engine) -> dict[str, list[dict]]:
    schema = MetaData()
    schema.reflect(engine)
    result: dict[str, list[dict]] = {}
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET TIME ZONE 'Asia/Shanghai'"))
        for table in schema.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            result[table.name] = [dict(r._mapping) for r in connection.execute(select(table).order_by(*order))]
    return result


def lost(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> list[str]:
    """What of `before` is not in `after`: a table, a row (by key) or a value of a column both still have."""
    problems = []
    for name, rows in before.items():
        if name == "alembic_version":
            continue
        if name not in after:
            problems.append(f"table {name} is gone")
            continue
        key = "id"  # every table's key
        now = {row[key]: row for row in after[name]}
        for row in rows:
            new = now.get(row[key])
            if new is None:
                problems.append(f"{name} {key}={row[key]} is gone")
                continue
            problems += [f"{name} {key}={row[key]} {column}: {value!r} became {new[column]!r}"
                         for column, value in row.items() if column in new and not _same(value, new[column])]
        if len(now) != len(rows):
            problems.append(f"{name}: {len(rows)} rows became {len(now)}")
    return problems


def _same(before: object, after: object) -> bool:
    """Equal, or the same number: SQLite keeps exact decimals as their digits (text) from revision 0009 on."""
    if isinstance(before, Decimal) and isinstance(after, str):
        return before == Decimal(after)
    return before == after


def _key(table) -> str:
    (column,) = table.primary_key.columns
    return _q(column.name)


def _q(name: str) -> str:
    return f'"{name}"'


def _literal(value: Any, *, boolean: bool = False) -> str:
    if value is None:
        return "NULL"
    if boolean:
        return "TRUE" if value else "FALSE"
    if isinstance(value, bytes):
        return f"X'{value.hex().upper()}'"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _close_over_references(raw: sqlite3.Connection, tables: list, chosen: dict[str, set]) -> None:
    """Add every row a chosen row points at, until nothing new is added."""
    changed = True
    while changed:
        changed = False
        for table in tables:
            for fk in table.foreign_keys:
                keys = ", ".join(_literal(k) for k in chosen[table.name])
                if not keys:
                    continue
                rows = raw.execute(f'SELECT DISTINCT {_q(fk.parent.name)} FROM "{table.name}" '
                                   f'WHERE {_key(table)} IN ({keys}) AND {_q(fk.parent.name)} IS NOT NULL')
                wanted = {r[0] for r in rows} - chosen[fk.column.table.name]
                if wanted:
                    chosen[fk.column.table.name] |= wanted
                    changed = True


def _parents_first(table, columns: list[str], rows: list[tuple]) -> list[tuple]:
    """Rows of a table that points at itself (a correction at the row it supersedes), referenced rows first."""
    (key,) = table.primary_key.columns
    position = columns.index(key.name)
    pointers = [columns.index(fk.parent.name) for fk in table.foreign_keys if fk.column.table is table]
    done: set = set()
    ordered: list[tuple] = []
    pending = sorted(rows, key=lambda r: r[position])
    while pending:
        ready = [r for r in pending if all(r[p] is None or r[p] in done or r[p] == r[position] for p in pointers)]
        if not ready:
            raise ValueError(f"{table.name}: rows that point at rows not in the fixture")
        for row in ready:
            done.add(row[position])
            ordered.append(row)
        pending = [r for r in pending if r[position] not in done]
    return ordered


NEXT = "next_example"
NEXT_REVISION = '''"""example: a table and a column (test-only, after the newest real revision)

Revision ID: {revision}
Revises: {down}
"""

from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("example_note",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=False),
                    sa.Column("text", sa.Text(), nullable=False))
    # A type change rebuilds the table on SQLite (copy, drop, rename) while projects and users point at it.
    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("example_flag", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.alter_column("name", existing_type=sa.String(200), type_=sa.String(300), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("department") as batch:
        batch.alter_column("name", existing_type=sa.String(300), type_=sa.String(200), existing_nullable=False)
        batch.drop_column("example_flag")
    op.drop_table("example_note")
'''


@pytest.fixture
def next_schema(tmp_path, monkeypatch) -> Iterator[str]:
    """The real migrations plus one test-only revision after their head, the kind the next issues add: what a
    store of the previous release goes through when it meets a newer kpiwatch. Yields the new revision."""
    from monitor.store import migrate

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / f"{NEXT}.py").write_text(NEXT_REVISION.format(revision=NEXT, down=migrate.head_revision()),
                                                 encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    yield NEXT


if __name__ == "__main__":
    sys.stdout.write(dump(Path(sys.argv[1])))
