"""The ModelQuality runner: measure the window's labelled predictions, estimate the rest.

The schedule's config names the columns (SageMaker's attributes): ``problem_type``,
``inference_attribute``, ``probability_attribute``, ``probability_threshold``,
``ground_truth_attribute`` (default ``label``: the label joined from the capture store) and
``segments``. A name is looked up as given, then as ``output.<name>``, then ``input.<name>``
(how captured columns are stored).

Rows whose prediction or probability is missing (failed inferences) are left out and counted.
A window with predictions but no labels yet is not a zero score: its performance is estimated
(classifiers with scores), no constraint is checked, and the message says so. Points:

* ``model_quality_<metric>``: measured values (plus ``segment="<column>=<value>"`` per segment);
* ``model_quality_estimated_<metric>`` with ``..._lower`` and ``..._upper``: the estimate;
* ``model_quality_label_coverage``: the share of the window's rows that have a label;
* ``model_quality_calibration_p_value``: the calibration test, once enough labels are in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.errors import ConfigError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.formats import sagemaker_model_quality as mq
from modelmon.monitors.model_quality import (
    ModelQualityBaseline,
    ModelQualityMonitor,
    ModelQualityResult,
)
from modelmon.monitors.model_quality.estimation import (
    CALIBRATION_FILE,
    calibration_from_json,
    points_of,
)
from modelmon.monitors.model_quality.monitor import baseline_from_parts
from modelmon.monitors.model_quality.segments import (
    SEGMENT_CONSTRAINTS_FILE,
    segment_constraints_from_json,
)
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.store import MonitorType, Point

__all__ = ["run_model_quality"]

_CAPTURE_PREFIXES = ("output.", "input.")


def run_model_quality(ctx: RunContext) -> Outcome:
    config = ctx.config
    baseline = _baseline(ctx.baseline_files(MonitorType.MODEL_QUALITY), ctx)
    table = ctx.read_window(with_labels=True)
    columns = _columns(config, table.column_names, baseline.problem_type)
    inference = _name(config, "inference_attribute", columns)
    probability = _name(config, "probability_attribute", columns)
    table, dropped = _usable_rows(table, [columns[n] for n in (inference, probability) if n])
    if table.num_rows == 0:
        raise EmptyWindow(f"no predictions in window ({dropped} rows without one)")
    window = pa.table({name: table[column] for name, column in columns.items()})
    monitor = ModelQualityMonitor(
        baseline.problem_type,
        inference_attribute=inference,
        probability_attribute=probability,
        probability_threshold=float(config.get("probability_threshold", 0.5)),
        ground_truth_attribute=str(config.get("ground_truth_attribute", "label")),
        segments=list(config.get("segments", [])),
        clock=ctx.clock,
    )
    result = monitor.check(window, baseline)
    written = result.save(ctx.report_dir)
    message = result.exit_message()
    if dropped:
        message += f" {dropped} rows without a prediction were left out."
    return Outcome(
        has_violations=result.has_violations,
        message=message,
        files={path.name: str(path) for path in written},
        violations=tuple(
            (v.metric_name, v.constraint_check_type, v.description) for v in result.violations
        ),
        points=tuple(_points(result, ctx)),
    )


def _baseline(files: Mapping[str, Any], ctx: RunContext) -> ModelQualityBaseline:
    def content(name: str) -> tuple[object, str]:
        value = files[name]
        # A stored file is its decoded JSON, or a path to it.
        return (sm.load_json_file(value), value) if isinstance(value, str) else (value, name)

    for name in ("statistics.json", "constraints.json"):
        if name not in files:
            raise NotFoundError(
                f"The ModelQuality baseline of model {ctx.schedule.model!r} version "
                f"{ctx.schedule.version!r} has no {name}; attach the statistics.json and "
                "constraints.json of 'modelmon model-quality baseline'."
            )
    obj, where = content("statistics.json")
    statistics = mq.statistics_from_json(obj, path=where)
    obj, where = content("constraints.json")
    constraints = mq.constraints_from_json(obj, path=where)
    calibration = None
    if CALIBRATION_FILE in files:
        obj, where = content(CALIBRATION_FILE)
        calibration = calibration_from_json(obj, path=where)
    segments = None
    if SEGMENT_CONSTRAINTS_FILE in files:
        obj, where = content(SEGMENT_CONSTRAINTS_FILE)
        segments = segment_constraints_from_json(obj, path=where)
    return baseline_from_parts(statistics, constraints, calibration, segments)


def _columns(config: Mapping[str, Any], names: list[str], problem: str) -> dict[str, str]:
    """Config attribute name -> window column, for every attribute the config names."""
    wanted: list[tuple[str, str]] = [("ground_truth_attribute", "label")]
    for key in ("inference_attribute", "probability_attribute"):
        if config.get(key):
            wanted.append((key, ""))
    chosen: dict[str, str] = {}
    for key, default in wanted:
        name = str(config.get(key) or default)
        chosen[name] = _find(name, names, key)
    segments = config.get("segments", [])
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise ConfigError(
            "The 'segments' entry of the ModelQuality schedule config must be a list of column "
            f"names. Got {segments!r} instead."
        )
    for segment in segments:
        chosen[segment] = _find(segment, names, "segments")
    if not config.get("inference_attribute") and not (
        problem == "BinaryClassification" and config.get("probability_attribute")
    ):
        raise ConfigError(
            "The ModelQuality schedule config must name 'inference_attribute' (the prediction "
            "column), or, for a binary classifier, 'probability_attribute'."
        )
    return chosen


def _find(name: str, names: list[str], key: str) -> str:
    for candidate in (name, *(prefix + name for prefix in _CAPTURE_PREFIXES)):
        if candidate in names:
            return candidate
    captured = [n for n in names if n.startswith(_CAPTURE_PREFIXES)]
    raise ConfigError(
        f"The {key!r} of the ModelQuality schedule config names column {name!r}, which the "
        f"captured window does not have (as {name!r}, 'output.{name}' or 'input.{name}'). "
        f"Captured columns: {', '.join(captured[:12]) or 'none'}."
    )


def _name(config: Mapping[str, Any], key: str, columns: Mapping[str, str]) -> str | None:
    value = config.get(key)
    return str(value) if value and str(value) in columns else None


def _usable_rows(table: pa.Table, columns: list[str]) -> tuple[pa.Table, int]:
    """The rows that hold a prediction (and a probability, if configured)."""
    mask = None
    for column in columns:
        valid = pc.is_valid(table[column])
        mask = valid if mask is None else pc.and_(mask, valid)
    if mask is None:
        return table, 0
    kept = table.filter(mask)
    return kept, table.num_rows - kept.num_rows


def _points(result: ModelQualityResult, ctx: RunContext) -> Iterator[Point]:
    if result.item_count:
        share = result.labelled_count / result.item_count
        yield Point("model_quality_label_coverage", ctx.labels(), share, ctx.at)
    if result.statistics is not None:
        yield from _metric_points(result.statistics.metrics, ctx.labels(), ctx)
    for segment in result.segments:
        yield from _metric_points(segment.statistics.metrics, ctx.labels(segment=segment.name), ctx)
    if result.estimate is not None:
        for name, bounds in points_of(result.estimate).items():
            base = f"model_quality_estimated_{name}"
            yield Point(base, ctx.labels(), bounds["value"], ctx.at)
            yield Point(f"{base}_lower", ctx.labels(), bounds["lower"], ctx.at)
            yield Point(f"{base}_upper", ctx.labels(), bounds["upper"], ctx.at)
        test = result.estimate.calibration_test
        if test is not None and math.isfinite(test.p_value):
            yield Point("model_quality_calibration_p_value", ctx.labels(), test.p_value, ctx.at)


def _metric_points(
    metrics: Mapping[str, mq.MetricValue], labels: dict[str, str], ctx: RunContext
) -> Iterator[Point]:
    for name, metric in metrics.items():
        if math.isfinite(metric.value):
            yield Point(f"model_quality_{name}", labels, metric.value, ctx.at)
