"""Column types and helpers shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Row timestamps are aware UTC; only the store reads the wall clock."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite drops the offset and hands back naive values; PostgreSQL keeps it. Storing naive UTC
    and re-attaching UTC on the way out makes both behave the same.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        return None if value is None else value.replace(tzinfo=UTC)


def enum_type(enum: type[StrEnum]) -> Enum:
    """A status column stored as plain text (VARCHAR) on every backend.

    Native PostgreSQL enums sort in declaration order (SQLite sorts text), need ``ALTER TYPE``
    migrations for every new value and outlive a downgrade; text has none of these problems.
    """
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )
