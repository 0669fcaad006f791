"""The JSON contract of `kpiwatch import --dry-run --json` and the one-screen text summary."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

from monitor.importers.document import (
    CUT_OFF,
    ImportFailure,
    ParsedDocument,
    ParsedIndicator,
    ParsedProject,
    money_text,
)
from monitor.importers.load import suspicious_targets, target_json

SELFEVAL_TARGETS_ONLY = ("这是绩效自评表：只导入了目标与分值；实际完成值、全年执行数和部门得分请用 "
                         "kpiwatch import-selfeval 导入")


def parse_any(path: str | Path, *, allow_partial: bool = False) -> ParsedDocument:
    """Text disclosure or Excel template, chosen by content (a .xlsx is a ZIP) and then by extension.

    `allow_partial` imports what is complete of a table cut off at the end (the rest listed as incomplete);
    without it such a file is refused naming the line, so a truncated download is never taken for the whole."""
    path = Path(path)
    if not path.exists():
        raise ImportFailure("文件不存在", en="no such file", file=str(path))
    if not path.is_file():
        raise ImportFailure("不是文件（是目录？）；请给出一个 .txt 或 .xlsx 文件",
                            en="not a file (a folder?); give a .txt or .xlsx file", file=str(path))
    with path.open("rb") as handle:
        head = handle.read(512)
    from monitor.importers import files
    from monitor.importers.disclosure import parse_file, parse_grid
    from monitor.importers.selfeval_table import as_document, is_selfeval, read_selfevals

    def tables_of(grid) -> ParsedDocument:
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        if is_selfeval(grid):  # its 实际完成值/分值/得分 columns sit beside the targets: read by their headers
            if grid.family == "html":
                grid = files.html_grid(path.read_bytes(), spans=True)
            doc = as_document(read_selfevals(grid, str(path), allow_partial=allow_partial), sha256, grid.family)
            doc.warnings.append(SELFEVAL_TARGETS_ONLY)
            return doc
        return parse_grid(grid, source=str(path), sha256=sha256, fmt=grid.family, allow_partial=allow_partial)

    if head.startswith(b"PK\x03\x04") and _zip_member(path, "word/document.xml"):
        return tables_of(files.docx_grid(path))
    if head.startswith(b"PK\x03\x04") and _zip_member(path, "xl/workbook.xml") and not _is_template(path):
        return tables_of(files.xlsx_grid(path))
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        from monitor.importers.excel import read_workbook

        return read_workbook(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE container of the old binary .xls
        return tables_of(files.xls_grid(path))
    if head.startswith(b"%PDF-"):
        return tables_of(files.pdf_grid(path))
    if path.suffix.lower() in (".html", ".htm") or head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return tables_of(files.html_grid(path.read_bytes()))
    return parse_file(path, allow_partial=allow_partial)


def _is_template(path: Path) -> bool:
    """Our fill-in workbook has its 项目 and 指标 sheets; any other workbook is a table a department made."""
    from openpyxl import load_workbook

    from monitor.importers.excel import INDICATOR_SHEET, PROJECT_SHEET

    try:
        workbook = load_workbook(str(path), read_only=True)
    except Exception:  # a damaged workbook is the template reader's to report, with its own message
        return True
    names = set(workbook.sheetnames)
    workbook.close()
    return PROJECT_SHEET in names and INDICATOR_SHEET in names


def _zip_member(path: Path, member: str) -> bool:
    """Whether a ZIP container (.docx, .xlsx are both ZIPs) holds `member`; a damaged ZIP holds nothing."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _indicator_json(item: ParsedIndicator, year: int | None, strict_month_before: bool) -> dict:
    data: dict[str, object] = {"level1": item.level1, "level2": item.level2, "name": item.name,
                               "value": item.value, "half": item.half, "line": item.line}
    target = target_json(item, year, strict_month_before)
    if target is not None:
        data["target"] = target
    if item.weighted:  # only a source with a 分值/权重 column says anything about weights
        data["weight"] = None if item.weight is None else format(item.weight, "f")
    data.update(item.results)  # actual, points, score, deviation_reason: only the columns the table prints
    return data


def _funds(by_source: dict[str, Decimal | None]) -> dict:
    data = {k: money_text(by_source.get(k) or Decimal(0))
            for k in ("central", "provincial", "city_county", "self_raised")}
    if by_source.get("other"):
        data["other"] = money_text(by_source["other"])
    return data


