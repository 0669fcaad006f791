"""Store a `ParsedDocument`: an idempotent upsert in the caller's transaction.

Identity (what makes a re-import an update, not a copy):
- Department by its code; BudgetYear by its year.
- Project by (department, year, import_key); import_key is the project name, or "name#2", "name#3" for the
  2nd, 3rd project printed under the same name (in document order). Funds are NOT part of the identity, so a
  corrected amount updates the project in place.
- Indicator by (project, half, 二级指标, name); its 指标值 is NOT part of the identity, so a corrected target
  updates the row in place and everything attached to it (reports, states) stays attached. A renamed
  indicator is a new one: the old row is deleted if nothing refers to it, else kept and reported. What the
  evaluation derived (its lights and their history) refers to nothing: it goes with the row.
Rows are only written when a value actually changed, so re-importing the same document changes nothing.
Once the year's first round has opened, a changed 指标值 is no longer written over the target: it becomes a target
adjustment proposal for the bureau to decide (`monitor.progress.adjustments`), and the import report counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel, col

from monitor.importers.document import ImportFailure, ParsedDocument, ParsedIndicator, ParsedProject
from monitor.progress.adjustments import pending_for, propose
from monitor.store import states
from monitor.store.models import BudgetYear, Department, ImportRun, Indicator, Project, Round
from monitor.store.rows import stored_id
from monitor.store.target_versions import target_in_force
from monitor.store.types import SHANGHAI
from rules.scoring import LEVEL_WEIGHT_FIELDS, levels_from_rows
from rules.targets import Target, parse_target_cached, suspicion_en

PROJECT_FIELDS = ("name", "implementing_unit", "attribute", "period", "total_funds", "annual_funds", "overview",
                  "basis", "necessity", "measures", "plan", "period_goal", "annual_goal", "filled_at")
SOURCE_COLUMNS = ("central", "provincial", "city_county", "self_raised", "other")


@dataclass
class StoreResult:
    department_id: int
    year: int
    import_run_id: int | None = None
    created: dict[str, int] = field(default_factory=lambda: {"projects": 0, "indicators": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"projects": 0, "indicators": 0})
    unchanged: dict[str, int] = field(default_factory=lambda: {"projects": 0, "indicators": 0})
    deleted: dict[str, int] = field(default_factory=lambda: {"projects": 0, "indicators": 0})
    kept_stale: list[str] = field(default_factory=list)
    proposals: int = 0  # changed 指标值 stored as target adjustment proposals (a round of the year had opened)

    def to_json(self) -> dict:
        return {"department_id": self.department_id, "year": self.year, "import_run_id": self.import_run_id,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "deleted": self.deleted, "kept_stale": self.kept_stale, "proposals": self.proposals}


def resolve_identity(doc: ParsedDocument, *, year: int | None, department_code: str | None) -> tuple[str, int]:
    """The department code and year to store under; a flag that contradicts the document is an error, not a guess."""
    code = doc.department_code
    if department_code and code and department_code != code:
        raise ImportFailure(f"文件中的主管部门代码是 {code}，与 --department-code {department_code} 不一致",
                            en=f"the file's department code is {code}, not {department_code} as chosen",
                            file=doc.source_file, field_name="主管部门及代码")
    code = code or department_code
    if not code:
        raise ImportFailure("文件中没有主管部门代码，请用 --department-code 指定",
                            en="the file has no department code: give one (--department-code)", file=doc.source_file,
                            field_name="主管部门及代码")
    if year and doc.year and year != doc.year:
        raise ImportFailure(f"文件中的年度是 {doc.year}，与 --year {year} 不一致",
                            en=f"the file's year is {doc.year}, not {year} as chosen", file=doc.source_file,
                            field_name="年度")
    resolved = doc.year or year
    if not resolved:
        raise ImportFailure("文件中没有预算年度，请用 --year 指定", en="the file has no budget year: give one (--year)",
                            file=doc.source_file, field_name="年度")
    return code, resolved


def store_document(session: Session, doc: ParsedDocument, *, year: int | None = None,
                   department_code: str | None = None, strict_month_before: bool = False,
                   partial: bool = False) -> StoreResult:
    """`partial`: the document adds to what is stored instead of stating all of it (a self-evaluation is one
    project a file and prints no 实施期 targets, 立项依据…): the projects, indicators and fields it leaves out
    stay as they are instead of being removed or emptied."""
    code, resolved_year = resolve_identity(doc, year=year, department_code=department_code)
    check_lengths(doc)
    started = datetime.now(SHANGHAI)
    department = session.execute(select(Department).where(col(Department.code) == code)).scalars().first()
    if department is None:
        department = Department(code=code, name=doc.department_name or code)
        session.add(department)
        session.flush()
    elif doc.department_name and department.name != doc.department_name and department.name == department.code:
        department.name = doc.department_name
    budget_year = session.execute(select(BudgetYear).where(col(BudgetYear.year) == resolved_year)).scalars().first()
    if budget_year is None:
        budget_year = BudgetYear(year=resolved_year)
        session.add(budget_year)
        session.flush()
    department_id, budget_year_id = department.id, budget_year.id
    assert department_id is not None and budget_year_id is not None  # both stored: found, or flushed above
    result = StoreResult(department_id=department_id, year=resolved_year)
    # once the bureau has opened a round of the year, targets change only through an approved adjustment
    locked = session.execute(select(func.count()).select_from(Round)
                             .where(col(Round.year) == resolved_year)).scalar_one() > 0
    existing = {p.import_key: p for p in session.execute(
        select(Project).where(col(Project.department_id) == department_id,
                              col(Project.budget_year_id) == budget_year_id)).scalars()}
    seen: set[str] = set()
    for parsed in doc.projects:
        seen.add(parsed.import_key)
        project = existing.get(parsed.import_key)
        values = _project_values(parsed, doc)
        if partial:
            values = {name: value for name, value in values.items() if value is not None}
        if project is None:
            project = Project(department_id=department_id, budget_year_id=budget_year_id,
                              import_key=parsed.import_key, **values)
            session.add(project)
            session.flush()
            result.created["projects"] += 1
        elif _assign(project, values):
            result.updated["projects"] += 1
        else:
            result.unchanged["projects"] += 1
        _store_indicators(session, project, parsed, resolved_year, result, strict_month_before,
                          proposing=(doc.source_file, started.date()) if locked else None, partial=partial)
    for key, project in existing.items():
        if key in seen or partial:
            continue
        project_id = stored_id(project)
        if _referenced(session, "project", [project_id]) or _referenced(
                session, "indicator", _indicator_ids(session, project_id)):
            result.kept_stale.append(f"项目「{key}」不在本次文件中，但已有关联数据，保留")
            continue
        states.forget(session, indicator_ids=_indicator_ids(session, project_id), project_ids=[project_id])
        for indicator in session.execute(select(Indicator).where(col(Indicator.project_id) == project_id)).scalars():
            session.delete(indicator)
        session.flush()
        session.delete(project)
        result.deleted["projects"] += 1
    session.flush()
    run = ImportRun(source_file=doc.source_file, sha256=doc.sha256, format=doc.format, started_at=started,
                    finished_at=datetime.now(SHANGHAI), department_id=department_id, year=resolved_year,
                    summary_json=summary_json(doc, result))
    session.add(run)
    session.flush()
    result.import_run_id = run.id
    return result


PROJECT_LABELS = {"name": "项目名称", "import_key": "项目标识", "implementing_unit": "实施单位",
                  "attribute": "项目属性", "period": "项目期"}
INDICATOR_LABELS = {"name": "三级指标", "level2": "二级指标", "level1": "一级指标"}


def check_lengths(doc: ParsedDocument) -> None:
    """Refuse over-long cells with their line before touching the database (PostgreSQL would refuse them anyway).
    The limits are the models' column lengths, so the two cannot drift apart."""
    for project in doc.projects:
        _check_length(doc, Project, PROJECT_LABELS, project, project.line)
        for item in project.indicators:
            _check_length(doc, Indicator, INDICATOR_LABELS, item, item.line)


