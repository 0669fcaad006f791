"""Digests, reminders, repeats, escalation, acknowledgement, waivers and catch-up, end to end: states in the
store → notify job → outbox → real SMTP server on loopback → what each person actually received."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from monitor.notify.actions import acknowledge, add_waiver
from monitor.notify.compose import commit_plan, plan, run_notify, summary_due
from monitor.notify.sender import send_pending
from monitor.store.models import JobRun, OutboxMessage
from monitor.store.models.notify import NotificationDigest
from monitor.store.types import SHANGHAI
from tests.test_notify_support import Sink, World, notify_config, parts


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def world(session):
    return World(session)


class Mailbox:
    """Runs the notify job and the sender for a day; returns only what arrived for that day.

    The weekly summary is moved to Sunday (rarely a working day) unless a test asks for it, so the
    finance bureau's Monday summary does not mix into tests about digests."""

    def __init__(self, engine, sink, **notifications) -> None:
        notifications.setdefault("summary_weekday", 7)
        self.engine, self.sink = engine, sink
        self.config = notify_config(sink.port, **notifications)
        self.seen = 0

    def day(self, day: date):
        run_notify(self.engine, self.config, day)
        send_pending(self.engine, self.config)
        arrivals = self.sink.arrivals[self.seen:]
        self.seen += len(arrivals)
        return arrivals


def _by_recipient(arrivals):
    out: dict[str, list] = {}
    for arrival in arrivals:
        for rcpt in arrival.rcpt_tos:
            out.setdefault(rcpt, []).append(arrival.message)
    return out


def test_one_digest_per_department_with_sections_items_and_both_chinese_parts(engine, world, sink):
    day = date(2024, 7, 31)
    late = world.indicator("centre", "见习岗位开发数量", "≥200个", "个")
    slow = world.indicator("centre", "补贴发放人数", "≥500人")
    silent = world.indicator("centre", "见习留用率", "≥50%", "%")
    soon = world.indicator("centre", "年度总结报送", "8月7日前完成", "")
    done = world.indicator("union", "职工服务站点建成数", "≥10个", "个")
    world.state(late, "overdue", as_of=day, occurrence="2024-07-25", since=date(2024, 7, 26), actual=Decimal("120"),
                reason="截止2024年7月25日应完成200个，实际120个")
    world.state(slow, "behind", as_of=day, actual=Decimal("150"), reason="完成率43%，低于序时进度58%")
    world.state(silent, "no_report", as_of=day, reason="尚未填报")
    world.state(soon, "not_due", as_of=day, occurrence="2024-08-07", reason="尚未到期")
    world.state(done, "met", as_of=day, since=day, actual=Decimal("10"), reason="已完成10个")

    mail = Mailbox(engine, sink).day(day)
    received = _by_recipient(mail)

    assert sorted(received) == ["clerk@jyzx.example.org", "head@jyzx.example.org", "perf@zgh.example.org"]
    assert all(len(messages) == 1 for messages in received.values())
    centre = received["head@jyzx.example.org"][0]
    assert centre["Subject"] == "【绩效提醒】晋城市就业服务中心：1项逾期，1项7日内到期，1项进度滞后，1项未填报"
    plain, html = parts(centre)
    for section, item in (("已逾期（1项）", "见习岗位开发数量"), ("即将到期（1项）", "年度总结报送"),
                          ("进度滞后 / 超出成本上限（1项）", "补贴发放人数"), ("未填报（1项）", "见习留用率")):
        assert section in plain and section in html
        assert item in plain and item in html
    assert "截止2024年7月25日应完成200个，实际120个" in plain and "最新情况：120个" in plain
    assert "（已逾期6天）" in plain and "（还有7天）" in plain
    assert "http://127.0.0.1:8000/projects/" in plain and "/notify/ack/" in html
    union = received["perf@zgh.example.org"][0]
    assert union["Subject"] == "【绩效提醒】晋城市总工会：1项已完成"
    assert "本期已完成（1项）" in parts(union)[0]
    for message in mail:
        assert message.message["Auto-Submitted"] == "auto-generated"
        assert message.message["Content-Language"] == "zh-CN"
        assert message.message["Message-ID"] and message.message["Date"]
        assert message.message.get_content_type() == "multipart/alternative"

    again = Mailbox(engine, sink)
    again.seen = len(sink.arrivals)
    assert again.day(day) == []


