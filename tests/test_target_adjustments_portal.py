"""Target adjustments in the portal: the department asks on the project page, the bureau decides on the list."""

from __future__ import annotations

from sqlmodel import Session, select

from monitor.store.models import AuditEvent, TargetAdjustment
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client


def test_a_clerk_requests_on_the_project_page_and_the_bureau_approves_on_the_list(engine):
    world = build_world(engine)
    clerk, admin = make_client(engine), make_client(engine)
    login(clerk, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    ask = f"{page}/indicators/{world.ind['count']}/target-adjustments"
    form = {"value_text": "≥6000人", "effective_on": "2024-07-15", "reason": "上级追加培训任务"}
    assert "申请目标调整" in clerk.get(page).text
    assert clerk.post(ask, data=form).status_code == 403  # no CSRF token: refused
    asked = clerk.post(ask, data=form | {"csrf_token": csrf(clerk, page)}, follow_redirects=False)
    assert asked.status_code == 303, asked.text
    again = clerk.post(ask, data=form | {"csrf_token": csrf(clerk, page)})
    assert again.status_code == 409 and "已有待审核的调整申请" in again.text
    listed = clerk.get("/target-adjustments").text
    assert "≥3000人 → <strong>≥6000人</strong>" in listed and "/approve" not in listed
    with Session(engine) as s:
        (adjustment_id,) = s.exec(select(TargetAdjustment.id)).all()
    own = clerk.post(f"/target-adjustments/{adjustment_id}/approve",
                     data={"csrf_token": csrf(clerk, "/target-adjustments")})
    assert own.status_code == 403
    login(admin, "admin")
    assert f'action="/target-adjustments/{adjustment_id}/approve"' in admin.get("/target-adjustments").text
    approved = admin.post(f"/target-adjustments/{adjustment_id}/approve",
                          data={"note": "同意", "effective_on": "2024-07-15",
                                "csrf_token": csrf(admin, "/target-adjustments")}, follow_redirects=False)
    assert approved.status_code == 303
    shown = clerk.get(page).text  # the portal's today is 31 July 2024, after the effective day
    assert "原目标：≥3000人 → 调整后目标：<strong>≥6000人</strong>" in shown
    assert "Target adjustments" in clerk.get("/target-adjustments?lang=en").text
    with Session(engine) as s:
        assert [(e.action, e.channel) for e in s.exec(select(AuditEvent).where(
            AuditEvent.entity == "target_adjustment").order_by(AuditEvent.id))] == [
            ("request", "portal"), ("approve", "portal")]


def test_an_unreadable_proposal_is_flagged_in_the_pages_language(engine):
    world = build_world(engine)
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    form = {"value_text": "95%-90%", "effective_on": "2024-07-15", "reason": "上级调整",
            "csrf_token": csrf(clerk, page)}
    asked = clerk.post(f"{page}/indicators/{world.ind['count']}/target-adjustments", data=form,
                       follow_redirects=False)
    assert asked.status_code == 303, asked.text
    chinese = "指标值无法解析，已原样保存：区间上下限颠倒：95大于90"
    english = "The target cannot be read and is kept as written: the range is reversed: 95 is greater than 90"
    for url in ("/target-adjustments", page):
        shown = clerk.get(f"{url}?lang=zh").text
        assert chinese in shown and english not in shown
        shown = clerk.get(f"{url}?lang=en").text
        assert english in shown and chinese not in shown


def test_the_audit_trail_keeps_an_unreadable_proposals_flag_in_the_pages_language(engine):
    world = build_world(engine)
    clerk, admin = make_client(engine), make_client(engine)
    login(clerk, "clerk_hr")
    page = f"/projects/{world.hr_project}"
    clerk.post(f"{page}/indicators/{world.ind['count']}/target-adjustments",
               data={"value_text": "13月底前", "effective_on": "2024-07-15", "reason": "上级调整",
                     "csrf_token": csrf(clerk, page)})
    login(admin, "admin")
    assert "指标值无法解析，已原样保存：月份不存在：13月" in admin.get("/admin/audit?lang=zh").text
    shown = admin.get("/admin/audit?lang=en").text
    assert "The target cannot be read and is kept as written: no such month: 13" in shown
    assert "月份不存在" not in shown
