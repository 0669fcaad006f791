"""The Excel template: a workbook a department fills by hand (sheet 项目, sheet 指标), and its reader.

The reader finds columns by their Chinese header, so a reordered sheet still reads; every problem is collected
as (sheet, row, column, problem) and the whole file is refused if there is any, so nothing half-imports.
Export with a department pre-fills it from the store, which makes text → store → workbook → store a round trip.
"""

from __future__ import annotations

import hashlib
import zipfile
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlmodel import Session, col

from monitor.importers.document import (
    LEVEL1_OF,
    LEVEL2_NAMES,
    WEIGHT_HEADERS,
    Duplicate,
    ImportFailure,
    ParsedDocument,
    ParsedIndicator,
    ParsedProject,
    Repair,
)
from monitor.importers.levels import LEVEL2_VARIANTS, squash
from monitor.spreadsheets import cells
from monitor.spreadsheets.limits import Limits, too_big
from rules.bilingual import sides
from rules.calendar import shanghai_time
from rules.scoring import EXECUTION, LEVEL_WEIGHT_FIELDS, read_weight

PROJECT_SHEET = "项目"
INDICATOR_SHEET = "指标"
HELP_SHEET = "说明"
SOURCES = ("central", "provincial", "city_county", "self_raised", "other")
SOURCE_LABELS = ("中央财政资金", "省级财政资金", "市县（区）财政资金", "单位自筹", "其他资金")
MAX_MONEY = Decimal(10) ** 16  # NUMERIC(18,2) in the store
HALF_LABELS = {"年度目标": "annual", "实施期目标": "period"}

# (header, attribute, kind) — kind: text | money | int | stamp
PROJECT_COLUMNS: list[tuple[str, str, str]] = [
    ("部门代码", "department_code", "text"),
    ("部门名称", "department_name", "text"),
    ("预算年度", "year", "int"),
    ("项目标识", "import_key", "text"),
    ("项目名称", "name", "text"),
    ("实施单位", "implementing_unit", "text"),
    ("项目属性", "attribute", "text"),
    ("项目期", "period", "text"),
    ("实施期资金总额（元）", "total_funds", "money"),
    ("年度资金总额（元）", "annual_funds", "money"),
    *[(f"年度-{label}（元）", f"annual_{s}", "money") for s, label in zip(SOURCES, SOURCE_LABELS, strict=True)],
    *[(f"实施期-{label}（元）", f"total_{s}", "money") for s, label in zip(SOURCES, SOURCE_LABELS, strict=True)],
    ("项目概况", "overview", "text"),
    ("立项依据", "basis", "text"),
    ("项目设立必要性", "necessity", "text"),
    ("保证项目实施的制度、措施", "measures", "text"),
    ("项目实施计划", "plan", "text"),
    ("实施期总体目标", "period_goal", "text"),
    ("年度总体目标", "annual_goal", "text"),
    *[(f"{level}分值" if level == EXECUTION else f"{level}指标分值", name, "level_weight")
      for level, name in LEVEL_WEIGHT_FIELDS.items()],
    ("填报日期", "filled_at", "stamp"),
]
LEVEL_WEIGHT_COLUMNS = [(header, attr) for header, attr, kind in PROJECT_COLUMNS if kind == "level_weight"]
REQUIRED_PROJECT = ("部门代码", "预算年度", "项目名称", "年度资金总额（元）")
INDICATOR_COLUMNS = ["项目标识", "目标类别", "一级指标", "二级指标", "三级指标", "指标值", "分值", "序号"]
INSTRUCTIONS = [
    "kpiwatch 项目支出绩效目标导入模板",
    "",
    "1. 「项目」表每行一个项目。部门代码、预算年度、项目名称、年度资金总额必填；金额单位为元，可带两位小数。",
    "2. 「项目标识」用来把指标挂到项目上；留空时取项目名称。同名的两个项目请写不同标识（如「名称#2」）。",
    "3. 「指标」表每行一个三级指标。目标类别填「年度目标」（运行监控用）或「实施期目标」。",
    "4. 二级指标从下拉列表选择；一级指标可不填，会按二级指标自动确定。",
    "5. 指标值照原文填写（如 ≥200人次、100%、2024年6月底前、提高），系统会解析并保留原文。",
    "6. 重新导入同一文件不会产生重复数据；修改后再导入，会按「项目标识 + 目标类别 + 二级指标 + 三级指标」原位更新。",
    "7. 文件有任何问题时整个文件都不会导入，错误会指出工作表、行、列和原因。",
    "8. 「指标」表的「分值」（或「权重」）是该指标的分值，须为大于0的数字；留空则平分本级剩余分值。"
    "「项目」表的四项一级分值（预算执行率、产出、效益、满意度）可不填（取默认值），填则四项都填、合计100。",
]


