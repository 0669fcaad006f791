"""The outbox on SQLite and PostgreSQL: queued before sent, deduplicated, retried with backoff on temporary
failures, given up on permanent ones, and claimed by one sender at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

from sqlalchemy import text
from sqlmodel import Session, select

from monitor.config import Config
from monitor.notify import enqueue, outbox
from monitor.notify.sender import send_pending
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from monitor.store.models import JobRun, OutboxMessage
from notifications.mime import Attachment
from notifications.smtp import SmtpSettings
from tests.conftest import create_database
from tests.test_notify_support import Sink, World, parts


def _config(port: int, **smtp) -> Config:
    return Config(smtp=SmtpSettings(port=port, sender="kpiwatch <kpiwatch@example.org>", backoff_base_seconds=0,
                                    backoff_max_seconds=0, **smtp))


def _queue(session, n: int, prefix: str = "m") -> None:
    for i in range(n):
        enqueue(session, dedup_key=f"other|dept{i}@example.org|{prefix}{i}", recipients=[f"dept{i}@example.org"],
                subject=f"【绩效提醒】测试{i}", text=f"正文{i}", html=f"<p>正文{i}</p>",
                sender="kpiwatch <kpiwatch@example.org>")
    session.commit()


def test_enqueue_is_deduplicated_by_key(session):
    first = enqueue(session, dedup_key="digest|a@example.org|2024-07-31", recipients=["a@example.org"],
                    subject="s", text="t", html="<p>t</p>", sender="k@example.org")
    again = enqueue(session, dedup_key="digest|a@example.org|2024-07-31", recipients=["a@example.org"],
                    subject="s2", text="t2", sender="k@example.org")
    session.commit()
    rows = session.exec(select(OutboxMessage)).all()
    assert (first, again) == (True, False)
    assert [r.subject for r in rows] == ["s"]
    assert rows[0].status == "pending" and rows[0].message_id in rows[0].raw


def _batch(keys: range, subject: str = "s") -> list[outbox.NewMessage]:
    return [outbox.NewMessage(f"digest|d{i}@example.org|2024-07-31", [f"d{i}@example.org"], f"{subject}{i}", "t",
                              kind="digest", period="2024-07-31") for i in keys]


def test_a_days_digests_queued_again_add_only_the_departments_not_yet_queued(session):
    first = outbox.enqueue_many(session, _batch(range(0, 30)), sender="k@example.org")
    session.commit()
    again = outbox.enqueue_many(session, _batch(range(20, 60), subject="again"), sender="k@example.org")
    session.commit()
    subjects = dict(session.exec(select(OutboxMessage.dedup_key, OutboxMessage.subject)).all())
    assert (first, again) == (30, 30)
    assert len(subjects) == 60
    assert subjects["digest|d25@example.org|2024-07-31"] == "s25"
    assert subjects["digest|d45@example.org|2024-07-31"] == "again45"


def test_a_batch_racing_another_writer_for_one_key_queues_the_rest_once(engine, session):
    """The other writer commits the key while the batch is being written: it waits, then skips that key."""
    other = Session(engine)
    assert outbox.enqueue_many(other, _batch(range(7, 8), subject="other"), sender="k@example.org") == 1
    counted: list[int] = []
    batch = threading.Thread(target=lambda: counted.append(
        outbox.enqueue_many(session, _batch(range(0, 30)), sender="k@example.org")))
    batch.start()
    time.sleep(0.5)
    other.commit()
    other.close()
    batch.join(30)
    session.commit()
    subjects = dict(session.exec(select(OutboxMessage.dedup_key, OutboxMessage.subject)).all())
    assert counted == [29]
    assert len(subjects) == 30
    assert subjects["digest|d7@example.org|2024-07-31"] == "other7"


def test_queued_messages_arrive_once_each_with_attachment_and_both_parts(engine, session):
    sink = Sink().start()
    try:
        _queue(session, 5)
        enqueue(session, dedup_key="report|fin@example.org|2024-08", recipients=["fin@example.org", "b@example.org"],
                subject="【绩效报告】监控表草稿", text="见附件", html="<p>见附件</p>",
                attachments=[Attachment("监控表.xlsx", b"PK\x03\x04data",
                                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")],
                sender="kpiwatch <kpiwatch@example.org>", kind="report")
        session.commit()
        stats = send_pending(engine, _config(sink.port))
        arrivals = sink.wait_for(6)
    finally:
        sink.stop()
    assert stats.sent == 6 and stats.failed == 0
    ids = sorted(a.message["Message-ID"] for a in arrivals)
    assert len(ids) == len(set(ids)) == 6
    report = next(a for a in arrivals if "fin@example.org" in a.rcpt_tos)
    assert sorted(report.rcpt_tos) == ["b@example.org", "fin@example.org"]
    attachment = next(report.message.iter_attachments())
    assert attachment.get_filename() == "监控表.xlsx" and attachment.get_content() == b"PK\x03\x04data"
    plain, html = parts(next(a for a in arrivals if a.rcpt_tos == ["dept3@example.org"]).message)
    assert plain.strip() == "正文3" and "<p>正文3</p>" in html
    session.expire_all()
    assert {r.status for r in session.exec(select(OutboxMessage)).all()} == {"sent"}
    run = session.exec(select(JobRun).where(JobRun.job == "send")).one()
    assert run.ok and run.counts["sent"] == 6 and run.finished_at is not None


def test_server_down_messages_wait_and_go_out_when_it_returns(engine, session):
    sink = Sink()
    _queue(session, 3)
    config = _config(sink.port, max_attempts=5)
    down = send_pending(engine, config)
    session.expire_all()
    rows = session.exec(select(OutboxMessage)).all()
    assert down.sent == 0 and down.retrying == 3
    assert {r.status for r in rows} == {"pending"} and all("Connect" in (r.last_error or "") or "refused" in
                                                             (r.last_error or "").lower() for r in rows)
    sink.start()
    try:
        back = send_pending(engine, config)
        arrivals = sink.wait_for(3)
    finally:
        sink.stop()
    assert back.sent == 3 and len(arrivals) == 3


def test_backoff_doubles_and_holds_messages_until_due(engine, session):
    sink = Sink()
    _queue(session, 1)
    config = replace(_config(sink.port), smtp=replace(_config(sink.port).smtp, backoff_base_seconds=600,
                                                      backoff_max_seconds=3600))
    send_pending(engine, config)
    session.expire_all()
    row = session.exec(select(OutboxMessage)).one()
    first_delay = (row.next_attempt_at.replace(tzinfo=None) - row.created_at.replace(tzinfo=None)).total_seconds()
    sink.start()
    try:
        again = send_pending(engine, config)
    finally:
        sink.stop()
    assert 590 <= first_delay <= 700
    assert again.claimed == 0 and sink.arrivals == []
    assert outbox.backoff_seconds(1, 60, 3600) == 60 and outbox.backoff_seconds(3, 60, 3600) == 240
    assert outbox.backoff_seconds(10, 60, 3600) == 3600


def test_temporary_4xx_is_retried_and_permanent_5xx_is_given_up(engine, session):
    World(session)  # a finance bureau with a 绩效管理员 who is told about messages given up
    sink = Sink(refuse_rcpt={"gone@example.org": "550 5.1.1 no such user",
                             "busy@example.org": "451 4.3.0 try later"}).start()
    try:
        for rcpt in ("gone@example.org", "busy@example.org", "ok@example.org"):
            enqueue(session, dedup_key=f"other|{rcpt}|x", recipients=[rcpt], subject="s", text="t",
                    sender="k@example.org")
        session.commit()
        # Given up after max_attempts: with give_up_after_hours = 0 there is no slow schedule after them.
        stats = send_pending(engine, _config(sink.port, max_attempts=2, give_up_after_hours=0))
        session.expire_all()
        by_rcpt = {r.recipients: r for r in session.exec(select(OutboxMessage)).all()}
        assert stats.sent == 1 and stats.failed == 1 and stats.retrying == 1
        assert by_rcpt["gone@example.org"].status == "failed" and "550" in by_rcpt["gone@example.org"].last_error
        assert by_rcpt["busy@example.org"].status == "pending" and "451" in by_rcpt["busy@example.org"].last_error
        second = send_pending(engine, _config(sink.port, max_attempts=2, give_up_after_hours=0))
        session.expire_all()
        assert second.failed == 1
        assert session.get(OutboxMessage, by_rcpt["busy@example.org"].id).status == "failed"
        run = session.exec(select(JobRun).where(JobRun.job == "send").order_by(JobRun.id)).all()[0]
        assert run.ok is False and "gone@example.org" in run.error
        alert = session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("alert|"))).one()
        assert alert.recipients == "perf@czj.example.org" and alert.subject == "【kpiwatch告警】1封邮件投递失败"
        assert alert.status == "sent"  # went out with the second pass; one alert a day, however many failures
        told = [a for a in sink.arrivals if a.rcpt_tos == ["perf@czj.example.org"]]
        assert len(told) == 1 and "gone@example.org: 550" in told[0].message.get_body().get_content()
        assert outbox.retry(engine) == 2
        sink.handler.refuse_rcpt.clear()
        third = send_pending(engine, _config(sink.port))
        assert third.sent == 2
    finally:
        sink.stop()
    assert sorted(r for a in sink.arrivals for r in a.rcpt_tos) == ["busy@example.org", "gone@example.org",
                                                                    "ok@example.org", "perf@czj.example.org"]


def test_a_claimed_message_is_not_claimed_again_until_its_lease_lapses(engine, session):
    _queue(session, 4)
    first = outbox.claim(engine, worker="a", limit=3, lease_seconds=300)
    second = outbox.claim(engine, worker="b", limit=10, lease_seconds=300)
    assert len(first) == 3 and len(second) == 1
    assert not {c.id for c in first} & {c.id for c in second}
    assert outbox.claim(engine, worker="c", limit=10, lease_seconds=300) == []
    expired = outbox.claim(engine, worker="d", limit=10, lease_seconds=-1)
    assert expired == []
    import time

    stale = outbox.claim(engine, worker="e", limit=10, lease_seconds=0)
    assert stale == []
    _queue(session, 1, prefix="late")
    short = outbox.claim(engine, worker="f", limit=1, lease_seconds=0.05)
    time.sleep(0.2)
    reclaimed = outbox.claim(engine, worker="g", limit=10, lease_seconds=300)
    assert [c.id for c in reclaimed] == [c.id for c in short] and reclaimed[0].attempts == 2


def test_a_claim_is_renewed_only_while_no_other_sender_has_taken_the_message(engine, session):
    import time

    _queue(session, 2)
    first, other = outbox.claim(engine, worker="a", limit=2, lease_seconds=0.05)
    time.sleep(0.2)  # both leases lapse
    assert outbox.renew(engine, [first], lease_seconds=300) == {(first.id, first.token)}  # still nobody else's
    (taken,) = outbox.claim(engine, worker="b", limit=10, lease_seconds=300)
    assert taken.id == other.id
    assert outbox.renew(engine, [first, other], lease_seconds=300) == {(first.id, first.token)}
    assert outbox.renew(engine, [taken], lease_seconds=300) == {(taken.id, taken.token)}


def _set(session, **values) -> None:
    """Move the outbox's clock: write next_attempt_at, created_at or attempts of every message directly."""
    for row in session.exec(select(OutboxMessage)).all():
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
    session.commit()


