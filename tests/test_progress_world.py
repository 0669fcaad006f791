"""A small world for the progress, portal and API tests: two departments, the finance bureau, one project
each, one indicator of every kind, and a user per role. Built directly in the store, as issue 2's importer
would, with targets parsed by the real grammar. Imported by the other test_progress/web/api modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.accounts.passwords import hash_password
from monitor.store.db import session_scope
from monitor.store.models import BudgetYear, Department, Indicator, Project, User
from rules.targets import parse_target

PASSWORD = "correct-horse-42"
TODAY = date(2024, 7, 31)
EVIL_NAME = '<script>alert("x")</script>职工帮扶项目'

HR_INDICATORS = [  # key, level1, level2, name, 指标值
    ("count", "产出指标", "数量指标", "培训人数", "≥3000人"),
    ("rate", "产出指标", "质量指标", "培训合格率", "≥90%"),
    ("deadline", "产出指标", "时效指标", "完成时间", "2024年10月底前"),
    ("quarterly", "产出指标", "时效指标", "补贴发放", "每季度"),
    ("quality", "效益指标", "社会效益指标", "就业能力", "有效提升"),
    ("unparsed", "产出指标", "数量指标", "其他", "XX"),
]


@dataclass
class World:
    hr_id: int
    union_id: int
    bureau_id: int
    hr_project: int
    union_project: int
    ind: dict[str, int] = field(default_factory=dict)
    union_indicator: int = 0


def _indicator(project_id: int, position: int, level1: str, level2: str, name: str, text: str) -> Indicator:
    target = parse_target(text, year=2024, level2=level2, name=name)
    return Indicator(project_id=project_id, half="annual", level1=level1, level2=level2, name=name, value_text=text,
                     position=position, kind=target.kind, comparator=target.comparator, target_value=target.value,
                     unit=target.unit, direction=target.direction, target_json=target.to_json(),
                     parse_reason=target.reason)


def build_world(engine: Engine, *, users: bool = True) -> World:
    with session_scope(engine) as s:
        year = BudgetYear(year=2024, monitor_through_month=7)
        bureau = Department(code="FIN", name="市财政局", is_finance_bureau=True)
        hr = Department(code="HRSS", name="市人力资源和社会保障局")
        union = Department(code="UNION", name="市总工会")
        s.add_all([year, bureau, hr, union])
        s.flush()
        hr_project = Project(department_id=hr.id, budget_year_id=year.id, import_key="hr-1", name="职业技能培训项目",
                             annual_funds=Decimal("1200000.00"))
        union_project = Project(department_id=union.id, budget_year_id=year.id, import_key="u-1", name=EVIL_NAME,
                                annual_funds=Decimal("300000.00"))
        s.add_all([hr_project, union_project])
        s.flush()
        world = World(hr.id, union.id, bureau.id, hr_project.id, union_project.id)
        for position, (key, l1, l2, name, text) in enumerate(HR_INDICATORS):
            row = _indicator(hr_project.id, position, l1, l2, name, text)
            s.add(row)
            s.flush()
            world.ind[key] = row.id
        union_row = _indicator(union_project.id, 0, "产出指标", "数量指标", "帮扶人数", "≥500人")
        s.add(union_row)
        s.flush()
        world.union_indicator = union_row.id
        if users:
            add_users(s)
    return world


_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test run, not per user per test


def add_users(s: Session) -> None:
    departments = {d.code: d.id for d in s.exec(select(Department)).all()}
    for username, role, code, display in (("clerk_hr", "clerk", "HRSS", "人社经办"),
                                          ("clerk_union", "clerk", "UNION", "工会经办"),
                                          ("admin", "admin", None, "财政局管理员"),
                                          ("auditor", "auditor", None, "财政局审计")):
        s.add(User(username=username, display_name=display, password_hash=_HASH, role=role,
                   department_id=departments.get(code)))


def test_world_indicators_cover_every_reportable_kind(engine):
    world = build_world(engine, users=False)
    with Session(engine) as s:
        kinds = {key: s.get(Indicator, iid).kind for key, iid in world.ind.items()}
    assert kinds == {"count": "quantity", "rate": "percent", "deadline": "deadline", "quarterly": "recurring",
                     "quality": "qualitative", "unparsed": "unparsed"}
