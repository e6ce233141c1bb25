"""A window of captured inferences summarised for service health, and its JSON form.

One inference counts once, however many rows (instances) its request held: the ``row_index`` 0
row carries its latency, status and error. Failed inferences count in the latency percentiles too
(a timeout is what the client waited). A percentile computed from too few records to mean
anything (see :func:`~modelmon.stats.latency.quantile_needs`) is left out with the reason, and so
is the throughput of a window whose length is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.errors import BaselineFormatError, DatasetError
from modelmon.formats.sagemaker import JsonObject
from modelmon.stats.latency import (
    failure_counts,
    latency_percentiles,
    per_minute,
    quantile_needs,
)

__all__ = ["PERCENTILES", "HealthSummary", "summarize"]

# Name in reports and metric points -> quantile.
PERCENTILES: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
_NEEDED_COLUMNS = ("row_index", "latency_ms", "status", "error", "inference_time")


@dataclass(frozen=True)
class HealthSummary:
    """Latency percentiles (ms), throughput (inferences per minute) and error rates of a window.

    A value is None when it could not be measured honestly; ``not_evaluated`` says why.
    """

    records: int
    latency_records: int
    latency_ms: Mapping[str, float | None]
    mean_latency_ms: float | None
    max_latency_ms: float | None
    throughput_per_min: float | None
    error_rate: float | None
    client_error_rate: float | None
    server_errors: int
    window_seconds: float | None
    not_evaluated: Mapping[str, str] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The measured values by metric name (``latency_p99_ms``, ``error_rate``...)."""
        values: dict[str, float | None] = {
            **{f"latency_{name}_ms": value for name, value in self.latency_ms.items()},
            "throughput_per_min": self.throughput_per_min,
            "error_rate": self.error_rate,
        }
        return {name: value for name, value in values.items() if value is not None}

    def to_json(self) -> JsonObject:
        return {
            "records": self.records,
            "latency_records": self.latency_records,
            "latency_ms": dict(self.latency_ms),
            "mean_latency_ms": self.mean_latency_ms,
            "max_latency_ms": self.max_latency_ms,
            "throughput_per_min": self.throughput_per_min,
            "error_rate": self.error_rate,
            "client_error_rate": self.client_error_rate,
            "server_errors": self.server_errors,
            "window_seconds": self.window_seconds,
            "not_evaluated": dict(self.not_evaluated),
        }

    @classmethod
    def from_json(cls, obj: object, path: str) -> HealthSummary:
        """Read what :meth:`to_json` wrote; a BaselineFormatError names the bad field."""
        if not isinstance(obj, dict):
            raise BaselineFormatError(
                "a service-health summary must be a JSON object",
                path=path,
                expected="an object",
                found=type(obj).__name__,
            )
        latency = obj.get("latency_ms")
        if not isinstance(latency, dict):
            raise BaselineFormatError(
                "the field 'latency_ms' is missing or not an object",
                path=path,
                expected='an object such as {"p50": 12.5, "p90": 30.1, "p99": 80.0}',
                found=repr(latency),
            )
        reasons = obj.get("not_evaluated") or {}
        return cls(
            records=_count(obj, "records", path),
            latency_records=_count(obj, "latency_records", path),
            latency_ms={
                name: _number(latency, name, f"{path}: latency_ms")
                for name in PERCENTILES
                if name in latency
            },
            mean_latency_ms=_number(obj, "mean_latency_ms", path),
            max_latency_ms=_number(obj, "max_latency_ms", path),
            throughput_per_min=_number(obj, "throughput_per_min", path),
            error_rate=_number(obj, "error_rate", path),
            client_error_rate=_number(obj, "client_error_rate", path),
            server_errors=_count(obj, "server_errors", path),
            window_seconds=_number(obj, "window_seconds", path),
            not_evaluated={str(k): str(v) for k, v in cast("dict[str, object]", reasons).items()},
        )


def _number(obj: Mapping[str, object], key: str, path: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BaselineFormatError(
            f"the field {key!r} must be a number or null",
            path=path,
            expected="a finite number or null",
            found=repr(value),
        )
    return float(value)


def _count(obj: Mapping[str, object], key: str, path: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BaselineFormatError(
            f"the field {key!r} must be a count",
            path=path,
            expected="an integer >= 0",
            found=repr(value),
        )
    return value


def summarize(
    table: pa.Table,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    tail: int = 5,
    min_records: int = 30,
) -> HealthSummary:
    """Summarise captured records (a ``read_captures`` table) of one window.

    ``start``/``end`` bound the window for the throughput; without them it runs from the first
    to the last inference. ``tail`` decides how many records each percentile needs; error rates
    need ``min_records`` inferences.
    """
    missing = [name for name in _NEEDED_COLUMNS if name not in table.column_names]
    if missing:
        raise DatasetError(
            "the table is not a capture of inferences",
            column=missing[0],
            expected="the capture columns " + ", ".join(_NEEDED_COLUMNS),
            found="columns " + ", ".join(table.column_names),
        )
    first_rows = table.filter(pc.equal(table["row_index"], 0))
    records = first_rows.num_rows
    reasons: dict[str, str] = {}
    latencies = first_rows["latency_ms"].cast(pa.float64()).drop_null().to_numpy()
    latencies = latencies[np.isfinite(latencies)]
    percentiles: dict[str, float | None] = {}
    for name, quantile in PERCENTILES.items():
        needed = quantile_needs(quantile, tail)
        if latencies.size < needed:
            percentiles[name] = None
            reasons[f"latency_{name}_ms"] = (
                f"not evaluated: {latencies.size} inferences with a latency; the {name} needs "
                f"at least {needed}"
            )
        else:
            percentiles[name] = latency_percentiles(latencies, [quantile])[0]
    failures = failure_counts(first_rows["status"].to_pylist(), first_rows["error"].to_pylist())
    error_rate: float | None = failures.error_rate
    client_rate: float | None = failures.client_error_rate
    if records < min_records:
        error_rate = client_rate = None
        reasons["error_rate"] = (
            f"not evaluated: {records} inferences; an error rate needs at least {min_records}"
        )
    seconds = _window_seconds(first_rows, start, end)
    throughput = None
    if seconds is None:
        reasons["throughput_per_min"] = (
            "not evaluated: the window's length is unknown (give its start and end)"
        )
    else:
        throughput = per_minute(records, seconds)
    return HealthSummary(
        records=records,
        latency_records=int(latencies.size),
        latency_ms=percentiles,
        mean_latency_ms=float(latencies.mean()) if latencies.size else None,
        max_latency_ms=float(latencies.max()) if latencies.size else None,
        throughput_per_min=throughput,
        error_rate=error_rate,
        client_error_rate=client_rate,
        server_errors=failures.server_errors,
        window_seconds=seconds,
        not_evaluated=reasons,
    )


def _window_seconds(rows: pa.Table, start: datetime | None, end: datetime | None) -> float | None:
    times = rows["inference_time"]
    if start is None and rows.num_rows:
        start = pc.min(times).as_py()
    if end is None and rows.num_rows:
        end = pc.max(times).as_py()
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds > 0 else None
