"""Column types shared by every model: money, measured values and timezone-aware instants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, overload

from sqlalchemy import JSON, DateTime, Dialect, Numeric, TypeDecorator
from sqlmodel import Column, Field

from rules.calendar import SHANGHAI, shanghai_time


class Instant(TypeDecorator[datetime]):
    """A moment in time that reads back as an aware Asia/Shanghai datetime on every store.

    The column is a plain `DateTime(timezone=True)`. SQLite keeps no offset, so what is written there is the
    Shanghai wall-clock time (an aware value is converted first, a naive one is taken as Shanghai time) and
    what comes back is given the Shanghai zone again; PostgreSQL keeps the instant and answers in its session
    zone, which is converted. No reader has to remember which store it is talking to.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return shanghai_time(value) if isinstance(value, datetime) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return shanghai_time(value) if isinstance(value, datetime) else value


# Like `sqlmodel.Field`, these return the field's description standing in for the attribute's default; they are
# typed as the value the attribute holds, so a NOT NULL column may be annotated without `| None`.
@overload
def money_field(*, nullable: Literal[False], default: Decimal | None = None) -> Decimal: ...
@overload
def money_field(*, nullable: bool = True, default: Decimal | None = None) -> Decimal | None: ...
def money_field(*, nullable: bool = True, default: Decimal | None = None) -> Decimal | None:
    """元 with two decimals, stored as NUMERIC so sums stay exact."""
    return Field(default=default, sa_column=Column(Numeric(18, 2, asdecimal=True), nullable=nullable))


@overload
def measure_field(*, nullable: Literal[False]) -> Decimal: ...
@overload
def measure_field(*, nullable: bool = True) -> Decimal | None: ...
def measure_field(*, nullable: bool = True) -> Decimal | None:
    """A target or reported quantity: wide and exact, never float."""
    return Field(default=None, sa_column=Column(Numeric(24, 6, asdecimal=True), nullable=nullable))


@overload
def instant_field(*, nullable: Literal[False], index: bool = False) -> datetime: ...
@overload
def instant_field(*, nullable: bool = True, index: bool = False) -> datetime | None: ...
def instant_field(*, nullable: bool = True, index: bool = False) -> datetime | None:
    """A moment in time, always timezone-aware Asia/Shanghai when read (see `Instant`)."""
    return Field(default=None, sa_column=Column(Instant(), nullable=nullable, index=index))


def json_field() -> dict | None:
    """A JSON object (every JSON column here holds a table of named values), NULL when absent."""
    return Field(default=None, sa_column=Column(JSON, nullable=True))


def now() -> datetime:
    """The current instant in Asia/Shanghai; the only clock the store uses for bookkeeping columns."""
    return datetime.now(SHANGHAI)
