"""Account page (tokens), the finance bureau's users and audit pages, and the headers every page carries."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime

import pytest
from sqlmodel import Session, select

from monitor.accounts.tokens import create_token
from monitor.store.db import session_scope
from monitor.store.models import ApiToken, AuditEvent, Report, User
from monitor.store.types import SHANGHAI
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    return build_world(engine)


def test_a_user_creates_a_token_in_the_portal_uses_it_and_revokes_it(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = client.post("/account/tokens", data={"name": "<b>财务系统</b>", "csrf_token": csrf(client, "/account")})
    token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
    assert "&lt;b&gt;财务系统&lt;/b&gt;" in page.text
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "clerk_hr"
    assert token not in client.get("/account").text  # shown once
    with Session(engine) as s:
        token_id = s.exec(select(ApiToken)).one().id
    other = make_client(engine)
    login(other, "clerk_union")
    assert other.post(f"/account/tokens/{token_id}/revoke",
                      data={"csrf_token": csrf(other, "/account")}).status_code == 404  # not theirs
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(client, "/account")})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_admin_adds_and_disables_users_and_a_disabled_user_is_signed_out(engine, world):
    clerk = make_client(engine)
    login(clerk, "clerk_union")
    admin = make_client(engine)
    login(admin, "admin")
    added = admin.post("/admin/users", data={"username": "wang", "password": "long-enough-1", "role": "clerk",
                                             "department_id": str(world.hr_id),
                                             "csrf_token": csrf(admin, "/admin/users")})
    assert added.status_code == 200 and "wang" in added.text
    refused = admin.post("/admin/users", data={"username": "wang2", "password": "short", "role": "clerk",
                                               "department_id": str(world.hr_id),
                                               "csrf_token": csrf(admin, "/admin/users")})
    assert refused.status_code == 422 and "至少 8 个字符" in refused.text
    admin.post("/admin/users/clerk_union/disable", data={"disabled": "1", "csrf_token": csrf(admin, "/admin/users")})
    assert clerk.get("/", follow_redirects=False).headers["location"].startswith("/login")
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "clerk_union")).one().disabled
    auditor = make_client(engine)
    login(auditor, "auditor")
    assert auditor.get("/admin/users").status_code == 403


@pytest.mark.parametrize("department_id", ["abc", "999999", "1.5"])
def test_adding_a_user_to_a_department_that_does_not_exist_is_refused(engine, world, department_id):
    admin = make_client(engine)
    login(admin, "admin")
    refused = admin.post("/admin/users", data={"username": "wang", "password": "long-enough-1", "role": "clerk",
                                               "department_id": department_id,
                                               "csrf_token": csrf(admin, "/admin/users")})
    assert refused.status_code == 422 and "不存在" in refused.text and "no such department" not in refused.text
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "wang")).first() is None


def test_audit_page_and_csv_export_show_who_changed_what(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/indicators/{world.ind['count']}/reports",
                data={"value": "900", "as_of": "2024-07-01", "csrf_token": csrf(client, page)})
    admin = make_client(engine)
    login(admin, "admin")
    listing = admin.get("/admin/audit?entity=report")
    assert "clerk_hr" in listing.text and "经由门户填报" in listing.text
    exported = admin.get("/admin/audit.csv?entity=report")
    assert exported.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert (row["渠道"], row["操作"], row["项目"]) == ("门户", "填报", "职业技能培训项目")
    assert "数值为 900" in row["说明"] and "clerk_hr" in row["操作人"]


def test_pages_carry_security_headers_and_never_cache(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    response = client.get(f"/projects/{world.hr_project}")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    session_cookie = next(c for c in client.cookies.jar if c.name == "kpiwatch_session")
    assert session_cookie.has_nonstandard_attr("httponly") and session_cookie.get_nonstandard_attr("samesite") == "lax"


@pytest.fixture
def server_clock_in_new_york(monkeypatch):
    """A server whose local time zone is not Shanghai's, as on most hosted machines (UTC) or a laptop abroad."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_shown_on_shanghai_clocks_whatever_the_servers_zone(engine, world, server_clock_in_new_york):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/indicators/{world.ind['count']}/reports",
                data={"value": "900", "as_of": "2024-07-01", "csrf_token": csrf(client, page)})
    made = datetime(2024, 7, 15, 9, 30, tzinfo=SHANGHAI)
    with Session(engine) as s:
        (report,) = s.exec(select(Report)).all()
        report.created_at = made
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.entity == "report")).all()
        event.at = made
        s.commit()
        report_id = report.id
    history = client.get(page).text.split(f'data-report="{report_id}"')[1]
    assert "2024-07-15 09:30" in history
    with session_scope(engine) as s:
        token = create_token(s, s.exec(select(User).where(User.username == "clerk_hr")).one(), "t")[1]
    api = client.get(f"/api/v1/indicators/{world.ind['count']}/history", headers={"Authorization": f"Bearer {token}"})
    assert api.json()[0]["created_at"] == "2024-07-15T09:30:00+08:00"
    admin = make_client(engine)
    login(admin, "admin")
    assert "2024-07-15 09:30" in admin.get("/admin/audit?entity=report").text
    (row,) = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv?entity=report").text.lstrip("\ufeff"))))
    assert row["时间"] == "2024-07-15 09:30:00"


def test_audit_page_shows_chinese_and_markup_as_written_and_escaped(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    client.post(f"{page}/indicators/{world.ind['count']}/reports",
                data={"value": "900", "as_of": "2024-07-01", "note": "补报<script>alert(1)</script>",
                      "csrf_token": csrf(client, page)})
    admin = make_client(engine)
    login(admin, "admin")
    listing = admin.get("/admin/audit?entity=report").text
    assert "补报&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "\\u" not in listing and "<script>" not in listing


def test_a_token_name_too_long_is_refused_on_the_account_page(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    page = client.post("/account/tokens", data={"name": "令" * 101, "csrf_token": csrf(client, "/account")})
    assert page.status_code == 422 and "名称过长" in page.text and 'id="new-token"' not in page.text
    with Session(engine) as s:
        assert s.exec(select(ApiToken)).all() == []
