"""Column types shared by every model: money, measured values and timezone-aware instants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, DateTime, Numeric
from sqlmodel import Column, Field

SHANGHAI = ZoneInfo("Asia/Shanghai")


def money_field(*, nullable: bool = True, default: Decimal | None = None) -> Decimal | None:
    """元 with two decimals, stored as NUMERIC so sums stay exact."""
    return Field(default=default, sa_column=Column(Numeric(18, 2, asdecimal=True), nullable=nullable))


def measure_field(*, nullable: bool = True) -> Decimal | None:
    """A target or reported quantity: wide and exact, never float."""
    return Field(default=None, sa_column=Column(Numeric(24, 6, asdecimal=True), nullable=nullable))


def instant_field(*, nullable: bool = True, index: bool = False) -> datetime | None:
    """A moment in time, always timezone-aware."""
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def json_field() -> dict | list | None:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


def in_shanghai(moment: datetime) -> datetime:
    """An instant read back from the store, as Shanghai time: SQLite keeps no offset and hands back the naive
    Shanghai wall-clock time that was written, PostgreSQL hands back an aware instant in its session zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def now() -> datetime:
    """The current instant in Asia/Shanghai; the only clock the store uses for bookkeeping columns."""
    return datetime.now(SHANGHAI)