def write_template(out: Path, projects: list[dict] | None = None, indicators: list[dict] | None = None) -> Path:
    wb = Workbook()
    help_ws = wb.active
    help_ws.title = HELP_SHEET
    for i, text in enumerate(INSTRUCTIONS, start=1):
        help_ws.cell(row=i, column=1, value=text)
    help_ws["A1"].font = Font(bold=True, size=14)
    help_ws.column_dimensions["A"].width = 110
    ws = wb.create_sheet(PROJECT_SHEET)
    _header(ws, [h for h, _, _ in PROJECT_COLUMNS])
    for r, row in enumerate(projects or [], start=2):
        for c, (_, attr, kind) in enumerate(PROJECT_COLUMNS, start=1):
            value = row.get(attr)
            if kind == "money" and value is not None:
                value = Decimal(value)
            if kind == "stamp" and value is not None:
                value = value.strftime("%Y-%m-%d %H:%M:%S")
            if kind == "level_weight" and value is not None:
                value = Decimal(value).normalize()
            cell = cells.put(ws.cell(row=r, column=c), value)
            if kind == "money":
                cell.number_format = "#,##0.00"
    ws.column_dimensions[get_column_letter(1)].number_format = "@"  # 部门代码 "001" must not become 1
    money_cols = [get_column_letter(i) for i, (_, _, k) in enumerate(PROJECT_COLUMNS, start=1) if k == "money"]
    money = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           error="金额须为不小于0的数字（元）", showErrorMessage=True)
    ws.add_data_validation(money)
    for letter in money_cols:
        money.add(f"{letter}2:{letter}2000")
    iws = wb.create_sheet(INDICATOR_SHEET)
    _header(iws, INDICATOR_COLUMNS)
    for r, row in enumerate(indicators or [], start=2):
        for c, header in enumerate(INDICATOR_COLUMNS, start=1):
            value = row.get(header)
            cells.put(iws.cell(row=r, column=c), Decimal(value).normalize() if header == "分值" and value else value)
    for header in ("三级指标", "指标值"):  # typed text stays text: "95%" is not turned into 0.95
        iws.column_dimensions[get_column_letter(INDICATOR_COLUMNS.index(header) + 1)].number_format = "@"
    half = DataValidation(type="list", formula1='"年度目标,实施期目标"', allow_blank=False,
                          error="请选择「年度目标」或「实施期目标」", showErrorMessage=True)
    level2 = DataValidation(type="list", formula1='"' + ",".join(LEVEL2_NAMES) + '"', allow_blank=False,
                            error="请从下拉列表选择二级指标", showErrorMessage=True)
    level1 = DataValidation(type="list", formula1='"产出指标,效益指标,满意度指标"', allow_blank=True)
    for dv, letter in ((half, "B"), (level1, "C"), (level2, "D")):
        iws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}20000")
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _header(ws, headers: list[str]) -> None:
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=c, value=header)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = max(10, min(40, len(header) * 2 + 2))
    ws.freeze_panes = "A2"


