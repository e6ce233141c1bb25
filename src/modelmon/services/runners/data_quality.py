"""The DataQuality runner: profile the window, check it against the baseline."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from modelmon.capture import capture_features
from modelmon.errors import NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality import (
    DataQualityBaseline,
    DataQualityMonitor,
    DataQualityResult,
)
from modelmon.services.runners.context import Outcome, RunContext
from modelmon.store import MonitorType, Point

__all__ = ["run_data_quality"]


def run_data_quality(ctx: RunContext) -> Outcome:
    baseline = _baseline(ctx.baseline_files(MonitorType.DATA_QUALITY), ctx)
    table = ctx.read_window()
    result = DataQualityMonitor().check(capture_features(table), baseline)
    written = result.save(ctx.report_dir)
    return Outcome(
        has_violations=result.has_violations,
        message=result.exit_message(),
        files={path.name: str(path) for path in written},
        violations=tuple(
            (v.feature_name, v.constraint_check_type, v.description) for v in result.violations
        ),
        points=tuple(_points(result, ctx)),
    )


def _baseline(files: dict[str, Any], ctx: RunContext) -> DataQualityBaseline:
    contents = []
    for name in ("statistics.json", "constraints.json"):
        if name not in files:
            raise NotFoundError(
                f"The DataQuality baseline of model {ctx.schedule.model!r} version "
                f"{ctx.schedule.version!r} has no {name}; attach statistics.json and "
                "constraints.json."
            )
        contents.append(files[name])
    statistics, constraints = contents
    return DataQualityBaseline(
        sm.read_statistics(statistics)
        if isinstance(statistics, str)
        else sm.statistics_from_json(statistics, path="statistics.json"),
        sm.read_constraints(constraints)
        if isinstance(constraints, str)
        else sm.constraints_from_json(constraints, path="constraints.json"),
    )


def _points(result: DataQualityResult, ctx: RunContext) -> Iterator[Point]:
    for drift in result.drift:
        # A feature that was not evaluated has no distance; a NaN point would read as one.
        if drift.drift is not None and math.isfinite(drift.statistic):
            name = f"feature_baseline_drift_{drift.name}"
            yield Point(name, ctx.labels(feature=drift.name), drift.statistic, ctx.at)
    for feature in result.statistics.features:
        counts = feature.numerical or feature.string
        if counts is not None and counts.num_present + counts.num_missing > 0:
            completeness = counts.num_present / (counts.num_present + counts.num_missing)
            labels = ctx.labels(feature=feature.name)
            yield Point(f"feature_non_null_{feature.name}", labels, completeness, ctx.at)
