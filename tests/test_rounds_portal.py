"""The rounds pages with the real app and store: English on request, CSRF on every form, the role checks."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import Session, select

from monitor.rounds import service
from monitor.store.models import Round, RoundTask
from tests.rounds_world import TODAY, build_round_world, signed_in, user

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OPEN = {"kind": "monitor", "year": "2024", "through_month": "7", "due": "2024-08-31", "scope": "all"}


def _rounds(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Round)).one()


def test_opening_a_round_without_the_forms_token_is_refused(engine, db_url):
    world = build_round_world(engine, db_url)
    client, _token = signed_in(engine, world, "bureau", "/rounds")
    refused = client.post("/rounds", data=OPEN, follow_redirects=False)
    assert refused.status_code == 403 and _rounds(engine) == 0


def test_a_department_posting_the_open_form_gets_403_and_no_round(engine, db_url):
    world = build_round_world(engine, db_url)
    client, token = signed_in(engine, world, "head_144", "/rounds")
    assert "open-round" not in client.get("/rounds").text
    refused = client.post("/rounds", data=OPEN | {"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403 and "只有财政局管理员可以发起轮次" in refused.text and _rounds(engine) == 0


def test_a_bad_due_date_comes_back_to_the_form_with_the_reason(engine, db_url):
    world = build_round_world(engine, db_url)
    client, token = signed_in(engine, world, "bureau", "/rounds")
    answer = client.post("/rounds", data=OPEN | {"due": "2024-07-01", "csrf_token": token})
    assert answer.status_code == 200 and "早于数据截至日期 2024-07-31" in answer.text and _rounds(engine) == 0


def test_the_task_page_reads_in_english_on_request(engine, db_url):
    world = build_round_world(engine, db_url)
    with Session(engine) as s:
        service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7,
                           due=TODAY.replace(month=8, day=31))
        s.commit()
        task_id = s.exec(select(RoundTask.id).where(RoundTask.department_id == world.hr_id)).one()
    client, _token = signed_in(engine, world, "clerk_144", "/rounds")
    page = client.get(f"/rounds/tasks/{task_id}?lang=en").text
    assert "2024 Mid-year monitoring (Jan-Jul)" in page and "To fill" in page and "Fill in" in page
    assert "年中绩效监控" not in page and "待填报" not in page
