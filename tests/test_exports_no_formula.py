"""Text a person typed never becomes a formula in anything kpiwatch exports (.xlsx or .csv).

The hostile texts go in through the real entrances: a project typed into the Excel template and imported,
reports posted to the REST API, a self-evaluation explanation saved like the portal saves it. Then every
export is opened: no sheet holds a formula, every risky text is a text cell with quotePrefix (so it stays text
when edited), every CSV field that a spreadsheet would evaluate starts with a single quote (OWASP).
LibreOffice's view of the same files is checked in tests/test_office_render.py.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.config import Config
from monitor.importers.excel import export_department, read_workbook, write_template
from monitor.importers.load import store_document
from monitor.progress import service
from monitor.progress.entries import read_report
from monitor.reports import ReportRequest, produce
from monitor.reports.entries import record_entry
from monitor.spreadsheets import cells
from monitor.store import audit
from monitor.store.db import session_scope
from monitor.store.models import Department, Indicator, Project, User
from tests.test_api_progress import _auth, _token
from tests.test_progress_world import build_world
from tests.test_web_portal import login, make_client

HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'
PAYLOADS = ("=2+3", HYPERLINK, "+1", "-1+2", "@SUM(1)")
HOSTILE_PROJECT = HYPERLINK
# (二级指标, 三级指标, 指标值): names a department typed into the template
HOSTILE_INDICATORS = [("数量指标", "=2+3", "≥100人"), ("质量指标", "+1", "≥90%"), ("数量指标", "-1+2", "≥10次"),
                      ("社会效益指标", "@SUM(1)", "有效提升")]


@dataclass
class Hostile:
    department_code: str
    project_id: int
    indicator_ids: list[int]


def import_hostile_project(engine: Engine, tmp_path: Path, *, department_code: str, department_name: str,
                           year: int = 2024) -> Hostile:
    """The template as a department fills it by hand, read back by the importer (`kpiwatch import x.xlsx`)."""
    path = write_template(tmp_path / "hostile-template.xlsx", projects=[{
        "department_code": department_code, "department_name": department_name, "year": year,
        "import_key": "hostile", "name": HOSTILE_PROJECT, "implementing_unit": "@SUM(1)",
        "annual_funds": Decimal("120000"), "total_funds": Decimal("120000"), "annual_goal": "-1+2",
    }], indicators=[{"项目标识": "hostile", "目标类别": "年度目标", "二级指标": level2, "三级指标": name,
                     "指标值": value, "序号": i} for i, (level2, name, value) in enumerate(HOSTILE_INDICATORS)])
    with session_scope(engine) as session:
        store_document(session, read_workbook(path))
    with Session(engine) as session:
        project = session.exec(select(Project).where(Project.name == HOSTILE_PROJECT)).one()
        ids = session.exec(select(Indicator.id).where(Indicator.project_id == project.id)
                           .order_by(Indicator.position)).all()
        return Hostile(department_code, project.id, list(ids))


def hostile_drafts(hostile: Hostile) -> list[dict]:
    """Reports whose note, forecast and deviation causes are what an attacker would type (as API JSON)."""
    count, rate, times, quality = hostile.indicator_ids
    return [
        {"indicator_id": count, "value": "40", "as_of": "2024-06-30", "note": "=2+3", "forecast": "=2+3",
         "deviation_causes": {"经费保障": HYPERLINK, "其他": "-1+2"}, "likelihood": "有可能"},
        {"indicator_id": rate, "value": "80", "as_of": "2024-06-30", "note": HYPERLINK, "forecast": HYPERLINK,
         "deviation_causes": {"人员保障": "@SUM(1)", "制度保障": "+1"}},
        {"indicator_id": times, "value": "3", "as_of": "2024-06-30", "note": "-1+2", "forecast": "-1+2"},
        {"indicator_id": quality, "grade": "部分达成年度指标并具有一定效果", "explanation": "@SUM(1)",
         "note": "@SUM(1)", "forecast": "@SUM(1)", "as_of": "2024-06-30"},
    ]


def record_hostile_reports(engine: Engine, hostile: Hostile, username: str, *, today: date) -> None:
    """The same reports through the progress service (what the API, portal and upload all call)."""
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        service.record_reports(session, user, [read_report(**d) for d in hostile_drafts(hostile)], channel="api",
                               today=today)


def explain_hostile_selfeval(engine: Engine, hostile: Hostile, settings: Config) -> None:
    with session_scope(engine) as session:
        record_entry(session, indicator_id=hostile.indicator_ids[1], year=2024, rules=settings.scoring,
                     explanation="=2+3", channel="portal")


def formulas(xlsx: bytes) -> list[str]:
    """Every <f> element in every worksheet of the file."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return [f"{name}: {m}" for name in z.namelist() if name.startswith("xl/worksheets/")
                for m in re.findall(r"<f[ >].*?</f>|<f/>", z.read(name).decode("utf-8"))]


def risky_cells(xlsx: bytes) -> list:
    wb = load_workbook(io.BytesIO(xlsx))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and cells.starts_like_formula(c.value)]


