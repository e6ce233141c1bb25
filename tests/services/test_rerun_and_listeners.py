"""Late labels re-run labelled windows; NOW schedules run once; listeners hear every run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from modelmon import Capture, import_labels
from modelmon.services import Scheduler
from modelmon.services.runners import RUNNERS, Outcome, RunContext
from modelmon.store import Execution, ExecutionStatus, MonitorType, Schedule, Store

H = timedelta(hours=1)


@pytest.fixture
def labelled_runner(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A ModelQuality runner that counts the labels it sees (the real one is tested elsewhere)."""
    seen: list[int] = []

    def run(ctx: RunContext) -> Outcome:
        table = ctx.read_window(with_labels=True)
        labelled = table.num_rows - table["label"].null_count
        seen.append(labelled)
        return Outcome(has_violations=False, message=f"{labelled} labelled")

    monkeypatch.setitem(RUNNERS, MonitorType.MODEL_QUALITY, run)
    return seen


def test_a_window_that_gains_late_labels_is_run_again(
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: Callable[..., Schedule],
    labelled_runner: list[int],
) -> None:
    t0 = clock.now
    store.models.set_baseline("credit", "v1", MonitorType.MODEL_QUALITY, {"x.json": {}}, now=t0)
    schedule = make_schedule("quality", monitor_type=MonitorType.MODEL_QUALITY)
    with Capture("credit", "v1", data_dir=data_dir, clock=lambda: t0 + timedelta(minutes=5)) as c:
        ids = [c.log({"x": i}, {"p": 0.5}) for i in range(10)]
    heard: list[tuple[int, ExecutionStatus]] = []
    scheduler = Scheduler(
        store,
        data_dir=data_dir,
        owner="a",
        clock=clock,
        listeners=[lambda e, s: heard.append((e.id, e.status))],
    )
    clock.advance(H + timedelta(minutes=1))
    [first] = scheduler.tick()
    assert labelled_runner == [0]
    assert scheduler.tick() == []  # no labels yet: nothing to re-run

    clock.advance(H)
    labels = pa.table({"inference_id": ids[:6], "label": [1, 0, 1, 1, 0, 0]})
    import_labels(data_dir, "credit", labels, clock=clock)
    clock.advance(timedelta(minutes=1))
    rerun = scheduler.tick()
    rerun = [e for e in rerun if e.id == first.id]
    assert len(rerun) == 1
    assert rerun[0].exit_message == "6 labelled"
    assert labelled_runner[-1] == 6
    assert store.executions.get_execution(first.id).status is ExecutionStatus.COMPLETED
    assert scheduler.tick() == []  # the same labels do not re-run it twice
    assert (first.id, ExecutionStatus.COMPLETED) in heard
    assert len([h for h in heard if h[0] == first.id]) == 2
    assert schedule.monitor_type is MonitorType.MODEL_QUALITY


def test_a_now_schedule_runs_its_window_once(
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: Callable[..., Schedule],
    capture_hour: Callable[..., None],
) -> None:
    t0 = clock.now
    capture_hour(t0 - 2 * H, seed=3)
    make_schedule("once", cron="NOW", window_start=t0 - 2 * H, window_end=t0 - H)
    scheduler = Scheduler(store, data_dir=data_dir, owner="a", clock=clock)
    [ran] = scheduler.tick()
    assert (ran.status, ran.window_start, ran.window_end) == (
        ExecutionStatus.COMPLETED,
        t0 - 2 * H,
        t0 - H,
    )
    clock.advance(H)
    assert scheduler.tick() == []


def test_a_failing_listener_does_not_stop_the_others(
    store: Store,
    data_dir: Path,
    clock: Any,
    make_schedule: Callable[..., Schedule],
) -> None:
    make_schedule()
    heard: list[Execution] = []

    def broken(execution: Execution, schedule: Schedule) -> None:
        raise RuntimeError("listener bug")

    scheduler = Scheduler(
        store,
        data_dir=data_dir,
        owner="a",
        clock=clock,
        listeners=[broken, lambda e, s: heard.append(e)],
    )
    clock.advance(2 * H)
    ran = scheduler.tick()
    assert [e.id for e in heard] == [e.id for e in ran]
    assert len(ran) == 2