def test_overdue_item_repeats_weekly_not_daily(engine, world, sink):
    late = world.indicator("union", "职工培训场次", "≥12场", "场")
    world.state(late, "overdue", as_of=date(2024, 7, 1), occurrence="2024-06-28", since=date(2024, 6, 29))
    mailbox = Mailbox(engine, sink, escalate_after_days=100, escalate_after_ignored=100,
                      escalate_finance_after_days=200, escalate_finance_after_ignored=200)
    sent_days = []
    day = date(2024, 7, 1)
    while day <= date(2024, 7, 16):
        if mailbox.day(day):
            sent_days.append(day)
        day += timedelta(days=1)
    assert sent_days == [date(2024, 7, 1), date(2024, 7, 8), date(2024, 7, 15)]
    last = [a.message for a in sink.arrivals if a.rcpt_tos == ["perf@zgh.example.org"]][-1]
    assert "第3次提醒" in parts(last)[0]


def test_escalation_copies_go_to_supervisor_then_finance_bureau_and_stop_when_resolved(engine, world, sink):
    late = world.indicator("centre", "职业技能培训人次", "≥1000人次", "人次")
    world.state(late, "overdue", as_of=date(2024, 7, 31), occurrence="2024-07-10", since=date(2024, 7, 11))
    mailbox = Mailbox(engine, sink)

    first = _by_recipient(mailbox.day(date(2024, 7, 31)))
    assert sorted(first) == ["clerk@jyzx.example.org", "head@jyzx.example.org", "head@rsj.example.org"]
    copy = first["head@rsj.example.org"][0]
    assert copy["Subject"] == "【绩效督办】晋城市就业服务中心：1项逾期未处理（抄送晋城市人力资源和社会保障局）"
    assert "职业技能培训人次" in parts(copy)[0] and "已逾期21天" in parts(copy)[0]
    assert "已抄送主管部门" in parts(first["head@jyzx.example.org"][0])[0]

    later = _by_recipient(mailbox.day(date(2024, 8, 12)))
    assert sorted(later) == ["clerk@jyzx.example.org", "head@jyzx.example.org", "head@rsj.example.org",
                             "perf@czj.example.org"]
    assert [m["Subject"] for m in later["perf@czj.example.org"]] == [
        "【绩效督办】晋城市就业服务中心：1项逾期未处理（抄送晋城市财政局）"]
    assert "已逾期33天" in parts(later["perf@czj.example.org"][0])[0]

    world.state(late, "met", as_of=date(2024, 8, 19), occurrence="2024-07-10", since=date(2024, 8, 16))
    resolved = _by_recipient(mailbox.day(date(2024, 8, 19)))
    assert sorted(resolved) == ["clerk@jyzx.example.org", "head@jyzx.example.org"]
    assert "本期已完成（1项）" in parts(resolved["head@jyzx.example.org"][0])[0]


def test_two_ignored_digests_escalate_before_fourteen_days(engine, world, sink):
    late = world.indicator("centre", "政策宣传次数", "≥4次", "次")
    world.state(late, "overdue", as_of=date(2024, 7, 1), occurrence="2024-06-30", since=date(2024, 7, 1))
    mailbox = Mailbox(engine, sink, repeat_days=1, escalate_after_days=100)
    assert "head@rsj.example.org" not in _by_recipient(mailbox.day(date(2024, 7, 1)))
    assert "head@rsj.example.org" not in _by_recipient(mailbox.day(date(2024, 7, 2)))
    assert "head@rsj.example.org" in _by_recipient(mailbox.day(date(2024, 7, 3)))


