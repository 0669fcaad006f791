"""The configured reading of "X月前" reaches the stored targets (issue 3, item 4)."""

from sqlmodel import select

from monitor.importers.disclosure import parse_file
from monitor.importers.load import store_document
from monitor.store.models import Indicator
from tests.conftest import SEED_HRSS


def _due_of_other_subsidies(session) -> str:
    row = session.exec(select(Indicator).where(Indicator.name == "其他补贴发放时间",
                                               Indicator.half == "annual")).first()
    assert row.value_text == "12月前"
    return row.target_json["occurrences"][-1]["due"]


def test_month_before_means_the_end_of_that_month_by_default(session):
    store_document(session, parse_file(SEED_HRSS))
    assert _due_of_other_subsidies(session) == "2024-12-31"


def test_strict_month_before_means_the_day_before_that_month(session):
    store_document(session, parse_file(SEED_HRSS), strict_month_before=True)
    assert _due_of_other_subsidies(session) == "2024-11-30"
