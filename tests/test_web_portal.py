"""The portal through HTTP (Starlette's test client on the real app and store): login, scope, forms, escaping."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from monitor.config import Config, PortalConfig
from monitor.store.models import AuditEvent, Report
from monitor.web.app import create_app
from tests.test_progress_world import EVIL_NAME, PASSWORD, TODAY, build_world

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_client(engine, **portal) -> TestClient:
    settings = dataclasses.replace(Config(), secret_key="test-secret", portal=PortalConfig(**portal))
    app = create_app(settings, engine)
    app.state.clock = lambda: TODAY
    return TestClient(app)


def csrf(client: TestClient, path: str = "/login") -> str:
    return CSRF.search(client.get(path).text).group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password, "next": "/",
                                       "csrf_token": csrf(client)}, follow_redirects=False)


@pytest.fixture
def world(engine):
    return build_world(engine)


def test_clerk_logs_in_to_their_department_and_sees_its_projects(engine, world):
    client = make_client(engine)
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert login(client, "clerk_hr", "wrong-password").status_code == 401
    response = login(client, "clerk_hr")
    assert response.status_code == 303
    assert client.get("/").url.path == "/todo"  # a clerk starts from their to-do list
    home = client.get(f"/departments/{world.hr_id}")
    assert "职业技能培训项目" in home.text and "未评估" in home.text
    row = home.text.split("职业技能培训项目")[1]
    assert "2024-09-30 补贴发放" in row  # the next quarterly payment is what's due next on 2024-07-31
    assert "1项逾期（共2期）：2024-03-31 补贴发放；2024-06-30 补贴发放" in row


def test_project_names_are_escaped(engine, world):
    client = make_client(engine)
    login(client, "clerk_union")
    for path in (f"/departments/{world.union_id}", f"/projects/{world.union_project}"):
        page = client.get(path).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;职工帮扶项目" in page
    assert EVIL_NAME not in client.get(f"/projects/{world.union_project}").text


def test_another_departments_pages_answer_404_and_admin_pages_403(engine, world):
    client = make_client(engine)
    login(client, "clerk_union")
    assert client.get(f"/projects/{world.hr_project}").status_code == 404
    assert client.get(f"/departments/{world.hr_id}").status_code == 404
    assert client.get("/projects/999999").status_code == 404  # same answer as a project that does not exist
    token = csrf(client, f"/projects/{world.union_project}")
    posted = client.post(f"/projects/{world.hr_project}/indicators/{world.ind['count']}/reports",
                         data={"value": "5", "as_of": "2024-07-01", "csrf_token": token})
    assert posted.status_code == 404
    posted = client.post(f"/projects/{world.union_project}/indicators/{world.ind['count']}/reports",
                         data={"value": "5", "as_of": "2024-07-01", "csrf_token": token})
    assert posted.status_code == 404  # an HR indicator smuggled under the union's own project
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


def test_a_form_without_the_csrf_token_is_refused(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    url = f"/projects/{world.hr_project}/indicators/{world.ind['count']}/reports"
    assert client.post(url, data={"value": "5", "as_of": "2024-07-01"}).status_code == 403
    assert client.post(url, data={"value": "5", "as_of": "2024-07-01", "csrf_token": "forged"}).status_code == 403
    assert client.post("/login", data={"username": "clerk_hr", "password": PASSWORD}).status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


def test_reporting_through_the_form_and_refusals_naming_the_field(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    url = f"{page}/indicators/{world.ind['count']}/reports"
    bad = client.post(url, data={"value": "很多", "as_of": "2024-07-01", "csrf_token": csrf(client, page)})
    assert bad.status_code == 422
    assert '<li data-field="value">数值：' in bad.text and "不是数字" in bad.text and "value（" not in bad.text
    good = client.post(url, data={"value": "1800", "as_of": "2024-07-15", "cause_0": "资金到位晚",
                                  "csrf_token": csrf(client, page)})
    assert good.status_code == 200 and "已保存" in good.text
    assert "1800人（截至 2024-07-15）" in good.text
    with Session(engine) as s:
        (row,) = s.exec(select(Report)).all()
        assert (row.value, row.channel, row.deviation_causes) == (Decimal("1800"), "portal", {"经费保障": "资金到位晚"})
        assert s.exec(select(AuditEvent).where(AuditEvent.entity == "report")).one().actor == "clerk_hr"


def test_auditor_sees_everything_but_cannot_write(engine, world):
    client = make_client(engine)
    login(client, "auditor")
    overview = client.get("/")
    assert overview.url.path == "/admin" and "市人力资源和社会保障局" in overview.text and "市总工会" in overview.text
    page = f"/projects/{world.hr_project}"
    assert client.get(page).status_code == 200
    posted = client.post(f"{page}/indicators/{world.ind['count']}/reports",
                         data={"value": "5", "as_of": "2024-07-01", "csrf_token": csrf(client, page)})
    assert posted.status_code == 403


def test_repeated_wrong_passwords_make_the_next_attempt_wait(engine, world):
    client = make_client(engine, login_max_failures=3)
    for _ in range(3):
        assert login(client, "clerk_hr", "nope-nope-nope").status_code == 401
    waiting = login(client, "clerk_hr")
    assert waiting.status_code == 429 and "秒后再试" in waiting.text and int(waiting.headers["Retry-After"]) > 0


def test_too_many_failures_from_one_address_are_refused(engine, world):
    client = make_client(engine, ip_max_failures=2)
    login(client, "ghost", "x" * 10)
    login(client, "clerk_union", "x" * 10)
    assert login(client, "clerk_hr").status_code == 429


def test_sessions_expire(engine, world):
    client = make_client(engine)
    assert login(client, "clerk_hr").status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/todo"
    settings = client.app.state.settings
    client.app.state.settings = dataclasses.replace(settings, portal=PortalConfig(session_hours=0))
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_pages_switch_to_english(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = client.get(f"/projects/{world.hr_project}?lang=en")
    assert "Latest report" in page.text and 'lang="en"' in page.text
    assert "Latest report" in client.get(f"/projects/{world.hr_project}").text  # remembered in a cookie
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/indicators/{world.ind['count']}/reports",
                data={"value": "1800", "as_of": "2024-07-15", "csrf_token": csrf(client, page)})
    client.post(f"{page}/indicators/{world.ind['quarterly']}/reports",
                data={"occurrence_due": "2024-06-30", "completed_on": "2024-06-28", "csrf_token": csrf(client, page)})
    text = client.get(page).text
    assert "1800人（as of 2024-07-15）" in text and "occurrence 2024-06-30：2024-06-28 done" in text
    assert "<strong>Overdue</strong>" in text


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(engine, world):
    client = make_client(engine)
    first = client.get(f"/projects/{world.hr_project}", follow_redirects=False)
    assert first.headers["location"] == f"/login?next=%2Fprojects%2F{world.hr_project}"
    token = csrf(client)
    back = client.post("/login", data={"username": "clerk_hr", "password": PASSWORD, "csrf_token": token,
                                       "next": f"/projects/{world.hr_project}"}, follow_redirects=False)
    assert back.headers["location"] == f"/projects/{world.hr_project}"
    other = make_client(engine)
    away = other.post("/login", data={"username": "clerk_hr", "password": PASSWORD, "csrf_token": csrf(other),
                                      "next": "//evil.example/"}, follow_redirects=False)
    assert away.headers["location"] == "/"


def test_every_menu_link_opens_for_the_user_who_sees_it(engine, world):
    """A link in the menu never leads a user to a 403 or 404 page."""
    for username in ("clerk_hr", "admin", "auditor"):
        client = make_client(engine)
        login(client, username)
        home = client.get("/")
        nav = re.search(r"<nav\b[^>]*>(.*?)</nav>", home.text, re.S).group(1)
        links = [href for href in re.findall(r'href="([^"?]+)"', nav)]
        assert "/reports" in links
        for href in links:
            assert client.get(href).status_code == 200, (username, href)


def test_the_department_page_counts_overdue_items_and_their_periods(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    assert "1项逾期（共2期）：2024-03-31 补贴发放" in client.get(f"/departments/{world.hr_id}").text
    assert "1 overdue (2 periods): 2024-03-31" in client.get(f"/departments/{world.hr_id}?lang=en").text


def test_an_unreadable_targets_meaning_names_the_grammars_note_in_the_pages_language(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    assert "未能识别：占位符：未填写具体指标值" in client.get(page).text
    assert "Unparsed: a placeholder: no actual target value filled in" in client.get(f"{page}?lang=en").text
