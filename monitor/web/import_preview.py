"""The upload page's preview of a dry run, in the page's language.

Built from the dry run's JSON (`document_json`: counts, funds, reconciliation, rejected, suspicious, incomplete
tables, repairs) rather than from the CLI's Chinese lines, so every label goes through the portal's catalogue. A reason
the importer gives with figures carries its English beside it (`reason_en`); a constant one is a catalogue entry.
What the document wrote (names, cells, header words) stays as written; the template quotes it.
"""

from __future__ import annotations

from decimal import Decimal

from monitor.importers.document import ParsedDocument, money_text
from monitor.importers.load import suspicious_targets
from monitor.importers.output import document_json
from monitor.web.i18n import one_language


def _reason(item: dict, lang: str) -> str:
    """An item's reason in `lang`: its own English if it has one, else the catalogue's."""
    if lang == "en" and item.get("reason_en"):
        return str(item["reason_en"])
    return one_language(str(item.get("reason") or ""), lang)


def _where(item: dict, lang: str) -> str:
    """Line (or lines) and project first, as the CLI's lines begin: 第12行 「项目」 / line 12 「项目」."""
    line, end = item.get("line"), item.get("end_line")
    if line is None:
        at = ""
    elif lang == "en":
        at = f"line {line}" if end is None else f"lines {line}–{end}"
    else:
        at = f"第{line}行" if end is None else f"第{line}–{end}行"
    project = f"「{item['project']}」" if item.get("project") else ""
    return " ".join(part for part in (at, project) if part)


def _said(item: dict, lang: str) -> dict:
    return item | {"said": _reason(item, lang), "where": _where(item, lang)}


def _checked(items: list[dict], lang: str) -> list[dict]:
    """Reconciliation items with their reason said in `lang`; `funds` tells the table's own check (printed total
    against its parts) from the 表十二 check, whose amounts are labelled differently."""
    return [_said(item, lang) | {"funds": item.get("kind") == "funds"} for item in items]


def preview(doc: ParsedDocument, lang: str) -> dict:
    """What the preview section shows, every reason already in `lang`."""
    data = document_json(doc)
    total = sum((Decimal(p["annual_funds"]) for p in data["projects"] if p["annual_funds"] is not None), Decimal(0))
    reconciliation = data["reconciliation"]
    if reconciliation is not None:
        reconciliation = reconciliation | {"mismatches": _checked(reconciliation["mismatches"], lang),
                                           "rounding": _checked(reconciliation["rounding"], lang)}
    return {
        "department": data["department"], "year": data["year"], "source": data["source"],
        "projects": len(data["projects"]), "funds": money_text(total), "funds_wan": money_text(total / 10000),
        "rows": data["indicator_rows"], "repairs": len(data["repairs"]), "reconciliation": reconciliation,
        "incomplete": [_said(t, lang) for t in data["incomplete_tables"]],
        "rejected": [_said(r, lang) for r in data["rejected"]],
        "suspicious": [_said(s, lang) for s in suspicious_targets(doc)],
        "repaired": [_said(r, lang) for r in data["repairs"]],
    }
