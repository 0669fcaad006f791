"""A number typed with thousands separators is accepted, and the page says what it was read as; a project page
lists its indicators at the top and states the unit of every amount it asks for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from monitor.store.models import Report, Spending
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    return build_world(engine)


def _clerk(engine):
    client = make_client(engine)
    login(client, "clerk_hr")
    return client


def test_spending_typed_with_separators_is_stored_and_echoed_in_yuan(engine, world):
    client = _clerk(engine)
    page = f"/projects/{world.hr_project}"
    saved = client.post(f"{page}/spending", data={"amount": "1,200", "as_of": "2024-07-31",
                                                   "csrf_token": csrf(client, page)})
    assert "“1,200” → <strong>1200</strong> 元" in saved.text
    with Session(engine) as s:
        assert s.exec(select(Spending.amount)).one() == Decimal("1200.00")


def test_a_value_typed_with_separators_is_echoed_in_the_indicators_unit(engine, world):
    client = _clerk(engine)
    page = f"/projects/{world.hr_project}"
    saved = client.post(f"{page}/indicators/{world.ind['count']}/reports",
                        data={"value": "1，200", "as_of": "2024-07-31", "csrf_token": csrf(client, page)})
    assert "“1，200” → <strong>1200</strong> 人" in saved.text
    with Session(engine) as s:
        assert s.exec(select(Report.value)).one() == Decimal("1200")


def test_a_plain_number_needs_no_echo(engine, world):
    client = _clerk(engine)
    page = f"/projects/{world.hr_project}"
    saved = client.post(f"{page}/spending", data={"amount": "1200", "as_of": "2024-07-31",
                                                   "csrf_token": csrf(client, page)})
    assert saved.status_code == 200 and 'id="understood"' not in saved.text


def test_the_project_page_starts_with_an_index_and_the_spending_in_yuan(engine, world):
    page = _clerk(engine).get(f"/projects/{world.hr_project}").text
    index = page.split('id="indicator-index"')[1].split("</nav>")[0]
    assert f'href="#ind-{world.ind["quarterly"]}"' in index and "补贴发放" in index
    assert page.index('id="spending"') < page.index(f'id="ind-{world.ind["count"]}"')
    assert "执行数 (元)" in page.split('id="spending"')[1].split("</section>")[0]
