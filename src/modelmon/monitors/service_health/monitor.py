"""The service-health monitor: is the model up and fast, compared with a benchmark and its past?

``ServiceHealthMonitor`` is a small config object (its constructor only stores parameters);
:meth:`~ServiceHealthMonitor.baseline` summarises a benchmark window (a pre-deployment load test
captured through ``modelmon proxy``, or the previous version's traffic) into
``service_health_baseline.json``; :meth:`~ServiceHealthMonitor.check` summarises a window and
compares it

* with the **benchmark**: a latency percentile violates when it exceeds the benchmark's times
  ``latency_tolerance``; the error rate when its 95% Wilson interval lies wholly above the
  benchmark's rate plus ``error_rate_margin`` (a handful of errors in a small window is not an
  outage). Throughput is not compared with a benchmark: a load test measures capacity, not demand.
* with the series' **own history** (the values of earlier windows): a metric violates when its
  robust z-score (median and MAD of the history) passes ``z_threshold`` in the harmful direction
  (latency or errors up, throughput down) *and* the change is material: latency or throughput
  moved by more than ``min_change`` of the median, the error rate by more than
  ``error_rate_margin``. A flat history makes any change infinitely unusual; the second condition
  keeps a 1 ms wobble from paging anyone. Fewer than ``min_history`` past values: not evaluated.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from modelmon.errors import BaselineFormatError, ConfigError, NotFoundError
from modelmon.formats.atomic import output_directory
from modelmon.formats.sagemaker import JsonObject, write_json_atomic
from modelmon.monitors.prediction_drift.reporting import (
    Violation,
    check_count,
    exit_message,
    save_report,
)
from modelmon.monitors.service_health.summary import PERCENTILES, HealthSummary, summarize
from modelmon.stats.agreement import wilson_interval
from modelmon.stats.latency import robust_zscore

__all__ = [
    "BASELINE_FILE",
    "REPORT_FILE",
    "HealthBaseline",
    "ServiceHealthMonitor",
    "ServiceHealthResult",
    "load_health_baseline",
]

BASELINE_FILE = "service_health_baseline.json"
REPORT_FILE = "service_health_report.json"
_KIND = "ServiceHealthBaseline"


@dataclass(frozen=True)
class HealthBaseline:
    """A benchmark: the summary of a window known to be healthy, and where it came from."""

    summary: HealthSummary
    source: str

    def to_json(self) -> JsonObject:
        return {"kind": _KIND, "version": 1, "source": self.source, **self.summary.to_json()}

    def save(self, directory: str | os.PathLike[str]) -> Path:
        path = output_directory(directory) / BASELINE_FILE
        write_json_atomic(path, self.to_json())
        return path

    @classmethod
    def from_json(cls, obj: object, path: str = BASELINE_FILE) -> HealthBaseline:
        if not isinstance(obj, dict) or obj.get("kind") != _KIND:
            raise BaselineFormatError(
                "this is not a service-health baseline",
                path=path,
                expected=f'a JSON object with "kind": "{_KIND}"',
                found=repr(obj.get("kind")) if isinstance(obj, dict) else type(obj).__name__,
            )
        return cls(HealthSummary.from_json(obj, path), str(obj.get("source", "")))


def load_health_baseline(path: str | os.PathLike[str]) -> HealthBaseline:
    """Read ``service_health_baseline.json`` (or a directory holding it)."""
    target = Path(path)
    if target.is_dir():
        target = target / BASELINE_FILE
    if not target.is_file():
        raise NotFoundError(
            f"service-health baseline {str(target)!r} does not exist; create it with "
            "'modelmon service-health baseline --captures DIR --model M --version V --output DIR'"
        )
    try:
        obj = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineFormatError(
            f"the file is not valid JSON ({error})", path=target, expected="JSON"
        ) from error
    return HealthBaseline.from_json(obj, str(target))


@dataclass(frozen=True)
class ServiceHealthResult:
    summary: HealthSummary
    benchmark: HealthSummary | None
    history: Mapping[str, Sequence[float]]
    violations: tuple[Violation, ...]
    not_evaluated: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    def exit_message(self) -> str:
        return exit_message(len(self.violations))

    def report(self) -> JsonObject:
        return {
            "version": 1,
            "source": self.source,
            "current": self.summary.to_json(),
            "benchmark": None if self.benchmark is None else self.benchmark.to_json(),
            "history_points": {name: len(values) for name, values in self.history.items()},
            "not_evaluated": dict(self.not_evaluated),
            "violations": len(self.violations),
        }

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the report and ``constraint_violations.json`` into ``directory`` atomically."""
        return save_report(directory, REPORT_FILE, self.report(), self.violations)


