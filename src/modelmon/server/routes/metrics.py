"""Metric points: query series by name and PromQL-style label matchers over a time range."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from modelmon.errors import ConfigError
from modelmon.server.auth import state_of
from modelmon.server.schemas import SeriesOut
from modelmon.store import Matcher

__all__ = ["parse_matchers", "router"]

router = APIRouter(tags=["metrics"])

# label="value", label!="value", label=~"regex", label!~"regex" (quotes optional).
_MATCHER = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*))$'
)


def parse_matchers(texts: list[str], field: str = "match") -> dict[str, Matcher]:
    matchers: dict[str, Matcher] = {}
    for text in texts:
        found = _MATCHER.match(text)
        if found is None:
            raise ConfigError(
                f'The {field!r} parameter must look like label="value" (or !=, =~, !~). '
                f"Got {text!r} instead."
            )
        label, op, quoted, bare = found.groups()
        value = quoted.replace('\\"', '"') if quoted is not None else bare.strip()
        matchers[label] = Matcher(op, value)  # type: ignore[arg-type]
    return matchers


@router.get("/metrics/series")
def list_series(
    request: Request,
    prefix: str | None = None,
    match: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, object]]:
    """The series that exist (name and labels), e.g. every metric of one model."""
    store = state_of(request).store
    found = store.metrics.list_series(prefix, parse_matchers(match or []))
    return [{"name": name, "labels": labels} for name, labels in found]


@router.get("/metrics/query", response_model=list[SeriesOut])
def query(
    request: Request,
    name: str,
    match: Annotated[list[str] | None, Query()] = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[SeriesOut]:
    """Points of the series named ``name`` matching every ``match`` in [start, end); by default
    the last 7 days."""
    state = state_of(request)
    end = end or state.clock() + timedelta(seconds=1)
    start = start or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise ConfigError(
            "The 'start' and 'end' parameters must carry a time zone (e.g. "
            f"2026-11-02T00:00:00Z). Got {start.isoformat()} and {end.isoformat()} instead."
        )
    found = state.store.metrics.query_points(
        name, parse_matchers(match or []), start=start, end=end
    )
    # JSON has no NaN: a point that is not a number is sent as null.
    return [
        SeriesOut(
            name=s.name,
            labels=dict(s.labels),
            points=[
                (t, None if math.isnan(v) else v)
                for t, v in zip(s.timestamps, s.values, strict=True)
            ],
        )
        for s in found
    ]
