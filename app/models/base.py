"""Declarative base, naming convention and column helpers shared by every model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

# Named constraints make migrations portable: SQLite batch operations and PostgreSQL
# ALTERs both need a constraint's name to drop or change it.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and read back as aware UTC on every database.

    SQLite has no time zones; storing naive UTC everywhere keeps comparisons in SQL
    identical on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_of(column: str, values: Iterable[StrEnum] | Iterable[str], name: str) -> CheckConstraint:
    """CHECK that ``column`` holds one of ``values`` (a closed vocabulary)."""
    listed = ", ".join(f"'{v.value if isinstance(v, StrEnum) else v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def vocab(enum: type[StrEnum]) -> String:
    """A text column wide enough for every value of ``enum``."""
    return String(max(len(member.value) for member in enum))
