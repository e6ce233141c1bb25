"""Service-health statistics against numpy/scipy references, and their edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from modelmon.stats.kll import KllSketch
from modelmon.stats.latency import (
    failure_counts,
    latency_percentiles,
    per_minute,
    quantile_needs,
    robust_zscore,
    sketch_percentiles,
)

QUANTILES = (0.5, 0.9, 0.99)


@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=200))
def test_exact_percentiles_are_numpys(latencies: list[float]) -> None:
    assert latency_percentiles(latencies, QUANTILES) == pytest.approx(
        np.percentile(latencies, [50, 90, 99])
    )


def test_sketch_percentiles_are_within_the_rank_error() -> None:
    rng = np.random.default_rng(7)
    latencies = rng.lognormal(3.0, 0.8, 300_000)
    sketch = KllSketch()
    sketch.update(latencies)
    estimated = sketch_percentiles(sketch, QUANTILES)
    error = sketch.normalized_rank_error()
    ordered = np.sort(latencies)
    for q, value in zip(QUANTILES, estimated, strict=True):
        rank = np.searchsorted(ordered, value, side="right") / ordered.size
        assert abs(rank - q) <= error


@given(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=50),
)
def test_robust_zscore_uses_median_and_scaled_mad(value: float, history: list[float]) -> None:
    mad = stats.median_abs_deviation(history, scale="normal")
    z = robust_zscore(value, history)
    assert z is not None
    if mad > 0:
        assert z == pytest.approx((value - np.median(history)) / mad)
    elif value == np.median(history):
        assert z == 0.0
    else:
        assert math.isinf(z)
        assert (z > 0) == (value > np.median(history))


def test_robust_zscore_ignores_missing_history() -> None:
    assert robust_zscore(1.0, []) is None
    assert robust_zscore(1.0, [float("nan")]) is None
    assert robust_zscore(12.0, [10.0, 11.0, 9.0, float("nan"), 10.0]) == pytest.approx(
        2.0 / (0.5 * 1.482602218505602)
    )


def test_failures_split_server_and_client_errors() -> None:
    status = [200, 503, 404, None, None, 200, 504, 400]
    error = [None, "HTTP 503", "HTTP 404", None, "ValueError: bad", "stream cut", "timeout", "x"]
    counts = failure_counts(status, error)
    assert (counts.total, counts.server_errors, counts.client_errors) == (8, 4, 2)
    assert counts.error_rate == 0.5
    assert counts.client_error_rate == 0.25
    assert math.isnan(failure_counts([], []).error_rate)


def test_quantile_needs_enough_records_in_the_tail() -> None:
    assert [quantile_needs(q) for q in QUANTILES] == [10, 50, 500]
    assert quantile_needs(0.0) == 5
    with pytest.raises(ValueError, match="quantile"):
        quantile_needs(1.0)


def test_per_minute() -> None:
    assert per_minute(120, 3600.0) == 2.0
    with pytest.raises(ValueError, match="seconds"):
        per_minute(1, 0.0)


def test_percentiles_refuse_empty_and_missing_latencies() -> None:
    with pytest.raises(ValueError, match="empty"):
        latency_percentiles([], QUANTILES)
    with pytest.raises(ValueError, match="finite"):
        latency_percentiles([1.0, float("nan")], QUANTILES)
    with pytest.raises(ValueError, match="empty"):
        sketch_percentiles(KllSketch(), QUANTILES)
