"""The ModelBias runner: Clarify's bias metrics on a window with labels, judged against the
baseline's ``analysis.json``.

The schedule's config holds the ``BiasMonitor`` parameters (``label``, ``label_values``,
``facets``, ``predicted_label`` or ``probability_attribute`` and ``probability_threshold``,
``group_variable``...); anything missing is taken from the baseline's ``analysis_config.json``.
Config names are matched to the window's columns as written, then as ``output.<name>``, then as
``input.<name>``; the joined ground truth is ``label``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from modelmon.capture.columns import INPUT_PREFIX, OUTPUT_PREFIX
from modelmon.errors import NotFoundError
from modelmon.formats import clarify
from modelmon.formats.clarify import ANALYSIS, ANALYSIS_CONFIG
from modelmon.monitors.bias import BiasBaseline, BiasMonitor, BiasResult
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.stats.bias import PUBLISHED_INFINITY
from modelmon.store import MonitorType, Point

__all__ = ["run_model_bias", "stored_baseline", "window_columns"]

LABEL = "label"


def run_model_bias(ctx: RunContext) -> Outcome:
    baseline = _baseline(ctx.baseline_files(MonitorType.MODEL_BIAS), ctx)
    monitor = BiasMonitor.from_config(ctx.config)
    table = ctx.read_window(with_labels=True)
    if LABEL in table.column_names and table[LABEL].null_count == table.num_rows:
        raise EmptyWindow("no labels in window")
    result = monitor.check(window_columns(table), baseline)
    written = result.save(ctx.report_dir)
    return Outcome(
        has_violations=result.has_violations,
        message=result.exit_message(),
        files={path.name: str(path) for path in written},
        violations=tuple(
            (d.point_label, clarify.BIAS_CHECK, d.violation().description)
            for d in result.drift
            if d.violated
        ),
        points=tuple(_points(result, ctx)),
    )


def window_columns(table: pa.Table) -> pa.Table:
    """The window as a monitor reads it: the joined ``label``, then every ``output.<name>`` and
    ``input.<name>`` as ``<name>`` (an output wins over an input of the same name), so that a
    config name matches exactly, then as an output, then as an input."""
    columns: dict[str, pa.ChunkedArray] = {}
    if LABEL in table.column_names:
        columns[LABEL] = table[LABEL]
    for prefix in (OUTPUT_PREFIX, INPUT_PREFIX):
        for name in table.column_names:
            if name.startswith(prefix):
                columns.setdefault(name[len(prefix) :], table[name])
    return pa.table(columns)


def stored_baseline(
    files: dict[str, Any], ctx: RunContext, create_with: str
) -> tuple[object, Mapping[str, Any]]:
    """The decoded ``analysis.json`` and ``analysis_config.json`` (empty if absent) of the model
    version's stored baseline; each file is stored decoded or as a path."""
    if ANALYSIS not in files:
        raise NotFoundError(
            f"The {ctx.schedule.monitor_type.value} baseline of model {ctx.schedule.model!r} "
            f"version {ctx.schedule.version!r} has no {ANALYSIS}; attach the files of "
            f"'{create_with}'."
        )
    raw, config = files[ANALYSIS], files.get(ANALYSIS_CONFIG, {})
    if isinstance(raw, str):
        raw = clarify.load_json(raw)
    if isinstance(config, str):
        config = clarify.load_json(config)
    return raw, clarify.config_mapping(config, ANALYSIS_CONFIG)


def _baseline(files: dict[str, Any], ctx: RunContext) -> BiasBaseline:
    raw, config = stored_baseline(files, ctx, "modelmon bias baseline")
    return BiasBaseline(clarify.bias_analysis_from_json(raw, path=ANALYSIS), config)


def _points(result: BiasResult, ctx: RunContext) -> Iterator[Point]:
    for drift in result.drift:
        if drift.value is None or math.isnan(drift.value):
            continue  # insufficient data is not a number
        value = max(-PUBLISHED_INFINITY, min(PUBLISHED_INFINITY, drift.value))
        labels = ctx.labels(facet=drift.point_label, stage=drift.stage)
        yield Point(f"bias_{drift.metric}", labels, value, ctx.at)
