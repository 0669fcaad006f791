"""SMTP delivery with aiosmtplib: a bounded pool of long-lived connections, each sending one message at a
time, and a verdict per message (sent, temporary failure, permanent failure) for the caller to record.

Retrying is the caller's job (the outbox keeps attempts and the next attempt time in the database, so
backoff survives restarts); this module only says which failures are worth retrying: connection problems,
timeouts and 4xx replies are temporary, 5xx replies are permanent.

A refused login is not a verdict on a message: every message would meet it, and each further try is one more
failed AUTH in the server's log (fail2ban bans after a few). So a run logs in once before anything else is
sent, with one AUTH command (never a second mechanism), and a 5xx on AUTH stops the whole run: `deliver`
raises `LoginRefused` and the messages it had not finished get no verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosmtplib
from aiosmtplib.protocol import normalize_message_line_endings

from notifications.smtp import SmtpSettings


class LoginRefused(Exception):
    """The server refused kpiwatch's login (a 5xx reply to AUTH, or no AUTH it and kpiwatch share): a setting
    to fix, not a message to retry."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Outgoing:
    key: Any
    sender: str
    recipients: Sequence[str]
    data: bytes
    not_after: float | None = None  # time.monotonic() after which the message must not be started


class Outcome(enum.Enum):
    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Result:
    key: Any
    outcome: Outcome
    detail: str = ""


def classify(exc: BaseException) -> Outcome:
    """5xx (and all recipients refused with 5xx) is permanent; everything else may work later."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Outcome.PERMANENT if codes and all(c >= 500 for c in codes) else Outcome.TEMPORARY
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return Outcome.TEMPORARY
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return Outcome.PERMANENT
    return Outcome.TEMPORARY


def describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return f"{type(exc).__name__}: {exc}"


# Preferred first: PLAIN and LOGIN work with every password store once TLS protects them; on a plain
# connection CRAM-MD5, the one that does not show the password, comes first.
_MECHANISMS_TLS = ("plain", "login", "cram-md5")
_MECHANISMS_PLAIN = ("cram-md5", "plain", "login")


async def login(client: aiosmtplib.SMTP, username: str, password: str) -> None:
    """Log in with exactly one AUTH command. aiosmtplib's own `login` tries every mechanism the server offers in
    turn, which turns one wrong password into two or three AUTH failures per connection."""
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    if not client.supports_extension("auth"):
        raise LoginRefused("the server offers no SMTP AUTH" + ("" if client.get_transport_info("sslcontext")
                                                               else " on this unencrypted connection"))
    offered = client.server_auth_methods
    preferred = _MECHANISMS_TLS if client.get_transport_info("sslcontext") else _MECHANISMS_PLAIN
    mechanism = next((m for m in preferred if m in offered), None)
    if mechanism is None:
        raise LoginRefused(f"no AUTH mechanism in common (the server offers {' '.join(offered) or 'none'})")
    try:
        await getattr(client, f"auth_{mechanism.replace('-', '')}")(username, password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        if exc.code >= 500:
            raise LoginRefused(f"{exc.code} {exc.message} (AUTH {mechanism.upper()})") from exc
        raise


class _LoginGate:
    """The connections of one run log in one at a time, so a refused login is met once per run, not once per
    connection; after a refusal none logs in (or connects) again. Connecting stays parallel."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.refused: LoginRefused | None = None


class NotRecorded(Exception):
    """What a connection waited for before sending a message's content failed (the previous verdict could not be
    recorded): the message was not sent, and has no verdict."""


def wire_size(data: bytes) -> int:
    """The message's size as RFC 1870 counts it (its octets as sent, every line ended by CRLF). The outbox's
    messages already end every line with CRLF, which three byte counts confirm at a fraction of the cost of
    normalising a copy of 12 KB (a tenth of the CPU a message costs to send); anything else is normalised as
    aiosmtplib will send it."""
    crlf = data.count(b"\r\n")
    if data.count(b"\n") == crlf == data.count(b"\r") and data.endswith(b"\r\n"):
        return len(data)
    return len(normalize_message_line_endings(data))


