"""The SMTP settings: where mail goes and how the outbox paces it. Kept apart from the sender so reading the
configuration does not load the SMTP client."""

from __future__ import annotations

from dataclasses import dataclass

SECURITY_MODES: tuple[str, ...] = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SmtpSettings:
    """The `[smtp]` section of config.toml, whose documented defaults these are.

    The password is not here: it is a secret, never in the file, handed to `deliver` on its own (the
    application reads it from KPIWATCH_SMTP_PASSWORD), so these settings can be shown and audited as they are."""

    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"
    ca_file: str = ""
    username: str = ""
    sender: str = "kpiwatch <kpiwatch@localhost>"
    timeout_seconds: int = 30
    max_connections: int = 4
    batch_size: int = 50
    max_attempts: int = 8
    backoff_base_seconds: int = 60
    backoff_max_seconds: int = 3600
    outage_retry_seconds: int = 3600
    give_up_after_hours: int = 72
    claim_timeout_seconds: int = 300

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"smtp.security must be none, starttls or tls, not {self.security!r}")
        if self.max_connections < 1:
            raise ValueError("smtp.max_connections must be at least 1")
        if self.outage_retry_seconds < 0 or self.give_up_after_hours < 0:
            raise ValueError("smtp.outage_retry_seconds and smtp.give_up_after_hours must not be negative")