def test_acknowledged_item_is_silent_until_its_status_changes(engine, session, world, sink):
    slow = world.indicator("union", "会员服务满意度", "≥90%", "%")
    world.state(slow, "behind", as_of=date(2024, 7, 1), since=date(2024, 7, 1))
    mailbox = Mailbox(engine, sink)
    assert len(mailbox.day(date(2024, 7, 1))) == 1
    acknowledge(session, indicator_id=slow.id, occurrence="", cause="人员保障", text="调查人员不足，8月补做",
                by="perf@zgh.example.org")
    assert mailbox.day(date(2024, 7, 8)) == []
    assert mailbox.day(date(2024, 7, 15)) == []
    world.state(slow, "overdue", as_of=date(2024, 7, 22), occurrence="", since=date(2024, 7, 22))
    back = mailbox.day(date(2024, 7, 22))
    assert len(back) == 1 and "已逾期（1项）" in parts(back[0].message)[0]


def test_nothing_is_sent_on_a_statutory_holiday_and_its_reminder_comes_the_working_day_before(engine, world, sink):
    report = world.indicator("union", "国庆后工作总结报送", "10月8日前报送", "")
    world.state(report, "not_due", as_of=date(2024, 9, 30), occurrence="2024-10-08")
    mailbox = Mailbox(engine, sink, lead_days=(7,))
    before = mailbox.day(date(2024, 9, 30))
    assert len(before) == 1 and "国庆后工作总结报送" in parts(before[0].message)[0]
    late = world.indicator("union", "节日慰问", "≥100户", "户")
    world.state(late, "overdue", as_of=date(2024, 10, 1), occurrence="2024-09-29", since=date(2024, 9, 30))
    assert mailbox.day(date(2024, 10, 1)) == []
    assert mailbox.day(date(2024, 10, 5)) == []
    after = mailbox.day(date(2024, 10, 8))
    assert len(after) == 1 and "节日慰问" in parts(after[0].message)[0]
    assert "补发" not in after[0].message["Subject"]
    with engine.connect() as connection:
        runs = connection.execute(select(JobRun.counts).where(JobRun.job == "notify")).all()
    assert {"as_of": "2024-10-01", "skipped": "非工作日"} in [r[0] for r in runs]


def test_after_downtime_one_catch_up_digest_covers_missed_reminders(engine, world, sink):
    soon = world.indicator("union", "季度报表报送", "7月31日前报送", "")
    world.state(soon, "not_due", as_of=date(2024, 7, 22), occurrence="2024-07-31")
    other = world.indicator("union", "半年总结", "7月30日前报送", "")
    world.state(other, "not_due", as_of=date(2024, 7, 22), occurrence="2024-07-30")
    mailbox = Mailbox(engine, sink, lead_days=(7, 3))
    assert mailbox.day(date(2024, 7, 19)) == []
    catch_up = mailbox.day(date(2024, 7, 29))
    assert len(catch_up) == 1
    message = catch_up[0].message
    plain = parts(message)[0]
    assert message["Subject"].startswith("【绩效提醒·补发】晋城市总工会：2项")
    assert "季度报表报送" in plain and "半年总结" in plain and "2024年7月20日起" in plain


def test_waived_items_are_listed_but_do_not_trigger_a_digest(engine, session, world, sink):
    muted = world.indicator("union", "阵地改造面积", "≥500平方米", "平方米")
    world.state(muted, "overdue", as_of=date(2024, 7, 1), occurrence="2024-06-30", since=date(2024, 7, 1))
    add_waiver(session, indicator_id=muted.id, until=date(2024, 7, 31),
               reason="财政局已暂缓拨款，项目调整中", by="admin")
    mailbox = Mailbox(engine, sink)
    assert mailbox.day(date(2024, 7, 1)) == []
    loud = world.indicator("union", "职工之家建设", "≥3个", "个")
    world.state(loud, "no_report", as_of=date(2024, 7, 2), since=date(2024, 7, 2))
    digest = mailbox.day(date(2024, 7, 2))
    plain, html = parts(digest[0].message)
    assert "已暂停提醒（豁免）（1项）" in plain and "阵地改造面积" in plain and "财政局已暂缓拨款，项目调整中" in html
    assert "已逾期" not in plain
    back = _by_recipient(mailbox.day(date(2024, 8, 1)))["perf@zgh.example.org"]
    assert "阵地改造面积" in parts(back[0])[0] and "已逾期（1项）" in parts(back[0])[0]