def export_department(session: Session, out: Path, code: str, *, year: int | None = None) -> int:
    """Pre-fill the template with one department's projects and indicators (both halves) from the store."""
    from monitor.store.models import BudgetYear, Department, Indicator, Project

    dept = session.execute(select(Department).where(col(Department.code) == code)).scalars().first()
    if dept is None:
        raise ImportFailure(f"数据库中没有部门代码 {code}", en=f"no department with code {code} in the store",
                            field_name="部门代码")
    query = select(Project, col(BudgetYear.year)).join(
        BudgetYear, col(Project.budget_year_id) == col(BudgetYear.id)).where(col(Project.department_id) == dept.id)
    found = session.execute(query).all()
    if year is None and found:
        year = max(y for _, y in found)
    rows = sorted([(p, y) for p, y in found if y == year], key=lambda pair: (pair[0].source_line or 0, pair[0].id))
    projects, indicators = [], []
    for project, y in rows:
        data = {attr: getattr(project, attr, None) for _, attr, _ in PROJECT_COLUMNS
                if attr not in ("department_code", "department_name", "year")}
        data.update(department_code=dept.code, department_name=dept.name, year=y)
        projects.append(data)
        items = session.execute(select(Indicator).where(col(Indicator.project_id) == project.id).order_by(
            col(Indicator.half).desc(), col(Indicator.position), col(Indicator.id))).scalars()
        for item in items:
            indicators.append({"项目标识": project.import_key,
                               "目标类别": "年度目标" if item.half == "annual" else "实施期目标",
                               "一级指标": item.level1, "二级指标": item.level2, "三级指标": item.name,
                               "指标值": item.value_text, "分值": item.weight, "序号": item.position})
    write_template(out, projects, indicators)
    return len(projects)


def read_workbook(path: str | Path) -> ParsedDocument:
    path = Path(path)
    data = path.read_bytes()
    source = str(path)
    if not data:
        raise ImportFailure("文件为空", en="the file is empty", file=source)
    refused = too_big(data, Limits(upload_bytes=len(data)))  # any size on disk; never a zip bomb
    if refused:
        chinese, english = sides(refused) or (refused, refused)
        raise ImportFailure(chinese, en=english, file=source)
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFailure(f"无法读取Excel文件（文件损坏或不是 .xlsx）：{exc.__class__.__name__}",
                            en=f"cannot read the Excel file (damaged, or not .xlsx): {exc.__class__.__name__}",
                            file=source) from exc
    except Exception as exc:
        raise ImportFailure(f"无法读取Excel文件：{exc.__class__.__name__}",
                            en=f"cannot read the Excel file: {exc.__class__.__name__}", file=source) from exc
    problems: list[dict] = []
    for sheet in (PROJECT_SHEET, INDICATOR_SHEET):
        if sheet not in wb.sheetnames:
            raise ImportFailure(f"缺少工作表「{sheet}」（请用 kpiwatch template export 生成的模板）",
                                en=f"no sheet 「{sheet}」 (use the template kpiwatch template export writes)",
                                file=source,
                                field_name=sheet)
    doc = ParsedDocument(source_file=source, sha256=hashlib.sha256(data).hexdigest(), format="xlsx", layout=None,
                         department_code=None, department_name=None, year=None)
    projects = _read_projects(wb[PROJECT_SHEET], problems, doc)
    _read_indicators(wb[INDICATOR_SHEET], projects, problems, doc)
    wb.close()
    if problems:
        raise ImportFailure(f"模板中有 {len(problems)} 处问题，整个文件未导入",
                            en=f"the template has {len(problems)} problems; nothing of the file was imported",
                            file=source, problems=problems)
    doc.projects = list(projects.values())
    doc.table_count = len(doc.projects)
    return doc


def _rows(ws):
    rows = (tuple(_as_typed(cell) for cell in row) for row in ws.iter_rows())
    header = next(rows, None)
    if header is None:
        return {}, []
    index = {squash(str(h)): i for i, h in enumerate(header) if h is not None}
    return index, [(n, row) for n, row in enumerate(rows, start=2) if any(v not in (None, "") for v in row)]


def _as_typed(cell):
    """The value as the person typed it: Excel stores "95%" as 0.95 shown in a percent format, and a typed
    date as a datetime; read raw, "≥95%" would become "≥0.95" and "2024-05-31" a timestamp."""
    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
        return format((Decimal(str(value)) * 100).normalize(), "f") + "%"
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    return value


