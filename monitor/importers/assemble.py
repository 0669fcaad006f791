"""From printed tables to projects: merge pages, restore truncated names, place rows under their 二级指标.

Rules (each decision is recorded as a repair, a duplicate or a rejection, so nothing vanishes):
- Tables with the same name and the same funds are one project (a table continued on the next page, or printed
  twice); the same name with different funds is a different project, keyed "name#2".
- An annual (年度) name that is a strict prefix of exactly one implementation-period name of the same project
  (preferring the same 二级指标) is restored to that name.
- A row without a printed 二级 label belongs to the label above it, except that unlabelled rows just before a
  label, whose names clearly belong to that next label (…时间 → 时效指标, …成本 → 成本指标), take it (labels in
  merged cells are printed at the vertical centre). In a table whose labels were printed as one scrambled row, the
  name decides whenever it clearly can.
- The same half, name and value twice in one project is one indicator (the later rows are duplicates).
"""

from __future__ import annotations

from monitor.importers.document import (
    Duplicate,
    ImportFailure,
    ParsedDocument,
    ParsedIndicator,
    ParsedProject,
    Rejected,
    Repair,
    level1_of,
)
from monitor.importers.levels import level2_hint, looks_like_value, split_merged
from monitor.importers.table_block import RawEntry, RawTable
from rules.scoring import read_weight

SOURCES = ("central", "provincial", "city_county", "self_raised", "other")


def assemble(tables: list[RawTable], doc: ParsedDocument) -> None:
    groups: dict[tuple, list[RawTable]] = {}
    for table in tables:
        _require(table, doc.source_file)
        key = (table.get("name"), table.get("annual_funds"), table.get("total_funds"))
        groups.setdefault(key, []).append(table)
    seen_names: dict[str, int] = {}
    for (name, _, _), group in groups.items():
        count = seen_names.get(name, 0) + 1
        seen_names[name] = count
        project = _project(group, name, count)
        _indicators(group, project, doc)
        _require_rows(group, project, doc.source_file)
        doc.projects.append(project)
        if len(group) > 1:
            doc.warnings.append(f"项目「{project.import_key}」由第{'、'.join(str(t.line) for t in group)}行起的"
                                f"{len(group)}个表合并（续表或重复打印）")


def _require(table: RawTable, source: str) -> None:
    if not table.get("name"):
        raise ImportFailure("绩效目标表缺少项目名称", en="the target table names no project", file=source,
                            line=table.line, field_name="项目名称")
    if table.get("annual_funds") is None:
        raise ImportFailure(f"项目「{table.get('name')}」的绩效目标表缺少年度资金总额（表格可能不完整）",
                            en=f"the target table of project 「{table.get('name')}」 has no annual funds "
                               "(the table may be incomplete)",
                            file=source, line=table.line_of("name") or table.line, field_name="年度资金总额")


def _require_rows(group: list[RawTable], project: ParsedProject, source: str) -> None:
    """A target table from which not one indicator row was read is a layout not understood, never an empty project."""
    if any(e.name or e.value for t in group for e in t.entries):
        return
    header = next((t.indicator_header for t in group if t.indicator_header is not None), None)
    if header is not None:
        raise ImportFailure(f"项目「{project.name}」的绩效目标表有指标表头，但没有读到任何指标行（版式无法识别）",
                            en=f"the target table of project 「{project.name}」 has an indicator header but no "
                               "indicator row was read (layout not understood)",
                            file=source, line=header, field_name="一级指标")
    raise ImportFailure(f"项目「{project.name}」的绩效目标表中没有找到「一级指标 二级指标 三级指标 指标值」表头，"
                        "读到0个指标",
                        en=f"the target table of project 「{project.name}」 has no indicator header "
                           "「一级指标 二级指标 三级指标 指标值」: 0 indicators read",
                        file=source, line=group[0].line, field_name="一级指标")