def test_after_a_long_outage_messages_are_still_retried_and_go_out_when_the_server_is_back(engine, session, db_url,
                                                                                         tmp_path):
    """The server is down for longer than the fast schedule's attempts last (about two hours with the defaults):
    the messages stay pending and are retried every `outage_retry_seconds`, the finance bureau is alerted once
    (not once per message or per pass), `kpiwatch status` says so, and when the server is back everything goes
    out without `kpiwatch outbox retry`."""
    from datetime import timedelta

    from typer.testing import CliRunner

    from monitor.cli.main import app
    from monitor.store.types import now

    World(session)  # the finance bureau's 绩效管理员 perf@czj.example.org is alerted
    sink = Sink()  # down
    _queue(session, 3)
    config = _config(sink.port, max_attempts=2, outage_retry_seconds=600)
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[smtp]\nport = {sink.port}\nmax_attempts = 2\noutage_retry_seconds = 600\n', "utf-8")
    env = {"KPIWATCH_CONFIG": str(config_file), "KPIWATCH_DATABASE_URL": db_url}

    fast = [send_pending(engine, config) for _attempt in range(2)]  # the fast schedule (backoff 0), then the slow
    session.expire_all()
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("other|"))).all()
    assert [(s.retrying, s.failed, s.delayed, s.alerted) for s in fast] == [(3, 0, 0, 0), (3, 0, 3, 1)]
    assert {(r.status, r.attempts) for r in rows} == {("pending", 2)}
    assert all(590 <= (r.next_attempt_at - now()).total_seconds() <= 600 for r in rows)

    slow = []
    for hours in (3, 6):  # hours pass: every slow-schedule attempt fails too, nothing is given up
        _set(session, created_at=now() - timedelta(hours=hours), next_attempt_at=now())
        slow.append(send_pending(engine, config))
    # the alert itself waits too (its second attempt puts it on the slow schedule), and no second alert is queued
    assert [(s.claimed, s.failed, s.delayed, s.alerted) for s in slow] == [(4, 0, 3, 0), (4, 0, 4, 0)]
    session.expire_all()
    rows = session.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"pending"} and len(rows) == 4
    alerts = [r for r in rows if r.dedup_key.startswith("outage|")]
    assert [a.recipients for a in alerts] == ["perf@czj.example.org"]
    status = CliRunner().invoke(app, ["status"], env=env)
    assert status.exit_code == 1 and "4封邮件已尝试2次仍未送出" in status.output.replace("\n", ""), status.output
    assert "每10分钟重试一次，超过72小时放弃" in status.output.replace("\n", "")

    sink.start()
    try:
        _set(session, next_attempt_at=now())  # the next slow-schedule attempt is due
        back = send_pending(engine, config)
        arrivals = sink.wait_for(4)
    finally:
        sink.stop()
    assert (back.sent, back.failed) == (4, 0) and len(arrivals) == 4
    alert = next(a.message for a in arrivals if a.rcpt_tos == ["perf@czj.example.org"])
    assert "邮件投递中断" in alert["Subject"] and "3封邮件已尝试2次仍未送出" in alert.get_body().get_content()
    session.expire_all()
    assert {r.status for r in session.exec(select(OutboxMessage)).all()} == {"sent"}
    assert "仍未送出" not in CliRunner().invoke(app, ["status"], env=env).output


