"""Storing reports and spending: append-only, with revisions, department scope and an audit event each.

A new fact about a slot already on record (the same as-of date of a measured indicator, the same
occurrence of a timed one, the grade of a qualitative one) supersedes the effective row of that slot as
revision + 1; a fact identical to an effective row is not stored again, which is what makes re-uploading
the same file harmless. A batch is all or nothing: every entry is checked before anything is added.
Every channel records through here with the entries it read (`monitor.progress.entries`).

A fact belongs to its period, not to the day it is typed: after the budget year is over, an entry naming no
date is recorded for 31 December (`validation.year_end_as_of`, with a notice for the person), and every entry
typed after its budget year ended is stored for that year all the same, its audit event noting it as late
(`late_note`) so a reviewer sees what was filled in after the year closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, bindparam, insert, or_, text
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from monitor.accounts import permissions
from monitor.progress.entries import NO_SUCH_INDICATOR, NO_SUCH_PROJECT, ReportEntry, SpendingEntry
from monitor.progress.validation import (
    IndicatorInfo,
    Problem,
    ValidationFailed,
    add_unreadable,
    checked_day,
    checked_text,
    indicator_info,
    validate,
    year_end_as_of,
    year_end_notice,
)
from monitor.store import audit, bulk
from monitor.store.facts import effective_spending, not_superseded
from monitor.store.models import BudgetYear, Indicator, Project, Report, Spending, User
from monitor.store.rows import row_object, stored_id, table_of
from monitor.store.target_versions import ApprovedVersion, joined_versions, version_of_row, version_on
from monitor.store.types import now
from rules.calendar import closed_year_end
from rules.terms import FUND_SOURCES, MEASURED_KINDS, SCHEDULED_KINDS

REPORT_FIELDS = ("id", "indicator_id", "revision", "supersedes_id", "value", "as_of", "occurrence_due",
                 "completed_on", "grade", "explanation", "forecast", "forecast_text", "deviation_causes",
                 "likelihood", "channel", "note")
SPENDING_FIELDS = ("id", "project_id", "revision", "supersedes_id", "amount", "fiscal", "other", "carryover", "as_of",
                   "channel", "note")

@dataclass
class RecordResult:
    stored: list[Report] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # batch positions already on record
    notices: list[Problem] = field(default_factory=list)  # what was assumed, per batch position, to tell the person
    audit: list[dict[str, Any]] = field(default_factory=list)  # the events, when the caller writes them itself
    rows: list[dict[str, Any]] = field(default_factory=list)  # the reports, when the caller inserts them itself

    def to_json(self) -> dict:
        return {"stored": [report_json(r) for r in self.stored], "unchanged": self.unchanged,
                "notices": [n.to_json() for n in self.notices]}


def late_note(year: int, today: date) -> str | None:
    """The audit note of an entry for budget year `year` typed on `today`, after that year ended; None if not."""
    if closed_year_end(year, today) is None:
        return None
    return (f"年度结束后补录：属 {year} 年度，{today.isoformat()} 录入 "
            f"(late: entered after budget year {year} ended, counted for that year)")


def report_json(report: Report) -> dict:
    return audit.snapshot(report, REPORT_FIELDS) | {
        "user_id": report.user_id,
        "created_at": report.created_at.isoformat() if report.created_at else None}


def _years(session: Session, projects: Iterable[Project]) -> dict[int, int]:
    ids = {p.budget_year_id for p in projects}
    if not ids:
        return {}
    rows = session.exec(select(col(BudgetYear.id), col(BudgetYear.year)).where(col(BudgetYear.id).in_(ids))).all()
    return {stored_id(year_id): year for year_id, year in rows}


_INFOS = (select(Indicator, Project, BudgetYear.year).join(Project, col(Indicator.project_id) == Project.id)
          .join(BudgetYear, col(Project.budget_year_id) == BudgetYear.id)
          .where(col(Indicator.id).in_(bindparam("ids", expanding=True))))
_INFOS_WITH_VERSIONS = joined_versions(_INFOS, col(Indicator.id))
# Locked in id order, as `_lock_rows` locks them, so two writers' batches never wait on each other in a cycle.
_INFOS_TO_WRITE = _INFOS_WITH_VERSIONS.with_for_update(of=Indicator, key_share=True)


def load_infos(session: Session, indicator_ids: Iterable[int], on: date | None = None, *, lock: bool = False
               ) -> dict[int, IndicatorInfo]:
    """Indicators with their project and budget year, for validation (one query, not one per row).

    With `on` (today), each carries the target in force that day, or at its year's end once the year is over
    (`monitor.store.target_versions`): a report is judged against the adjusted target once it applies.
    With `lock`, the indicators are locked for writing their reports in the same statement, as `touched_reports`
    would lock them (PostgreSQL; SQLite: see `write_turn`): a round trip less for a batch of API posts."""
    ids = {i for i in indicator_ids if isinstance(i, int)}
    if not ids:
        return {}
    query = _INFOS_TO_WRITE if lock else _INFOS_WITH_VERSIONS if on is not None else _INFOS
    infos: dict[int, IndicatorInfo] = {}
    versions: dict[int, list[ApprovedVersion]] = {}
    for row in session.execute(query, {"ids": list(ids)}).all():
        indicator, project, year = row[:3]
        indicator_id = stored_id(indicator.id)
        if indicator_id not in infos:
            infos[indicator_id] = indicator_info(indicator, project, year)
        version = version_of_row(row) if query is not _INFOS else None
        if version is not None:
            versions.setdefault(indicator_id, []).append(version)
    if on is not None:
        for indicator_id, found in versions.items():
            info = infos[indicator_id]
            in_force = version_on(found, min(on, date(info.year, 12, 31)))
            if in_force is not None:
                infos[indicator_id] = replace(info, target=in_force.target)
    return infos


def _slot_of(report: ReportEntry | Report, kind: str) -> tuple:
    """Which fact an entry or a stored row is about: a newer report on the same slot supersedes the older one."""
    if kind in SCHEDULED_KINDS:
        return ("occurrence", report.occurrence_due)
    if kind in MEASURED_KINDS or (kind == "unparsed" and report.value is not None):
        return ("as_of", report.as_of)
    return ("grade",)


# The rows a batch could repeat or supersede, one OR branch per kind of slot, each an index range
# (indicator_id, as_of) / (indicator_id, occurrence_due) / indicator_id / id, so recording costs the same
# however long an indicator's history grows. Keyed by which branches a batch needs.
_TOUCHING_BRANCHES = {  # branch: (the condition, the parameter that must be non-empty for it to apply)
    "as_of": (and_(col(Report.indicator_id).in_(bindparam("measured", expanding=True)),
                   col(Report.as_of).in_(bindparam("as_ofs", expanding=True))), "measured"),
    "occurrence": (and_(col(Report.indicator_id).in_(bindparam("timed", expanding=True)),
                        col(Report.occurrence_due).in_(bindparam("dues", expanding=True))), "timed"),
    "grade": (col(Report.indicator_id).in_(bindparam("whole", expanding=True)), "whole"),
    "named": (col(Report.id).in_(bindparam("named", expanding=True)), "named"),
}
_TOUCHING: dict[tuple[str, ...], Any] = {}


def _indicator_id(clean: ReportEntry) -> int:
    """The indicator of an entry `check_reports` passed (an entry naming none is refused there)."""
    assert clean.indicator_id is not None
    return clean.indicator_id


def _touched_reports(session: Session, cleans: Sequence[ReportEntry], infos: dict[int, IndicatorInfo]
                     ) -> dict[int, list[Report]]:
    """Like `facts.effective_reports`, but only the effective rows on the slots `cleans` write to or name."""
    params: dict[str, set] = {name: set() for name in ("measured", "as_ofs", "timed", "dues", "whole", "named")}
    for clean in cleans:
        indicator_id = _indicator_id(clean)
        if clean.supersedes_id is not None:
            params["named"].add(clean.supersedes_id)
        where = _slot_of(clean, infos[indicator_id].kind)
        if where[0] == "as_of":
            params["measured"].add(indicator_id)
            params["as_ofs"].add(where[1])
        elif where[0] == "occurrence":
            params["timed"].add(indicator_id)
            params["dues"].add(where[1])
        else:
            params["whole"].add(indicator_id)
    key = tuple(name for name, (_, param) in _TOUCHING_BRANCHES.items() if params[param])
    result: dict[int, list[Report]] = {_indicator_id(clean): [] for clean in cleans}
    if not key:
        return result
    if key not in _TOUCHING:
        _TOUCHING[key] = (select(Report).where(or_(*(_TOUCHING_BRANCHES[name][0] for name in key)))
                          .where(not_superseded(Report)).order_by(col(Report.indicator_id), col(Report.id)))
    for report in session.exec(_TOUCHING[key], params={name: list(values) for name, values in params.items()}).all():
        result.setdefault(report.indicator_id, []).append(report)
    return result


def history(session: Session, indicator_id: int) -> list[Report]:
    """Every row ever stored for the indicator, newest first, superseded ones included."""
    return list(session.exec(select(Report).where(Report.indicator_id == indicator_id)
                             .order_by(col(Report.id).desc())).all())


def histories(session: Session, indicator_ids: Iterable[int]) -> dict[int, list[Report]]:
    ids = list(set(indicator_ids))
    result: dict[int, list[Report]] = {i: [] for i in ids}
    if ids:
        for report in session.exec(select(Report).where(col(Report.indicator_id).in_(ids))
                                   .order_by(col(Report.id).desc())).all():
            result[report.indicator_id].append(report)
    return result


def latest(reports: Sequence[Report]) -> Report | None:
    """The most recent effective fact: the newest as-of date (or completion), then the newest row."""
    if not reports:
        return None
    return max(reports, key=lambda r: (r.as_of or r.completed_on or date.min, r.id or 0))


def _facts(obj: ReportEntry | Report) -> tuple:
    """What a report says, comparable across an entry and a stored row (blank text and {} mean nothing)."""
    values = (getattr(obj, name) for name in ReportEntry.FACT_FIELDS)
    return tuple(v if isinstance(v, Decimal) else (v or None) for v in values)


def _same_fact(clean: ReportEntry, row: Report) -> bool:
    return _facts(clean) == _facts(row)


SLOT_FIELDS = {"as_of": "as_of", "occurrence": "occurrence_due", "grade": "grade"}


def check_reports(session: Session, user: User, entries: Sequence[ReportEntry], today: date,
                  infos: dict[int, IndicatorInfo] | None = None
                  ) -> tuple[list[ReportEntry], dict[int, IndicatorInfo], list[Problem]]:
    """Validate a batch without storing anything: the entries as they would be stored, and every problem
    with its batch position.

    `infos`: the entries' indicators as `load_infos` returns them, when the caller has read them already
    (an indicator missing from it counts as not existing).
    """
    if infos is None:
        infos = load_infos(session, [e.indicator_id for e in entries if e.indicator_id is not None], today)
    else:
        infos = {e.indicator_id: infos[e.indicator_id] for e in entries if e.indicator_id in infos}
    visible = permissions.visible_among(session, user, {info.project.department_id for info in infos.values()})
    cleans: list[ReportEntry] = []
    problems: list[Problem] = []
    first_of_slot: dict[tuple, ReportEntry] = {}
    for index, entry in enumerate(entries):
        info = infos.get(entry.indicator_id) if entry.indicator_id is not None else None
        if info is None or info.project.department_id not in visible:
            if not add_unreadable(entry, "indicator_id", problems, index):
                problems.append(Problem("indicator_id", NO_SUCH_INDICATOR.format(entry.indicator_id), index))
            continue
        clean, found = validate(entry, info, today)
        problems.extend(Problem(p.field, p.message, index) for p in found)
        cleans.append(clean)
        if not found and clean.supersedes_id is None:
            where = (clean.indicator_id, _slot_of(clean, info.kind))
            earlier = first_of_slot.setdefault(where, clean)
            if earlier is not clean and _facts(earlier) != _facts(clean):
                problems.append(Problem(SLOT_FIELDS[where[1][0]],
                                        "本批另有一条同一指标、同一日期或期次的不同填报，请只保留一条 "
                                        "(conflicts with another entry of this batch)", index))
    return cleans, infos, problems


def touched_reports(session: Session, cleans: Sequence[ReportEntry], infos: dict[int, IndicatorInfo], *,
                    locked: bool = False) -> dict[int, list[Report]]:
    """Lock the entries' indicators (PostgreSQL; SQLite: see `write_turn`) and read the effective rows on the
    slots they write to or name, by indicator: what `record_reports` compares each entry with.

    For one batch, or for several recorded one after another in one transaction (a group commit of API posts):
    read once for all of them, each batch's `record_reports` then keeps it current, so a later batch on the same
    slot sees the earlier one. Rows on other slots of these indicators may be among them; they are not compared.
    `locked`: `infos` was read with `load_infos(..., lock=True)`, which locked the indicators already."""
    if not locked:
        _lock_rows(session, Indicator, sorted({_indicator_id(clean) for clean in cleans}))
    return _touched_reports(session, cleans, infos)


def record_reports(session: Session, user: User, entries: Sequence[ReportEntry], *, channel: str, today: date,
                   default_note: str | None = None, infos: dict[int, IndicatorInfo] | None = None,
                   touched: dict[int, list[Report]] | None = None, write_audit: bool = True,
                   new_ids: Iterator[int] | None = None) -> RecordResult:
    """Store a batch (all or nothing) in `session`; the caller commits. Raises `ValidationFailed`.

    `infos` as for `check_reports`. `touched`: what `touched_reports` read for these very entries (and perhaps
    others') earlier in this transaction; read here otherwise (and for any indicator it lacks), and kept current
    either way. With `write_audit=False` the audit events are returned in `RecordResult.audit` for the caller to
    write in this transaction (`audit.record_by_actors`), with other batches' in one statement. With `new_ids`
    (ids drawn from the report table's sequence, `report_ids`) nothing is inserted either: each new report takes
    the next id and is returned in `RecordResult.rows`, for the caller to insert (`insert_reports`) before the
    audit events.
    """
    permissions.require_writer(user)
    cleans, infos, problems = check_reports(session, user, entries, today, infos)
    if problems:
        raise ValidationFailed(problems)
    if touched is None:
        touched = {}
    missing = [clean for clean in cleans if _indicator_id(clean) not in touched]
    if missing:
        touched.update(touched_reports(session, missing, infos))
    effective = touched
    targets = _named_rows(session, cleans)
    for index, clean in enumerate(cleans):
        if clean.supersedes_id is None:
            continue
        row = targets.get(clean.supersedes_id)
        live = {r.id for r in effective.get(_indicator_id(clean), [])}
        if row is None or row.indicator_id != clean.indicator_id:
            problems.append(Problem("supersedes_id", f"记录 {clean.supersedes_id} 不属于该指标 (no such record)",
                                    index))
        elif row.id not in live:
            problems.append(Problem("supersedes_id", f"记录 {clean.supersedes_id} 已被更正过，请刷新后更正最新的一条 "
                                                     "(already corrected)", index))
    if problems:
        raise ValidationFailed(problems)

    result = RecordResult()
    for index, entry in enumerate(entries):
        info = infos[_indicator_id(entry)]
        if year_end_as_of(entry, info.kind, info.year, today) is not None:
            result.notices.append(Problem("as_of", year_end_notice(info.year), index))
    moment = now()
    events: list[dict[str, Any]] = []
    for index, clean in enumerate(cleans):
        indicator_id = _indicator_id(clean)
        info = infos[indicator_id]
        rows = effective[indicator_id]
        old: Report | None
        if clean.supersedes_id is not None:
            old = next(r for r in rows if r.id == clean.supersedes_id)
        else:
            if any(_same_fact(clean, r) for r in rows):
                result.unchanged.append(index)
                continue
            where = _slot_of(clean, info.kind)
            old = next((r for r in rows if _slot_of(r, info.kind) == where), None)
        if old is not None and _same_fact(clean, old):
            result.unchanged.append(index)
            continue
        values: dict[str, Any] = dict(
            indicator_id=clean.indicator_id, revision=(old.revision + 1) if old else 1,
            supersedes_id=old.id if old else None, value=clean.value, as_of=clean.as_of,
            occurrence_due=clean.occurrence_due, completed_on=clean.completed_on, grade=clean.grade,
            explanation=clean.explanation, forecast=clean.forecast, forecast_text=clean.forecast_text,
            deviation_causes=clean.deviation_causes, likelihood=clean.likelihood, user_id=user.id,
            channel=channel, note=clean.note or default_note, created_at=moment)
        if new_ids is None:
            report_id = _insert_report(session, values)
        else:
            report_id = next(new_ids)
            result.rows.append({"id": report_id, **values})
        report = row_object(Report, {"id": report_id, **values})  # a copy for the caller, in no session
        events.append({"channel": channel, "action": "correct" if old else "report", "entity": "report",
                       "entity_id": report_id, "department_id": info.project.department_id,
                       "before": audit.snapshot(old, REPORT_FIELDS) if old else None,
                       "after": audit.snapshot(report, REPORT_FIELDS), "note": late_note(info.year, today)})
        if old is not None:
            rows.remove(old)
        rows.append(report)
        result.stored.append(report)
    if write_audit:
        audit.record_many(session, user, events)
    else:
        result.audit = events
    return result


_REPORT_TABLE: Table = table_of(Report)
_INSERT_REPORT = insert(_REPORT_TABLE)


def _insert_report(session: Session, values: dict[str, Any]) -> int:
    """A Core INSERT, not session.add + flush: the unit of work cost more than the rest of recording."""
    result = session.execute(_INSERT_REPORT, values)
    assert isinstance(result, CursorResult)  # what a Core statement returns; Session.execute is typed as any Result
    key = result.inserted_primary_key
    assert key is not None  # one row into a table whose id the database assigns
    (report_id,) = key
    return report_id


def report_ids(session: Session, count: int) -> list[int] | None:
    """`count` new report ids from the table's sequence in one round trip (PostgreSQL), for `record_reports`'
    `new_ids`; None on SQLite, which has no sequence and whose inserts are local anyway. Ids left unused are
    gaps, as after any rolled-back insert."""
    if count <= 0 or session.get_bind().dialect.name != "postgresql":
        return None
    return list(session.execute(text("SELECT nextval(pg_get_serial_sequence('report', 'id')) "
                                     "FROM generate_series(1, :n)"), {"n": count}).scalars())


def insert_reports(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """The reports `record_reports` handed back (`new_ids`), of one batch or several, in one statement."""
    bulk.insert_rows(session, _REPORT_TABLE, rows)


def _named_rows(session: Session, cleans: Sequence[ReportEntry]) -> dict[int, Report]:
    """The rows the batch's explicit corrections name, whether still in force or not."""
    named: set[int] = set()
    for clean in cleans:
        if clean.supersedes_id is not None:
            named.add(clean.supersedes_id)
    if not named:
        return {}
    return {stored_id(r.id): r for r in session.exec(select(Report).where(col(Report.id).in_(named))).all()}


def _lock_rows(session: Session, model, ids: list[int]) -> None:
    """On PostgreSQL, two concurrent corrections of one indicator take turns (SQLite: see `write_turn`).

    FOR NO KEY UPDATE, not FOR UPDATE: it still makes the corrections take turns, but does not wait for (or hold
    up) the key-share locks that every foreign key to the row takes, such as an evaluation writing the
    indicator's states while its reports come in."""
    if ids and session.get_bind().dialect.name == "postgresql":
        session.exec(select(model.id).where(col(model.id).in_(sorted(ids))).with_for_update(key_share=True)).all()


# ---- spending -------------------------------------------------------------------------------------------

def latest_spending(rows: Sequence[Spending]) -> Spending | None:
    return max(rows, key=lambda r: (r.as_of, r.id or 0)) if rows else None


def spending_history(session: Session, project_id: int) -> list[Spending]:
    return list(session.exec(select(Spending).where(Spending.project_id == project_id)
                             .order_by(col(Spending.id).desc())).all())


def _check_amount(amount: Decimal, problems: list[Problem], index: int, name: str = "amount") -> None:
    if amount < 0:
        problems.append(Problem(name, f"{amount} 为负数 (must not be negative)", index))
    elif amount != amount.quantize(Decimal("0.01")):
        problems.append(Problem(name, f"{amount} 最多两位小数（元）(at most 2 decimals)", index))
    elif amount >= Decimal("1e16"):
        problems.append(Problem(name, f"{amount} 过大 (too large)", index))


Parts = tuple[Decimal, Decimal, Decimal] | None  # 财政拨款, 其他资金, 上年结转 (FUND_SOURCES' order); None: total only


def _spending_parts(entry: SpendingEntry, problems: list[Problem], index: int) -> Parts:
    """The split by source when any part was given (a part left blank is 0), each checked like an amount."""
    if not any(entry.given(name) for name in FUND_SOURCES):
        return None
    parts = []
    for name in FUND_SOURCES:
        value = getattr(entry, name)
        if value is not None:
            _check_amount(value, problems, index, name)
        else:
            add_unreadable(entry, name, problems, index)
        parts.append(value or Decimal(0))
    return parts[0], parts[1], parts[2]


def _parts_of(row: Spending) -> Parts:
    if row.fiscal is None and row.other is None and row.carryover is None:
        return None
    return (row.fiscal or Decimal(0), row.other or Decimal(0), row.carryover or Decimal(0))


def spending_notices(session: Session, entries: Sequence[SpendingEntry], today: date) -> list[Problem]:
    """What `record_spending` assumed for `entries`, per batch position: the year-end date of an entry naming no
    date after its budget year ended (the channel tells the person; recording itself says nothing)."""
    undated = [(index, e.project_id) for index, e in enumerate(entries)
               if e.project_id is not None and not e.given("as_of")]
    if not undated:
        return []
    projects = session.exec(select(Project).where(col(Project.id).in_({pid for _, pid in undated}))).all()
    years = _years(session, projects)
    year_of = {p.id: years[p.budget_year_id] for p in projects}
    return [Problem("as_of", year_end_notice(year_of[pid]), index) for index, pid in undated
            if pid in year_of and year_end_as_of(entries[index], None, year_of[pid], today) is not None]


def record_spending(session: Session, user: User, entries: Sequence[SpendingEntry], *, channel: str, today: date,
                    default_note: str | None = None) -> tuple[list[Spending], list[int]]:
    """Spending to date (元) per project and as-of date; same rules as reports. Returns (stored, unchanged)."""
    permissions.require_writer(user)
    visible = permissions.visible_department_ids(session, user)
    problems: list[Problem] = []
    cleaned: list[tuple[Project, Decimal | None, date | None, str | None, int | None, Parts]] = []
    late: dict[int, str | None] = {}
    first_amount: dict[tuple[int, date], tuple[Decimal, Parts]] = {}
    projects = {p.id: p for p in session.exec(select(Project).where(
        col(Project.id).in_([e.project_id for e in entries if e.project_id is not None]))).all()}
    years = _years(session, projects.values())
    for index, entry in enumerate(entries):
        project = projects.get(entry.project_id)
        if project is None or (visible is not None and project.department_id not in visible):
            if not add_unreadable(entry, "project_id", problems, index):
                problems.append(Problem("project_id", NO_SUCH_PROJECT.format(entry.project_id), index))
            continue
        year = years[project.budget_year_id]
        amount, as_of = entry.amount, entry.as_of or year_end_as_of(entry, None, year, today)
        parts = _spending_parts(entry, problems, index)
        if not entry.given("amount") and parts is None:
            problems.append(Problem("amount", "请填写执行数（元）(amount is required)", index))
        elif amount is not None:
            _check_amount(amount, problems, index)
            if parts is not None and amount != sum(parts, Decimal(0)):
                problems.append(Problem("amount", f"执行数 {amount} 不等于按来源填报之和 {sum(parts, Decimal(0))}"
                                                  f"（{'＋'.join(FUND_SOURCES.values())}）"
                                                  "(the total must equal the sum of its sources)", index))
        elif not add_unreadable(entry, "amount", problems, index) and parts is not None:
            amount = sum(parts, Decimal(0))
        if as_of is None and not entry.given("as_of"):
            problems.append(Problem("as_of", "请填写截至日期 (as-of date is required)", index))
        elif not add_unreadable(entry, "as_of", problems, index):
            checked_day(as_of, "as_of", year, today, problems, index)
        add_unreadable(entry, "note", problems, index)
        add_unreadable(entry, "supersedes_id", problems, index)
        supersedes = entry.supersedes_id
        if supersedes is None and amount is not None and as_of is not None:
            if first_amount.setdefault((stored_id(project.id), as_of), (amount, parts)) != (amount, parts):
                problems.append(Problem("as_of", "本批另有一条同一项目、同一截至日期的不同执行数，请只保留一条 "
                                                 "(conflicts with another entry of this batch)", index))
        cleaned.append((project, amount, as_of, checked_text(entry.note, "note", problems, index), supersedes,
                        parts))
        late[len(cleaned) - 1] = late_note(year, today)
    if problems:
        raise ValidationFailed(problems)
    _lock_rows(session, Project, [stored_id(p.id) for p, *_ in cleaned])
    effective = effective_spending(session, [stored_id(p.id) for p, *_ in cleaned])
    stored: list[Spending] = []
    unchanged: list[int] = []
    moment = now()
    for index, (project, amount, as_of, note, supersedes, parts) in enumerate(cleaned):
        rows = effective[stored_id(project.id)]
        if supersedes is not None:
            old = next((r for r in rows if r.id == supersedes), None)
            if old is None:
                raise ValidationFailed([Problem("supersedes_id",
                                                f"记录 {supersedes} 不存在或已被更正 (not correctable)", index)])
        else:
            if any(r.amount == amount and r.as_of == as_of and _parts_of(r) == parts for r in rows):
                unchanged.append(index)
                continue
            old = next((r for r in rows if r.as_of == as_of), None)
        if old is not None and old.amount == amount and old.as_of == as_of and _parts_of(old) == parts:
            unchanged.append(index)
            continue
        assert amount is not None and as_of is not None  # both required: a batch missing one was refused above
        row = Spending(project_id=stored_id(project.id), revision=(old.revision + 1) if old else 1,
                       supersedes_id=old.id if old else None, amount=amount, as_of=as_of, user_id=user.id,
                       fiscal=parts[0] if parts else None, other=parts[1] if parts else None,
                       carryover=parts[2] if parts else None,
                       channel=channel, note=note or default_note, created_at=moment)
        session.add(row)
        session.flush()
        audit.record(session, actor=user, channel=channel, action="correct" if old else "report", entity="spending",
                     entity_id=row.id, department_id=project.department_id,
                     before=audit.snapshot(old, SPENDING_FIELDS) if old else None,
                     after=audit.snapshot(row, SPENDING_FIELDS), note=late[index])
        if old is not None:
            rows.remove(old)
        rows.append(row)
        stored.append(row)
    return stored, unchanged
