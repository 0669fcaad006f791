"""The recording service every channel uses: validation by kind, revisions, re-reporting, scope, audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from monitor.accounts.permissions import NotAllowed
from monitor.progress.entries import read_report, read_spending
from monitor.progress.service import history, record_reports, record_spending
from monitor.progress.validation import ValidationFailed
from monitor.store.db import session_scope
from monitor.store.facts import effective_reports
from monitor.store.models import AuditEvent, Report, Spending, User
from tests.test_progress_world import TODAY, build_world


def _user(s: Session, name: str) -> User:
    return s.exec(select(User).where(User.username == name)).one()


def _record(engine, username, drafts, channel="portal"):
    with session_scope(engine) as s:
        return record_reports(s, _user(s, username), drafts, channel=channel, today=TODAY)


def _problems(engine, username, drafts):
    with pytest.raises(ValidationFailed) as caught:
        _record(engine, username, drafts)
    return {(p.index, p.field): p.message for p in caught.value.problems}


def test_each_kind_is_stored_with_its_own_fields(engine):
    w = build_world(engine)
    result = _record(engine, "clerk_hr", [
        read_report(w.ind["count"], value="1,250", as_of="2024-07-31", forecast="3100", likelihood="确定能"),
        read_report(w.ind["rate"], value="92.5%", as_of=date(2024, 6, 30)),
        read_report(w.ind["deadline"], completed_on="2024年7月20日"),
        read_report(w.ind["quarterly"], occurrence_due="2024-06-30", completed_on="2024/6/28"),
        read_report(w.ind["quality"], grade="部分达成", explanation="培训后就业率提升不明显",
                    deviation_causes={"人员保障": "师资不足"}),
    ])
    assert len(result.stored) == 5
    with Session(engine) as s:
        rows = {r.indicator_id: r for r in s.exec(select(Report)).all()}
    assert rows[w.ind["count"]].value == Decimal("1250") and rows[w.ind["count"]].forecast == Decimal("3100")
    assert rows[w.ind["rate"]].value == Decimal("92.5")
    assert rows[w.ind["deadline"]].occurrence_due == date(2024, 10, 31)  # the only occurrence is implied
    assert rows[w.ind["quarterly"]].completed_on == date(2024, 6, 28)
    assert rows[w.ind["quality"]].grade == "部分达成年度指标并具有一定效果"
    assert rows[w.ind["quality"]].deviation_causes == {"人员保障": "师资不足"}
    assert {r.channel for r in rows.values()} == {"portal"}


def test_nonsense_is_refused_naming_the_field_and_nothing_is_stored(engine):
    w = build_world(engine)
    problems = _problems(engine, "clerk_hr", [
        read_report(w.ind["count"], value="一千二", as_of="2024-07-01"),
        read_report(w.ind["count"], value="-5", as_of="2024-07-01"),
        read_report(w.ind["deadline"], completed_on="2021-05-01"),
        read_report(w.ind["quality"], grade="优秀"),
        read_report(w.ind["rate"], value="95", as_of="2024-08-15"),
        read_report(w.ind["quarterly"], occurrence_due="2024-05-31", completed_on="2024-05-30"),
        read_report(w.ind["count"], value="10", as_of="2024-07-01", likelihood="大概吧"),
    ])
    assert "不是数字" in problems[(0, "value")]
    assert "负数" in problems[(1, "value")]
    assert "预算年度 2024" in problems[(2, "completed_on")]
    assert "评价等级" in problems[(3, "grade")]
    assert "晚于今天" in problems[(4, "as_of")]
    assert "不是该指标的期次" in problems[(5, "occurrence_due")]
    assert (6, "likelihood") in problems
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []
        assert s.exec(select(AuditEvent).where(AuditEvent.entity == "report")).all() == []


def test_same_fact_twice_stores_nothing_new_and_a_new_value_for_the_same_date_is_a_revision(engine):
    w = build_world(engine)
    draft = read_report(w.ind["count"], value="1200", as_of="2024-06-30")
    assert len(_record(engine, "clerk_hr", [draft]).stored) == 1
    again = _record(engine, "clerk_hr", [draft])
    assert again.stored == [] and again.unchanged == [0]
    changed = _record(engine, "clerk_hr", [read_report(w.ind["count"], value="1300", as_of="2024-06-30")])
    (row,) = changed.stored
    assert row.revision == 2 and row.supersedes_id is not None
    later = _record(engine, "clerk_hr", [read_report(w.ind["count"], value="1500", as_of="2024-07-31")]).stored[0]
    assert later.revision == 1  # a new as-of date is a new fact, not a correction
    with Session(engine) as s:
        effective = effective_reports(s, [w.ind["count"]])[w.ind["count"]]
        assert sorted(r.value for r in effective) == [Decimal("1300"), Decimal("1500")]
        assert [r.value for r in history(s, w.ind["count"])] == [Decimal("1500"), Decimal("1300"), Decimal("1200")]


def test_an_explicit_correction_supersedes_that_row_once(engine):
    w = build_world(engine)
    first = _record(engine, "clerk_hr", [read_report(w.ind["quarterly"], occurrence_due="2024-03-31",
                                                     completed_on="2024-03-29")]).stored[0]
    fixed = _record(engine, "clerk_hr", [read_report(w.ind["quarterly"], occurrence_due="2024-03-31",
                                                     completed_on="2024-03-25", supersedes_id=first.id)]).stored[0]
    assert (fixed.revision, fixed.supersedes_id) == (2, first.id)
    problems = _problems(engine, "clerk_hr", [read_report(w.ind["quarterly"], occurrence_due="2024-03-31",
                                                          completed_on="2024-03-20", supersedes_id=first.id)])
    assert "已被更正" in problems[(0, "supersedes_id")]
    with Session(engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.entity == "report").order_by(AuditEvent.id)).all()
    assert [e.action for e in audit] == ["report", "correct"]
    assert audit[1].before["completed_on"] == "2024-03-29" and audit[1].after["completed_on"] == "2024-03-25"
    assert audit[1].actor == "clerk_hr"


def test_a_department_cannot_report_on_another_departments_indicator(engine):
    w = build_world(engine)
    problems = _problems(engine, "clerk_union", [read_report(w.ind["count"], value="1", as_of="2024-07-01")])
    assert "不属于本部门" in problems[(0, "indicator_id")]
    own = read_report(w.union_indicator, value="1", as_of="2024-07-01")
    assert len(_record(engine, "clerk_union", [own]).stored) == 1


def test_auditors_read_but_never_write(engine):
    w = build_world(engine)
    with pytest.raises(NotAllowed):
        _record(engine, "auditor", [read_report(w.ind["count"], value="1", as_of="2024-07-01")])


def test_spending_is_decimal_yuan_with_revisions(engine):
    w = build_world(engine)
    with session_scope(engine) as s:
        stored, _ = record_spending(s, _user(s, "clerk_hr"), [read_spending(w.hr_project, "450000.10", "2024-06-30")],
                                    channel="portal", today=TODAY)
    with session_scope(engine) as s:
        again, unchanged = record_spending(s, _user(s, "clerk_hr"),
                                           [read_spending(w.hr_project, "450000.1", "2024-06-30")],
                                           channel="portal", today=TODAY)
        assert again == [] and unchanged == [0]
        fixed, _ = record_spending(s, _user(s, "clerk_hr"), [read_spending(w.hr_project, "460000", "2024-06-30")],
                                   channel="portal", today=TODAY)
    assert fixed[0].revision == 2
    with Session(engine) as s:
        amounts = sorted(r.amount for r in s.exec(select(Spending)).all())
    assert amounts == [Decimal("450000.10"), Decimal("460000.00")]
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as caught:
        record_spending(s, _user(s, "clerk_hr"), [read_spending(w.hr_project, "12.345", "2024-06-30"),
                                                  read_spending(w.union_project, "1", "2024-06-30")],
                        channel="portal", today=TODAY)
    assert {(p.index, p.field) for p in caught.value.problems} == {(0, "amount"), (1, "project_id")}


@pytest.mark.parametrize("amount, as_of, note, field, words", [
    ("-1", "2024-06-30", None, "amount", "负数"),
    ("", "2024-06-30", None, "amount", "请填写"),
    ("1", "2024-08-15", None, "as_of", "晚于今天 2024-07-31"),
    ("1", "2021-06-30", None, "as_of", "预算年度 2024"),
    ("1", "2024-02-30", None, "as_of", "不是日期"),
    ("1", "2024-06-30", "长" * 2001, "note", "过长"),
])
def test_nonsense_spending_is_refused_naming_the_field(engine, amount, as_of, note, field, words):
    w = build_world(engine)
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as caught:
        record_spending(s, _user(s, "clerk_hr"), [read_spending(w.hr_project, amount, as_of, note)],
                        channel="portal", today=TODAY)
    (problem,) = caught.value.problems
    assert (problem.index, problem.field) == (0, field) and words in problem.message
    with Session(engine) as s:
        assert s.exec(select(Spending)).all() == []


def test_ids_typed_the_way_spreadsheets_write_them_are_understood(engine):
    w = build_world(engine)
    result = _record(engine, "clerk_hr", [read_report(float(w.ind["count"]), value=12.0, as_of=date(2024, 7, 1)),
                                          read_report(f" {w.ind['rate']} ", value="88", as_of="2024-07-01")])
    assert len(result.stored) == 2
    problems = _problems(engine, "clerk_hr", [read_report(f"{w.ind['count']}.5", value="1", as_of="2024-07-01")])
    assert (0, "indicator_id") in problems


def test_a_field_the_kind_does_not_use_is_refused_as_unused_even_when_it_cannot_be_read(engine):
    w = build_world(engine)
    problems = _problems(engine, "clerk_hr", [read_report(w.ind["count"], value="1", as_of="2024-07-01", grade="优秀",
                                                          completed_on="不知道")])
    assert "不填此项" in problems[(0, "grade")] and "不填此项" in problems[(0, "completed_on")]
    result = _record(engine, "clerk_hr", [read_report(w.ind["quality"], grade="达成", value="很多")])
    assert result.stored[0].value is None  # a number on a graded indicator is neither asked for nor kept
