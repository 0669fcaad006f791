"""A wrong SMTP password against a real server (aiosmtpd on loopback, STARTTLS with a self-signed certificate
made by openssl, AUTH PLAIN/LOGIN required): one refused AUTH per run, counted at the server, never one per
message or a second mechanism; the run stops, every message stays pending with no attempt counted, the run is
recorded as failed with the server's reply (what `kpiwatch status` shows), one ERROR line is logged, the
CLI exits non-zero, and later runs with the same login wait out a hold instead of failing at the server
again. The right password sends everything."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import Config, NotificationsConfig
from monitor.job_context import JobContext
from monitor.notify import jobs
from monitor.notify.sender import SendingStopped, send_pending
from monitor.scheduler.runner import run_once
from monitor.store.models import JobRun, OutboxMessage
from monitor.store.types import SHANGHAI
from notifications.smtp import SmtpSettings
from tests.conftest import ROOT, server_tls_context
from tests.test_notify_support import SinkHandler, World, free_port
from tests.test_outbox import _queue

USER, PASSWORD = "kpiwatch", "s3cret"
KPIWATCH = str(Path(sys.executable).with_name("kpiwatch"))


class AuthServer:
    """aiosmtpd requiring STARTTLS and AUTH, counting every AUTH command it receives and every refusal."""

    def __init__(self, certificate, *, refusal: str = "") -> None:
        self.port = free_port()
        self.handler = SinkHandler()
        self.auth_commands = 0
        self.refused = 0
        self.lock = threading.Lock()
        server = self

        class CountingSMTP(SMTP):
            async def smtp_AUTH(self, arg: str) -> None:
                with server.lock:
                    server.auth_commands += 1
                await super().smtp_AUTH(arg)

        def authenticator(_server, _session, _envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
                USER.encode(), PASSWORD.encode())
            if not ok:
                with self.lock:
                    self.refused += 1
            return AuthResult(success=ok, handled=False, message=None if ok else (refusal or None))

        class CountingController(Controller):
            def factory(self):
                return CountingSMTP(self.handler, **self.SMTP_kwargs)

        self.controller = CountingController(
            self.handler, hostname="127.0.0.1", port=self.port, tls_context=server_tls_context(certificate),
            require_starttls=True, auth_required=True, authenticator=authenticator)

    def __enter__(self) -> AuthServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()

    @property
    def arrivals(self):
        with self.handler.lock:
            return list(self.handler.arrivals)


def _config(port: int, cert: Path, password: str | None, *, backoff: int = 0, connections: int = 4) -> Config:
    return Config(smtp=SmtpSettings(port=port, security="starttls", ca_file=str(cert), username=USER,
                                  sender="kpiwatch <kpiwatch@example.org>", max_connections=connections,
                                  backoff_base_seconds=backoff, backoff_max_seconds=max(backoff, 0) * 8),
                  notifications=NotificationsConfig(summary_weekday=7), smtp_password=password,
                  secret_key="test-secret-key")


def _rows(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _untouched(rows: list[OutboxMessage]) -> bool:
    return all(r.status == "pending" and r.attempts == 0 and r.claimed_by is None and r.lease_until is None
               for r in rows)


def _send_runs(session: Session) -> list[JobRun]:
    session.expire_all()
    return session.exec(select(JobRun).where(JobRun.job == "send").order_by(JobRun.id)).all()


@pytest.mark.parametrize("refusal", ["", "534 5.7.9 Authentication mechanism is too weak"])
def test_a_wrong_password_is_one_auth_failure_per_run_and_every_message_stays_pending(
        engine, session, certificate, caplog, refusal):
    _queue(session, 8)
    with AuthServer(certificate, refusal=refusal) as server, caplog.at_level(logging.INFO):
        with pytest.raises(SendingStopped) as stopped:
            send_pending(engine, _config(server.port, certificate[0], "wrong"))
        assert (server.auth_commands, server.refused) == (1, 1)  # not 8 × (PLAIN, LOGIN)
    assert server.arrivals == []
    code = refusal[:3] or "535"
    assert stopped.value.refused_now and stopped.value.stats.kept == 8 and code in str(stopped.value)
    rows = _rows(session)
    assert len(rows) == 8 and _untouched(rows)  # nothing for the bureau either: it would meet the same refusal
    (run,) = _send_runs(session)
    assert run.ok is False and code in run.error and run.counts["kept"] == 8
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].name == "kpiwatch.sender" and code in errors[0].getMessage()


def test_the_right_password_sends_everything(engine, session, certificate):
    _queue(session, 8)
    with AuthServer(certificate) as server:
        stats = send_pending(engine, _config(server.port, certificate[0], PASSWORD))
        assert server.refused == 0 and 1 <= server.auth_commands <= 4  # one login per connection
    assert (stats.sent, stats.kept) == (8, 0) and len(server.arrivals) == 8
    assert {r.status for r in _rows(session)} == {"sent"}
    assert _send_runs(session)[-1].ok is True


def test_later_runs_wait_out_the_hold_and_a_fixed_password_is_not_held(engine, session, certificate):
    _queue(session, 3)
    with AuthServer(certificate) as server:
        wrong = _config(server.port, certificate[0], "wrong", backoff=1)
        with pytest.raises(SendingStopped):
            send_pending(engine, wrong)
        with pytest.raises(SendingStopped) as held:
            send_pending(engine, wrong)  # within the hold: the server is not asked again
        assert not held.value.refused_now and "535" in str(held.value)
        assert server.auth_commands == 1 and _untouched(_rows(session))
        time.sleep(1.2)
        with pytest.raises(SendingStopped) as again:
            send_pending(engine, wrong)
        assert again.value.refused_now and again.value.hold.refusals == 2 and server.auth_commands == 2
        assert _untouched(_rows(session))
        stats = send_pending(engine, _config(server.port, certificate[0], PASSWORD, backoff=1))
    assert stats.sent == 3 and len(server.arrivals) == 3
    assert [r.ok for r in _send_runs(session)] == [False, False, False, True]


def test_the_cli_exits_non_zero_and_status_shows_the_refusal(engine, session, db_url, certificate, tmp_path):
    _queue(session, 2)
    with AuthServer(certificate) as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[smtp]\nport = {server.port}\nsecurity = "starttls"\nusername = "{USER}"\n'
                          f'ca_file = "{certificate[0]}"\nsender = "kpiwatch <kpiwatch@example.org>"\n'
                          f'[notifications]\nsummary_weekday = 7\n', encoding="utf-8")
        env = {"KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url, "KPIWATCH_SMTP_PASSWORD": "wrong"}
        runner = CliRunner()
        sent = runner.invoke(app, ["outbox", "send"], env=env)
        assert sent.exit_code == 1 and "拒绝登录" in sent.output and "535" in sent.output, sent.output
        assert "保留待发2" in sent.output and server.auth_commands == 1
        status = runner.invoke(app, ["status"], env=env)
        assert status.exit_code == 1 and "最近一次邮件发送失败" in status.output and "535" in status.output
        assert "pending 2" in status.output
    assert _untouched(_rows(session))


def test_kpiwatch_notify_exits_non_zero_but_its_digests_stay_queued(engine, session, db_url, certificate, tmp_path):
    world = World(session)
    late = world.indicator("union", "职工培训场次", "≥12场", "场")
    world.state(late, "overdue", as_of=date(2024, 7, 31), occurrence="2024-07-25", since=date(2024, 7, 26))
    with AuthServer(certificate) as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[smtp]\nport = {server.port}\nsecurity = "starttls"\nusername = "{USER}"\n'
                          f'ca_file = "{certificate[0]}"\nsender = "kpiwatch <kpiwatch@example.org>"\n'
                          f'[notifications]\nsummary_weekday = 7\n', encoding="utf-8")
        env = {"KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url, "KPIWATCH_SMTP_PASSWORD": "wrong"}
        result = CliRunner().invoke(app, ["notify", "--as-of", "2024-07-31"], env=env)
        assert result.exit_code == 1 and "新入发件箱1封" in result.output and "拒绝登录" in result.output
        assert server.auth_commands == 1
    session.expire_all()
    notify_run = session.exec(select(JobRun).where(JobRun.job == "notify")).one()
    assert notify_run.ok is True  # the digests were queued: tomorrow's run must not think this day was missed
    assert _untouched(_rows(session)) and len(_rows(session)) == 1


def test_the_scheduler_records_the_send_job_failed_and_the_notify_job_done(engine, session, certificate):
    world = World(session)
    late = world.indicator("union", "职工培训场次", "≥12场", "场")
    world.state(late, "overdue", as_of=date(2024, 7, 31), occurrence="2024-07-25", since=date(2024, 7, 26))
    with AuthServer(certificate) as server:
        config = _config(server.port, certificate[0], "wrong", backoff=60)
        counts = jobs.notify(JobContext(settings=config, engine=engine, job="notify",
                                        scheduled_at=datetime(2024, 7, 31, 8, 30, tzinfo=SHANGHAI)))
        assert counts["messages"] == 1 and "535" in counts["send_stopped"] and server.auth_commands == 1
        outcome = run_once(engine, config, job="send", target="monitor.notify.jobs:send",
                           scheduled_at=datetime(2024, 7, 31, 8, 31, tzinfo=SHANGHAI))
        assert outcome == "failed" and server.auth_commands == 1  # held: the server is not asked again
    (run,) = _send_runs(session)
    assert run.ok is False and "SendingStopped" in run.error and "535" in run.error
    assert _untouched(_rows(session))


def test_a_dedicated_sender_loop_does_not_hammer_the_server(engine, session, db_url, certificate, tmp_path):
    """`outbox send --loop --poll 0.2` would log in five times a second without the hold."""
    _queue(session, 4)
    with AuthServer(certificate) as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[smtp]\nport = {server.port}\nsecurity = "starttls"\nusername = "{USER}"\n'
                          f'ca_file = "{certificate[0]}"\nsender = "kpiwatch <kpiwatch@example.org>"\n'
                          f'backoff_base_seconds = 3\nbackoff_max_seconds = 60\n', encoding="utf-8")
        env = {**os.environ, "KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url,
               "KPIWATCH_SMTP_PASSWORD": "wrong"}
        sender = subprocess.Popen([KPIWATCH, "outbox", "send", "--loop", "--poll", "0.2"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while server.auth_commands == 0 and time.monotonic() < deadline and sender.poll() is None:
                time.sleep(0.05)
            assert server.auth_commands == 1, sender.stdout.read().decode() if sender.poll() is not None else ""
            time.sleep(2.5)  # within the first hold (3 s)
            assert server.auth_commands == 1 and sender.poll() is None
        finally:
            sender.terminate()
            output = sender.communicate(timeout=30)[0].decode()
    assert "拒绝登录" in output and "535" in output
    runs = _send_runs(session)
    assert runs and all(r.ok is False for r in runs) and len(runs) == 1
    assert _untouched(_rows(session))
