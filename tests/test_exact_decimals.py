"""Measured values and money keep every digit they were given, on SQLite as on PostgreSQL: SQLite's NUMERIC
keeps only 15 significant digits (123456789012.123456 came back as 123456789012.123459, 9999999999999999.99
as 10000000000000000.00)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from monitor.store.models import Report, Spending
from tests.test_api_progress import _auth, _token
from tests.test_progress_world import build_world
from tests.test_web_portal import make_client

MEASURED = "123456789012.123456"  # 18 significant digits, the column's 6 places
AMOUNT = "9999999999999999.99"  # the largest amount NUMERIC(18,2) holds


def test_a_reported_value_and_an_amount_come_back_with_every_digit(engine):
    world = build_world(engine)
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    posted = client.post("/api/v1/reports", headers=headers,
                         json={"indicator_id": world.ind["count"], "value": MEASURED, "as_of": "2024-06-30"})
    assert posted.status_code == 201, posted.text
    spent = client.post(f"/api/v1/projects/{world.hr_project}/spending", headers=headers,
                        json={"amount": AMOUNT, "as_of": "2024-06-30"})
    assert spent.status_code == 201, spent.text

    history = client.get(f"/api/v1/indicators/{world.ind['count']}/history", headers=headers).json()
    assert [Decimal(r["value"]) for r in history] == [Decimal(MEASURED)]
    spending = client.get(f"/api/v1/projects/{world.hr_project}/spending", headers=headers).json()
    assert [Decimal(r["amount"]) for r in spending] == [Decimal(AMOUNT)]
    with Session(engine) as session:  # and what any other reader of the store (reports, digests) gets
        assert session.exec(select(Report.value)).one() == Decimal(MEASURED)
        assert session.exec(select(Spending.amount)).one() == Decimal(AMOUNT)


def test_amounts_compare_and_sort_as_numbers_in_queries(engine):
    """Kept as text on SQLite, '9.00' would sort after '10.00': a query's comparison and order are numeric."""
    world = build_world(engine)
    with Session(engine) as session:
        for amount in ("9.00", "10.00", "100.50", "2000000.00"):
            session.add(Spending(project_id=world.hr_project, amount=Decimal(amount), as_of=date(2024, 6, 30),
                                 channel="cli"))
        session.commit()
        ordered = session.exec(select(Spending.amount).order_by(col(Spending.amount).desc())).all()
        at_least_ten = session.exec(select(Spending.amount).where(col(Spending.amount) >= Decimal(10))).all()
    assert ordered == [Decimal("2000000.00"), Decimal("100.50"), Decimal("10.00"), Decimal("9.00")]
    assert sorted(at_least_ten) == [Decimal("10.00"), Decimal("100.50"), Decimal("2000000.00")]