def _cell(row, index, header):
    i = index.get(squash(header))
    if i is None or i >= len(row):
        return None
    value = row[i]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _read_projects(ws, problems: list[dict], doc: ParsedDocument) -> dict[str, ParsedProject]:
    index, rows = _rows(ws)
    for header in REQUIRED_PROJECT:
        if squash(header) not in index:
            problems.append({"sheet": PROJECT_SHEET, "row": 1, "column": header, "problem": "缺少这一列",
                             "problem_en": "this column is missing"})
    if problems:
        return {}
    projects: dict[str, ParsedProject] = {}
    codes, years = set(), set()
    for n, row in rows:
        values = {}
        for header, attr, kind in PROJECT_COLUMNS:
            raw = _cell(row, index, header)
            try:
                values[attr] = _convert(raw, kind)
            except ValueError as exc:
                chinese, english = _said(exc, raw)
                problems.append({"sheet": PROJECT_SHEET, "row": n, "column": header, "problem": chinese,
                                 "problem_en": english})
                values[attr] = None
        for header in REQUIRED_PROJECT:
            attr = next(a for h, a, _ in PROJECT_COLUMNS if h == header)
            if values.get(attr) in (None, "") and not any(p["row"] == n and p["column"] == header for p in problems):
                problems.append({"sheet": PROJECT_SHEET, "row": n, "column": header, "problem": "必填",
                                 "problem_en": "required"})
        if values.get("department_code") is not None:
            codes.add(str(values["department_code"]))
        if values.get("year") is not None:
            years.add(values["year"])
        level_weights = _level_weights(index, values, n, problems)
        name = values.get("name")
        if not name:
            continue
        key = str(values.get("import_key") or name)
        if key in projects:
            problems.append({"sheet": PROJECT_SHEET, "row": n, "column": "项目标识",
                             "problem": f"与第{projects[key].line}行重复（同名项目请写不同的项目标识）",
                             "problem_en": f"the same as row {projects[key].line} (give projects of one name "
                                           "different keys)"})
            continue
        projects[key] = ParsedProject(
            name=str(name), import_key=key, line=n, source_lines=[n],
            implementing_unit=values.get("implementing_unit"), attribute=values.get("attribute"),
            period=None if values.get("period") is None else str(values["period"]),
            total_funds=values.get("total_funds"), annual_funds=values.get("annual_funds"),
            total_by_source={s: values.get(f"total_{s}") for s in SOURCES},
            annual_by_source={s: values.get(f"annual_{s}") for s in SOURCES},
            overview=values.get("overview"), basis=values.get("basis"), necessity=values.get("necessity"),
            measures=values.get("measures"), plan=values.get("plan"), period_goal=values.get("period_goal"),
            annual_goal=values.get("annual_goal"), filled_at=values.get("filled_at"),
            department_code=None if values.get("department_code") is None else str(values["department_code"]),
            department_name=values.get("department_name"), level_weights=level_weights)
        doc.department_name = doc.department_name or values.get("department_name")
    if len(codes) > 1:
        problems.append({"sheet": PROJECT_SHEET, "row": None, "column": "部门代码",
                         "problem": f"一个文件只能有一个部门，发现 {'、'.join(sorted(codes))}",
                         "problem_en": f"one file holds one department, found {', '.join(sorted(codes))}"})
    if len(years) > 1:
        problems.append({"sheet": PROJECT_SHEET, "row": None, "column": "预算年度",
                         "problem": f"一个文件只能有一个年度，发现 {'、'.join(str(y) for y in sorted(years))}",
                         "problem_en": f"one file holds one year, found {', '.join(str(y) for y in sorted(years))}"})
    if not rows:
        problems.append({"sheet": PROJECT_SHEET, "row": 2, "column": "项目名称", "problem": "没有任何项目",
                         "problem_en": "no project at all"})
    doc.department_code = next(iter(codes)) if len(codes) == 1 else None
    doc.year = next(iter(years)) if len(years) == 1 else None
    return projects


