"""The ServiceHealth runner: latency, throughput and error rate of the window, against a
benchmark and the series' own history.

Config keys (all optional): ``benchmark_version`` (compare with that version's traffic in the same
window, e.g. the stable version next to a canary; default: the attached ServiceHealth baseline,
``service_health_baseline.json``, if any), ``history_points`` (how many earlier windows the
history holds, default 24), ``history_hours`` (how far back to look for them, default 168), and
the :class:`~modelmon.monitors.service_health.ServiceHealthMonitor` parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from modelmon.capture import read_captures
from modelmon.errors import ConfigError, NotFoundError
from modelmon.monitors.service_health import (
    BASELINE_FILE,
    HealthBaseline,
    HealthSummary,
    ServiceHealthMonitor,
    ServiceHealthResult,
    load_health_baseline,
)
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.store import MonitorType, Point

__all__ = ["POINT_PREFIX", "run_service_health"]

POINT_PREFIX = "service_"
_MONITOR_OPTIONS = (
    "latency_tolerance",
    "error_rate_margin",
    "z_threshold",
    "min_change",
    "min_history",
    "tail",
    "min_records",
)
_OWN_OPTIONS = ("benchmark_version", "history_points", "history_hours")


def run_service_health(ctx: RunContext) -> Outcome:
    config = dict(ctx.config)
    check_keys(config, (*_MONITOR_OPTIONS, *_OWN_OPTIONS), ctx)
    monitor = ServiceHealthMonitor(**{k: config[k] for k in _MONITOR_OPTIONS if k in config})
    try:
        table = ctx.read_window()
    except EmptyWindow:
        return _outage(ctx, _history(ctx, config)["throughput_per_min"])
    start, end = ctx.execution.window_start, ctx.execution.window_end
    result = monitor.check(
        table,
        start=start,
        end=end,
        benchmark=_benchmark(ctx, monitor, config.get("benchmark_version")),
        history=_history(ctx, config),
        source=(
            f"model {ctx.schedule.model!r} version {ctx.schedule.version!r}, "
            f"{start.isoformat()} to {end.isoformat()}"
        ),
    )
    written = result.save(ctx.report_dir)
    return Outcome(
        has_violations=result.has_violations,
        message=result.exit_message(),
        files={path.name: str(path) for path in written},
        violations=tuple(v.as_tuple() for v in result.violations),
        points=tuple(_points(result, ctx)),
    )


def check_keys(config: dict[str, Any], known: tuple[str, ...], ctx: RunContext) -> None:
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ConfigError(
            f"The config of schedule {ctx.schedule.name!r} has unknown keys "
            f"{', '.join(map(repr, unknown))}; the {ctx.schedule.monitor_type} monitor knows "
            f"{', '.join(known)}."
        )


def _benchmark(
    ctx: RunContext, monitor: ServiceHealthMonitor, version: object
) -> HealthSummary | HealthBaseline | None:
    if version is not None:
        if not isinstance(version, str):
            raise ConfigError(
                f"The 'benchmark_version' key of schedule {ctx.schedule.name!r} must be a "
                f"version name. Got {version!r} instead."
            )
        start, end = ctx.execution.window_start, ctx.execution.window_end
        table = read_captures(
            ctx.data_dir, ctx.schedule.model, version=version, start=start, end=end,
            with_labels=False,
        )  # fmt: skip
        return monitor.summarize(table, start=start, end=end)
    try:
        files = ctx.baseline_files(MonitorType.SERVICE_HEALTH)
    except NotFoundError:
        return None  # no benchmark: the history alone judges
    stored = files.get(BASELINE_FILE)
    if stored is None:
        raise NotFoundError(
            f"The ServiceHealth baseline of model {ctx.schedule.model!r} version "
            f"{ctx.schedule.version!r} has no {BASELINE_FILE}; attach the file "
            "'modelmon service-health baseline' writes."
        )
    if isinstance(stored, str):
        return load_health_baseline(stored)
    return HealthBaseline.from_json(stored, BASELINE_FILE)


def _positive_int(config: dict[str, Any], key: str, default: int, ctx: RunContext) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"The {key!r} key of schedule {ctx.schedule.name!r} must be an int >= 1. "
            f"Got {value!r} instead."
        )
    return value


def _history(ctx: RunContext, config: dict[str, Any]) -> dict[str, list[float]]:
    """Earlier windows' values of each metric of this schedule, oldest first."""
    keep = _positive_int(config, "history_points", 24, ctx)
    hours = _positive_int(config, "history_hours", 168, ctx)
    history: dict[str, list[float]] = {}
    for metric in _METRICS:
        series = ctx.store.metrics.query_points(
            POINT_PREFIX + metric, ctx.labels(), start=ctx.at - timedelta(hours=hours), end=ctx.at
        )
        values = [v for s in series if s.labels == ctx.labels() for v in s.values]
        history[metric] = values[-keep:]
    return history


_METRICS = (
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "throughput_per_min",
    "error_rate",
)


def _outage(ctx: RunContext, throughput: list[float]) -> Outcome:
    """No inference in a window of a model that had traffic: an outage, not a missing window.

    Without earlier traffic the window stays SageMaker's Failed "no captured data"."""
    if not any(value > 0 for value in throughput):
        raise EmptyWindow
    typical = sorted(throughput)[len(throughput) // 2]
    description = (
        f"no inference was captured in the window, against a typical {typical:.3g} per minute "
        "before it: the model or its capture may be down."
    )
    return Outcome(
        has_violations=True,
        message="CompletedWithViolations: no traffic in the window (possible outage).",
        violations=(("throughput_per_min", "throughput_history_check", description),),
        points=(Point(POINT_PREFIX + "throughput_per_min", ctx.labels(), 0.0, ctx.at),),
    )


def _points(result: ServiceHealthResult, ctx: RunContext) -> Iterator[Point]:
    for metric, value in result.summary.metrics().items():
        yield Point(POINT_PREFIX + metric, ctx.labels(), value, ctx.at)
