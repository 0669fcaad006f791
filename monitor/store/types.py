"""Column types shared by every model: money, measured values and timezone-aware instants."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, overload

from sqlalchemy import JSON, DateTime, Dialect, Numeric, Text, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine
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


class as_number(FunctionElement[Decimal]):
    """The column's value as a number in SQL: itself on PostgreSQL, CAST(… AS NUMERIC) of the text on SQLite."""

    type = Numeric()
    inherit_cache = True


@compiles(as_number)
def _as_number(element: as_number, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(as_number, "sqlite")
def _as_number_sqlite(element: as_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS NUMERIC)"


# Comparisons and orderings that text would get wrong ('9.00' > '10.00'); equality of canonical text is exact.
_NUMERIC_OPERATORS = {operators.lt, operators.le, operators.gt, operators.ge, operators.asc_op, operators.desc_op}


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal that reads back exactly as written, with the column's places, on every store.

    PostgreSQL keeps it as NUMERIC(precision, scale). SQLite has no decimal type: a NUMERIC column there keeps
    only 15 significant digits (9999999999999999.99 came back as 10000000000000000, 123456789012.123456 as
    123456789012.123459), so on SQLite the column is TEXT holding the canonical digits (`format(value, "f")`,
    rounded half away from zero to the scale as PostgreSQL rounds). SQL that computes with it still works there
    (CAST(… AS DOUBLE PRECISION), SUM convert the text), and a comparison or an ORDER BY written against the column
    (`Project.annual_funds >= x`) compares numbers on both stores: the comparator casts it on SQLite.
    """

    impl = Numeric
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in _NUMERIC_OPERATORS:
                return op(as_number(self.expr), *other, **kwargs)
            return super().operate(op, *other, **kwargs)

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self.quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else Numeric(
            self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return format(Decimal(value if not isinstance(value, float) else repr(value)).quantize(
            self.quantum, rounding=ROUND_HALF_UP), "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or dialect.name != "sqlite":
            return value
        return Decimal(value if isinstance(value, str) else repr(value)).quantize(self.quantum, rounding=ROUND_HALF_UP)


# Like `sqlmodel.Field`, these return the field's description standing in for the attribute's default; they are
# typed as the value the attribute holds, so a NOT NULL column may be annotated without `| None`.
@overload
def money_field(*, nullable: Literal[False], default: Decimal | None = None) -> Decimal: ...
@overload
def money_field(*, nullable: bool = True, default: Decimal | None = None) -> Decimal | None: ...
def money_field(*, nullable: bool = True, default: Decimal | None = None) -> Decimal | None:
    """元 with two decimals, exact on every store (`ExactDecimal`) so sums stay exact."""
    return Field(default=default, sa_column=Column(ExactDecimal(18, 2), nullable=nullable))


@overload
def measure_field(*, nullable: Literal[False]) -> Decimal: ...
@overload
def measure_field(*, nullable: bool = True) -> Decimal | None: ...
def measure_field(*, nullable: bool = True) -> Decimal | None:
    """A target or reported quantity: wide and exact on every store (`ExactDecimal`), never float."""
    return Field(default=None, sa_column=Column(ExactDecimal(24, 6), nullable=nullable))


@overload
def computed_field(*, nullable: Literal[False]) -> Decimal: ...
@overload
def computed_field(*, nullable: bool = True) -> Decimal | None: ...
def computed_field(*, nullable: bool = True) -> Decimal | None:
    """A figure the evaluation computed in floating point and rounded to 6 places (序时目标, 完成率 …): NUMERIC,
    which SQLite keeps as a REAL. Nobody typed it, so there are no digits to keep beyond the float's, and the
    daily run rewrites a million of them: text there would cost a conversion per row for nothing."""
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