def _level_weights(index: dict, values: dict, n: int, problems: list[dict]) -> dict[str, Decimal | None] | None:
    """A project's own level weights: none of the four (the defaults), or all four adding up to 100. None when
    the sheet has no such columns (a template of an older kpiwatch), so the stored ones stay as they are."""
    if not any(squash(header) in index for header, _ in LEVEL_WEIGHT_COLUMNS):
        return None
    if any(p["row"] == n and p["column"] in dict(LEVEL_WEIGHT_COLUMNS) for p in problems):
        return None
    given = {header: values.get(attr) for header, attr in LEVEL_WEIGHT_COLUMNS}
    empty = [header for header, value in given.items() if value is None]
    if len(empty) == len(given):
        return dict.fromkeys(LEVEL_WEIGHT_FIELDS)
    if empty:
        for header in empty:
            problems.append({"sheet": PROJECT_SHEET, "row": n, "column": header,
                             "problem": "四项一级分值须都填写（或都留空，取默认值）",
                             "problem_en": "fill in all four level points (or leave all four empty for the "
                                           "defaults)"})
        return None
    total = sum((v for v in given.values() if v is not None), Decimal(0))
    if total != 100:
        problems.append({"sheet": PROJECT_SHEET, "row": n, "column": "、".join(given),
                         "problem": f"四项一级分值合计须为 100，现为 {format(total.normalize(), 'f')}",
                         "problem_en": f"the four level points must add up to 100, not "
                                       f"{format(total.normalize(), 'f')}"})
        return None
    return {level: values.get(attr) for level, attr in LEVEL_WEIGHT_FIELDS.items()}


def _convert(raw, kind: str):
    if raw is None:
        return None
    if kind == "level_weight":
        return read_weight(_text(raw), zero_allowed=True)
    if kind == "text":
        return str(raw) if not isinstance(raw, float) else format(Decimal(str(raw)).normalize(), "f")
    if kind == "int":
        try:
            number = Decimal(str(raw))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"「{raw}」不是整数", f"「{raw}」 is not a whole number") from exc
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"「{raw}」不是整数", f"「{raw}」 is not a whole number")
        return int(number)
    if kind == "money":
        try:
            value = Decimal(str(raw).replace(",", "").strip())
        except InvalidOperation as exc:
            raise ValueError(f"「{raw}」不是金额（元）", f"「{raw}」 is not an amount (元)") from exc
        if not value.is_finite():
            raise ValueError(f"「{raw}」不是金额（元）", f"「{raw}」 is not an amount (元)")
        if value < 0:
            raise ValueError(f"金额不能为负：{raw}", f"an amount cannot be negative: {raw}")
        if value >= MAX_MONEY:
            raise ValueError(f"金额过大：{raw}（上限 9999999999999999.99 元）",
                             f"amount too large: {raw} (at most 9999999999999999.99 元)")
        return value.quantize(Decimal("0.01"))
    if kind == "stamp":  # kept as Shanghai time: SQLite stores the wall-clock time without its offset
        if isinstance(raw, datetime):
            return shanghai_time(raw)
        try:
            return shanghai_time(datetime.fromisoformat(str(raw)))
        except ValueError as exc:
            raise ValueError(f"「{raw}」不是日期时间（如 2024-01-31 16:28:58）",
                             f"「{raw}」 is not a date and time (such as 2024-01-31 16:28:58)") from exc
    return raw


