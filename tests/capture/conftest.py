"""Fixtures of the capture tests: a fixed clock, an event factory, reading what is on disk.

(Fixtures rather than importable helpers: with ``--import-mode=importlib`` test modules cannot
import each other.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.capture import InferenceEvent, Payload

T0 = datetime(2024, 5, 1, 13, 5, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _event(
    inference_id: str = "id-1",
    *,
    request: bytes | None = b'{"age": 41, "plan": "pro"}',
    response: bytes | None = b'{"score": 0.9}',
    content_type: str = "application/json",
    response_type: str | None = None,
    time: datetime = T0,
    model: str = "churn",
    version: str = "v3",
    status: int | None = 200,
    error: str | None = None,
) -> InferenceEvent:
    return InferenceEvent(
        model=model,
        version=version,
        inference_id=inference_id,
        time=time,
        request=None if request is None else Payload(request, content_type),
        response=None if response is None else Payload(response, response_type or content_type),
        latency_ms=1.5,
        status=status,
        error=error,
        source="proxy",
    )


@pytest.fixture
def make_event() -> Callable[..., InferenceEvent]:
    """Builds an InferenceEvent of model churn, version v3, at 2024-05-01 13:05 UTC."""
    return _event


def _stored(root: Path, **read: Any) -> pa.Table:
    files = [p for p in sorted((root / "captures").rglob("*.parquet")) if p.name[0] != "."]
    tables = [pq.read_table(p, **read) for p in files]
    return pa.concat_tables(tables, promote_options="permissive")


@pytest.fixture
def stored() -> Callable[..., pa.Table]:
    """Reads every capture row under a data directory as written (untyped, no labels)."""
    return _stored
