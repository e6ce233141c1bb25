from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modelmon.errors import ConfigError, ConflictError
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.services import EMPTY_WINDOW_REASON, Scheduler
from modelmon.services.runners import RUNNERS
from modelmon.store import ExecutionStatus, MonitorType, Schedule, ScheduleStatus, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
S = ExecutionStatus

CaptureHour = Callable[..., None]
MakeSchedule = Callable[..., Schedule]


def _scheduler(store: Store, data_dir: Path, clock: Any, owner: str = "a") -> Scheduler:
    return Scheduler(store, data_dir=data_dir, owner=owner, clock=clock)


def _oldest_first(store: Store, schedule: Schedule) -> list[Any]:
    return list(reversed(store.executions.list_executions(schedule_id=schedule.id)))


def test_three_hours_give_three_executions_with_their_windows(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    schedule = make_schedule()
    for hour in range(3):
        capture_hour(T0 + hour * H, seed=10 + hour)
    scheduler = _scheduler(store, data_dir, clock)
    clock.advance(3 * H + timedelta(minutes=5))
    ran = scheduler.tick()
    assert [(e.window_start, e.window_end) for e in ran] == [
        (T0, T0 + H),
        (T0 + H, T0 + 2 * H),
        (T0 + 2 * H, T0 + 3 * H),
    ]
    assert [e.status for e in ran] == [S.COMPLETED] * 3, [e.failure_reason for e in ran]
    assert ran[0].exit_message == "Completed: Job completed successfully with no violations."
    report = data_dir / "reports" / "credit-hourly" / "2026" / "11" / "02" / "01"
    assert sorted(ran[0].output_files) == sorted(p.name for p in report.iterdir())
    assert "constraint_violations.json" in ran[0].output_files
    assert _oldest_first(store, schedule) == ran
    assert scheduler.tick() == []  # nothing new came due


def test_an_hour_without_traffic_fails_with_sagemakers_reason(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    make_schedule()
    capture_hour(T0, seed=10)  # the first hour only
    clock.advance(2 * H)
    first, second = _scheduler(store, data_dir, clock).tick()
    assert first.status is S.COMPLETED
    assert second.status is S.FAILED
    assert second.failure_reason == EMPTY_WINDOW_REASON


def test_nothing_ever_captured_is_an_empty_window(
    store: Store, data_dir: Path, clock: Any, make_schedule: MakeSchedule
) -> None:
    make_schedule()
    clock.advance(H)
    (execution,) = _scheduler(store, data_dir, clock).tick()
    assert (execution.status, execution.failure_reason) == (S.FAILED, EMPTY_WINDOW_REASON)


def test_a_drifted_hour_records_violations_and_metric_points(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    make_schedule()
    capture_hour(T0, seed=10)
    capture_hour(T0 + H, seed=11, drifts=("income_shift",))
    clock.advance(2 * H)
    healthy, drifted = _scheduler(store, data_dir, clock).tick()
    assert healthy.status is S.COMPLETED
    assert drifted.status is S.COMPLETED_WITH_VIOLATIONS
    assert drifted.exit_message is not None
    assert drifted.exit_message.startswith("CompletedWithViolations: Job completed successfully")
    found = store.violations.list_violations(execution_id=drifted.id)
    assert ("income", "baseline_drift_check") in {(v.feature, v.check_type) for v in found}
    assert store.violations.list_violations(execution_id=healthy.id) == []

    (series,) = store.metrics.query_points(
        "feature_baseline_drift_income", {"model": "credit"}, start=T0, end=T0 + 3 * H
    )
    assert series.labels == {
        "model": "credit",
        "version": "v1",
        "monitor": "DataQuality",
        "feature": "income",
        "schedule": "credit-hourly",
    }
    assert series.timestamps == (T0 + H, T0 + 2 * H)  # stamped with each window's end
    assert series.values[1] > 0.1 > series.values[0]
    (non_null,) = store.metrics.query_points(
        "feature_non_null_income", {"feature": "income"}, start=T0, end=T0 + 3 * H
    )
    assert non_null.values == (1.0, 1.0)


def test_two_instances_run_each_execution_once(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    schedule = make_schedule()
    capture_hour(T0, seed=10)
    capture_hour(T0 + H, seed=11)
    clock.advance(H)
    first = _scheduler(store, data_dir, clock, owner="a")
    second = _scheduler(store, data_dir, clock, owner="b")
    # "b" holds the lease of the first hour, as if it were still running it.
    held = store.executions.try_acquire_execution(
        schedule.id,
        T0 + H,
        window_start=T0,
        window_end=T0 + H,
        owner="b",
        lease_seconds=600,
        now=clock(),
    )
    assert held is not None
    assert first.tick() == []
    store.executions.transition_execution(held.id, S.COMPLETED, now=clock(), owner="b")
    clock.advance(H)
    ran = [*first.tick(), *second.tick(), *first.tick()]
    assert [(e.scheduled_time, e.status) for e in ran] == [(T0 + 2 * H, S.COMPLETED)]
    assert len(store.executions.list_executions(schedule_id=schedule.id)) == 2


def test_instances_racing_for_the_same_run_get_it_once(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    once = make_schedule("once", cron="NOW")
    capture_hour(T0, seed=10)
    clock.advance(H)
    a = _scheduler(store, data_dir, clock, owner="a")
    b = _scheduler(store, data_dir, clock, owner="b")
    assert a.run_now(once.id, T0, T0 + H).status is S.COMPLETED
    with pytest.raises(ConflictError, match="already has a run at"):
        b.run_now(once.id, T0, T0 + H)
    assert len(store.executions.list_executions(schedule_id=once.id)) == 1


def test_missed_periods_are_caught_up_on_the_next_tick(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    make_schedule()
    for hour in range(4):
        capture_hour(T0 + hour * H, seed=10 + hour)
    scheduler = _scheduler(store, data_dir, clock)
    clock.advance(H)
    assert [e.scheduled_time for e in scheduler.tick()] == [T0 + H]
    clock.advance(3 * H)  # the server was down for two runs
    restarted = _scheduler(store, data_dir, clock, owner="after-restart")
    caught_up = restarted.tick()
    assert [e.scheduled_time for e in caught_up] == [T0 + 2 * H, T0 + 3 * H, T0 + 4 * H]
    assert {e.status for e in caught_up} == {S.COMPLETED}


def test_a_crash_mid_run_fails_the_execution(
    store: Store,
    data_dir: Path,
    clock: Any,
    capture_hour: CaptureHour,
    make_schedule: MakeSchedule,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_schedule()
    capture_hour(T0, seed=10)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(DataQualityMonitor, "check", crash)
    clock.advance(H)
    (execution,) = _scheduler(store, data_dir, clock).tick()
    assert execution.status is S.FAILED
    assert execution.failure_reason == "internal error: RuntimeError: disk on fire"
    assert store.executions.list_executions(status=S.IN_PROGRESS) == []


def test_a_missing_baseline_fails_with_its_message(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    make_schedule()
    capture_hour(T0, seed=10)
    store.models.delete_baseline("credit", "v1", MonitorType.DATA_QUALITY)
    clock.advance(H)
    (execution,) = _scheduler(store, data_dir, clock).tick()
    assert execution.status is S.FAILED
    assert execution.failure_reason is not None
    assert "no DataQuality baseline" in execution.failure_reason


def test_a_monitor_type_without_a_runner_fails_as_not_supported(
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: MakeSchedule,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(RUNNERS, MonitorType.MODEL_QUALITY)
    make_schedule(monitor_type=MonitorType.MODEL_QUALITY)
    clock.advance(H)
    (execution,) = _scheduler(store, data_dir, clock).tick()
    assert execution.failure_reason == "monitor type ModelQuality is not supported yet"


def test_offsets_move_the_window_and_bad_offsets_fail_each_run(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    make_schedule(start_offset=-2 * H, end_offset=-H)
    make_schedule("bad-offsets", start_offset=-H, end_offset=-2 * H)
    capture_hour(T0, seed=10)
    clock.advance(2 * H)
    ran = _scheduler(store, data_dir, clock).tick()
    good = [e for e in ran if e.window_end - e.window_start == H and e.status is not S.FAILED]
    assert [(e.window_start, e.window_end) for e in good] == [(T0, T0 + H)]
    bad = [e for e in ran if e.failure_reason and "must end after it starts" in e.failure_reason]
    assert len(bad) == 2


def test_stopped_and_invalid_schedules_are_skipped(
    store: Store, data_dir: Path, clock: Any, make_schedule: MakeSchedule
) -> None:
    stopped = make_schedule()
    store.schedules.set_status(stopped.id, ScheduleStatus.STOPPED)
    make_schedule("broken", cron="cron(0 0 1 * ? *)")
    clock.advance(3 * H)
    assert _scheduler(store, data_dir, clock).tick() == []


def test_run_now_runs_a_now_schedule_over_its_window(
    store: Store, data_dir: Path, clock: Any, capture_hour: CaptureHour, make_schedule: MakeSchedule
) -> None:
    hourly = make_schedule()
    once = make_schedule("once", cron="NOW")
    capture_hour(T0, seed=10)
    capture_hour(T0 + H, seed=11)
    clock.advance(5 * H)
    scheduler = _scheduler(store, data_dir, clock)
    execution = scheduler.run_now(once.id, T0, T0 + 2 * H)
    assert (execution.window_start, execution.window_end) == (T0, T0 + 2 * H)
    assert execution.status is S.COMPLETED
    with pytest.raises(ConfigError, match="Only a 'NOW' schedule runs on demand"):
        scheduler.run_now(hourly.id, T0, T0 + H)
    with pytest.raises(ConfigError, match="at most 24 hours"):
        scheduler.run_now(once.id, T0, T0 + 25 * H)


def test_a_baseline_stored_as_file_paths_is_read_from_disk(
    store: Store,
    data_dir: Path,
    tmp_path: Path,
    clock: Any,
    capture_hour: CaptureHour,
    make_schedule: MakeSchedule,
    baseline_files: dict[str, Any],
) -> None:
    paths = {}
    for name, content in baseline_files.items():
        paths[name] = str(tmp_path / name)
        Path(paths[name]).write_text(json.dumps(content))
    store.models.set_baseline("credit", "v1", MonitorType.DATA_QUALITY, paths, now=T0)
    make_schedule()
    capture_hour(T0, seed=10)
    clock.advance(H)
    (execution,) = _scheduler(store, data_dir, clock).tick()
    assert execution.status is S.COMPLETED