@dataclass(frozen=True)
class _Config:
    latency_tolerance: float
    error_rate_margin: float
    z_threshold: float
    min_change: float
    min_history: int
    tail: int
    min_records: int


class ServiceHealthMonitor:
    """Latency, throughput and error rate of a window, against a benchmark and its history.

    Parameters
    ----------
    latency_tolerance
        A percentile violates above benchmark x this (default 1.5).
    error_rate_margin
        Error-rate increase tolerated over the benchmark or the history's median (default 0.01).
    z_threshold
        Robust z-score beyond which a value is unusual for its history (default 3.5, Iglewicz
        and Hoaglin's outlier cut-off).
    min_change
        Relative change of latency or throughput needed on top of the z-score (default 0.2).
    min_history
        Past values needed to judge a metric against its history (default 5).
    tail
        Records each percentile needs above it (default 5: p99 needs 500 inferences).
    min_records
        Inferences an error rate needs (default 30).
    """

    def __init__(
        self,
        *,
        latency_tolerance: float = 1.5,
        error_rate_margin: float = 0.01,
        z_threshold: float = 3.5,
        min_change: float = 0.2,
        min_history: int = 5,
        tail: int = 5,
        min_records: int = 30,
    ) -> None:
        self.latency_tolerance = latency_tolerance
        self.error_rate_margin = error_rate_margin
        self.z_threshold = z_threshold
        self.min_change = min_change
        self.min_history = min_history
        self.tail = tail
        self.min_records = min_records

    def summarize(
        self, table: pa.Table, *, start: datetime | None = None, end: datetime | None = None
    ) -> HealthSummary:
        """The window's summary (see :func:`summarize`)."""
        config = self._config()
        return summarize(
            table, start=start, end=end, tail=config.tail, min_records=config.min_records
        )

    def baseline(
        self,
        table: pa.Table,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str = "",
    ) -> HealthBaseline:
        """A benchmark from the captured records of a healthy window."""
        summary = self.summarize(table, start=start, end=end)
        if summary.records == 0:
            raise NotFoundError(
                f"no inference was captured in the benchmark window{_of(source)}; "
                "a baseline needs traffic (widen --start/--end or check --model/--version)"
            )
        return HealthBaseline(summary, source)

    def check(
        self,
        table: pa.Table,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        benchmark: HealthBaseline | HealthSummary | None = None,
        history: Mapping[str, Sequence[float]] | None = None,
        source: str = "",
    ) -> ServiceHealthResult:
        """Summarise a window and compare it with ``benchmark`` and ``history`` (earlier values
        by metric name, as :meth:`HealthSummary.metrics` names them, oldest first)."""
        config = self._config()
        summary = summarize(
            table, start=start, end=end, tail=config.tail, min_records=config.min_records
        )
        bench = benchmark.summary if isinstance(benchmark, HealthBaseline) else benchmark
        reasons = dict(summary.not_evaluated)
        violations: list[Violation] = []
        if bench is not None:
            violations += _against_benchmark(summary, bench, config, reasons)
        past = {name: list(values) for name, values in (history or {}).items()}
        violations += _against_history(summary, past, config, reasons)
        return ServiceHealthResult(
            summary=summary,
            benchmark=bench,
            history=past,
            violations=tuple(violations),
            not_evaluated=reasons,
            source=source,
        )

    def _config(self) -> _Config:
        owner = type(self).__name__
        return _Config(
            latency_tolerance=_positive(owner, "latency_tolerance", self.latency_tolerance, 1.0),
            error_rate_margin=_positive(owner, "error_rate_margin", self.error_rate_margin, 0.0),
            z_threshold=_positive(owner, "z_threshold", self.z_threshold, 0.0),
            min_change=_positive(owner, "min_change", self.min_change, 0.0),
            min_history=check_count(owner, "min_history", self.min_history),
            tail=check_count(owner, "tail", self.tail),
            min_records=check_count(owner, "min_records", self.min_records),
        )


