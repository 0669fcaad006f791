"""The command line and the scheduler entry points of notifications, on a real store: dry runs write .eml files
and change nothing; a real run queues and sends; a bad contact row is skipped without stopping the run."""

from __future__ import annotations

import email
from datetime import date
from email.policy import default

from sqlmodel import select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.job_context import JobContext
from monitor.notify import jobs
from monitor.notify.compose import run_notify
from monitor.scheduler.jobs import JOBS
from monitor.store.models import Contact, JobRun
from monitor.store.models.notify import NotificationDigest, OutboxMessage
from monitor.store.types import SHANGHAI
from tests.test_notify_support import Sink, World, notify_config


def _env(tmp_path, db_url: str, port: int) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[smtp]\nport = {port}\nsender = "kpiwatch <kpiwatch@example.org>"\n'
                      f'backoff_base_seconds = 0\n[notifications]\nsummary_weekday = 7\n', encoding="utf-8")
    return {"KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url}


def test_dry_run_writes_eml_files_and_changes_nothing_then_a_real_run_sends(engine, session, db_url, tmp_path):
    world = World(session)
    late = world.indicator("union", "职工培训场次", "≥12场", "场")
    world.state(late, "overdue", as_of=date(2024, 7, 31), occurrence="2024-07-25", since=date(2024, 7, 26))
    sink = Sink().start()
    runner = CliRunner()
    env = _env(tmp_path, db_url, sink.port)
    try:
        dry = runner.invoke(app, ["notify", "--as-of", "2024-07-31", "--dry-run", "--out", str(tmp_path / "eml")],
                            env=env)
        assert dry.exit_code == 0, dry.output
        files = sorted((tmp_path / "eml").glob("*.eml"))
        assert len(files) == 1 and "已写出 1 封邮件" in dry.output
        message = email.message_from_bytes(files[0].read_bytes(), policy=default)
        assert message["Subject"] == "【绩效提醒】晋城市总工会：1项逾期"
        session.expire_all()
        assert session.exec(select(OutboxMessage)).all() == [] and session.exec(select(NotificationDigest)).all() == []

        holiday = runner.invoke(app, ["notify", "--as-of", "2024-10-01"], env=env)
        assert holiday.exit_code == 0 and "不是工作日" in holiday.output

        real = runner.invoke(app, ["notify", "--as-of", "2024-07-31"], env=env)
        assert real.exit_code == 0, real.output
        assert "新入发件箱1封" in real.output and "成功1" in real.output
        assert len(sink.wait_for(1)) == 1
        listed = runner.invoke(app, ["outbox", "list"], env=env)
        assert listed.exit_code == 0 and "合计：sent 1" in listed.output
        status = runner.invoke(app, ["status"], env=env)
        assert status.exit_code == 1 and "评估从未成功运行" in status.output  # no evaluation has run yet
    finally:
        sink.stop()


def test_contacts_are_managed_from_the_command_line(engine, session, db_url, tmp_path):
    World(session)
    runner = CliRunner()
    env = _env(tmp_path, db_url, 25)
    added = runner.invoke(app, ["contacts", "add", "--department", "ZGH", "--name", "张三",
                                "--email", "zhangsan@zgh.example.org", "--role", "负责人"], env=env)
    assert added.exit_code == 0, added.output
    bad = runner.invoke(app, ["contacts", "add", "--department", "ZGH", "--name", "x", "--email", "x@y",
                              "--role", "负责人"], env=env)
    assert bad.exit_code == 2 and "邮箱地址无效" in bad.output
    contact_id = session.exec(select(Contact.id).where(Contact.email == "zhangsan@zgh.example.org")).one()
    assert runner.invoke(app, ["contacts", "remove", str(contact_id)], env=env).exit_code == 0
    session.expire_all()
    assert session.get(Contact, contact_id).active is False
    assert "张三" in runner.invoke(app, ["contacts", "list", "--department", "ZGH"], env=env).output


def test_a_bad_contact_row_skips_its_department_and_the_run_goes_on(engine, session):
    world = World(session)
    for project in ("union", "centre"):
        indicator = world.indicator(project, f"{project}指标", "≥1次", "次")
        world.state(indicator, "no_report", as_of=date(2024, 7, 1))
    session.add(Contact(department_id=world.union.id, name="导入错误", email="no-at-sign", role="负责人"))
    session.commit()
    plan, counts = run_notify(engine, notify_config(summary_weekday=7), date(2024, 7, 1))
    assert counts["departments"] == 1 and counts["skipped"] == 1
    assert any("晋城市总工会" in w for w in plan.warnings)
    run = session.exec(select(JobRun).where(JobRun.job == "notify")).one()
    assert run.ok and any("晋城市总工会" in w for w in run.counts["warnings"])
    assert {m.recipients for m in session.exec(select(OutboxMessage)).all()} == {"head@jyzx.example.org",
                                                                                 "clerk@jyzx.example.org"}


def test_scheduler_jobs_are_registered_and_run_through_the_job_context(engine, session):
    names = {job.name: job.target for job in JOBS}
    assert names["notify"] == "monitor.notify.jobs:notify" and names["send"] == "monitor.notify.jobs:send"
    world = World(session)
    indicator = world.indicator("union", "活动次数", "≥6次", "次")
    world.state(indicator, "behind", as_of=date(2024, 7, 1))
    sink = Sink().start()
    try:
        from datetime import datetime

        context = JobContext(settings=notify_config(sink.port, summary_weekday=7), engine=engine, job="notify",
                             scheduled_at=datetime(2024, 7, 1, 8, 30, tzinfo=SHANGHAI))
        counts = jobs.notify(context)
        assert counts["as_of"] == "2024-07-01" and counts["messages"] == 1 and counts["sent"] == 1
        assert jobs.send(context) == {"claimed": 0, "sent": 0, "retrying": 0, "failed": 0}
        assert len(sink.arrivals) == 1
    finally:
        sink.stop()


def test_a_dry_run_on_another_day_than_the_stored_lights_says_so(engine, session, db_url, tmp_path):
    """The lights were evaluated as of 29 February; digests for 31 December built from them would mail February's
    reasons under December's date, so the user is told which evaluation to run first."""
    world = World(session)
    late = world.indicator("union", "职工培训场次", "≥12场", "场")
    world.state(late, "overdue", as_of=date(2024, 2, 29), occurrence="2024-02-20", since=date(2024, 2, 21))
    env = _env(tmp_path, db_url, 25)
    stale = CliRunner().invoke(app, ["notify", "--as-of", "2024-12-31", "--dry-run"], env=env)
    assert stale.exit_code == 0, stale.output
    assert "1条指标状态是2024-02-29的评估结果，不是2024-12-31的" in stale.output.replace("\n", "")
    assert "kpiwatch evaluate --as-of 2024-12-31" in stale.output.replace("\n", "")
    fresh = CliRunner().invoke(app, ["notify", "--as-of", "2024-02-29", "--dry-run"], env=env)
    assert fresh.exit_code == 0 and "评估结果" not in fresh.output, fresh.output


def test_notify_exits_non_zero_when_every_message_was_refused_and_status_says_so(engine, session, db_url, tmp_path):
    """A 550 on RCPT for the only recipient: the message is given up, `kpiwatch notify` lists it and exits 1 (as
    a refused login does), and `kpiwatch status` names it, also after a later pass that succeeded."""
    world = World(session)
    late = world.indicator("union", "职工培训场次", "≥12场", "场")
    world.state(late, "overdue", as_of=date(2024, 7, 31), occurrence="2024-07-25", since=date(2024, 7, 26))
    sink = Sink(refuse_rcpt={"perf@zgh.example.org": "550 5.1.1 no such user"}).start()
    runner = CliRunner()
    env = _env(tmp_path, db_url, sink.port)
    try:
        refused = runner.invoke(app, ["notify", "--as-of", "2024-07-31"], env=env)
        assert refused.exit_code == 1, refused.output
        assert "成功0" in refused.output and "失败1" in refused.output
        assert "perf@zgh.example.org: 550 5.1.1 no such user" in refused.output
        status = runner.invoke(app, ["status"], env=env)
        assert status.exit_code == 1 and "1封邮件投递失败、已放弃" in status.output.replace("\n", ""), status.output
        assert "最近一次邮件发送失败" in status.output
        alert = runner.invoke(app, ["outbox", "send"], env=env)  # the bureau's alert goes out: a pass that succeeds
        assert alert.exit_code == 0 and "成功1" in alert.output, alert.output
        later = runner.invoke(app, ["status"], env=env)
        assert later.exit_code == 1 and "1封邮件投递失败、已放弃" in later.output.replace("\n", "")
        assert "550 5.1.1 no such user" in later.output.replace("\n", "")
    finally:
        sink.stop()