def project_json(project: ParsedProject, year: int | None, strict_month_before: bool = False) -> dict:
    data = {
        "name": project.name,
        "import_key": project.import_key,
        "implementing_unit": project.implementing_unit,
        "attribute": project.attribute,
        "period": project.period,
        "total_funds": money_text(project.total_funds),
        "annual_funds": money_text(project.annual_funds),
        "funds_by_source": _funds(project.annual_by_source),
        "total_funds_by_source": _funds(project.total_by_source),
        "filled_at": project.filled_at.isoformat() if project.filled_at else None,
        "funds_unit": project.funds_unit,
        "layout": project.layout,
        "line": project.line,
        "indicators": [_indicator_json(i, year, strict_month_before) for i in project.annual_indicators],
        "period_indicators": [_indicator_json(i, year, strict_month_before) for i in project.period_indicators],
    }
    if project.level_weights is not None:
        data["level_weights"] = {k: None if v is None else format(v, "f") for k, v in project.level_weights.items()}
    return data


def document_json(doc: ParsedDocument, *, year: int | None = None, department_code: str | None = None,
                  strict_month_before: bool = False) -> dict:
    year = doc.year or year
    return {
        "department": {"code": doc.department_code or department_code, "name": doc.department_name},
        "year": year,
        "source": {"file": doc.source_file, "sha256": doc.sha256, "format": doc.format, "layout": doc.layout,
                   "tables": doc.table_count},
        "projects": [project_json(p, year, strict_month_before) | {"incomplete": _cut_rows(doc, p)}
                     for p in doc.projects],
        "incomplete_tables": doc.incomplete_tables,
        "reconciliation": doc.reconciliation.to_json() if doc.reconciliation else None,
        "indicator_rows": doc.accounting(),
        "rejected": [r.to_json() for r in doc.rejected],
        "duplicates": [d.to_json() for d in doc.duplicates],
        "repairs": [r.to_json() for r in doc.repairs],
        "warnings": doc.warnings,
    }


def _cut_rows(doc: ParsedDocument, project: ParsedProject) -> list[int | None]:
    """Lines of the project's rows that the table cut off (kept out of the store, listed so nothing is silent)."""
    return [r.line for r in doc.rejected if r.project == project.import_key and r.reason == CUT_OFF]


def summary_lines(doc: ParsedDocument) -> list[str]:
    acc = doc.accounting()
    rec = doc.reconciliation
    total = sum((p.annual_funds or Decimal(0) for p in doc.projects), Decimal(0))
    lines = [
        f"{doc.source_file}: {doc.department_code or '?'} {doc.department_name or ''} {doc.year or ''}年度"
        f"（{doc.layout or doc.format}）",
        f"  项目 {len(doc.projects)} 个，年度资金合计 {money_text(total)} 元（{money_text(total / 10000)} 万元）",
        f"  指标行 {acc['rows']}：导入 {acc['imported']}（年度 {acc['annual']}，实施期 {acc['period']}），"
        f"重复合并 {acc['duplicates']}，拒收 {acc['rejected']}；修复 {len(doc.repairs)} 处",
    ]
    if rec is not None:
        state = "一致" if rec.ok else "不一致"
        lines.append(f"  与表十二核对：{state}（表十二 {money_text(rec.disclosed_total)} 元，导入 "
                     f"{money_text(rec.imported_total)} 元）")
        lines += [f"    ! {_reconciliation_line(m)}" for m in rec.mismatches]
        lines += [f"    舍入 {_reconciliation_line(r)}" for r in rec.rounding]
    for t in doc.incomplete_tables:
        lines.append(f"  不完整 第{t['line']}–{t['end_line']}行 [{t['project'] or ''}]：{t['reason']}，未导入")
    for r in doc.rejected:
        lines.append(f"  拒收 第{r.line}行 [{r.project or ''}/{r.half or ''}] {r.text!r}: {r.reason}")
    for s in suspicious_targets(doc):
        lines.append(f"  可疑 第{s['line']}行 [{s['project']}] {s['name']} {s['value']!r}: {s['reason']}")
    return lines


def _reconciliation_line(item: dict) -> str:
    where = f"第{item['line']}行 " if item.get("line") else ""
    project = f"「{item['project']}」：" if item.get("project") else ""
    labels = ("印出的总额", "各项之和") if item.get("kind") == "funds" else ("表十二", "导入")
    amounts = "，".join(f"{label} {item[key]} 元" for key, label in zip(("disclosed", "imported"), labels, strict=True)
                       if item.get(key) is not None)
    return f"{where}{project}{item['reason']}" + (f"（{amounts}）" if amounts else "")