def test_weekly_summary_reaches_the_finance_bureau_with_inactive_users_and_warnings(engine, world, sink):
    late = world.indicator("centre", "见习人数", "≥300人")
    world.state(late, "overdue", as_of=date(2024, 7, 29), occurrence="2024-07-20", since=date(2024, 7, 21))
    gap = world.indicator("union", "活动次数", "≥6次", "次")
    world.state(gap, "no_report", as_of=date(2024, 7, 29))
    world.user(world.union, "工会小王", last_login=None)
    world.user(world.centre, "中心小李", last_login=datetime.now(SHANGHAI) - timedelta(hours=2))
    summary = _by_recipient(Mailbox(engine, sink, summary_weekday=1).day(date(2024, 7, 29)))["perf@czj.example.org"]
    assert len(summary) == 1
    assert summary[0]["Subject"].startswith("【绩效周报】2024年第31周：3个部门的监控情况（系统告警）")
    plain, html = parts(summary[0])
    assert "工会小王" in plain and "中心小李" not in plain
    assert "评估从未成功运行" in plain and "1项逾期" in plain and "未填报1项" in plain
    assert summary_due(date(2024, 7, 29), 1) and not summary_due(date(2024, 7, 30), 1)
    assert summary_due(date(2024, 10, 8), 1)  # Monday 7 October is a holiday: Tuesday carries the summary


def test_user_text_is_escaped_in_html_and_cannot_inject_headers(engine, session, world, sink):
    world.union.name = "工会<script>alert(1)</script>\r\nBcc: evil@example.com"
    session.add(world.union)
    session.commit()
    bad = world.indicator("union", "<img src=x onerror=alert(1)>", "≥1次", "次")
    world.state(bad, "no_report", as_of=date(2024, 7, 1), reason="<b>未填</b>")
    arrival = Mailbox(engine, sink).day(date(2024, 7, 1))[0]
    plain, html = parts(arrival.message)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "<b>未填</b>" in plain
    assert arrival.rcpt_tos == ["perf@zgh.example.org"] and arrival.message["Bcc"] is None


def test_notify_rerun_and_racing_runs_build_one_digest(engine, session, world, sink):
    slow = world.indicator("union", "服务人次", "≥1000人次", "人次")
    world.state(slow, "behind", as_of=date(2024, 7, 1))
    config = notify_config(sink.port, summary_weekday=7)
    with Session(engine) as one, Session(engine) as two:
        first, second = plan(one, config, date(2024, 7, 1)), plan(two, config, date(2024, 7, 1))
    assert commit_plan(engine, config, first)["messages"] == 1
    assert commit_plan(engine, config, second)["skipped"] == 1
    run_notify(engine, config, date(2024, 7, 1))
    assert len(session.exec(select(NotificationDigest)).all()) == 1
    assert [m.kind for m in session.exec(select(OutboxMessage)).all()] == ["digest"]


def test_months_of_one_overdue_task_fold_into_one_item(engine, world, sink):
    monthly = world.indicator("union", "电费缴纳时间", "每月20日前", "")
    for month in (4, 5, 6):
        world.state(monthly, "overdue", as_of=date(2024, 7, 1), occurrence=f"2024-0{month}-20",
                    since=date(2024, month, 21))
    message = _by_recipient(Mailbox(engine, sink).day(date(2024, 7, 1)))["perf@zgh.example.org"][0]
    plain = parts(message)[0]
    assert message["Subject"] == "【绩效提醒】晋城市总工会：1项逾期（共3期）"
    assert plain.count("电费缴纳时间") == 1 and "共3期（4月20日、5月20日、6月20日）" in plain
    assert "（已逾期72天）" in plain