def _project(group: list[RawTable], name: str, ordinal: int) -> ParsedProject:
    def first(field: str):
        for t in group:
            if t.get(field) not in (None, ""):
                return t.get(field)
        return None

    project = ParsedProject(
        name=name,
        import_key=name if ordinal == 1 else f"{name}#{ordinal}",
        implementing_unit=first("implementing_unit"),
        attribute=first("attribute"),
        period=first("period"),
        total_funds=first("total_funds"),
        annual_funds=first("annual_funds"),
        total_by_source={s: first(f"total_{s}") for s in SOURCES},
        annual_by_source={s: first(f"annual_{s}") for s in SOURCES},
        overview=first("overview"),
        basis=first("basis"),
        necessity=first("necessity"),
        measures=first("measures"),
        plan=first("plan"),
        period_goal=first("period_goal"),
        annual_goal=first("annual_goal"),
        filled_at=first("filled_at"),
        department_code=first("department_code"),
        department_name=first("department_name"),
        funds_unit=first("funds_unit"),
        line=group[0].line,
        source_lines=[t.line for t in group],
    )
    return project


def _indicators(group: list[RawTable], project: ParsedProject, doc: ParsedDocument) -> None:
    pname = project.import_key
    for table in group:
        for r in table.repairs:
            r.project = pname
            doc.repairs.append(r)
        _split_glued(table, doc, pname)
        _join_fragments(table, doc, pname)
    period_names = [e.name for t in group for e in t.entries if e.half == "period" and e.name and not e.problem]
    for table in group:
        _carry(table)
    for table in group:
        _restore(table, period_names, doc, pname)
    for table in group:
        _place(table, doc, pname)
    kept: dict[tuple[str, str, str], ParsedIndicator] = {}
    identities: dict[tuple[str, str, str], ParsedIndicator] = {}
    positions = {"period": 0, "annual": 0}
    for table in group:
        for e in table.entries:
            if e.name is None and e.value is None:
                continue
            doc.indicator_rows += 1
            if e.problem:
                doc.rejected.append(Rejected(e.line, e.text, e.problem, pname, e.half))
                continue
            if e.level2 is None:
                doc.rejected.append(Rejected(e.line, e.text, "无法确定所属二级指标", pname, e.half))
                continue
            assert e.name is not None and e.value is not None  # _split_glued gave each row both, or a problem
            key = (e.half, e.name, e.value)
            if key in kept:
                doc.duplicates.append(Duplicate(e.line, pname, e.half, e.name, e.value, kept[key].line))
                continue
            identity = (e.half, e.level2, e.name)
            if identity in identities:
                doc.rejected.append(Rejected(
                    e.line, e.text, f"同一二级指标下已有同名指标（第{identities[identity].line}行，指标值"
                    f"「{identities[identity].value}」），两个不同指标值无法同时保留", pname, e.half,
                    f"the same 二级指标 already has an indicator of this name (line {identities[identity].line}, "
                    f"target 「{identities[identity].value}」): two different targets cannot both be kept"))
                continue
            weight = None
            if e.weight is not None:
                try:
                    weight = read_weight(e.weight)
                except ValueError as exc:
                    doc.rejected.append(Rejected(e.line, e.text, f"分值「{e.weight}」：{exc}", pname, e.half,
                                                 f"points 「{e.weight}」 are not a number of points below 100"))
                    continue
            positions[e.half] += 1
            indicator = ParsedIndicator(half=e.half, level1=level1_of(e.level2), level2=e.level2, name=e.name,
                                        value=e.value, line=e.line, position=positions[e.half], weight=weight,
                                        weighted=table.weighted, results=dict(e.results))
            kept[key] = indicator
            identities[identity] = indicator
            project.indicators.append(indicator)


def _split_glued(table: RawTable, doc: ParsedDocument, pname: str) -> None:
    """A half with one cell: a name glued to its value (split using the other half) or a missing value."""
    by_row: dict[tuple[int, str], RawEntry] = {}
    for e in table.entries:
        if e.name is not None:
            by_row.setdefault((e.row, e.half), e)
    known = [e.name for e in table.entries if e.name and e.value]
    for e in table.entries:
        if e.name is None or e.value is not None or e.problem:
            continue
        other = by_row.get((e.row, "annual" if e.half == "period" else "period"))
        counterpart = other.value if (other is not None and other.value and other is not e) else None
        split = split_merged(e.name, counterpart_value=counterpart, known_names=known)
        if split is not None:
            name, value, how = split
            doc.repairs.append(Repair(e.line, "name/value", e.name, f"{name} | {value}", pname, how))
            e.name, e.value = name, value
        elif looks_like_value(e.name):
            e.problem = "只有指标值，缺少指标名称"
        else:
            e.problem = "缺少指标值"
    for e in table.entries:
        if e.problem or e.name is None or e.value is None:
            continue
        if e.value == e.name or (len(e.value) >= 4 and e.name.startswith(e.value)):
            e.problem = "指标值与指标名称相同（单元格错位）"


