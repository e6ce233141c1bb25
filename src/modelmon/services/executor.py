"""Run one execution: hand its window to the monitor type's runner, record what it found.

Whatever happens, the execution leaves InProgress: an empty window, a user error and a bug all
end as Failed with a reason, so no run is ever stuck (the lease expiry in the store is only the
backstop for a process that dies outright).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from modelmon.errors import ModelmonError
from modelmon.services.runners import RUNNERS, EmptyWindow, RunContext
from modelmon.store import Execution, ExecutionStatus, Point, Schedule, Store

__all__ = ["VIOLATIONS_METRIC", "run_execution"]

VIOLATIONS_METRIC = "monitor_violations"


def run_execution(
    store: Store,
    execution: Execution,
    schedule: Schedule,
    *,
    data_dir: str | os.PathLike[str],
    clock: Callable[[], datetime],
) -> Execution:
    """Run ``execution`` (InProgress, leased) of ``schedule`` and return it in its final state.

    ``clock`` stamps the violations and the end of the run, so the record shows how long it took.

    Raises ConflictError only if the lease was taken over meanwhile: the new owner's result
    then stands and this one is dropped.
    """
    runner = RUNNERS.get(schedule.monitor_type)
    if runner is None:
        reason = f"monitor type {schedule.monitor_type.value} is not supported yet"
        return _fail(store, execution, reason, clock())
    ctx = RunContext.create(store, execution, schedule, data_dir, clock)
    try:
        outcome = runner(ctx)
        store.violations.add_violations(execution.id, outcome.violations, now=clock())
        # Every monitor's verdict as a number too, so one alert rule fits any monitor type.
        count = Point(VIOLATIONS_METRIC, ctx.labels(), float(len(outcome.violations)), ctx.at)
        store.metrics.write_points((*outcome.points, count), execution_id=execution.id)
    except EmptyWindow as empty:
        return _fail(store, execution, empty.reason, clock())
    except ModelmonError as exc:
        return _fail(store, execution, str(exc), clock())
    except Exception as exc:  # a bug must still end the run, with enough to report it
        return _fail(store, execution, f"internal error: {type(exc).__name__}: {exc}", clock())
    return store.executions.transition_execution(
        execution.id,
        outcome.status,
        now=clock(),
        owner=execution.lease_owner,
        output_files=dict(outcome.files),
        exit_message=outcome.message,
    )


def _fail(store: Store, execution: Execution, reason: str, now: datetime) -> Execution:
    return store.executions.transition_execution(
        execution.id,
        ExecutionStatus.FAILED,
        now=now,
        owner=execution.lease_owner,
        failure_reason=reason,
        exit_message=f"Failed: {reason}",
    )
