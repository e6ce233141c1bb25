"""The PredictionDrift runner: does the schedule's version agree with another version on the same
inferences of the window?

The schedule's version is the candidate (in shadow mode, the challenger the proxy mirrors
traffic to); the baseline is ``baseline_version``, by default the version registered just before
it. Both versions' captures of the window are paired by inference id. Config keys: ``output``
(the prediction to compare, e.g. ``"default_probability"``; may be left out when the captures
hold a single output), ``baseline_version``, ``segment`` (an input to break the comparison down
by), and the :class:`~modelmon.monitors.prediction_drift.PredictionDriftMonitor` parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pyarrow as pa

from modelmon.capture import read_captures
from modelmon.capture.columns import OUTPUT_PREFIX
from modelmon.errors import ConfigError, NotFoundError
from modelmon.monitors.prediction_drift import (
    GroupAgreement,
    PredictionDriftMonitor,
    PredictionDriftResult,
)
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.services.runners.service_health import check_keys
from modelmon.store import Point

__all__ = ["run_prediction_drift"]

_MONITOR_OPTIONS = (
    "kind",
    "max_disagreement",
    "decision_threshold",
    "max_ks",
    "min_rank_correlation",
    "max_mean_abs_diff",
    "comparison_method",
    "min_rows",
    "max_segments",
)
_OWN_OPTIONS = ("output", "baseline_version", "segment")


def run_prediction_drift(ctx: RunContext) -> Outcome:
    config = dict(ctx.config)
    check_keys(config, (*_MONITOR_OPTIONS, *_OWN_OPTIONS), ctx)
    monitor = PredictionDriftMonitor(**{k: config[k] for k in _MONITOR_OPTIONS if k in config})
    baseline_version = _baseline_version(ctx, config.get("baseline_version"))
    candidate = ctx.read_window()
    baseline = _baseline_window(ctx, baseline_version)
    output = _output(ctx, config.get("output"), candidate)
    segment = config.get("segment")
    if segment is not None and not isinstance(segment, str):
        raise ConfigError(
            f"The 'segment' key of schedule {ctx.schedule.name!r} must name an input. "
            f"Got {segment!r} instead."
        )
    result = monitor.check_captures(
        baseline,
        candidate,
        output,
        segment_column=segment,
        baseline_name=baseline_version,
        candidate_name=ctx.schedule.version,
        source=(
            f"model {ctx.schedule.model!r}, {ctx.execution.window_start.isoformat()} to "
            f"{ctx.execution.window_end.isoformat()}"
        ),
    )
    if result.overall.rows == 0:
        raise EmptyWindow(
            f"no inference in window was answered by both version {baseline_version!r} and "
            f"version {ctx.schedule.version!r}"
        )
    written = result.save(ctx.report_dir)
    return Outcome(
        has_violations=result.has_violations,
        message=result.exit_message(),
        files={path.name: str(path) for path in written},
        violations=tuple(v.as_tuple() for v in result.violations),
        points=tuple(_points(result, ctx, baseline_version)),
    )


def _baseline_version(ctx: RunContext, configured: object) -> str:
    if configured is not None:
        if not isinstance(configured, str):
            raise ConfigError(
                f"The 'baseline_version' key of schedule {ctx.schedule.name!r} must be a "
                f"version name. Got {configured!r} instead."
            )
        return configured
    names = [v.version for v in ctx.store.models.list_versions(ctx.schedule.model)]
    position = names.index(ctx.schedule.version) if ctx.schedule.version in names else -1
    if position <= 0:
        raise ConfigError(
            f"Version {ctx.schedule.version!r} is the first version of model "
            f"{ctx.schedule.model!r}, so there is no previous version to compare with; set "
            "'baseline_version' in the schedule's config."
        )
    return names[position - 1]


def _baseline_window(ctx: RunContext, version: str) -> pa.Table:
    try:
        table = read_captures(
            ctx.data_dir,
            ctx.schedule.model,
            version=version,
            start=ctx.execution.window_start,
            end=ctx.execution.window_end,
            with_labels=False,
        )
    except NotFoundError:
        raise EmptyWindow(f"nothing was captured for baseline version {version!r}") from None
    if table.num_rows == 0:
        raise EmptyWindow(f"no captured data of baseline version {version!r} in window")
    return table


def _output(ctx: RunContext, configured: object, table: pa.Table) -> str:
    if configured is not None:
        if not isinstance(configured, str):
            raise ConfigError(
                f"The 'output' key of schedule {ctx.schedule.name!r} must name an output. "
                f"Got {configured!r} instead."
            )
        return configured
    outputs = [n for n in table.column_names if n.startswith(OUTPUT_PREFIX)]
    if len(outputs) != 1:
        raise ConfigError(
            f"The config of schedule {ctx.schedule.name!r} must name the 'output' to compare: "
            f"the captures hold {len(outputs)} outputs ({', '.join(outputs) or 'none'})."
        )
    return str(outputs[0])


def _values(group: GroupAgreement) -> Iterator[tuple[str, float]]:
    yield "prediction_compared_rows", float(group.rows)
    if group.labels is not None:
        yield "prediction_disagreement_rate", group.labels.rate
    if group.scores is not None:
        yield "prediction_score_mean_abs_diff", group.scores.mean_abs_diff
        yield "prediction_score_ks", group.scores.ks_statistic
        if group.scores.rank_correlation is not None:
            yield "prediction_rank_correlation", group.scores.rank_correlation


def _points(result: PredictionDriftResult, ctx: RunContext, baseline: str) -> Iterator[Point]:
    column = result.segment_column or "segment"
    for group in (result.overall, *result.segments):
        extra: dict[str, str] = {"baseline_version": baseline}
        if group.segment is not None:
            extra["segment"] = f"{column}={group.segment}"
        for name, value in _values(group):
            if math.isfinite(value):
                yield Point(name, ctx.labels(**extra), value, ctx.at)