def test_a_folded_overdue_task_gives_the_reason_of_the_due_date_it_names(engine, world, sink):
    """The item says 截止日期 4月20日（已逾期72天）: its reason is April's, not June's "已逾期11天" beside it."""
    monthly = world.indicator("union", "电费缴纳时间", "每月20日前", "")
    for month in (4, 5, 6):
        days = (date(2024, 7, 1) - date(2024, month, 20)).days
        world.state(monthly, "overdue", as_of=date(2024, 7, 1), occurrence=f"2024-0{month}-20",
                    since=date(2024, month, 21), reason=f"截止{month}月20日，已逾期{days}天，尚未报告完成")
    message = _by_recipient(Mailbox(engine, sink).day(date(2024, 7, 1)))["perf@zgh.example.org"][0]
    plain = parts(message)[0]
    assert "截止日期：2024年4月20日（已逾期72天）" in plain
    assert "原因：截止4月20日，已逾期72天，尚未报告完成" in plain and "已逾期11天" not in plain


def test_one_explanation_from_a_folded_item_silences_every_period_it_names(engine, world, sink):
    """Three overdue months are one item with one 说明偏差原因 link; answering it once silences all three, so the
    department is not asked again next week for April and May."""
    monthly = world.indicator("union", "电费缴纳时间", "每月20日前", "")
    for month in (4, 5, 6):
        world.state(monthly, "overdue", as_of=date(2024, 7, 1), occurrence=f"2024-0{month}-20",
                    since=date(2024, month, 21))
    mailbox = Mailbox(engine, sink)
    assert "电费缴纳时间" in parts(_by_recipient(mailbox.day(date(2024, 7, 1)))["perf@zgh.example.org"][0])[0]
    with Session(engine) as session:  # what the email link's form does (tests/test_notify_web.py drives the page)
        acknowledge(session, indicator_id=monthly.id, occurrence="2024-06-20", cause="经费保障", text="电费8月统一结算",
                    by="head@zgh.example.org", channel="email", expected_status="overdue", whole_item=True)
    for state in ("2024-04-20", "2024-05-20", "2024-06-20"):
        world.state(monthly, "overdue", as_of=date(2024, 7, 8), occurrence=state,
                    since=date(2024, int(state[5:7]), 21))
    assert mailbox.day(date(2024, 7, 8)) == []


@pytest.mark.parametrize("actual, unit, shown", [
    ("148500", "元", "14.85万元"), ("9500", "元", "9500元"), ("120", "个", "120个"), ("96.5", "%", "96.5%"),
    ("1200000.00", "元/年", "120万元/年"), ("0.125", "", "0.13"),
])
def test_the_latest_value_is_written_as_the_reason_writes_it(engine, world, sink, actual, unit, shown):
    cost = world.indicator("union", "维修成本", "≤27万", unit)
    world.state(cost, "behind", as_of=date(2024, 7, 1), actual=Decimal(actual))
    plain = parts(_by_recipient(Mailbox(engine, sink).day(date(2024, 7, 1)))["perf@zgh.example.org"][0])[0]
    assert f"最新情况：{shown}\r\n" in plain


def test_the_digest_and_the_weekly_summary_count_overdue_items_the_same_way(engine, world, sink):
    monthly = world.indicator("union", "电费缴纳时间", "每月20日前", "")
    for month in (4, 5, 6):
        world.state(monthly, "overdue", as_of=date(2024, 7, 29), occurrence=f"2024-0{month}-20",
                    since=date(2024, month, 21))
    report = world.indicator("union", "年度总结报送", "7月20日前", "")
    world.state(report, "overdue", as_of=date(2024, 7, 29), occurrence="2024-07-20", since=date(2024, 7, 21))
    mail = _by_recipient(Mailbox(engine, sink, summary_weekday=1).day(date(2024, 7, 29)))
    digest = mail["perf@zgh.example.org"][0]
    [summary] = [m for m in mail["perf@czj.example.org"] if m["Subject"].startswith("【绩效周报】")]
    summary_plain = parts(summary)[0]
    assert digest["Subject"] == "【绩效提醒】晋城市总工会：2项逾期（共4期）"
    union_line = summary_plain[summary_plain.index("晋城市总工会"):].split("本周提醒")[0]
    assert "2项逾期（共4期）" in union_line
