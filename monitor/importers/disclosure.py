"""Read a published unit budget disclosure (单位预算公开, text extracted from the PDF) into a `ParsedDocument`.

Only the 项目支出绩效目标表 tables are read (plus 表十二 to reconcile); budget tables, prose, the glossary and
the procurement catalogue are skipped because no table title announces them. Every text goes through the one
header-driven reader (`grid.py` → `header_reader.py`); a table whose layout is not understood is refused with
the line that showed it.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

from monitor.importers import grid, header_reader
from monitor.importers.assemble import assemble
from monitor.importers.budget_table import find_rows, reconcile
from monitor.importers.document import (
    CUT_OFF,
    PARTIAL_HINT,
    PARTIAL_HINT_EN,
    ImportFailure,
    ParsedDocument,
    Reconciliation,
    money_text,
)
from monitor.importers.fund_check import check_table
from monitor.importers.table_block import RawTable, settle_amounts


def read_text(path: Path) -> tuple[str, str]:
    """The file's text and SHA-256; binary or undecodable content is refused before any parsing."""
    data = path.read_bytes()
    return decode(data, str(path)), hashlib.sha256(data).hexdigest()


def decode(data: bytes, source: str) -> str:
    if not data.strip():
        raise ImportFailure("文件为空", en="the file is empty", file=source)
    if data.startswith(b"%PDF-"):
        raise ImportFailure("这是PDF文件；请先把它转成文本（如 pdftotext），再导入文本文件",
                            en="this is a PDF file: turn it into text first (such as pdftotext), then import the text",
                            file=source)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows 记事本 saves "Unicode" as UTF-16 with a BOM
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportFailure("无法识别的文本编码（UTF-16 文件已损坏）",
                                en="text encoding not recognised (the UTF-16 file is damaged)", file=source) from exc
    if b"\x00" in data[:65536]:
        raise ImportFailure("不是文本文件（含二进制内容）；请提供从PDF提取的文本或 .xlsx 模板",
                            en="not a text file (binary content); give the text taken from a PDF or the .xlsx "
                               "template", file=source)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailure("无法识别的文本编码（需要 UTF-8 或 GB18030）",
                        en="text encoding not recognised (UTF-8 or GB18030 needed)", file=source)


def parse_file(path: str | Path, *, allow_partial: bool = False) -> ParsedDocument:
    path = Path(path)
    text, sha = read_text(path)
    return parse_text(text, source=str(path), sha256=sha, allow_partial=allow_partial)


def parse_text(text: str, *, source: str = "<text>", sha256: str | None = None,
               allow_partial: bool = False) -> ParsedDocument:
    """The document's target tables, read as a grid of cells by its header words; 表十二, when printed, reconciles
    the funds."""
    sha256 = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    return parse_grid(grid.build(text), source=source, sha256=sha256, allow_partial=allow_partial,
                      lines=text.splitlines())


def parse_grid(source_grid: grid.Grid, *, source: str, sha256: str, fmt: str = "text",
               allow_partial: bool = False, lines: list[str] | None = None) -> ParsedDocument:
    """Any template, any family: the header-driven reader, then merging and accounting. A table cut off at the end
    is refused unless `allow_partial`, which leaves it out and lists it (or, in a table read row by row, its cut
    rows) so nothing is lost without a word. `lines` is the text, where a 表十二 may list the year's projects."""
    tables = header_reader.read(source_grid, source)
    if not tables:
        raise ImportFailure("文件中没有找到任何「项目支出绩效目标表」（也没有绩效目标申报表、绩效目标审批表、"
                            "绩效自评表）",
                            en="the file holds no 「项目支出绩效目标表」 (nor 绩效目标申报表, 绩效目标审批表 or "
                               "绩效自评表)", file=source)
    tables, left_out = _complete_tables(tables, source, allow_partial)
    years = {t.year for t in tables if t.year}
    departments = {(t.get("department_code"), t.get("department_name")) for t in tables if t.get("department_code")}
    code, name = sorted(departments)[0] if departments else (None, None)
    if len({c for c, _ in departments}) > 1:
        raise ImportFailure(f"一个文件中出现了多个主管部门代码（{'、'.join(sorted(c for c, _ in departments))}），"
                            "请按部门分别导入",
                            en="one file names several department codes "
                               f"({', '.join(sorted(c for c, _ in departments))}); import each department's file "
                               "separately", file=source, field_name="主管部门及代码")
    if name is None:
        name = next((t.get("department_name") for t in tables if t.get("department_name")), None)
    doc = ParsedDocument(source_file=source, sha256=sha256, format=fmt, layout=source_grid.family,
                         department_code=code, department_name=name, year=min(years) if years else None,
                         table_count=len(tables), incomplete_tables=left_out)
    if len(years) > 1:
        doc.warnings.append(f"表头年度不一致：{sorted(years)}，取 {doc.year}")
    assemble(tables, doc)
    cut = [r for r in doc.rejected if r.reason == CUT_OFF]
    if cut and not allow_partial:
        raise ImportFailure(f"绩效目标表在第{cut[0].line}行被截断（项目「{cut[0].project}」的指标行不完整，"
                            f"共{len(cut)}行），文件可能不完整" + PARTIAL_HINT,
                            en=f"the target table is cut off at line {cut[0].line} (indicator rows of project "
                               f"「{cut[0].project}」 incomplete, {len(cut)} line{'s' if len(cut) > 1 else ''}): "
                               "the file may be incomplete" + PARTIAL_HINT_EN, file=source, line=cut[0].line,
                            field_name="指标值")
    for project in doc.projects:
        project.layout = source_grid.family
    listed = find_rows(lines) if lines is not None else None
    doc.reconciliation = reconcile(listed, doc.projects) if listed else _reconcile_unit_total(tables, doc)
    _check_funds(tables, doc.reconciliation)
    return doc