def _read_indicators(ws, projects: dict[str, ParsedProject], problems: list[dict], doc: ParsedDocument) -> None:
    index, rows = _rows(ws)
    for header in ("项目标识", "目标类别", "二级指标", "三级指标", "指标值"):
        if squash(header) not in index:
            problems.append({"sheet": INDICATOR_SHEET, "row": 1, "column": header, "problem": "缺少这一列",
                             "problem_en": "this column is missing"})
    if any(p["sheet"] == INDICATOR_SHEET for p in problems):
        return
    by_name = {p.name: p for p in projects.values()}
    weight_header = next((h for h in WEIGHT_HEADERS if squash(h) in index), None)
    seen: dict[tuple, tuple[int, str]] = {}
    positions: dict[tuple[str, str], int] = {}

    def problem(number: int, column: str, text: str, english: str) -> None:
        problems.append({"sheet": INDICATOR_SHEET, "row": number, "column": column, "problem": text,
                         "problem_en": english})

    for n, row in rows:
        doc.indicator_rows += 1
        errors_before = len(problems)

        key = _cell(row, index, "项目标识")
        project = projects.get(str(key)) if key is not None else None
        if project is None and key is not None:
            project = by_name.get(str(key))
        if key is None:
            problem(n, "项目标识", "必填", "required")
        elif project is None:
            problem(n, "项目标识", f"「{key}」不在「项目」表中", f"「{key}」 is not in the sheet 「项目」")
        half_text = _cell(row, index, "目标类别")
        half = HALF_LABELS.get(str(half_text)) if half_text is not None else None
        if half is None:
            problem(n, "目标类别", f"须为「年度目标」或「实施期目标」，而不是「{half_text or ''}」",
                    f"must be 「年度目标」 or 「实施期目标」, not 「{half_text or ''}」")
        level2_text = _cell(row, index, "二级指标")
        level2 = None
        if level2_text is None:
            problem(n, "二级指标", "必填", "required")
        else:
            t = squash(str(level2_text))
            level2 = t if t in LEVEL2_NAMES else LEVEL2_VARIANTS.get(t)
            if level2 is None:
                problem(n, "二级指标", f"「{level2_text}」不是规定的二级指标（{'、'.join(LEVEL2_NAMES)}）",
                        f"「{level2_text}」 is not one of the 二级指标 ({', '.join(LEVEL2_NAMES)})")
            elif level2 != t:
                doc.repairs.append(Repair(n, "level2", str(level2_text), level2, str(key), "二级指标名称规范化"))
        level1_text = _cell(row, index, "一级指标")
        if level2 and level1_text is not None and squash(str(level1_text)) != LEVEL1_OF[level2]:
            problem(n, "一级指标", f"「{level1_text}」与二级指标「{level2}」不符（应为「{LEVEL1_OF[level2]}」）",
                    f"「{level1_text}」 does not go with the 二级指标 「{level2}」 (it is 「{LEVEL1_OF[level2]}」)")
        name = _cell(row, index, "三级指标")
        value = _cell(row, index, "指标值")
        if name is None:
            problem(n, "三级指标", "必填", "required")
        if value is None:
            problem(n, "指标值", "必填（定性指标也请照原文填写，如「提高」）",
                    "required (write a qualitative target as printed too, such as 「提高」)")
        if len(problems) > errors_before or project is None or half is None or level2 is None:
            continue  # each of the three missing was reported above
        name, value = str(name), _text(value)
        weight = None
        if weight_header is not None and (raw_weight := _cell(row, index, weight_header)) is not None:
            try:
                weight = read_weight(_text(raw_weight))
            except ValueError as exc:
                problem(n, weight_header, *_said(exc, raw_weight))
                continue
        identity = (project.import_key, half, level2, name)
        if identity in seen:
            first_row, first_value = seen[identity]
            if first_value == value:
                doc.duplicates.append(Duplicate(n, project.import_key, half, name, value, first_row))
            else:
                problem(n, "三级指标", f"与第{first_row}行同一项目、同一二级指标下的指标同名但指标值不同",
                        f"same project, 二级指标 and name as row {first_row} but another target")
            continue
        seen[identity] = (n, value)
        positions[(project.import_key, half)] = positions.get((project.import_key, half), 0) + 1
        project.indicators.append(ParsedIndicator(half=half, level1=LEVEL1_OF[level2], level2=level2, name=name,
                                                  value=value, line=n,
                                                  position=positions[(project.import_key, half)],
                                                  weight=weight, weighted=weight_header is not None))


def _said(exc: ValueError, raw: object) -> tuple[str, str]:
    """A cell's problem in both languages: the readers here raise (中文, english); the weight rule gives its reason
    in Chinese only, so the English says what such a cell must hold."""
    chinese = str(exc.args[0]) if exc.args else str(exc)
    if len(exc.args) > 1:
        return chinese, str(exc.args[1])
    return chinese, f"「{raw}」 is not valid points (a number of points, below 100)"


def _text(value) -> str:
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)