async def _transaction(client: aiosmtplib.SMTP, message: Outgoing,
                       before_content: Callable[[], Awaitable[None]] | None) -> dict[str, aiosmtplib.SMTPResponse]:
    """One mail transaction, as `SMTP.sendmail` runs it (envelope, then content; RSET after a refusal), with
    `before_content` awaited between the two; the recipients refused, if not all were."""
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    options = [f"size={wire_size(message.data)}"] if client.supports_extension("size") else []
    try:
        await client.mail(message.sender, options=options)
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for recipient in message.recipients:
            try:
                await client.rcpt(recipient)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if len(refused) == len(message.recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        if before_content is not None:
            try:
                await before_content()
            except BaseException as exc:
                raise NotRecorded(str(exc)) from exc
        await client.data(message.data)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()
        raise
    return {exc.recipient: aiosmtplib.SMTPResponse(exc.code, exc.message) for exc in refused}


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except Exception:
        client.close()


class _Connection:
    """One SMTP session, opened on first use and reopened after any error."""

    def __init__(self, settings: SmtpSettings, password: str | None, gate: _LoginGate) -> None:
        self.settings = settings
        self.password = password
        self.gate = gate
        self.client: aiosmtplib.SMTP | None = None

    async def _open(self) -> aiosmtplib.SMTP:
        s = self.settings
        if self.gate.refused is not None:
            raise self.gate.refused
        client = aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout_seconds,
            use_tls=s.security == "tls", start_tls=True if s.security == "starttls" else False,
            cert_bundle=s.ca_file or None,
        )
        await client.connect()
        if not s.username:
            return client
        async with self.gate.lock:
            try:
                if self.gate.refused is not None:
                    raise self.gate.refused
                await login(client, s.username, self.password or "")
            except LoginRefused as exc:
                self.gate.refused = exc
                await _quit(client)
                raise
            except BaseException:
                client.close()
                raise
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            await _quit(client)

    async def send(self, message: Outgoing, before_content: Callable[[], Awaitable[None]] | None = None) -> Result:
        """The server's verdict on `message`; raises `LoginRefused` (no verdict) when the login is refused.

        `before_content`, when given, is awaited after the envelope (MAIL FROM, RCPT TO) and before the content:
        the server accepts a message only at the end of its content, so whatever it waits for (the previous
        message's verdict being recorded) is done before this message can be accepted, while the envelope's
        round trips overlap it. If it raises, the envelope is dropped and `NotRecorded` is raised."""
        if message.not_after is not None and time.monotonic() > message.not_after:
            return Result(message.key, Outcome.TEMPORARY, "claim expired before sending; not attempted")
        reused = self.client is not None and self.client.is_connected
        for attempt in (1, 2):
            try:
                if self.client is None or not self.client.is_connected:
                    self.client = await self._open()
                errors = await _transaction(self.client, message, before_content)
                detail = "; ".join(f"{rcpt}: {resp.code} {resp.message}" for rcpt, resp in errors.items())
                return Result(message.key, Outcome.SENT, detail)
            except (LoginRefused, NotRecorded):
                await self.close()
                raise
            except Exception as exc:
                await self.close()
                stale = reused and attempt == 1 and isinstance(exc, aiosmtplib.SMTPServerDisconnected)
                if stale:
                    continue  # an idle connection the server dropped before MAIL FROM: nothing was accepted
                return Result(message.key, classify(exc), describe(exc))
        raise AssertionError("unreachable")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def deliver(settings: SmtpSettings, next_batch: Callable[[], Sequence[Outgoing] | Awaitable[Sequence[Outgoing]]],
                  on_result: Callable[[Result], None | Awaitable[Any]], password: str | None = None,
                  stop: Callable[[], bool] = lambda: False,
                  before_send: Callable[[Outgoing], bool | Awaitable[bool]] | None = None) -> int:
    """Send everything `next_batch` hands out (until it returns nothing) over at most
    `settings.max_connections` connections. `on_result` (plain or async) is called once per message right
    after the server's verdict, and the connection sends the content of its next message only when it has
    returned (the next envelope's round trips overlap it): so the caller can record each verdict durably before
    the server can accept anything else on that connection. `password` logs in
    as `settings.username` (when there is one). Once `stop()` answers true, messages being sent are finished and
    recorded but no other is begun: those are neither sent nor reported, and the caller still holds them.
    `before_send` (plain or async), when given, is asked right before each message goes to its connection; a
    message it answers false for is skipped, neither sent nor reported (the caller no longer holds it, say).

    Raises `LoginRefused` when the server refuses the login: nothing more is handed out or sent, and the
    messages without a verdict (the one being sent and those already handed out) are the caller's to put back."""
    queue: asyncio.Queue[Outgoing | None] = asyncio.Queue(maxsize=settings.max_connections)
    failures: list[BaseException] = []
    gate = _LoginGate()
    count = 0

    async def worker() -> None:
        connection = _Connection(settings, password, gate)
        recording: asyncio.Future[Any] | None = None  # the previous message's verdict, being recorded

        async def recorded() -> None:
            nonlocal recording
            if recording is None:
                return
            pending, recording = recording, None
            try:
                await pending
            except BaseException as exc:
                failures.append(exc)
                raise

        try:
            while (message := await queue.get()) is not None:
                if failures or gate.refused is not None or stop():
                    continue  # recording failed, login refused or stopping: let the rest stay with the caller
                try:
                    if before_send is not None and not await _maybe_await(before_send(message)):
                        continue
                except BaseException as exc:
                    failures.append(exc)
                    continue
                try:
                    result = await connection.send(message, recorded)
                except (LoginRefused, NotRecorded):
                    continue  # on the gate, or in `failures`: deliver() raises it once all workers stop
                try:
                    await recorded()  # a message that failed before its content: the previous verdict first
                except BaseException:
                    continue
                try:
                    recorder = on_result(result)
                except BaseException as exc:  # a plain `on_result` records at once
                    failures.append(exc)
                    continue
                if inspect.isawaitable(recorder):  # a future stays itself; a coroutine becomes a task
                    recording = asyncio.ensure_future(recorder)
        finally:
            with contextlib.suppress(BaseException):
                await recorded()
            await connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(settings.max_connections)]
    try:
        while not failures and gate.refused is None and not stop() and (batch := await _maybe_await(next_batch())):
            for message in batch:
                if stop():
                    break
                await queue.put(message)
                count += 1
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    if failures:
        raise failures[0]
    if gate.refused is not None:
        raise gate.refused
    return count