def test_a_message_still_failing_when_it_is_give_up_after_hours_old_is_given_up(engine, session):
    from datetime import timedelta

    from monitor.store.types import now

    World(session)
    _queue(session, 2)
    config = _config(Sink().port, max_attempts=2, give_up_after_hours=72)
    _set(session, attempts=2)
    young, old = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    young.created_at, old.created_at = now() - timedelta(hours=71), now() - timedelta(hours=73)
    session.add_all([young, old])
    session.commit()
    stats = send_pending(engine, config)
    session.expire_all()
    assert (stats.delayed, stats.failed) == (1, 1)
    assert (session.get(OutboxMessage, young.id).status, session.get(OutboxMessage, old.id).status) == (
        "pending", "failed")
    alert = session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("alert|"))).one()
    assert alert.subject == "【kpiwatch告警】1封邮件投递失败"


def test_a_claim_reads_the_messages_still_to_send_from_their_own_index_not_the_sent_history(engine, session):
    """Sent messages pile up all year; a claim must not walk them. Both stores' planners take the partial index
    of unsent messages for the claim's selection."""
    _queue(session, 3)
    connection = session.connection()
    params = {"now": outbox.now(), "limit": 8}
    select_due = f"SELECT id FROM outboxmessage WHERE {outbox._DUE} ORDER BY id LIMIT :limit"
    if engine.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = connection.execute(outbox._sql(f"EXPLAIN {select_due}", "now"), params).scalars().all()
    else:
        plan = [row[-1] for row in connection.execute(outbox._sql(f"EXPLAIN QUERY PLAN {select_due}", "now"), params)]
    assert any("ix_outboxmessage_unsent" in line for line in plan), plan


