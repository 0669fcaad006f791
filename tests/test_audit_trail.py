"""The audit trail an auditor can read: names not ids, one sentence per change in one language, filters by date,
person, department, project and kind, pages, and CSV/Excel exports of exactly what the page shows."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from monitor.store.models import AuditEvent
from rules.calendar import SHANGHAI
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    return build_world(engine)


def report(client, world, value: str, key: str = "count") -> None:
    page = f"/projects/{world.hr_project}"
    response = client.post(f"{page}/indicators/{world.ind[key]}/reports",
                           data={"value": value, "as_of": "2024-07-01", "csrf_token": csrf(client, page)})
    assert response.status_code in (200, 303), response.text


def corrected(client, world) -> None:
    """A clerk reports 900 and then corrects it to 950 (the correction supersedes the first report)."""
    report(client, world, "900")
    report(client, world, "950")


def admin(engine):
    client = make_client(engine)
    login(client, "admin")
    return client


def sentences(page_html: str) -> list[str]:
    return [line for line in page_html.split("<li data-event=")[1:]]


def test_a_correction_reads_as_a_sentence_with_names_not_ids(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    corrected(clerk, world)

    page = admin(engine).get("/admin/audit?entity=report").text

    newest = sentences(page)[0]
    assert "人社经办（clerk_hr）" in newest
    assert "经由门户更正「职业技能培训项目」的指标「培训人数」：数值从 900 改为 950" in newest
    assert "indicator_id" not in page and '"value"' not in page


def test_the_trail_in_english_has_no_chinese_words_of_its_own(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    corrected(clerk, world)

    page = admin(engine).get("/admin/audit?entity=report&lang=en").text

    newest = sentences(page)[0]
    assert "corrected the indicator “培训人数” of “职业技能培训项目”" in newest  # names stay as written
    assert "via the portal: value from 900 to 950." in newest
    assert "经由" not in newest and "改为" not in newest


def test_filters_by_date_person_department_project_and_kind(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    report(clerk, world, "900")
    with Session(engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.entity == "report")).all()
        event.at = datetime(2024, 7, 15, 9, 30, tzinfo=SHANGHAI)
        session.commit()
    report(clerk, world, "91", key="rate")
    client = admin(engine)

    def count(query: str) -> int:
        return len(sentences(client.get(f"/admin/audit?entity=report&{query}").text))

    assert count("") == 2
    assert count("since=2024-07-15&until=2024-07-15") == 1
    assert count("until=2024-07-14") == 0
    assert count("actor=clerk_hr") == 2 and count("actor=clerk_union") == 0
    assert count(f"department={world.hr_id}") == 2 and count(f"department={world.union_id}") == 0
    assert count(f"department={world.hr_id}&project={world.hr_project}") == 2
    assert count(f"department={world.union_id}&project={world.union_project}") == 0
    assert len(sentences(client.get("/admin/audit?entity=user").text)) == 0


def test_an_unreadable_date_in_the_filter_is_said_not_ignored(engine, world):
    page = admin(engine).get("/admin/audit?since=2024-02-30").text

    assert "从：" in page and "不是日期" in page


def test_the_trail_comes_in_pages(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    for value in range(900, 951):
        report(clerk, world, str(value))
    client = admin(engine)

    first = client.get("/admin/audit?entity=report").text
    second = client.get("/admin/audit?entity=report&page=2").text

    assert len(sentences(first)) == 50 and len(sentences(second)) == 1
    assert "第 1 / 2 页" in first and 'rel="next"' in first and 'rel="prev"' in second
    assert "改为 950" in sentences(first)[0] and "数值为 900" in sentences(second)[-1]


def test_csv_and_excel_exports_hold_the_filtered_sentences(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    corrected(clerk, world)
    client = admin(engine)

    exported = client.get(f"/admin/audit.csv?entity=report&department={world.hr_id}")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    workbook = load_workbook(io.BytesIO(client.get(f"/admin/audit.xlsx?entity=report&department={world.hr_id}")
                                        .content))

    assert [row["操作"] for row in rows] == ["更正", "填报"]
    assert rows[0]["部门"] == "市人力资源和社会保障局" and rows[0]["指标"] == "培训人数"
    sheet = workbook["审计日志"]
    assert [cell.value for cell in sheet[1]][:5] == ["编号", "时间", "操作人", "渠道", "操作"]
    assert [sheet.cell(row=n, column=9).value for n in (2, 3)] == [row["说明"] for row in rows]


def test_a_department_clerk_cannot_read_the_trail_or_its_exports(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_hr")

    for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit.xlsx"):
        assert clerk.get(path).status_code == 403, path


def test_an_auditor_reads_the_trail(engine, world):
    auditor = make_client(engine)
    login(auditor, "auditor")

    assert auditor.get("/admin/audit").status_code == 200
