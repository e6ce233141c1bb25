"""Portable column types and the checks every timestamp passes on its way in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Row
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from modelmon.errors import ConfigError

__all__ = ["EPOCH", "AnyRow", "UtcDateTime", "from_micros", "require_utc", "to_micros"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# A result row of any shape (SQLAlchemy 2.1 types rows by their column types).
AnyRow = Row[*tuple[Any, ...]]


def require_utc(value: datetime, name: str) -> datetime:
    """``value`` converted to UTC; a naive datetime is refused rather than guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"The {name!r} parameter must be a timezone-aware datetime. Got {value!r} instead."
        )
    return value.astimezone(UTC)


def to_micros(value: datetime, name: str) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    return (require_utc(value, name) - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in the API; ``timestamptz`` on PostgreSQL, naive UTC text on SQLite.

    SQLite has no time zones, so everything is stored in UTC and the zone is put back on read;
    one fixed text format keeps comparisons in SQL correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = require_utc(value, "timestamp")
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