def test_verdicts_that_arrive_while_one_is_being_written_are_committed_together_by_the_next_write(tmp_path):
    """PostgreSQL's sender records its verdicts on a thread of their own; a row lock holds up the first write."""
    url, drop = create_database("postgresql", tmp_path)
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            _queue(session, 6)
        claimed = outbox.claim(engine, worker="w", limit=6, lease_seconds=60)

        async def record_all() -> tuple[list[str], int]:
            async with outbox.background_writers(engine, SmtpSettings()) as writers:
                assert writers is not None
                with engine.connect() as blocker:
                    blocker.execute(text("SELECT id FROM outboxmessage WHERE id = :id FOR UPDATE"),
                                    {"id": claimed[0].id})
                    first = writers.verdicts.record(outbox.Verdict(claimed[0], True))
                    await asyncio.sleep(0.3)
                    rest = [writers.verdicts.record(outbox.Verdict(c, True)) for c in claimed[1:]]
                    blocker.rollback()
                statuses = await asyncio.gather(first, *rest)
                return list(statuses), writers.verdicts.writes

        statuses, writes = asyncio.run(record_all())
        with Session(engine) as session:
            stored = session.exec(select(OutboxMessage.status)).all()
        assert statuses == ["sent"] * 6
        assert writes == 2
        assert stored == ["sent"] * 6
    finally:
        engine.dispose()
        drop()
