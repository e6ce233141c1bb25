"""A scheduled DataQuality monitor configured to run on Spark gives the local engine's verdicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from modelmon.services import Scheduler
from modelmon.store import ExecutionStatus, Schedule, Store

H = timedelta(hours=1)


def test_a_schedule_on_spark_finds_what_the_local_engine_finds(
    spark: Any,
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: Callable[..., Schedule],
    capture_hour: Callable[..., None],
) -> None:
    make_schedule("local")
    make_schedule("on-spark", config={"engine": "spark", "spark_master": "local[2]"})
    capture_hour(clock.now, seed=40, drifts=("income_shift",))
    clock.advance(H + timedelta(minutes=5))
    ran = {
        store.schedules.get_schedule(e.schedule_id).name: e
        for e in Scheduler(store, data_dir=data_dir, owner="a", clock=clock).tick()
    }
    assert ran["on-spark"].status is ExecutionStatus.COMPLETED_WITH_VIOLATIONS, ran[
        "on-spark"
    ].failure_reason
    found = {
        name: {
            (v.feature, v.check_type)
            for v in store.violations.list_violations(execution_id=execution.id)
        }
        for name, execution in ran.items()
    }
    assert found["on-spark"] == found["local"]
    assert ("income", "baseline_drift_check") in found["on-spark"]


def test_an_unknown_engine_fails_the_run_with_the_reason(
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: Callable[..., Schedule],
    capture_hour: Callable[..., None],
) -> None:
    make_schedule("odd", config={"engine": "dask"})
    capture_hour(clock.now, seed=41)
    clock.advance(H + timedelta(minutes=5))
    [execution] = Scheduler(store, data_dir=data_dir, owner="a", clock=clock).tick()
    assert execution.status is ExecutionStatus.FAILED
    assert "'local' or 'spark'" in (execution.failure_reason or "")
