"""What an import produces before anything is stored: a parsed document every source format maps to.

The disclosure-text parser and the Excel reader both build a `ParsedDocument`; one loader stores it. Keeping
the in-between form explicit is what lets `--dry-run --json` show exactly what would be stored.

The importer's messages are said in both languages one way: a refusal is `ImportFailure(中文, en=english, …)`,
the two sentences side by side with the same figures and names (a test fails on a raise without its English); a
cell problem of the template carries `problem` and `problem_en`; a rejected row's or a reconciliation item's
reason with figures carries `reason_en`, while a constant reason (`CUT_OFF`, the 表十二 reasons) is looked up in
the portal's catalogue. The document's own words (names, cells, header words) are quoted 「…」 in both, and a
library's exception is named by its class, never quoted. The CLI says the Chinese; the portal says either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

LEVEL1_OF = {
    "数量指标": "产出指标",
    "质量指标": "产出指标",
    "时效指标": "产出指标",
    "成本指标": "产出指标",
    "经济效益指标": "效益指标",
    "社会效益指标": "效益指标",
    "生态效益指标": "效益指标",
    "可持续影响指标": "效益指标",
    "服务对象满意度指标": "满意度指标",
    # the 成本指标 一级 of the 2021 framework (上海 and others print 成本指标 as 一级 with these under it)
    "经济成本指标": "成本指标",
    "社会成本指标": "成本指标",
    "生态环境成本指标": "成本指标",
}
LEVEL2_NAMES = tuple(LEVEL1_OF)
LEVEL1_NAMES = ("产出指标", "效益指标", "满意度指标")
FUND_SOURCES = ("central", "provincial", "city_county", "self_raised", "other")
# The header of a column printing each indicator's points: a table prints one or the other.
WEIGHT_HEADERS = ("分值", "权重")


class ImportFailure(ValueError):
    """A file that cannot be imported at all; names the file, line (or sheet/row) and field so it can be fixed.

    Said in either language: every raise gives the Chinese `message` and its English `en` side by side, with the
    same figures and names, and `describe(lang)` says the whole of it in one of them. A keyword rather than the
    house's "中文 (english)" string, because these messages quote the document's own words (「项目名称」, a
    project's name) and that convention keeps Chinese out of the English side. Names, cells and header words stay
    as the document wrote them, quoted 「…」 in both languages; a library's exception is named by its class, never
    quoted, so no English of a library sits inside a Chinese sentence. Each of `problems` (a cell of the template)
    carries `problem` and `problem_en` alike.
    """

    def __init__(self, message: str, *, en: str, file: str | None = None, line: int | None = None,
                 field_name: str | None = None, problems: list[dict] | None = None) -> None:
        self.message = message
        self.en = en
        self.file = file
        self.line = line
        self.field_name = field_name
        self.problems = problems or []
        super().__init__(self.describe())

    def describe(self, lang: str = "zh") -> str:
        """File, line and field, then what is wrong, then each problem on its own line, all in `lang`."""
        english = lang == "en"
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}" if english else f"第{self.line}行")
        if self.field_name:
            where.append(f"field 「{self.field_name}」" if english else f"字段「{self.field_name}」")
        message = self.en if english else self.message
        head = (": ".join([" ".join(where), message]) if where else message)
        lines = [head]
        for p in self.problems[:50]:
            lines.append("  - " + _problem_text(p, lang))
        if len(self.problems) > 50:
            more = len(self.problems) - 50
            lines.append(f"  … and {more} more problems" if english else f"  … 另有 {more} 处问题")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"error": self.message, "file": self.file, "line": self.line, "field": self.field_name,
                "problems": self.problems}


def _problem_text(problem: dict, lang: str = "zh") -> str:
    """「项目」表 第3行 「预算年度」列：… — where to look first, then what is wrong."""
    english = lang == "en"
    where = []
    if problem.get("sheet"):
        where.append(f"sheet 「{problem['sheet']}」" if english else f"「{problem['sheet']}」表")
    if problem.get("row") is not None:
        where.append(f"row {problem['row']}" if english else f"第{problem['row']}行")
    if problem.get("column"):
        where.append(f"column 「{problem['column']}」" if english else f"「{problem['column']}」列")
    said = problem.get("problem_en") if english else problem.get("problem")
    rest = [f"{k}={v}" for k, v in problem.items() if k not in ("sheet", "row", "column", "problem", "problem_en")]
    return " ".join(where) + (": " if english else "：") + ("; " if english else "；").join([str(said or "")] + rest)


@dataclass
class Repair:
    line: int | None
    field: str
    before: str
    after: str
    project: str | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        data = {"line": self.line, "field": self.field, "before": self.before, "after": self.after}
        if self.project is not None:
            data["project"] = self.project
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class Rejected:
    line: int | None
    text: str
    reason: str
    project: str | None = None
    half: str | None = None
    reason_en: str | None = None  # a reason with figures says its English beside it; a constant one is looked up

    def to_json(self) -> dict:
        data = {"line": self.line, "text": self.text, "reason": self.reason}
        if self.project is not None:
            data["project"] = self.project
        if self.half is not None:
            data["half"] = self.half
        if self.reason_en is not None:
            data["reason_en"] = self.reason_en
        return data


@dataclass
class Duplicate:
    line: int | None
    project: str
    half: str
    name: str
    value: str
    kept_line: int | None

    def to_json(self) -> dict:
        return {"line": self.line, "project": self.project, "half": self.half, "name": self.name,
                "value": self.value, "kept_line": self.kept_line}


@dataclass
class ParsedIndicator:
    half: str
    level1: str
    level2: str
    name: str
    value: str
    line: int | None
    position: int = 0
    # 分值/权重 as the source prints it; `weighted` says the source has such a column at all, so a re-import of a
    # table without one leaves the weights the finance bureau set alone, and an emptied cell clears one
    weight: Decimal | None = None
    weighted: bool = False
    # as printed by a table with such columns: actual, points, score, deviation_reason (shown, not stored here)
    results: dict[str, str | None] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str, str]:
        """Project + this tuple is an indicator's identity across re-imports (its value may be corrected)."""
        return (self.half, self.level2, self.name)


@dataclass
class ParsedProject:
    name: str
    import_key: str = ""
    implementing_unit: str | None = None
    attribute: str | None = None
    period: str | None = None
    total_funds: Decimal | None = None
    annual_funds: Decimal | None = None
    total_by_source: dict[str, Decimal | None] = field(default_factory=dict)
    annual_by_source: dict[str, Decimal | None] = field(default_factory=dict)
    overview: str | None = None
    basis: str | None = None
    necessity: str | None = None
    measures: str | None = None
    plan: str | None = None
    period_goal: str | None = None
    annual_goal: str | None = None
    filled_at: datetime | None = None
    department_code: str | None = None
    department_name: str | None = None
    funds_unit: str | None = None  # as printed: 元 or 万元 (amounts above are already in 元)
    layout: str | None = None  # the text family or file the table was read from
    line: int | None = None
    source_lines: list[int] = field(default_factory=list)
    indicators: list[ParsedIndicator] = field(default_factory=list)
    # the project's own level weights (keys of rules.scoring.LEVEL_WEIGHT_FIELDS) when the source sets them;
    # None leaves the stored ones as they are
    level_weights: dict[str, Decimal | None] | None = None

    @property
    def annual_indicators(self) -> list[ParsedIndicator]:
        return [i for i in self.indicators if i.half == "annual"]

    @property
    def period_indicators(self) -> list[ParsedIndicator]:
        return [i for i in self.indicators if i.half == "period"]


@dataclass
class Reconciliation:
    disclosed_total: Decimal | None
    imported_total: Decimal
    mismatches: list[dict] = field(default_factory=list)
    disclosed_rows: list[tuple[str, Decimal, int]] = field(default_factory=list)
    rounding: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.disclosed_total is not None and not self.mismatches

    def to_json(self) -> dict:
        return {
            "disclosed_total": money_text(self.disclosed_total),
            "imported_total": money_text(self.imported_total),
            "ok": self.ok,
            "mismatches": self.mismatches,
            "rounding": self.rounding,
        }


@dataclass
class ParsedDocument:
    source_file: str
    sha256: str
    format: str
    layout: str | None
    department_code: str | None
    department_name: str | None
    year: int | None
    projects: list[ParsedProject] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reconciliation: Reconciliation | None = None
    table_count: int = 0
    # whole tables cut off at the end and left out under --allow-partial: {"line", "end_line", "project", "reason"}
    incomplete_tables: list[dict] = field(default_factory=list)
    indicator_rows: int = 0

    def accounting(self) -> dict:
        imported = sum(len(p.indicators) for p in self.projects)
        return {
            "rows": self.indicator_rows,
            "imported": imported,
            "annual": sum(len(p.annual_indicators) for p in self.projects),
            "period": sum(len(p.period_indicators) for p in self.projects),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "balanced": self.indicator_rows == imported + len(self.duplicates) + len(self.rejected),
        }


CUT_OFF = "表格在此行被截断（行不完整）"
PARTIAL_HINT = "；加 --allow-partial 只导入完整的部分，不完整的行会列出行号"
PARTIAL_HINT_EN = "; with --allow-partial only the complete part is imported and the incomplete lines are listed"


def money_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).quantize(Decimal("0.01")), "f")


def level1_of(level2: str) -> str:
    return LEVEL1_OF.get(level2, "")
