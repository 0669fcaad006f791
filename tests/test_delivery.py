"""SMTP delivery against real aiosmtpd servers: STARTTLS and implicit TLS with a certificate the client is told
to trust, AUTH with the password from the environment, bounded connections, and the verdicts on failures."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from aiosmtplib.protocol import normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import load_config
from notifications.delivery import LoginRefused, Outcome, Outgoing, deliver, wire_size
from notifications.smtp import SmtpSettings
from tests.conftest import server_tls_context
from tests.test_notify_support import SinkHandler, free_port


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"kpiwatch", b"s3cret")
    return AuthResult(success=ok, handled=False)


def _send(settings: SmtpSettings, messages: list[Outgoing], password: str | None = None):
    results = []
    batches = [messages]
    asyncio.run(deliver(settings, lambda: batches.pop() if batches else [], results.append, password=password))
    return results


def _message(i: int) -> Outgoing:
    data = (f"From: k@example.org\r\nTo: d{i}@example.org\r\nSubject: test {i}\r\nMessage-ID: <m{i}@example.org>\r\n"
            f"\r\nbody {i}\r\n").encode()
    return Outgoing(i, "k@example.org", [f"d{i}@example.org"], data)


def test_starttls_and_auth_with_the_password_from_the_environment(certificate, tmp_path):
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_tls_context(certificate),
                            require_starttls=True, auth_required=True, authenticator=_authenticator)
    controller.start()
    try:
        config_file = tmp_path / "config.toml"
        config_file.write_text(f'[smtp]\nport = {port}\nsecurity = "starttls"\nusername = "kpiwatch"\n'
                               f'ca_file = "{certificate[0]}"\n', encoding="utf-8")
        good = load_config(config_file, env={"KPIWATCH_SMTP_PASSWORD": "s3cret"})
        sent = _send(good.smtp, [_message(1), _message(2)], good.smtp_password)
        assert [r.outcome for r in sent] == [Outcome.SENT, Outcome.SENT]
        wrong = load_config(config_file, env={"KPIWATCH_SMTP_PASSWORD": "nope"})
        with pytest.raises(LoginRefused, match="535"):  # no verdict: the run stops, the message stays untried
            _send(wrong.smtp, [_message(3)], wrong.smtp_password)
        plain = SmtpSettings(port=port, security="none")
        assert _send(plain, [_message(4)])[0].outcome is Outcome.PERMANENT  # 530 must issue STARTTLS first
    finally:
        controller.stop()
    assert sorted(a.rcpt_tos[0] for a in handler.arrivals) == ["d1@example.org", "d2@example.org"]


def test_implicit_tls_refuses_an_untrusted_certificate(certificate):
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_tls_context(certificate))
    controller.start()
    try:
        trusted = SmtpSettings(port=port, security="tls", ca_file=str(certificate[0]))
        assert _send(trusted, [_message(1)])[0].outcome is Outcome.SENT
        untrusted = SmtpSettings(port=port, security="tls", timeout_seconds=5)
        result = _send(untrusted, [_message(2)])[0]
        assert result.outcome is Outcome.TEMPORARY and "certificate" in result.detail.lower()
    finally:
        controller.stop()
    assert len(handler.arrivals) == 1


def test_no_more_connections_than_configured():
    port = free_port()
    peak = {"now": 0, "max": 0}

    class Counting(SinkHandler):
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            peak["now"] += 1
            peak["max"] = max(peak["max"], peak["now"])
            session.host_name = hostname
            return responses

        async def handle_QUIT(self, server, session, envelope):
            peak["now"] -= 1
            return "221 Bye"

    handler = Counting(delay=0.02)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        results = _send(SmtpSettings(port=port, max_connections=3), [_message(i) for i in range(30)])
    finally:
        controller.stop()
    assert [r.outcome for r in results] == [Outcome.SENT] * 30 and len(handler.arrivals) == 30
    assert peak["max"] == 3


def test_connection_refused_is_temporary():
    result = _send(SmtpSettings(port=free_port(), timeout_seconds=3), [_message(1)])[0]
    assert result.outcome is Outcome.TEMPORARY


def test_a_message_whose_claim_ran_out_is_not_started():
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        stale = Outgoing(1, "k@example.org", ["d@example.org"], b"Subject: x\r\n\r\nx\r\n", not_after=0.0)
        result = _send(SmtpSettings(port=port), [stale])[0]
    finally:
        controller.stop()
    assert result.outcome is Outcome.TEMPORARY and handler.arrivals == []


class _Timed(SinkHandler):
    """A sink noting when each recipient was named and each message accepted (the end of its content)."""

    def __init__(self) -> None:
        super().__init__()
        self.named: dict[str, float] = {}
        self.accepted: dict[str, float] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.named[address] = time.monotonic()
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        self.accepted[envelope.rcpt_tos[0]] = time.monotonic()
        return await super().handle_DATA(server, session, envelope)


def _deliver_recording_slowly(port: int, messages: list[Outgoing], fail_on: int | None = None,
                              recorder: str = "coroutine") -> dict[int, float]:
    """Deliver over one connection with a verdict that takes 0.3 s to record, by a coroutine or by a future resolved
    later (as the sender's verdict writer's are); when each verdict was recorded."""
    recorded: dict[int, float] = {}

    def settle(result) -> None:
        if result.key == fail_on:
            raise RuntimeError("the database went away")
        recorded[result.key] = time.monotonic()

    async def record(result) -> None:
        await asyncio.sleep(0.3)
        settle(result)

    def record_later(result) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def resolve() -> None:
            try:
                settle(result)
            except RuntimeError as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

        loop.call_later(0.3, resolve)
        return done

    batches = [messages]
    asyncio.run(deliver(SmtpSettings(port=port, max_connections=1), lambda: batches.pop() if batches else [],
                        record if recorder == "coroutine" else record_later))
    return recorded


@pytest.mark.parametrize("recorder", ["coroutine", "future"])
def test_the_next_message_is_accepted_only_after_the_previous_verdict_was_recorded(recorder):
    handler = _Timed()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        recorded = _deliver_recording_slowly(port, [_message(1), _message(2), _message(3)], recorder=recorder)
    finally:
        controller.stop()
    assert sorted(recorded) == [1, 2, 3]
    for before, after in ((1, 2), (2, 3)):
        assert handler.named[f"d{after}@example.org"] < recorded[before]  # its envelope overlapped the recording
        assert handler.accepted[f"d{after}@example.org"] > recorded[before]  # its content waited for it


@pytest.mark.parametrize("recorder", ["coroutine", "future"])
def test_a_verdict_that_cannot_be_recorded_stops_the_next_message_before_its_content(recorder):
    handler = _Timed()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(RuntimeError, match="went away"):
            _deliver_recording_slowly(port, [_message(1), _message(2), _message(3)], fail_on=1, recorder=recorder)
    finally:
        controller.stop()
    assert [a.rcpt_tos for a in handler.arrivals] == [["d1@example.org"]]  # 2 and 3: not accepted, no verdict


@given(st.lists(st.sampled_from([b"a", b"\xe6\x8c\x87", b".", b"\r\n", b"\n", b"\r"]), max_size=40).map(b"".join))
def test_the_size_announced_to_the_server_is_what_the_content_is_on_the_wire(data):
    """RFC 1870: a server may refuse a message bigger than announced; the count must match what is sent."""
    assert wire_size(data) == len(normalize_message_line_endings(data))
