"""SageMaker schedule expressions: what Model Monitor accepts, and when each one fires.

SageMaker accepts exactly four shapes (see the reference, section 8): hourly ``cron(0 * ? * * *)``,
daily ``cron(0 H ? * * *)``, every N hours ``cron(0 H/N ? * * *)`` and the one-off ``NOW``.
Anything else is refused rather than half-supported, so a schedule that works here also works
on SageMaker and the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelmon.errors import ConfigError
from modelmon.services._time import utc

__all__ = ["ACCEPTED_FORMS", "Now", "Recurring", "ScheduleExpression", "due_times", "parse"]

ACCEPTED_FORMS = (
    "'cron(0 * ? * * *)' (hourly), 'cron(0 H ? * * *)' (daily at hour H, 0-23), "
    "'cron(0 H/N ? * * *)' (every N hours from hour H, N 1-24) or 'NOW' (one run, explicit window)"
)

_CRON = re.compile(r"cron\(\s*0\s+(?P<hour>\S+)\s+\?\s+\*\s+\*\s+\*\s*\)")
_HOUR = re.compile(r"(?P<start>\d{1,2})(?:/(?P<every>\d{1,2}))?")


@dataclass(frozen=True)
class Recurring:
    """A cron schedule: it fires at minute 0 of ``hours`` (UTC) every day.

    ``period`` is the spacing the expression asks for (1 h, 24 h, N h); it sizes the default
    analysis window even where the day boundary makes the real gap longer (``17/12`` fires once
    a day but analyses 12 h), because that is what SageMaker's "previous period" means.
    """

    text: str
    hours: tuple[int, ...]
    period: timedelta


@dataclass(frozen=True)
class Now:
    """``NOW``: one run over an explicit window, never repeated."""

    text: str = "NOW"


ScheduleExpression = Recurring | Now


def parse(text: str, *, field: str = "cron") -> ScheduleExpression:
    """Parse a schedule expression; ConfigError names ``field`` and lists the accepted forms."""
    stripped = text.strip()
    if stripped == "NOW":
        return Now()
    match = _CRON.fullmatch(stripped)
    hour = None if match is None else match["hour"]
    if hour == "*":
        return Recurring(stripped, tuple(range(24)), timedelta(hours=1))
    parts = None if hour is None else _HOUR.fullmatch(hour)
    if parts is not None:
        start = int(parts["start"])
        every = 24 if parts["every"] is None else int(parts["every"])
        if start <= 23 and 1 <= every <= 24:
            return Recurring(stripped, tuple(range(start, 24, every)), timedelta(hours=every))
    raise ConfigError(
        f"The {field!r} parameter must be a SageMaker schedule expression: {ACCEPTED_FORMS}. "
        f"Got {text!r} instead."
    )


def due_times(expression: Recurring, after: datetime, until: datetime) -> list[datetime]:
    """The nominal run times of ``expression`` in (after, until], oldest first, in UTC."""
    start, end = utc(after, "after"), utc(until, "until")
    times: list[datetime] = []
    day = datetime(start.year, start.month, start.day, tzinfo=UTC)
    while day <= end:
        times.extend(
            t for hour in expression.hours if start < (t := day + timedelta(hours=hour)) <= end
        )
        day += timedelta(days=1)
    return times
