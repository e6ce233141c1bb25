"""Honest alerting: BH against scipy, sample-size-aware thresholds, guards and persistence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from modelmon.stats import distances as d
from modelmon.stats.honest import (
    Persistence,
    benjamini_hochberg,
    bh_reject,
    critical_distance,
    drift_verdict,
    minimum_rows_reason,
    z_for_alpha,
)

pvalues = hnp.arrays(
    np.float64,
    st.integers(1, 60),
    elements=st.floats(0.0, 1.0, allow_nan=False),
)


@settings(max_examples=200, deadline=None)
@given(pvalues)
def test_benjamini_hochberg_matches_scipy(p: np.ndarray) -> None:
    np.testing.assert_allclose(
        benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12
    )


def test_benjamini_hochberg_skips_tests_not_run() -> None:
    p = np.array([0.01, math.nan, 0.04, 0.03, math.nan])
    adjusted = benjamini_hochberg(p)
    assert np.isnan(adjusted[[1, 4]]).all()
    expected = stats.false_discovery_control([0.01, 0.04, 0.03])
    np.testing.assert_allclose(adjusted[[0, 2, 3]], expected)
    assert bh_reject(p, 0.04).tolist() == [True, False, True, True, False]
    assert np.isnan(benjamini_hochberg([math.nan])).all()


def test_bh_reject_hand_worked() -> None:
    # Sorted p = .001 .008 .039 .041 .042 .06 .074 .205; k * q / m with q = .05, m = 8:
    # .00625 .0125 .01875 .025 .03125 .0375 .04375 .05 -> the largest p below its bound is rank 2.
    p = [0.205, 0.074, 0.06, 0.042, 0.041, 0.039, 0.008, 0.001]
    assert bh_reject(p, 0.05).tolist() == [False] * 6 + [True, True]


def test_benjamini_hochberg_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        benjamini_hochberg([0.5, 1.5])
    with pytest.raises(ValueError, match="one-dimensional"):
        benjamini_hochberg([[0.1]])
    with pytest.raises(ValueError, match="q must be"):
        bh_reject([0.1], 1.0)


def test_critical_distance_is_the_robust_correction() -> None:
    for n, m in [(10, 10), (100, 5000), (10**6, 10**7)]:
        alpha = 0.003
        expected = d.c_for_alpha(alpha) * math.sqrt((n + m) / (n * m))
        assert critical_distance(n, m, alpha) == pytest.approx(expected, rel=1e-12)
        distance = 0.3
        assert d.linf_robust(distance, n, m, d.c_for_alpha(alpha)) == pytest.approx(
            max(0.0, distance - critical_distance(n, m, alpha)), abs=1e-12
        )
    assert critical_distance(0, 10) == math.inf


def test_critical_distance_bounds_the_false_alarm_rate() -> None:
    """On unchanged data the exact KS distance exceeds the critical value at most ``alpha`` of
    the time (the asymptotic bound is conservative)."""
    rng = np.random.default_rng(7)
    alpha, n = 0.05, 80
    over = sum(
        stats.ks_2samp(rng.normal(size=n), rng.normal(size=n)).statistic
        > critical_distance(n, n, alpha)
        for _ in range(400)
    )
    assert over <= 400 * alpha + 8  # within about two binomial standard errors


def test_drift_verdict_needs_both_significance_and_effect() -> None:
    # A tiny shift on a huge window: significant, but below the effect floor.
    assert not drift_verdict(0.02, 10**7, 10**7).drift
    # Noise on a tiny window: above the floor, but within the noise.
    small = drift_verdict(0.5, 10, 10)
    assert not small.drift
    assert small.noise_floor == pytest.approx(critical_distance(10, 10))
    big = drift_verdict(0.3, 10_000, 10_000)
    assert big.drift
    assert "effect floor 0.1" in big.rule


def test_z_for_alpha_matches_scipy() -> None:
    for alpha in (0.5, 0.05, 0.003, 1e-6):
        assert z_for_alpha(alpha) == pytest.approx(stats.norm.isf(alpha), rel=1e-9)
    with pytest.raises(ValueError, match="alpha"):
        z_for_alpha(0.0)


def test_minimum_rows_reason_names_the_method_and_the_counts() -> None:
    assert minimum_rows_reason("MMD", 30, baseline=500, current=800) is None
    assert minimum_rows_reason("MMD", 30, baseline=500, current=8) == (
        "MMD needs at least 30 rows in the current data, found 8"
    )


def test_persistence_alarms_after_k_consecutive_windows() -> None:
    flags = [True, False, True, True, True, False, True, True]
    assert Persistence.over(flags, 1) == flags
    assert Persistence.over(flags, 2) == [False, False, False, True, True, False, False, True]
    assert Persistence.over(flags, 3) == [False, False, False, False, True, False, False, False]


def test_persistence_resumes_from_its_state() -> None:
    p = Persistence(3)
    p.update(True)
    p.update(True)
    resumed = Persistence.from_state(p.state())
    assert not resumed.alarm
    assert resumed.update(True)
    with pytest.raises(ValueError, match="k must be"):
        Persistence(0)