def _check_length(doc: ParsedDocument, model: type[SQLModel], labels: dict[str, str],
                  parsed: ParsedProject | ParsedIndicator, line: int | None) -> None:
    for attr, label in labels.items():
        value = getattr(parsed, attr)
        limit = column_length(model, attr)
        if value is not None and len(str(value)) > limit:
            raise ImportFailure(f"{label}超过{limit}个字符", en=f"「{label}」 is longer than {limit} characters",
                                file=doc.source_file, line=line, field_name=label)


def column_length(model: type[SQLModel], attr: str) -> int:
    """The declared length of a string column (every column `check_lengths` checks is one)."""
    length = getattr(sa_inspect(model).columns[attr].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{attr} is not a column with a length")
    return length


def _project_values(parsed: ParsedProject, doc: ParsedDocument) -> dict:
    values = {name: getattr(parsed, name) for name in PROJECT_FIELDS}
    for source in SOURCE_COLUMNS:
        values[f"annual_{source}"] = parsed.annual_by_source.get(source)
        values[f"total_{source}"] = parsed.total_by_source.get(source)
    levels: dict[str, Decimal | None] | None = parsed.level_weights
    if levels is None and parsed.annual_indicators and all(i.weighted for i in parsed.annual_indicators):
        implied = levels_from_rows([(i.level1, i.weight) for i in parsed.annual_indicators])
        levels = None if implied is None else dict(implied)
    if levels is not None:  # else the source says nothing about them: what is stored stays
        for level, name in LEVEL_WEIGHT_FIELDS.items():
            values[name] = levels.get(level)
    values["source_file"] = doc.source_file[-500:]
    values["source_line"] = parsed.line
    values["source_sha256"] = doc.sha256
    return values


def _same(a, b) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return (a is None and b is None) or (a is not None and b is not None and Decimal(a) == Decimal(b))
    return a == b


def _assign(row: SQLModel, values: dict, ignore: tuple[str, ...] = ("source_file", "source_sha256")) -> bool:
    changed = False
    for name, value in values.items():
        if not _same(getattr(row, name), value):
            setattr(row, name, value)
            if name not in ignore:
                changed = True
    return changed


def _indicator_values(parsed: ParsedIndicator, year: int, strict_month_before: bool) -> dict:
    values = {"level1": parsed.level1, "value_text": parsed.value, "position": parsed.position,
              "source_line": parsed.line}
    if parsed.weighted:
        values["weight"] = parsed.weight
    target = parsed_target(parsed, year, strict_month_before)
    if target is not None:
        values.update(_target_columns(target))
    return values


def parsed_target(parsed: ParsedIndicator, year: int | None, strict_month_before: bool = False) -> Target | None:
    """The grammar's reading of a 指标值 (the grammar never raises: what it cannot read comes back unparsed).
    This and `kpiwatch parse-target` are the only callers of the grammar: everything else reads the stored one."""
    if year is None:
        return None
    return parse_target_cached(parsed.value, year, parsed.level2, parsed.name, strict_month_before)


def suspicious_targets(doc: ParsedDocument) -> list[dict]:
    """The indicators whose value the grammar flags for a person to check ("292%" for a 率), with why."""
    return [{"line": item.line, "project": project.name, "name": item.name, "value": item.value,
             "reason": target.suspicious, "reason_en": suspicion_en(target, item.name)}
            for project in doc.projects for item in project.indicators
            if (target := parsed_target(item, doc.year)) is not None and target.suspicious]


def target_json(parsed: ParsedIndicator, year: int | None, strict_month_before: bool = False) -> dict | None:
    """The stored form of the reading, as `import --dry-run --json` shows it."""
    target = parsed_target(parsed, year, strict_month_before)
    return None if target is None else _target_columns(target)["target_json"]


def _target_columns(target: Target) -> dict:
    """`Indicator.target_columns`, once per distinct reading: a bulk import stores the same few hundred readings
    on thousands of rows."""
    cached = _COLUMNS_OF.get(target)
    if cached is None:
        if len(_COLUMNS_OF) > 100_000:
            _COLUMNS_OF.clear()
        cached = _COLUMNS_OF[target] = Indicator.target_columns(target)
    return cached


_COLUMNS_OF: dict[Target, dict] = {}


TARGET_VALUES = ("value_text", *Indicator.target_columns(Target("", "unparsed", None, None, None, None, (), (),
                                                                  None)))


def _store_indicators(session: Session, project: Project, parsed: ParsedProject, year: int,
                      result: StoreResult, strict_month_before: bool,
                      proposing: tuple[str, date] | None = None, partial: bool = False) -> None:
    """Create, update or delete the project's indicators; with `proposing` (source file, today), a changed 指标值
    of an existing indicator becomes an adjustment proposal and the stored target stays as it is."""
    project_id = stored_id(project)
    existing = {(i.half, i.level2, i.name): i for i in session.execute(
        select(Indicator).where(col(Indicator.project_id) == project_id)).scalars()}
    seen = set()
    for item in parsed.indicators:
        key = item.identity
        seen.add(key)
        values = _indicator_values(item, year, strict_month_before)
        row = existing.get(key)
        if row is not None and proposing is not None and row.value_text != item.value:
            if _propose_target(session, row, item, year, strict_month_before, proposing):
                result.proposals += 1
            values = {name: value for name, value in values.items() if name not in TARGET_VALUES}
        if row is None:
            session.add(Indicator(project_id=project_id, half=item.half, level2=item.level2, name=item.name,
                                  **values))
            result.created["indicators"] += 1
        elif _assign(row, values, ignore=("source_line", "position")):
            result.updated["indicators"] += 1
        else:
            result.unchanged["indicators"] += 1
    stale = [] if partial else [row for key, row in existing.items() if key not in seen]
    for row in stale:
        if _referenced(session, "indicator", [stored_id(row)]):
            result.kept_stale.append(f"项目「{project.import_key}」的指标「{row.name}」不在本次文件中，"
                                     "但已有关联数据，保留")
            continue
        states.forget(session, indicator_ids=[stored_id(row)])
        session.delete(row)
        result.deleted["indicators"] += 1
    session.flush()


def _propose_target(session: Session, row: Indicator, item: ParsedIndicator, year: int, strict_month_before: bool,
                    proposing: tuple[str, date]) -> bool:
    """Propose the re-imported 指标值 of `row` as a target adjustment, effective from today (kept inside the budget
    year); False when it is already the target in force or already proposed."""
    source_file, today = proposing
    effective_on = min(max(today, date(year, 1, 1)), date(year, 12, 31))
    current = target_in_force(session, row, effective_on)
    pending = pending_for(session, stored_id(row))
    if current.text == item.value or (pending is not None and pending.value_text == item.value):
        return False
    target = parsed_target(item, year, strict_month_before)
    assert target is not None  # the year is known when storing
    propose(session, row, target, reason=f"重新导入更正文件：{source_file[-300:]}", effective_on=effective_on,
            previous_text=current.text, channel="import", actor=session.info.get("actor"))
    return True


def _indicator_ids(session: Session, project_id: int) -> list[int]:
    ids = session.execute(select(col(Indicator.id)).where(col(Indicator.project_id) == project_id)).scalars()
    return [i for i in ids if i is not None]  # never NULL once stored; the model's id is optional for new rows


def _referenced(session: Session, table_name: str, ids: list[int]) -> bool:
    """Whether any other table points at these rows (so deleting them would lose someone's data)."""
    if not ids:
        return False
    for table in SQLModel.metadata.sorted_tables:
        if table.name in ("indicator",) and table_name == "project":
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name and fk.column.name == "id":
                count = session.execute(select(func.count()).select_from(table).where(fk.parent.in_(ids))).scalar()
                if count:
                    return True
    return False


def summary_json(doc: ParsedDocument, result: StoreResult | None = None) -> dict:
    data = {
        "layout": doc.layout,
        "projects": len(doc.projects),
        "indicators": doc.accounting(),
        "reconciliation": doc.reconciliation.to_json() if doc.reconciliation else None,
        "rejected": [r.to_json() for r in doc.rejected],
        "duplicates": [d.to_json() for d in doc.duplicates],
        "repairs": len(doc.repairs),
        "suspicious": suspicious_targets(doc),
    }
    if result is not None:
        data["store"] = {k: v for k, v in result.to_json().items() if k != "import_run_id"}
    return data
