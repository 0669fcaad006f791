"""The department home on the real seed data: what is due and overdue comes from the annual targets only."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from monitor.importers.disclosure import parse_file
from monitor.importers.load import store_document
from monitor.store.models import Department
from monitor.web.views import department_rows
from tests.conftest import SEED_UNION


def test_overdue_items_are_the_annual_targets_each_listed_once(engine):
    with Session(engine) as session:
        store_document(session, parse_file(SEED_UNION))
        session.commit()
        union = session.exec(select(Department).where(Department.code == "959")).one()
        rows = {row.project.name: row for row in department_rows(session, union.id, date(2024, 7, 31))}
    palace = rows["工人文化宫运行经费"]
    overdue = [(item.name, item.due) for item in palace.overdue]
    assert len(overdue) == len(set(overdue))
    # 电费缴纳时间 "每月20日前": January to July's payments are all open on 31 July, once each
    assert [due for name, due in overdue if name == "电费缴纳时间"] == [date(2024, m, 20) for m in range(1, 8)]
    assert palace.indicators == 17  # 数量5 质量2 时效4 成本4 社会效益1 满意度1, counted in the document
