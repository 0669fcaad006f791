"""After the SMTP server refuses kpiwatch's login, do not try the same login again for a while.

One refused login per run is still one a minute under the scheduler's every-minute "send" job, and a mail
server's fail2ban jail bans after about five failures in ten minutes. So the n-th refusal in a row holds
sending with the same server and credentials for the outbox's own backoff (`smtp.backoff_base_seconds` ×
2^(n−1), at most `smtp.backoff_max_seconds`); a successful login clears it, and so do other credentials.
The hold lives in the process: a fixed password reaches the scheduler or `outbox send --loop` only through a
restart (KPIWATCH_SMTP_PASSWORD is read at start), which starts without a hold, and each one-off
`kpiwatch outbox send` tries once straight away.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.notify.outbox import backoff_seconds
from monitor.store.types import now
from notifications.smtp import SmtpSettings


@dataclass(frozen=True)
class Hold:
    reason: str  # the server's reply to the last refused login
    refused_at: datetime
    until: datetime
    refusals: int  # refused logins in a row
    _deadline: float  # time.monotonic() at which the hold ends

    @property
    def seconds_left(self) -> float:
        return max(0.0, self._deadline - time.monotonic())


def _key(settings: SmtpSettings, password: str | None) -> tuple:
    return (settings.host, settings.port, settings.username, password)


class LoginHolds:
    """The holds of one process, shared by its threads (the scheduler runs jobs in a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[tuple, Hold] = {}

    def current(self, settings: SmtpSettings, password: str | None) -> Hold | None:
        """The hold on these settings if it has not run out yet."""
        with self._lock:
            hold = self._holds.get(_key(settings, password))
        return hold if hold is not None and hold.seconds_left > 0 else None

    def refused(self, settings: SmtpSettings, password: str | None, reason: str, *, base: float, cap: float) -> Hold:
        with self._lock:
            previous = self._holds.get(_key(settings, password))
            refusals = (previous.refusals if previous else 0) + 1
            delay = backoff_seconds(refusals, base, cap)
            at = now()
            hold = Hold(reason, at, at + timedelta(seconds=delay), refusals, time.monotonic() + delay)
            self._holds[_key(settings, password)] = hold
            return hold

    def cleared(self, settings: SmtpSettings, password: str | None) -> None:
        with self._lock:
            self._holds.pop(_key(settings, password), None)


HOLDS = LoginHolds()
