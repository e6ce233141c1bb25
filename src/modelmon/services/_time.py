"""The one timestamp check of the services: aware datetimes only, normalised to UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from modelmon.errors import ConfigError

__all__ = ["utc"]


def utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused rather than guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"The {name!r} parameter must be a timezone-aware datetime. Got {value!r} instead."
        )
    return value.astimezone(UTC)
