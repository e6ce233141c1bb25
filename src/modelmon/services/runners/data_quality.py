"""The DataQuality runner: profile the window, check it against the baseline."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modelmon.capture import capture_features
from modelmon.errors import ConfigError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality import (
    DataQualityBaseline,
    DataQualityMonitor,
    DataQualityResult,
)
from modelmon.monitors.data_quality.multivariate import multivariate_metrics
from modelmon.services.runners.context import Outcome, RunContext
from modelmon.store import MonitorType, Point, Schedule

__all__ = ["REFERENCE", "load_data_quality_baseline", "run_data_quality"]


REFERENCE = "multivariate_reference.parquet"


def run_data_quality(ctx: RunContext) -> Outcome:
    """Schedule config: ``multivariate`` (methods among domain_classifier, pca, mmd; needs the
    baseline's row sample) and ``fdr`` (a false-discovery rate across the features)."""
    files = ctx.baseline_files(MonitorType.DATA_QUALITY)
    baseline = load_data_quality_baseline(files, ctx.schedule)
    methods = tuple(ctx.config.get("multivariate", ()))
    if methods:
        if not isinstance(files.get(REFERENCE), str):
            raise ConfigError(
                f"The 'multivariate' config of schedule {ctx.schedule.name!r} needs the "
                f"baseline's row sample ({REFERENCE}); compute the baseline on the server with "
                "multivariate=true. Got a baseline without it instead."
            )
        baseline = replace(baseline, reference=pq.read_table(files[REFERENCE]))
    engine, window = _engine(ctx, capture_features(ctx.read_window()))
    monitor = DataQualityMonitor(multivariate=methods, fdr=ctx.config.get("fdr"), engine=engine)
    result = monitor.check(window, baseline)
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


def _engine(ctx: RunContext, window: pa.Table) -> tuple[object, object]:
    """``engine: "spark"`` (with ``spark_master``) profiles the window on Spark: the typed window
    is handed over as a Spark DataFrame, so both engines see the same columns and types."""
    name = ctx.config.get("engine", "local")
    if name == "local":
        return "local", window
    if name != "spark":
        raise ConfigError(
            f"The 'engine' config of schedule {ctx.schedule.name!r} must be 'local' or 'spark'. "
            f"Got {name!r} instead."
        )
    from modelmon.engines.spark import SparkEngine

    engine = SparkEngine(master=ctx.config.get("spark_master"))
    return engine, engine.spark().createDataFrame(window)


def load_data_quality_baseline(files: dict[str, Any], schedule: Schedule) -> DataQualityBaseline:
    """The DataQuality baseline of ``schedule``'s model version from its stored files."""
    contents = []
    for name in ("statistics.json", "constraints.json"):
        if name not in files:
            raise NotFoundError(
                f"The DataQuality baseline of model {schedule.model!r} version "
                f"{schedule.version!r} has no {name}; attach statistics.json and "
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
    for name, value in multivariate_metrics(result.multivariate).items():
        yield Point(name, ctx.labels(), value, ctx.at)
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
