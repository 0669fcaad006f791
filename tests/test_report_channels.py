"""One report, four channels: the portal form, the API, the workbook upload and the CLI each read their own
input into the same entry, so the same report stores the same row whichever way it came."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, delete, select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.progress.workbook import build_csv
from monitor.store.db import session_scope
from monitor.store.models import AuditEvent, Report, Spending
from tests.test_api_progress import _auth, _token
from tests.test_progress_workbook import _download, _fill, _upload
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client

# (indicator key, the report as the workbook's columns name it)
REPORTS = [
    ("count", {"数值": "1250", "截至日期": "2024-06-30", "情况说明": "进度偏慢", "全年预计完成情况": "3100",
               "偏差原因-经费保障": "资金下达晚", "完成目标可能性": "有可能", "备注": "第二季度"}),
    ("quarterly", {"完成期次": "2024-06-30", "完成日期": "2024-06-20"}),
    ("quality", {"评价等级": "部分达成年度指标并具有一定效果", "情况说明": "师资不足", "全年预计完成情况": "基本完成"}),
]
FORM = {"数值": "value", "截至日期": "as_of", "情况说明": "explanation", "全年预计完成情况": "forecast",
        "偏差原因-经费保障": "cause_0", "完成目标可能性": "likelihood", "备注": "note", "完成期次": "occurrence_due",
        "完成日期": "completed_on", "评价等级": "grade"}
SPENDING = {"执行数(元)": "480000.50", "截至日期": "2024-06-30", "备注": "上半年"}
IGNORED = ("id", "created_at", "channel")
# what Excel holds as numbers and dates rather than text
EXCEL_CELLS = {"count": {"数值": 1250, "全年预计完成情况": 3100, "截至日期": date(2024, 6, 30)},
               "quarterly": {"完成期次": date(2024, 6, 30), "完成日期": date(2024, 6, 20)}}


def _portal(engine, world, tmp_path) -> None:
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    for key, cells in REPORTS:
        form = {FORM[header]: value for header, value in cells.items()} | {"csrf_token": csrf(client, page)}
        assert client.post(f"{page}/indicators/{world.ind[key]}/reports", data=form).status_code == 200
    spending = {"amount": SPENDING["执行数(元)"], "as_of": SPENDING["截至日期"], "note": SPENDING["备注"]}
    assert client.post(f"{page}/spending", data=spending | {"csrf_token": csrf(client, page)}).status_code == 200


def _api(engine, world, tmp_path) -> None:
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    body = []
    for key, cells in REPORTS:
        item: dict = {"indicator_id": world.ind[key]}
        for header, value in cells.items():
            name = FORM[header]
            if name == "cause_0":
                item["deviation_causes"] = {"经费保障": value}
            else:
                item[name] = value
        body.append(item)
    assert client.post("/api/v1/reports", headers=headers, json=body).status_code == 201
    spending = {"amount": SPENDING["执行数(元)"], "as_of": SPENDING["截至日期"], "note": SPENDING["备注"]}
    assert client.post(f"/api/v1/projects/{world.hr_project}/spending", headers=headers,
                       json=spending).status_code == 201


def _workbook(engine, world, tmp_path) -> None:
    client = make_client(engine)
    login(client, "clerk_hr")
    values = {world.ind[key]: cells | EXCEL_CELLS.get(key, {}) for key, cells in REPORTS}
    response = _upload(client, world, _fill(_download(client, world), world, values, SPENDING))
    assert response.status_code == 200, response.text


def _cli(engine, world, tmp_path) -> None:
    """The CLI reads the workbook's CSV (the store is the one `cli_store` points KPIWATCH_DATABASE_URL at)."""
    with Session(engine) as s:
        rows = list(csv.reader(io.StringIO(build_csv(s, [world.hr_id]).lstrip("\ufeff"))))
    header = rows[0]
    cells = {world.ind[key]: filled for key, filled in REPORTS}
    for row in rows[1:]:
        for column, value in cells.get(int(row[0]), {}).items():
            row[header.index(column)] = value
    spending = [["项目编号", *SPENDING], [str(world.hr_project), *SPENDING.values()]]
    for name, table in (("reports.csv", rows), ("spending.csv", spending)):
        out = io.StringIO()
        csv.writer(out).writerows(table)
        (tmp_path / name).write_text(out.getvalue(), encoding="utf-8")
        result = CliRunner().invoke(app, ["report-progress", str(tmp_path / name), "--user", "clerk_hr",
                                          "--today", "2024-07-31"], catch_exceptions=False)
        assert result.exit_code == 0, result.output


def _stored_and_cleared(engine) -> dict:
    """What the channel stored (without id, time and channel), then an empty log for the next channel."""
    with session_scope(engine) as s:
        reports = {r.indicator_id: {k: v for k, v in r.model_dump().items() if k not in IGNORED}
                   for r in s.exec(select(Report)).all()}
        spending = [{k: v for k, v in r.model_dump().items() if k not in IGNORED}
                    for r in s.exec(select(Spending)).all()]
        s.exec(delete(AuditEvent).where(AuditEvent.entity.in_(("report", "spending"))))
        s.exec(delete(Report))
        s.exec(delete(Spending))
    return {"reports": reports, "spending": spending}


@pytest.fixture
def cli_store(db_url, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)


def test_the_same_report_through_every_channel_stores_the_same_row(engine, cli_store, tmp_path):
    world = build_world(engine)
    stored = {}
    for name, channel in (("portal", _portal), ("api", _api), ("workbook", _workbook), ("cli", _cli)):
        channel(engine, world, tmp_path)
        stored[name] = _stored_and_cleared(engine)

    portal = stored["portal"]
    assert {name: got for name, got in stored.items() if got != portal} == {}
    count = portal["reports"][world.ind["count"]]
    assert (count["value"], count["as_of"], count["forecast"], count["deviation_causes"], count["likelihood"],
            count["explanation"], count["note"], count["revision"]) == (
        Decimal("1250"), date(2024, 6, 30), Decimal("3100"), {"经费保障": "资金下达晚"}, "有可能", "进度偏慢",
        "第二季度", 1)
    quarterly = portal["reports"][world.ind["quarterly"]]
    assert (quarterly["occurrence_due"], quarterly["completed_on"]) == (date(2024, 6, 30), date(2024, 6, 20))
    quality = portal["reports"][world.ind["quality"]]
    assert (quality["grade"], quality["forecast"], quality["forecast_text"]) == (
        "部分达成年度指标并具有一定效果", None, "基本完成")
    (spent,) = portal["spending"]
    assert (spent["amount"], spent["as_of"], spent["note"]) == (Decimal("480000.50"), date(2024, 6, 30), "上半年")
