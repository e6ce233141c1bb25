"""The analysis window of a run: which captured records one execution looks at.

By default a run at nominal time T analyses SageMaker's "previous period", [T - period, T). A
schedule may move either edge with a negative offset from T (stored in seconds, as SageMaker's
``-PT1H`` durations), e.g. to wait for late records. Windows are half-open, as read_captures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from modelmon.errors import ConfigError
from modelmon.services._time import utc
from modelmon.services.cron import Recurring

__all__ = ["MAX_NOW_WINDOW", "Window", "explicit_window", "parse_offset", "scheduled_window"]

# SageMaker refuses a NOW window longer than a day; so do we, for the same memory budget.
MAX_NOW_WINDOW = timedelta(hours=24)


# SageMaker's offsets: ISO 8601 durations of days, hours, minutes and seconds, e.g. -PT1H, -P1D.
_DURATION = re.compile(
    r"^(?P<sign>[-+]?)P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


def parse_offset(text: str | None, field: str) -> timedelta | None:
    """An ISO 8601 duration such as ``-PT1H`` as a timedelta (None stays None)."""
    if text is None:
        return None
    match = _DURATION.match(text.strip())
    if match is None or text.strip().rstrip("T").endswith("P") or text.strip().endswith("T"):
        raise ConfigError(
            f"The {field!r} field must be an ISO 8601 duration such as -PT1H or -P1D. "
            f"Got {text!r} instead."
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if k != "sign" and v}
    offset = timedelta(
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )
    return -offset if match["sign"] == "-" else offset


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def scheduled_window(
    expression: Recurring,
    nominal: datetime,
    *,
    start_offset: timedelta | None = None,
    end_offset: timedelta | None = None,
) -> Window:
    """The window of the run at ``nominal``; a missing offset keeps the default edge."""
    for name, offset in (("start_offset", start_offset), ("end_offset", end_offset)):
        if offset is not None and offset > timedelta(0):
            raise ConfigError(
                f"The {name!r} parameter of a schedule must be zero or negative (a time before "
                f"the scheduled run). Got {offset.total_seconds():g} seconds instead."
            )
    nominal = utc(nominal, "nominal")
    start = nominal - expression.period if start_offset is None else nominal + start_offset
    end = nominal if end_offset is None else nominal + end_offset
    return _checked(start, end)


def explicit_window(start: datetime, end: datetime) -> Window:
    """The window of a ``NOW`` run: given outright, at most a day long."""
    window = _checked(utc(start, "window_start"), utc(end, "window_end"))
    if window.end - window.start > MAX_NOW_WINDOW:
        raise ConfigError(
            "The 'window_end' parameter of a NOW run may be at most 24 hours after "
            f"'window_start'. Got {start.isoformat()} to {end.isoformat()} instead."
        )
    return window


def _checked(start: datetime, end: datetime) -> Window:
    if start >= end:
        raise ConfigError(
            "The analysis window must end after it starts ('start_offset' before 'end_offset'). "
            f"Got {start.isoformat()} to {end.isoformat()} instead."
        )
    return Window(start, end)
