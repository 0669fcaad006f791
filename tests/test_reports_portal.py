"""The reports in the portal (real app, real store): scoping, downloads, the band check on the form."""

from __future__ import annotations

import dataclasses
import html
import io
import re
from decimal import Decimal as D

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from monitor.accounts.passwords import hash_password
from monitor.config import Config
from monitor.store.models import BudgetYear, Department, Indicator, SelfEvalEntry, User
from monitor.web.app import create_app
from tests.test_reports import add_project, seed_house_repair

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _world(engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        seed_house_repair(s)
        year = s.exec(select(BudgetYear)).scalars().one()
        union = Department(code="959", name="晋城市总工会")
        s.add(union)
        s.flush()
        add_project(s, department=union, year=year, name="困难职工帮扶", funds=D("500000"))
        hr = s.exec(select(Department).where(Department.code == "144")).scalars().one()
        hashed = hash_password(PASSWORD)
        s.add_all([User(username="clerk_hr", password_hash=hashed, role="clerk", department_id=hr.id),
                   User(username="clerk_union", password_hash=hashed, role="clerk", department_id=union.id),
                   User(username="auditor", password_hash=hashed, role="auditor")])
        s.commit()


def _client(engine, username: str) -> TestClient:
    app = create_app(dataclasses.replace(Config(), secret_key="test-secret"), engine)
    client = TestClient(app)
    token = CSRF.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    return client


def test_department_sees_its_own_reports_only_and_bureau_ranks_all(engine):
    _world(engine)
    hr = _client(engine, "clerk_hr")
    page = hr.get("/reports/selfeval?year=2024")
    assert page.status_code == 200
    assert "房屋修缮费用" in page.text and "88.63" in page.text and "困难职工帮扶" not in page.text
    assert hr.get("/reports/monitor?year=2024&department=959").status_code == 404
    assert hr.get("/reports/ranking?year=2024").status_code == 403
    monitor = hr.get("/reports/monitor?year=2024&through=7")
    assert "数据截至7月底" in monitor.text
    chart = hr.get(html.unescape(re.search(r'<img class="chart" src="([^"]+)"', monitor.text).group(1)))
    assert chart.headers["content-type"] == "image/png" and chart.content.startswith(b"\x89PNG")
    xlsx = hr.get("/reports/selfeval?year=2024&format=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert [ws.title for ws in load_workbook(io.BytesIO(xlsx.content)).worksheets] == ["1-房屋修缮费用"]
    auditor = _client(engine, "auditor")
    ranking = auditor.get("/reports/ranking?year=2024")
    assert ranking.status_code == 200
    assert ranking.text.index("144-晋城市人力资源和社会保障局") < ranking.text.index("959-晋城市总工会")
    pdf = auditor.get("/reports/summary?year=2024&format=pdf")
    assert pdf.content.startswith(b"%PDF")


def test_band_score_form_refuses_outside_and_saves_inside(engine):
    _world(engine)
    hr = _client(engine, "clerk_hr")
    page = hr.get("/reports/selfeval?year=2024").text
    token = CSRF.search(page).group(1)
    with Session(engine) as s:
        comfort = s.exec(select(Indicator).where(Indicator.name == "工作环境安全舒适度提升")).scalars().first()
    form = {"csrf_token": token, "year": "2024", "indicator_id": str(comfort.id), "score": "31",
            "explanation": "", "back": "/reports/selfeval?year=2024"}
    refused = hr.post("/reports/selfeval/entry", data=form)
    assert "工作环境安全舒适度提升指标的实际得分区间为[24, 30]，请调整后再保存" in refused.text
    saved = hr.post("/reports/selfeval/entry", data={**form, "score": "28", "explanation": "照明待改善"})
    assert saved.status_code == 200 and "92.63" in saved.text and "照明待改善" in saved.text
    with Session(engine) as s:
        assert [e.score for e in s.exec(select(SelfEvalEntry)).scalars()] == [D("28")]
    assert hr.post("/reports/selfeval/entry", data={**form, "csrf_token": "forged"}).status_code == 403
    union = _client(engine, "clerk_union")
    union_token = CSRF.search(union.get("/reports/selfeval?year=2024").text).group(1)
    other = union.post("/reports/selfeval/entry", data={**form, "csrf_token": union_token, "score": "25"})
    assert other.status_code == 404  # another department's indicator