def _complete_tables(tables: list[RawTable], source: str,
                     allow_partial: bool) -> tuple[list[RawTable], list[dict]]:
    """The tables to import, amounts in 元, and the last one left out when its template's closing 负责人…填报日期
    row is missing (the file was cut off); a table with neither a name nor a row is refused."""
    kept: list[RawTable] = []
    left_out: list[dict] = []
    for n, table in enumerate(tables):
        if table.footer_expected and not table.complete and n + 1 == len(tables):
            reason = "最后一个绩效目标表不完整（没有「负责人…填报日期」行，文件可能被截断）"
            if not allow_partial or not kept:
                raise ImportFailure(reason + (PARTIAL_HINT if kept else ""),
                                    en="the last target table is incomplete (no 「负责人…填报日期」 line: the file "
                                       "may be cut off)" + (PARTIAL_HINT_EN if kept else ""), file=source,
                                    line=table.line, field_name="填报日期")
            left_out.append({"line": table.line, "end_line": table.end_line, "project": table.get("name"),
                             "reason": reason})
            continue
        if table.footer_expected and not any(e.name or e.value for e in table.entries) and not table.get("name"):
            raise ImportFailure("绩效目标表既没有项目名称也没有指标行（表格不完整）",
                                en="a target table with neither a project name nor indicator rows (incomplete)",
                                file=source, line=table.line, field_name="项目名称")
        settle_amounts(table, source)
        kept.append(table)
    return kept, left_out


def _check_funds(tables: list[RawTable], reconciliation: Reconciliation) -> None:
    """Each table's total against the parts it prints, listed with the document-level mismatches (never a refusal)."""
    seen: set[tuple] = set()
    for table in tables:
        for mismatch in check_table(table):
            key = (mismatch["project"], mismatch["reason"], mismatch["disclosed"], mismatch["imported"])
            if key not in seen:  # a table continued over pages prints its funds once per page
                seen.add(key)
                reconciliation.mismatches.append(mismatch)


def _reconcile_unit_total(tables: list[RawTable], doc: ParsedDocument) -> Reconciliation:
    """What such a table itself allows: a multi-project table's unit row (单位名称 | 预算数) against its projects."""
    imported = sum((p.annual_funds or Decimal(0) for p in doc.projects), Decimal(0)).quantize(Decimal("0.01"))
    totals = {(t.get("unit_total"), t.line_of("unit_total")) for t in tables
              if isinstance(t.get("unit_total"), Decimal)}
    if len(totals) != 1:
        return Reconciliation(None, imported, [{"reason": "表中没有单位合计行，无法核对项目资金合计"}])
    (found, line), = totals
    total = Decimal(str(found))
    mismatches = []
    if total != imported:
        mismatches.append({"reason": "单位预算数合计与各项目预算数之和不符", "line": line,
                           "disclosed": money_text(total), "imported": money_text(imported)})
    return Reconciliation(total, imported, mismatches)
