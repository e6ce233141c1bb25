"""Captured inferences with chosen latencies and failures, written by modelmon's CaptureWriter;
and the service-health CLI run as ``modelmon`` runs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelmon.capture import CaptureWriter, InferenceEvent, Payload
from modelmon.cli.main import main

T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)

WriteTraffic = Callable[..., None]


def _write(
    data_dir: Path,
    latencies: Sequence[float],
    *,
    version: str = "v1",
    statuses: Sequence[int] | None = None,
    start: datetime = T0,
    spread: timedelta = timedelta(minutes=59),
) -> None:
    """Capture one inference per latency, evenly over ``spread`` from ``start``."""
    step = spread / max(1, len(latencies))
    with CaptureWriter(data_dir) as writer:
        for i, latency in enumerate(latencies):
            status = 200 if statuses is None else statuses[i]
            body = b'{"score": 0.5}' if status < 400 else b'{"error": "overloaded"}'
            writer.submit(
                InferenceEvent(
                    model="churn",
                    version=version,
                    inference_id=f"{version}-{start.isoformat()}-{i}",
                    time=start + i * step,
                    request=Payload(b'{"age": 41}', "application/json"),
                    response=Payload(body, "application/json"),
                    latency_ms=latency,
                    status=status,
                    error=None if status < 400 else f"HTTP {status}",
                    source="proxy",
                )
            )


@pytest.fixture
def write_traffic() -> WriteTraffic:
    return _write


@pytest.fixture
def run_cli() -> Callable[[list[str]], int]:
    return main
