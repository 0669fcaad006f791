"""What notifications remember: the outbox of messages, the digests that produced them, which items were
mentioned when (so repeats and escalation are decided from facts, not from clocks), acknowledgements and waivers.

The outbox is the delivery guarantee: a message exists here, with its unique deduplication key, before any
attempt to send it, and is marked sent only after the SMTP server accepted it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
MESSAGE_KINDS = ("digest", "escalation", "summary", "report", "other")


class OutboxMessage(SQLModel, table=True):
    """One email, fully rendered (`raw` is the RFC 5322 text, Message-ID included, so a resend is the
    same message), with its delivery state. `dedup_key` is (kind, recipient, period) and unique.

    Indexed only where a sender or a page looks: the messages still to send (what every claim scans, in id
    order) and the failed ones, each a partial index. A sent message, nearly every row, is in neither, so its
    claim writes two fewer index entries and its sent mark three fewer than with whole-table indexes on status, kind
    and next attempt."""

    __table_args__ = (
        Index("ix_outboxmessage_unsent", "id", sqlite_where=text("status IN ('pending', 'sending')"),
              postgresql_where=text("status IN ('pending', 'sending')")),
        Index("ix_outboxmessage_failed", "id", sqlite_where=text("status = 'failed'"),
              postgresql_where=text("status = 'failed'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=400, unique=True, index=True)
    kind: str = Field(max_length=16)
    period: str = Field(default="", max_length=32)
    status: str = Field(default="pending", max_length=8)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = instant_field()
    claimed_by: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = instant_field()
    sent_at: datetime | None = instant_field()
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    message_id: str = Field(max_length=250)
    created_at: datetime | None = instant_field()
    recipients: str = Field(sa_column=Column(Text, nullable=False))
    subject: str = Field(sa_column=Column(Text, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # Last on purpose: SQLite reads a row's columns in order, so state columns placed after a 12 KB body
    # would make every claim walk the body's overflow pages.
    raw: str = Field(sa_column=Column(Text, nullable=False))


class NotificationDigest(SQLModel, table=True):
    """One department's digest for one day: at most one exists, which makes re-running a day harmless."""

    __table_args__ = (UniqueConstraint("department_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    day: date = Field(index=True)
    catch_up: bool = Field(default=False)
    escalation_level: int = Field(default=0)
    counts: dict | None = json_field()
    created_at: datetime | None = instant_field()


class NotifiedItem(SQLModel, table=True):
    """When an item (indicator occurrence in one status) was last put in a digest and how often: the basis
    of "repeat weekly, not daily" and "escalate after two ignored digests"."""

    __table_args__ = (UniqueConstraint("indicator_id", "occurrence", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    occurrence: str = Field(default="", max_length=10)
    status: str = Field(max_length=12)
    since: date | None = Field(default=None)
    first_notified_on: date
    last_notified_on: date
    times: int = Field(default=1)
    escalation_level: int = Field(default=0)


class Acknowledgement(SQLModel, table=True):
    """A department's explanation of an item (偏差原因); it silences the item while its status and `since`
    stay what they were when acknowledged."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    occurrence: str = Field(default="", max_length=10)
    status: str = Field(max_length=12)
    since: date | None = Field(default=None)
    cause: str = Field(max_length=10)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    by: str = Field(default="", max_length=254)
    channel: str = Field(default="portal", max_length=16)
    created_at: datetime | None = instant_field()


class Waiver(SQLModel, table=True):
    """An administrator's mute of a project or an indicator until a date (inclusive), with the reason."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id", index=True)
    until: date
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(default="", max_length=100)
    created_at: datetime | None = instant_field()
    revoked_at: datetime | None = instant_field()
