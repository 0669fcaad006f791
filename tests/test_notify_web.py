"""The portal side of notifications: the acknowledgement link from an email works without logging in and only
for its item and status; signed-in departments acknowledge only their own items; administrators manage
waivers and contacts and see when evaluation and sending last succeeded."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import Session, select

from monitor.config import Config
from monitor.notify.tokens import ack_token
from monitor.store.models import Contact, Indicator, IndicatorState, JobRun, ProjectState
from monitor.store.models.notify import Acknowledgement, OutboxMessage, Waiver
from monitor.store.types import now
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    world = build_world(engine)
    with Session(engine) as s:
        s.add(IndicatorState(indicator_id=world.ind["count"], occurrence="", light="red",
                             status="behind", reason="完成率40%，低于序时进度", since=date(2024, 7, 1)))
        s.add(IndicatorState(indicator_id=world.union_indicator, occurrence="", light="grey",
                             status="no_report", reason="尚未填报", since=date(2024, 7, 1)))
        for project_id in {s.get(Indicator, i).project_id for i in (world.ind["count"], world.union_indicator)}:
            s.add(ProjectState(project_id=project_id, as_of=date(2024, 7, 31), light="red", budget_light="grey"))
        s.commit()
    return world


def _token(world, status="behind") -> str:
    config = Config(secret_key="test-secret")
    return ack_token(config, world.ind["count"], "", status, date(2024, 7, 1), world.hr_id)


def test_acknowledgement_link_from_email_records_the_cause_without_login(engine, world):
    client = make_client(engine)
    token = _token(world)
    page = client.get(f"/notify/ack/{token}")
    assert page.status_code == 200 and "完成率40%，低于序时进度" in page.text
    form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(f"/notify/ack/{token}", data={"cause": "经费保障", "text": "资金8月到位<script>",
                                                     "by": "head@hr.example.org", "csrf_token": form_csrf})
    assert done.status_code == 200 and "已记录说明" in done.text and "资金8月到位&lt;script&gt;" in done.text
    with Session(engine) as s:
        ack = s.exec(select(Acknowledgement)).one()
    assert (ack.cause, ack.status, ack.since, ack.channel) == ("经费保障", "behind", date(2024, 7, 1), "email")
    refused = client.post(f"/notify/ack/{token}", data={"cause": "随便", "text": "x", "csrf_token": form_csrf})
    assert refused.status_code == 422 and "偏差原因必须是" in refused.text
    assert client.get(f"/notify/ack/{token[:-3]}abc").status_code == 404
    assert client.post(f"/notify/ack/{token}", data={"cause": "经费保障", "text": "x"}).status_code == 403


def test_a_link_for_an_old_status_is_refused(engine, world):
    client = make_client(engine)
    token = _token(world, status="overdue")
    page = client.get(f"/notify/ack/{token}")
    assert "此链接不再适用" in page.text and 'name="cause"' not in page.text


def test_departments_acknowledge_only_their_own_items_in_the_portal(engine, world):
    union = make_client(engine)
    login(union, "clerk_union")
    assert union.get(f"/notify/acknowledge/{world.ind['count']}").status_code == 404
    page = union.get(f"/notify/acknowledge/{world.union_indicator}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = union.post(f"/notify/acknowledge/{world.union_indicator}",
                      data={"cause": "人员保障", "text": "帮扶名单待审", "csrf_token": token})
    assert done.status_code == 200 and "已记录说明" in done.text
    with Session(engine) as s:
        assert s.exec(select(Acknowledgement.by)).all() == ["clerk_union"]


def test_admin_manages_waivers_and_contacts_and_sees_the_status(engine, world):
    admin = make_client(engine)
    login(admin, "admin")
    token = csrf(admin, "/admin/waivers")
    added = admin.post("/admin/waivers", data={"target": f"project:{world.union_project}", "until": "2024-09-30",
                                               "reason": "项目暂缓拨款", "csrf_token": token})
    assert added.status_code == 200 and "项目暂缓拨款" in added.text
    bad = admin.post("/admin/waivers", data={"target": "project:x", "until": "2024-09-30", "reason": "r",
                                             "csrf_token": token})
    assert bad.status_code == 422
    with Session(engine) as s:
        waiver = s.exec(select(Waiver)).one()
    admin.post(f"/admin/waivers/{waiver.id}/revoke", data={"csrf_token": token})
    with Session(engine) as s:
        assert s.get(Waiver, waiver.id).revoked_at is not None

    token = csrf(admin, "/admin/contacts")
    admin.post("/admin/contacts", data={"department": "UNION", "name": "工会绩效员", "email": "perf@union.example.org",
                                        "role": "绩效管理员", "csrf_token": token})
    wrong = admin.post("/admin/contacts", data={"department": "UNION", "name": "x", "email": "not-an-address",
                                                "role": "绩效管理员", "csrf_token": token})
    assert wrong.status_code == 422 and "邮箱地址无效" in wrong.text
    with Session(engine) as s:
        contact = s.exec(select(Contact)).one()
    assert (contact.email, contact.role) == ("perf@union.example.org", "绩效管理员")

    with Session(engine) as s:
        s.add(JobRun(job="send", started_at=now(), finished_at=now(), ok=True, counts={"sent": 3}))
        s.add(OutboxMessage(dedup_key="digest|x@example.org|U|2024-07-31", kind="digest", recipients="x@example.org",
                            subject="【绩效提醒】市总工会：1项未填报", message_id="<a@b>", raw="x", status="failed",
                            last_error="550 no such user"))
        s.commit()
    status = admin.get("/admin/notify-status")
    assert status.status_code == 200 and "550 no such user" in status.text and "评估从未成功运行" in status.text
    admin.post("/admin/outbox/retry", data={"csrf_token": csrf(admin, "/admin/notify-status")})
    with Session(engine) as s:
        assert s.exec(select(OutboxMessage.status)).one() == "pending"

    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    assert clerk.get("/admin/waivers").status_code == 403
    assert clerk.get("/admin/notify-status").status_code == 403


def test_a_past_explanation_names_its_status_in_the_pages_language(engine, world):
    client = make_client(engine)
    token = _token(world)
    page = client.get(f"/notify/ack/{token}")
    form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(f"/notify/ack/{token}", data={"cause": "经费保障", "text": "资金8月到位", "by": "head@hr.example.org",
                                              "csrf_token": form_csrf})
    row = re.compile(r"<td>([^<]*)</td><td>[^<]*</td><td>资金8月到位</td>")
    assert row.search(client.get(f"/notify/ack/{token}?lang=zh").text).group(1) == "进度滞后"
    assert row.search(client.get(f"/notify/ack/{token}?lang=en").text).group(1) == "Behind"