def _assert_inert(name: str, xlsx: bytes) -> set[str]:
    assert formulas(xlsx) == [], name
    risky = risky_cells(xlsx)
    assert all(c.data_type == "s" and c.quotePrefix for c in risky), (name, [(c.coordinate, c.value) for c in risky])
    return {c.value for c in risky}


def _shown(payload: str, texts: set[str]) -> bool:
    return any(t == payload or t.startswith(payload + "；") for t in texts)


def test_every_export_keeps_typed_formulas_as_text(engine, tmp_path):
    world = build_world(engine)
    hostile = import_hostile_project(engine, tmp_path, department_code="HRSS", department_name="市人力资源和社会保障局")
    client = make_client(engine)
    posted = client.post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")), json=hostile_drafts(hostile))
    assert posted.status_code == 201, posted.text
    settings = Config()
    explain_hostile_selfeval(engine, hostile, settings)
    with Session(engine) as session:
        exports = {kind: produce(session, ReportRequest(kind, 2024, "xlsx", through=7), settings)
                   for kind in ("monitor", "selfeval", "summary", "ranking")}
        export_department(session, tmp_path / "template.xlsx", "HRSS")
    exports["template"] = (tmp_path / "template.xlsx").read_bytes()
    login(client, "clerk_hr")
    exports["workbook"] = client.get(f"/departments/{world.hr_id}/workbook.xlsx").content

    shown = {name: _assert_inert(name, data) for name, data in exports.items()}
    for name in ("monitor", "selfeval", "template", "workbook"):
        assert _shown(HOSTILE_PROJECT, shown[name]), name
    for payload in PAYLOADS:  # the monitoring table carries every one: name, notes, forecasts, causes
        assert _shown(payload, shown["monitor"]), payload
    assert {"=2+3", "@SUM(1)", "-1+2", "+1"} <= shown["template"]  # indicator names, unit, goal, as typed
    assert "=2+3" in shown["selfeval"]  # the explanation saved from the portal


def test_csv_downloads_prefix_risky_text_with_a_quote(engine, tmp_path):
    world = build_world(engine)
    import_hostile_project(engine, tmp_path, department_code="HRSS", department_name="市人力资源和社会保障局")
    with session_scope(engine) as session:
        audit.record(session, actor="@SUM(1)", channel="portal", action="update", entity="report", note="=2+3")
    client = make_client(engine)
    login(client, "clerk_hr")
    workbook = client.get(f"/departments/{world.hr_id}/workbook.csv").text.lstrip("\ufeff")
    admin = make_client(engine)
    login(admin, "admin")
    audit_csv = admin.get("/admin/audit.csv").text.lstrip("\ufeff")
    for name, text in (("workbook", workbook), ("audit", audit_csv)):
        fields = [f for row in csv.reader(io.StringIO(text)) for f in row]
        assert [f for f in fields if cells.starts_like_formula(f)] == [], name
        assert fields.count("'" + HYPERLINK) >= (1 if name == "workbook" else 0)
    assert {"'=2+3", "'+1", "'-1+2", "'@SUM(1)"} <= set(f for row in csv.reader(io.StringIO(workbook)) for f in row)
    assert {"'@SUM(1)", "'=2+3"} <= set(f for row in csv.reader(io.StringIO(audit_csv)) for f in row)


def test_an_exported_template_imports_back_unchanged(engine, tmp_path):
    """The xlsx keeps the text itself (no added quote), so export → import is still a no-op."""
    hostile = import_hostile_project(engine, tmp_path, department_code="144", department_name="人社局")
    with Session(engine) as session:
        export_department(session, tmp_path / "again.xlsx", "144")
    doc = read_workbook(tmp_path / "again.xlsx")
    assert doc.projects[0].name == HOSTILE_PROJECT
    assert [i.name for i in doc.projects[0].indicators] == [name for _, name, _ in HOSTILE_INDICATORS]
    with session_scope(engine) as session:
        result = store_document(session, doc)
    assert (result.created, result.updated) == ({"projects": 0, "indicators": 0}, {"projects": 0, "indicators": 0})
    with Session(engine) as session:
        assert session.exec(select(Department.code)).all() == [hostile.department_code]


def test_numbers_stay_numbers_and_odd_text_stays_text():
    ws = Workbook().active
    assert cells.put(ws["A1"], Decimal("-1.5")).data_type == "n"
    assert cells.put(ws["A2"], -3).value == -3
    assert cells.put(ws["A3"], "#N/A").data_type == "s"  # openpyxl alone would write an error value
    assert cells.put(ws["A4"], "备注\x07响铃").value == "备注\ufffd响铃"  # not storable in XML: replaced, not a crash
    plain = cells.put(ws["A5"], "年底前支付完毕")
    assert (plain.data_type, plain.quotePrefix) == ("s", False)
    assert cells.csv_row([-1, Decimal("-2.5"), "-2.5", "\t=1", "\r=1", "a=b", None]) == [
        -1, Decimal("-2.5"), "'-2.5", "'\t=1", "'\r=1", "a=b", None]
