"""SMTP delivery with aiosmtplib: a bounded pool of long-lived connections, each sending one message at a
time, and a verdict per message (sent, temporary failure, permanent failure) for the caller to record.

Retrying is the caller's job (the outbox keeps attempts and the next attempt time in the database, so
backoff survives restarts); this module only says which failures are worth retrying: connection problems,
timeouts and 4xx replies are temporary, 5xx replies are permanent.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosmtplib

from notifications.smtp import SmtpSettings


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


class _Connection:
    """One SMTP session, opened on first use and reopened after any error."""

    def __init__(self, settings: SmtpSettings, password: str | None) -> None:
        self.settings = settings
        self.password = password
        self.client: aiosmtplib.SMTP | None = None

    async def _open(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout_seconds,
            use_tls=s.security == "tls", start_tls=True if s.security == "starttls" else False,
            username=s.username or None, password=(self.password or None) if s.username else None,
            cert_bundle=s.ca_file or None,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except Exception:  # noqa: BLE001 - closing a broken session must not hide the real error
                client.close()

    async def send(self, message: Outgoing) -> Result:
        if message.not_after is not None and time.monotonic() > message.not_after:
            return Result(message.key, Outcome.TEMPORARY, "claim expired before sending; not attempted")
        reused = self.client is not None and self.client.is_connected
        for attempt in (1, 2):
            try:
                if self.client is None or not self.client.is_connected:
                    self.client = await self._open()
                errors, _reply = await self.client.sendmail(message.sender, list(message.recipients), message.data)
                detail = "; ".join(f"{rcpt}: {resp.code} {resp.message}" for rcpt, resp in errors.items())
                return Result(message.key, Outcome.SENT, detail)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a verdict, never a crash
                await self.close()
                stale = reused and attempt == 1 and isinstance(exc, aiosmtplib.SMTPServerDisconnected)
                if stale:
                    continue  # an idle connection the server dropped before MAIL FROM: nothing was accepted
                return Result(message.key, classify(exc), describe(exc))
        raise AssertionError("unreachable")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def deliver(settings: SmtpSettings, next_batch: Callable[[], Sequence[Outgoing] | Awaitable[Sequence[Outgoing]]],
                  on_result: Callable[[Result], None | Awaitable[None]], password: str | None = None,
                  stop: Callable[[], bool] = lambda: False) -> int:
    """Send everything `next_batch` hands out (until it returns nothing) over at most
    `settings.max_connections` connections. `on_result` (plain or async) is called once per message right
    after the server's verdict, and the connection takes its next message only when it has returned: so the
    caller can record each verdict durably before anything else is sent on that connection. `password` logs in
    as `settings.username` (when there is one). Once `stop()` answers true, messages being sent are finished and
    recorded but no other is begun: those are neither sent nor reported, and the caller still holds them."""
    queue: asyncio.Queue[Outgoing | None] = asyncio.Queue(maxsize=settings.max_connections)
    failures: list[BaseException] = []
    count = 0

    async def worker() -> None:
        connection = _Connection(settings, password)
        try:
            while (message := await queue.get()) is not None:
                if failures or stop():
                    continue  # recording failed or stopping: let the rest stay with the caller
                result = await connection.send(message)
                try:
                    await _maybe_await(on_result(result))
                except BaseException as exc:  # noqa: BLE001 - re-raised by deliver() once all workers stop
                    failures.append(exc)
        finally:
            await connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(settings.max_connections)]
    try:
        while not failures and not stop() and (batch := await _maybe_await(next_batch())):
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
    return count
