"""Service-health statistics of a window of inferences: pure functions over arrays.

* :func:`latency_percentiles`: exact percentiles (numpy's default, linear interpolation) of a
  window's latencies; :func:`sketch_percentiles` the same from a KLL sketch, for windows merged
  from hourly sketches or too large to hold.
* :func:`quantile_needs`: how many records a percentile needs before it means anything: the
  99th percentile of 20 latencies is just their maximum.
* :func:`failure_counts`: server errors and client errors from the capture's ``status`` and
  ``error`` columns.
* :func:`per_minute`: a count over a duration as a rate.
* :func:`robust_zscore`: how far a value is from a series' own history, in robust standard
  deviations (median and MAD, so one past incident does not widen the band).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from modelmon.stats.kll import KllSketch

__all__ = [
    "MAD_TO_SIGMA",
    "FailureCounts",
    "failure_counts",
    "latency_percentiles",
    "per_minute",
    "quantile_needs",
    "robust_zscore",
    "sketch_percentiles",
]

FloatArray = npt.NDArray[np.float64]
# 1 / Phi^-1(3/4): the MAD of a normal sample times this estimates its standard deviation
# (scipy.stats.median_abs_deviation(..., scale="normal")).
MAD_TO_SIGMA = 1.482602218505602


def _latencies(values: npt.ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"latencies must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError("latencies is empty; a percentile needs at least one value")
    if not np.isfinite(array).all():
        raise ValueError("latencies must be finite; drop missing latencies first")
    return array


def latency_percentiles(values: npt.ArrayLike, quantiles: Sequence[float]) -> list[float]:
    """The ``quantiles`` (in [0, 1]) of ``values``, as ``numpy.quantile`` computes them."""
    return [float(q) for q in np.quantile(_latencies(values), np.asarray(quantiles, float))]


def sketch_percentiles(sketch: KllSketch, quantiles: Sequence[float]) -> list[float]:
    """The ``quantiles`` from a KLL sketch (rank error ``sketch.normalized_rank_error()``)."""
    if sketch.n == 0:
        raise ValueError("the sketch is empty; a percentile needs at least one value")
    return [float(q) for q in sketch.quantile(np.asarray(quantiles, float))]


def quantile_needs(quantile: float, tail: int = 5) -> int:
    """Records needed to estimate ``quantile``: enough for ``tail`` of them to lie above it.

    With fewer, the estimate is one of the few largest values (noise): 10 records for the
    median, 50 for p90 and 500 for p99 with the default ``tail`` of 5.
    """
    if not 0.0 <= quantile < 1.0 or tail < 1:
        raise ValueError(f"need 0 <= quantile < 1 and tail >= 1, got {quantile} and {tail}")
    return max(1, math.ceil(tail / (1.0 - quantile) - 1e-9))


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """``server_errors``: failed on the service's side (5xx, timeouts, unreachable, a stream cut
    short); ``client_errors``: refused as bad requests (4xx), which say nothing of the service."""

    total: int
    server_errors: int
    client_errors: int

    @property
    def error_rate(self) -> float:
        return self.server_errors / self.total if self.total else math.nan

    @property
    def client_error_rate(self) -> float:
        return self.client_errors / self.total if self.total else math.nan


def failure_counts(
    status: Sequence[int | None] | npt.ArrayLike, error: Sequence[str | None] | npt.ArrayLike
) -> FailureCounts:
    """Count failures from paired ``status`` (HTTP, None if not over HTTP) and ``error`` values.

    A record is a server error when its status is 500 or more, or when it has an error and no
    status below 500 explains it (an exception in the SDK, a 200 whose stream broke); a client
    error when its status is 400 to 499.
    """
    codes = np.array([-1 if s is None else int(s) for s in np.asarray(status, dtype=object)])
    failed = np.array([e is not None for e in np.asarray(error, dtype=object)], dtype=bool)
    if codes.shape != failed.shape:
        raise ValueError(f"status and error must be paired, got {codes.size} and {failed.size}")
    client = (codes >= 400) & (codes < 500)
    server = (codes >= 500) | (failed & ~client)
    return FailureCounts(codes.size, int(server.sum()), int(client.sum()))


def per_minute(count: int, seconds: float) -> float:
    """``count`` events over ``seconds`` as events per minute."""
    if not seconds > 0 or not math.isfinite(seconds):
        raise ValueError(f"seconds must be positive and finite, got {seconds}")
    return count * 60.0 / seconds


def robust_zscore(value: float, history: npt.ArrayLike) -> float | None:
    """``(value - median) / (1.4826 * MAD)`` of ``history`` (NaNs dropped).

    None when the history is empty. A history without spread (MAD 0) gives 0 for its median,
    else plus or minus infinity: any change from a flat series is a change.
    """
    past = np.asarray(history, dtype=np.float64)
    past = past[~np.isnan(past)]
    if past.size == 0:
        return None
    median = float(np.median(past))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(past - median)))
    if sigma == 0.0:
        if value == median:
            return 0.0
        return math.copysign(math.inf, value - median)
    return (value - median) / sigma
