"""Run one execution: read its window of captured data, check it, record what was found.

Whatever happens, the execution leaves InProgress: an empty window, a user error and a bug all
end as Failed with a reason, so no run is ever stuck (the lease expiry in the store is only the
backstop for a process that dies outright).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from modelmon.capture import capture_features, read_captures
from modelmon.errors import ModelmonError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality import (
    DataQualityBaseline,
    DataQualityMonitor,
    DataQualityResult,
)
from modelmon.store import Execution, ExecutionStatus, MonitorType, Point, Schedule, Store

__all__ = ["EMPTY_WINDOW_REASON", "run_execution"]

EMPTY_WINDOW_REASON = "no captured data in window"


class _EmptyWindow(Exception):
    """Nothing was captured in the window: SageMaker's Failed case, not an error of ours."""


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
    if schedule.monitor_type is not MonitorType.DATA_QUALITY:
        reason = f"monitor type {schedule.monitor_type.value} is not supported yet"
        return _fail(store, execution, reason, clock())
    try:
        status, message, files = _data_quality(store, execution, schedule, Path(data_dir), clock)
    except _EmptyWindow:
        return _fail(store, execution, EMPTY_WINDOW_REASON, clock())
    except ModelmonError as exc:
        return _fail(store, execution, str(exc), clock())
    except Exception as exc:  # a bug must still end the run, with enough to report it
        return _fail(store, execution, f"internal error: {type(exc).__name__}: {exc}", clock())
    return store.executions.transition_execution(
        execution.id,
        status,
        now=clock(),
        owner=execution.lease_owner,
        output_files=files,
        exit_message=message,
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


def _data_quality(
    store: Store,
    execution: Execution,
    schedule: Schedule,
    data_dir: Path,
    clock: Callable[[], datetime],
) -> tuple[ExecutionStatus, str, dict[str, Any]]:
    baseline = _baseline(store, schedule)
    table = _window(data_dir, schedule, execution)
    result = DataQualityMonitor().check(capture_features(table), baseline)
    written = result.save(_report_dir(data_dir, schedule, execution))
    store.violations.add_violations(
        execution.id,
        ((v.feature_name, v.constraint_check_type, v.description) for v in result.violations),
        now=clock(),
    )
    store.metrics.write_points(_points(result, schedule, execution), execution_id=execution.id)
    status = (
        ExecutionStatus.COMPLETED_WITH_VIOLATIONS
        if result.has_violations
        else ExecutionStatus.COMPLETED
    )
    return status, result.exit_message(), {path.name: str(path) for path in written}


def _baseline(store: Store, schedule: Schedule) -> DataQualityBaseline:
    stored = store.models.get_baseline(schedule.model, schedule.version, MonitorType.DATA_QUALITY)
    # Each file is kept either as its decoded JSON or as a path to it (see Baseline).
    contents = []
    for name in ("statistics.json", "constraints.json"):
        if name not in stored.files:
            raise NotFoundError(
                f"The DataQuality baseline of model {schedule.model!r} version "
                f"{schedule.version!r} has no {name}; attach statistics.json and constraints.json."
            )
        contents.append(stored.files[name])
    statistics, constraints = contents
    return DataQualityBaseline(
        sm.read_statistics(statistics)
        if isinstance(statistics, str)
        else sm.statistics_from_json(statistics, path="statistics.json"),
        sm.read_constraints(constraints)
        if isinstance(constraints, str)
        else sm.constraints_from_json(constraints, path="constraints.json"),
    )


def _window(data_dir: Path, schedule: Schedule, execution: Execution) -> pa.Table:
    try:
        table = read_captures(
            data_dir,
            schedule.model,
            version=schedule.version,
            start=execution.window_start,
            end=execution.window_end,
        )
    except NotFoundError:
        # Nothing was ever captured for the model: to the user that is an empty window too.
        raise _EmptyWindow from None
    if table.num_rows == 0:
        raise _EmptyWindow
    return table


def _report_dir(data_dir: Path, schedule: Schedule, execution: Execution) -> Path:
    # SageMaker's report layout: {output}/{schedule}/yyyy/mm/dd/hh/ of the nominal time.
    return data_dir / "reports" / schedule.name / execution.scheduled_time.strftime("%Y/%m/%d/%H")


def _points(result: DataQualityResult, schedule: Schedule, execution: Execution) -> Iterator[Point]:
    def labels(feature: str) -> dict[str, str]:
        return {
            "model": schedule.model,
            "version": schedule.version,
            "monitor": MonitorType.DATA_QUALITY.value,
            "feature": feature,
            "schedule": schedule.name,
        }

    # A window's points are stamped with its end: the moment the data they describe is complete.
    at = execution.window_end
    for drift in result.drift:
        # A feature that was not evaluated has no distance; a NaN point would read as one.
        if drift.drift is not None and math.isfinite(drift.statistic):
            name = f"feature_baseline_drift_{drift.name}"
            yield Point(name, labels(drift.name), drift.statistic, at)
    for feature in result.statistics.features:
        counts = feature.numerical or feature.string
        if counts is not None and counts.num_present + counts.num_missing > 0:
            completeness = counts.num_present / (counts.num_present + counts.num_missing)
            yield Point(f"feature_non_null_{feature.name}", labels(feature.name), completeness, at)