def _join_fragments(table: RawTable, doc: ParsedDocument, pname: str) -> None:
    """A one- or two-character annual "name" beside a period name is the period name's wrapped tail."""
    period = {e.row: e for e in table.entries if e.half == "period" and e.name and not e.problem}
    for e in table.entries:
        if e.half != "annual" or not e.name or e.problem or len(e.name) > 2:
            continue
        left = period.get(e.row)
        if left is None or left.name is None or left.value != e.value:
            continue
        full = left.name + e.name
        doc.repairs.append(Repair(left.line, "name", left.name, full, pname, "实施期指标名称折行，末尾字落在年度一侧"))
        doc.repairs.append(Repair(e.line, "name", e.name, full, pname, "年度指标名称缺失，取同一行实施期指标名称"))
        left.name = full
        e.name = full


def _carry(table: RawTable) -> None:
    for half in ("period", "annual"):
        current = None
        for e in table.entries:
            if e.half != half:
                continue
            if e.label is not None:
                current = e.label
            e.level2 = e.label or current


def _restore(table: RawTable, period_names: list[str], doc: ParsedDocument, pname: str) -> None:
    names = set(period_names)
    same_row = {e.row: e for e in table.entries if e.half == "period" and e.name and not e.problem}
    for e in table.entries:
        if e.half != "annual" or not e.name or e.problem or e.name in names or len(e.name) < 3:
            continue
        beside = same_row.get(e.row)
        if beside is not None and beside.name and beside.name.startswith(e.name) and len(beside.name) > len(e.name):
            doc.repairs.append(Repair(e.line, "name", e.name, beside.name, pname,
                                      "年度指标名称被截断，按同一行实施期指标名称恢复"))
            e.name = beside.name
            continue
        candidates = sorted({n for n in names if n.startswith(e.name) and len(n) > len(e.name)})
        if len(candidates) > 1:
            same_level = sorted({p.name for t in [table] for p in t.entries
                                 if p.half == "period" and p.name in candidates and p.level2 == e.level2})
            if len(same_level) == 1:
                candidates = same_level
        if len(candidates) == 1:
            doc.repairs.append(Repair(e.line, "name", e.name, candidates[0], pname,
                                      "年度指标名称被截断，按实施期指标名称恢复"))
            e.name = candidates[0]
        elif len(candidates) > 1:
            doc.warnings.append(f"第{e.line}行 年度指标「{e.name}」可能被截断，但对应的实施期名称不唯一"
                                f"（{'、'.join(candidates)}），保留原文")


def _place(table: RawTable, doc: ParsedDocument, pname: str) -> None:
    for half in ("period", "annual"):
        stream = [e for e in table.entries if e.half == half and not e.problem]
        if table.scrambled:
            current = None
            for e in stream:
                hint = level2_hint(e.name) if e.name else None
                printed = e.label or current
                if hint and hint != printed:
                    doc.repairs.append(Repair(e.line, "level2", printed or "", hint, pname,
                                              "二级指标标签错乱，按指标名称归类"))
                    current = hint
                else:
                    current = printed
                e.level2 = current
            continue
        for i, e in enumerate(stream):
            if e.label is None:
                continue
            j = i - 1
            while j >= 0 and stream[j].label is None and stream[j].name:
                hint = level2_hint(stream[j].name)
                if hint != e.label or stream[j].level2 == e.label:
                    break
                doc.repairs.append(Repair(stream[j].line, "level2", stream[j].level2 or "", e.label, pname,
                                          "合并单元格的二级指标标签印在下一行，按指标名称归入"))
                stream[j].level2 = e.label
                j -= 1
        if half == "annual":
            period_level: dict[str, str] = {}
            for p in table.entries:
                if p.half == "period" and p.name and p.level2:
                    period_level.setdefault(p.name, p.level2)
            for e in stream:
                if e.level2 is None and e.name and e.name in period_level:
                    doc.repairs.append(Repair(e.line, "level2", "", period_level[e.name], pname,
                                              "年度一侧未印二级指标，取同名实施期指标的二级指标"))
                    e.level2 = period_level[e.name]
        for e in stream:
            if e.level2 is None and e.name:
                hint = level2_hint(e.name)
                if hint:
                    doc.repairs.append(Repair(e.line, "level2", "", hint, pname, "缺少二级指标标签，按指标名称归类"))
                    e.level2 = hint