def _of(source: str) -> str:
    return f" ({source})" if source else ""


def _positive(owner: str, parameter: str, value: object, minimum: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and number >= minimum:
            return number
    raise ConfigError(
        f"The {parameter!r} parameter of {owner} must be a finite number >= {minimum:g}. "
        f"Got {value!r} instead."
    )


def _ms(value: float) -> str:
    return f"{value:.4g} ms"


def _percent(value: float) -> str:
    return f"{100 * value:.3g}%"


def _against_benchmark(
    current: HealthSummary, bench: HealthSummary, config: _Config, reasons: dict[str, str]
) -> list[Violation]:
    found = []
    tolerance = config.latency_tolerance
    for name in PERCENTILES:
        now, then = current.latency_ms.get(name), bench.latency_ms.get(name)
        if now is None:
            continue
        if then is None:
            reasons[f"latency_{name}_ms vs benchmark"] = f"the benchmark has no {name}"
            continue
        if now > then * tolerance:
            found.append(
                Violation(
                    f"latency_{name}_ms",
                    "latency_check",
                    f"{name} latency {_ms(now)} exceeds benchmark {_ms(then)} x {tolerance:g} "
                    f"(over {current.latency_records} inferences).",
                )
            )
    now_rate, then_rate = current.error_rate, bench.error_rate
    if now_rate is not None and then_rate is not None:
        low, _ = wilson_interval(current.server_errors, current.records)
        allowed = then_rate + config.error_rate_margin
        if low > allowed:
            found.append(
                Violation(
                    "error_rate",
                    "error_rate_check",
                    f"error rate {_percent(now_rate)} ({current.server_errors} of "
                    f"{current.records} inferences; 95% interval from {_percent(low)}) exceeds "
                    f"benchmark {_percent(then_rate)} + {_percent(config.error_rate_margin)}.",
                )
            )
    elif now_rate is not None:
        reasons["error_rate vs benchmark"] = "the benchmark has no error rate"
    return found


# metric -> (check type, direction that hurts: +1 up, -1 down)
_HISTORY_CHECKS: dict[str, tuple[str, int]] = {
    **{f"latency_{name}_ms": ("latency_history_check", 1) for name in PERCENTILES},
    "throughput_per_min": ("throughput_history_check", -1),
    "error_rate": ("error_rate_history_check", 1),
}


def _against_history(
    current: HealthSummary,
    history: Mapping[str, Sequence[float]],
    config: _Config,
    reasons: dict[str, str],
) -> list[Violation]:
    found = []
    for metric, value in current.metrics().items():
        check, harmful = _HISTORY_CHECKS[metric]
        past = [v for v in history.get(metric, ()) if not math.isnan(v)]
        if len(past) < config.min_history:
            reasons[f"{metric} vs history"] = (
                f"not evaluated: {len(past)} earlier values; at least {config.min_history} "
                "(min_history) are needed"
            )
            continue
        z = robust_zscore(value, past)
        if z is None or z * harmful <= config.z_threshold:
            continue
        median = statistics.median(past)
        if not _material(metric, value, median, config):
            continue
        direction = "above" if harmful > 0 else "below"
        shown = _percent if metric == "error_rate" else (_ms if "latency" in metric else _rate)
        size = "far" if math.isinf(z) else f"{abs(z):.3g} robust SDs"
        found.append(
            Violation(
                metric,
                check,
                f"{_label(metric)} {shown(value)} is {size} {direction} its history "
                f"(median {shown(median)} over the last {len(past)} windows).",
            )
        )
    return found


def _material(metric: str, value: float, median: float, config: _Config) -> bool:
    if metric == "error_rate":
        return value - median > config.error_rate_margin
    if metric == "throughput_per_min":
        return value < median * (1.0 - config.min_change)
    return value > median * (1.0 + config.min_change)


def _rate(value: float) -> str:
    return f"{value:.4g}/min"


def _label(metric: str) -> str:
    if metric.startswith("latency_"):
        return metric.split("_")[1] + " latency"
    return metric.replace("_per_min", "").replace("_", " ")
