"""Streaming detection in the server: new captures feed the detectors on every tick, a change is
recorded as an execution with violations and points, and alerting hears it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from modelmon.server import ServerState, create_app
from modelmon.server.streaming import SUFFIX, StreamingWorker
from modelmon.store import Execution, ExecutionStatus, Schedule, Store

H = timedelta(hours=1)


def test_a_shift_in_captured_traffic_is_detected_between_scheduled_runs(
    state: ServerState,
    store: Store,
    clock: Any,
    make_schedule: Callable[..., Schedule],
    capture_hour: Callable[..., None],
) -> None:
    create_app(state)  # installs alerting and streaming on the state, as serve does
    make_schedule("credit-dq", config={"streaming": True})
    heard: list[tuple[Execution, Schedule]] = []
    state.listeners.append(lambda execution, schedule: heard.append((execution, schedule)))
    t0 = clock.now
    for hour in range(3):
        capture_hour(t0 + hour * H, seed=20 + hour)
    clock.advance(3 * H - timedelta(minutes=30))
    state.tick()
    assert store.executions.list_executions(status=ExecutionStatus.COMPLETED_WITH_VIOLATIONS) == []

    for hour in range(3, 6):
        capture_hour(t0 + hour * H, seed=20 + hour, drifts=("unit_change",))
    clock.advance(3 * H)
    state.tick()
    companion = store.schedules.get_schedule_by_name("credit-dq" + SUFFIX)
    [detected] = store.executions.list_executions(schedule_id=companion.id)
    assert detected.status is ExecutionStatus.COMPLETED_WITH_VIOLATIONS
    features = {v.feature for v in store.violations.list_violations(execution_id=detected.id)}
    assert any("loan_amount" in feature for feature in features)
    series = store.metrics.query_points(
        "streaming_drift_detected", {"model": "credit"}, start=t0, end=clock.now + H
    )
    assert series
    assert (detected.id, companion.name) in [(e.id, s.name) for e, s in heard]


def test_detector_state_survives_a_restart(
    state: ServerState,
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: Callable[..., Schedule],
    capture_hour: Callable[..., None],
) -> None:
    make_schedule("credit-dq", config={"streaming": True})
    capture_hour(clock.now, seed=30)
    clock.advance(H)
    StreamingWorker(state).tick(clock.now)
    checkpoint = data_dir / "streaming" / "credit" / "v1.json"
    assert checkpoint.exists()
    seen = checkpoint.read_text()
    StreamingWorker(state).tick(clock.now)  # a restarted server: nothing new to read
    assert checkpoint.read_text() == seen
