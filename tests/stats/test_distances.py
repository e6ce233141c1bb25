"""Drift statistics: each checked against scipy or a hand-written reference, plus properties."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from modelmon.stats.distances import (
    DEFAULT_C_ALPHA,
    ChiSquaredResult,
    bin_probabilities,
    c_for_alpha,
    categorical_chi_squared,
    categorical_linf,
    category_probabilities,
    hellinger_distance,
    jensen_shannon_distance,
    ks_pvalue,
    linf_distance,
    linf_robust,
    normalized_wasserstein,
    psi,
    quantile_bin_edges,
    wasserstein_distance,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Sample = tuple[FloatArray, IntArray]

# scipy's first call into a distribution can take longer than hypothesis' default deadline.
checked = settings(max_examples=100, deadline=None)


@st.composite
def weighted_samples(draw: st.DrawFn, max_size: int = 40) -> Sample:
    """Continuous or heavily tied values with small integer weights."""
    size = draw(st.integers(1, max_size))
    elements = draw(
        st.sampled_from(
            [
                st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
                st.integers(-4, 4).map(float),
            ]
        )
    )
    values = draw(hnp.arrays(np.float64, size, elements=elements))
    weights = draw(hnp.arrays(np.int64, size, elements=st.integers(1, 4)))
    return values, weights


@st.composite
def histogram_pairs(draw: st.DrawFn) -> tuple[FloatArray, FloatArray]:
    """Two aligned count vectors, zeros allowed, each with a positive total."""
    size = draw(st.integers(1, 12))
    counts = hnp.arrays(np.float64, size, elements=st.integers(0, 50).map(float))
    p = draw(counts.filter(lambda a: a.sum() > 0))
    q = draw(counts.filter(lambda a: a.sum() > 0))
    return p, q


def ones(x: FloatArray) -> FloatArray:
    return np.ones(len(x))


def repeated(sample: Sample) -> FloatArray:
    values, weights = sample
    return np.repeat(values, weights)


def ks_2samp_asymp(a: FloatArray, b: FloatArray) -> Any:
    # scipy's asymptotic p-value divides by zero for n = m = 1 (round(1/2) = 0).
    with np.errstate(divide="ignore"):
        return sps.ks_2samp(a, b, method="asymp")


def rng_normal(seed: int, size: int, loc: float = 0.0) -> FloatArray:
    return np.random.default_rng(seed).normal(loc, 1.0, size)


# --------------------------------------------------------------------------------------------
# L-infinity


@checked
@given(weighted_samples(), weighted_samples())
def test_linf_is_the_ks_statistic(a: Sample, b: Sample) -> None:
    a_raw, b_raw = repeated(a), repeated(b)
    expected = ks_2samp_asymp(a_raw, b_raw).statistic
    assert linf_distance(a_raw, ones(a_raw), b_raw, ones(b_raw)) == pytest.approx(
        expected, abs=1e-12
    )
    # Integer weights are the repeated raw sample.
    assert linf_distance(a[0], a[1], b[0], b[1]) == pytest.approx(expected, abs=1e-12)


@checked
@given(weighted_samples(), weighted_samples())
def test_linf_properties(a: Sample, b: Sample) -> None:
    d = linf_distance(a[0], a[1], b[0], b[1])
    assert 0.0 <= d <= 1.0
    assert linf_distance(b[0], b[1], a[0], a[1]) == pytest.approx(d, abs=1e-12)
    # Same distribution, different total weight and item order.
    assert linf_distance(a[0], a[1], a[0][::-1], 3.0 * a[1][::-1]) == pytest.approx(0.0, abs=1e-12)


def test_linf_disjoint_samples_and_infinities() -> None:
    low, high = np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0])
    assert linf_distance(low, ones(low), high, ones(high)) == 1.0
    # Infinite values are ordinary ends of the ECDF: a third of the mass sits below 0.
    with_inf = np.array([-np.inf, 0.0, np.inf])
    assert linf_distance(with_inf, ones(with_inf), [0.0], [1.0]) == pytest.approx(1 / 3)
    assert linf_distance(with_inf, ones(with_inf), [0.0], [1.0]) == pytest.approx(
        ks_2samp_asymp(with_inf, np.array([0.0])).statistic
    )


def test_linf_ignores_zero_weight_items() -> None:
    a, b = rng_normal(1, 50), rng_normal(2, 60, loc=0.5)
    padded = np.concatenate((a, [-100.0, 100.0]))
    weights = np.concatenate((ones(a), [0.0, 0.0]))
    assert linf_distance(padded, weights, b, ones(b)) == linf_distance(a, ones(a), b, ones(b))


def test_linf_from_kll_sketches_is_within_sketch_error() -> None:
    # Imported here so that this file still collects while the sketch module is being changed.
    from modelmon.stats.kll import KllSketch

    a, b = rng_normal(10, 200_000), rng_normal(11, 150_000, loc=0.02)
    sketch_a, sketch_b = KllSketch(), KllSketch()
    sketch_a.update(a)
    sketch_b.update(b)
    assert sketch_a.num_retained < a.size  # compacted: weights above 1
    estimate = linf_distance(*sketch_a.sorted_view(), *sketch_b.sorted_view())
    exact = ks_2samp_asymp(a, b).statistic
    error = sketch_a.normalized_rank_error() + sketch_b.normalized_rank_error()
    assert abs(estimate - exact) <= error
    assert sum(sketch_a.sorted_view()[1]) == sketch_a.n


def test_linf_robust_worked_example() -> None:
    # n = m = 1000, D = 0.2: 0.2 - 1.8 * sqrt(2 / 1000) = 0.2 - 0.0805 = 0.1195.
    assert linf_robust(0.2, 1000, 1000) == pytest.approx(0.2 - 1.8 * math.sqrt(2 / 1000))
    assert linf_robust(0.2, 1000, 1000) == pytest.approx(0.119501553, abs=1e-9)
    # The same D is not significant for a 60-row window against a 9,999-row baseline:
    # 1.8 * sqrt(10059 / 599940) = 0.233 > 0.215.
    assert linf_robust(0.215, 9999, 60) == 0.0
    assert linf_robust(0.0, 5, 5) == 0.0
    assert linf_robust(1.0, 1e12, 1e12) == pytest.approx(1.0, abs=1e-5)


def test_c_for_alpha() -> None:
    # Deequ's default 1.8 is alpha ~ 0.003, and c(alpha) is the Kolmogorov critical value.
    assert c_for_alpha(0.003) == pytest.approx(DEFAULT_C_ALPHA, abs=0.005)
    for alpha in (0.001, 0.01, 0.05):
        assert c_for_alpha(alpha) == pytest.approx(sps.kstwobign.isf(alpha), rel=1e-3)
    assert linf_robust(0.3, 100, 200, c=c_for_alpha(0.05)) == pytest.approx(
        0.3 - math.sqrt(-math.log(0.025) / 2) * math.sqrt(300 / 20000)
    )


@pytest.mark.parametrize(("n", "m"), [(1, 1), (2, 1), (7, 5), (60, 9999), (300, 200), (4000, 9000)])
def test_ks_pvalue_is_scipys_asymptotic_pvalue(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 7 + m)
    for shift in (0.0, 0.3, 1.0):
        a, b = rng.normal(0.0, 1.0, n), rng.normal(shift, 1.0, m)
        result = ks_2samp_asymp(a, b)
        p = ks_pvalue(float(result.statistic), n, m)
        assert 0.0 <= p <= 1.0
        if n == m == 1:  # scipy: round(1/2) = 0 and NaN; here n_eff is at least 1
            assert p == sps.kstwo.sf(result.statistic, 1)
        else:
            assert p == pytest.approx(result.pvalue, rel=1e-12, abs=1e-300)


def test_ks_pvalue_large_samples_use_the_corrected_limit() -> None:
    n_eff = 20_000
    for distance in (0.002, 0.01, 0.02, 0.025):
        exact = sps.kstwo.sf(distance, n_eff)
        assert ks_pvalue(distance, 2 * n_eff, 2 * n_eff) == pytest.approx(exact, rel=6e-3)
    # scipy's kstwo returns NaN for n_eff beyond ~2.5e9.
    p = ks_pvalue(1e-6, 2e12, 2e12)
    assert p == pytest.approx(sps.kstwobign.sf(1e-6 * math.sqrt(1e12)), rel=1e-5)
    assert ks_pvalue(0.0, 1e7, 1e7) == 1.0
    assert ks_pvalue(1.0, 1e7, 1e7) == 0.0


def test_ks_pvalue_decreases_with_distance() -> None:
    for n in (50, 5_000, 500_000):
        ps = [ks_pvalue(d, n, n) for d in np.linspace(0.0, 1.0, 41)]
        assert all(x >= y for x, y in itertools.pairwise(ps))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: linf_robust(1.5, 10, 10), "distance"),
        (lambda: linf_robust(-0.1, 10, 10), "distance"),
        (lambda: linf_robust(0.5, 0, 10), "n must be"),
        (lambda: linf_robust(0.5, 10, math.inf), "m must be"),
        (lambda: linf_robust(0.5, 10, 10, c=-1.0), "c must be"),
        (lambda: ks_pvalue(math.nan, 10, 10), "distance"),
        (lambda: ks_pvalue(0.5, 10, -3), "m must be"),
        (lambda: c_for_alpha(0.0), "alpha"),
        (lambda: c_for_alpha(1.5), "alpha"),
    ],
)
def test_scalar_arguments_are_validated(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# Weighted-sample validation (shared by every sample function)

SAMPLE_FUNCTIONS = [linf_distance, wasserstein_distance, normalized_wasserstein]


@pytest.mark.parametrize("function", SAMPLE_FUNCTIONS)
@pytest.mark.parametrize(
    ("a_values", "a_weights", "match"),
    [
        ([], [], "a_values is empty"),
        ([1.0, np.nan], [1.0, 1.0], "a_values must"),
        ([1.0, 2.0], [1.0], "a_weights must have the shape"),
        ([[1.0, 2.0]], [[1.0, 1.0]], "a_values must be one-dimensional"),
        ([1.0, 2.0], [1.0, -1.0], "a_weights must be finite and non-negative"),
        ([1.0, 2.0], [1.0, np.inf], "a_weights must be finite and non-negative"),
        ([1.0, 2.0], [0.0, 0.0], "a_weights must have a positive"),
    ],
)
def test_bad_samples_are_rejected(
    function: Callable[..., float], a_values: Any, a_weights: Any, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        function(a_values, a_weights, [1.0], [1.0])


@pytest.mark.parametrize("function", SAMPLE_FUNCTIONS)
def test_bad_second_sample_is_named(function: Callable[..., float]) -> None:
    with pytest.raises(ValueError, match="b_values is empty"):
        function([1.0], [1.0], [], [])


# --------------------------------------------------------------------------------------------
# Quantile bins


def reference_edges(values: FloatArray, n_bins: int) -> FloatArray:
    """numpy's inverse-CDF quantiles, de-duplicated, plus the below-the-minimum edge."""
    edges = np.unique(np.quantile(values, np.arange(1, n_bins) / n_bins, method="inverted_cdf"))
    if edges[0] == values.min():
        edges = np.concatenate(([np.nextafter(edges[0], -np.inf)], edges))
    return edges


@checked
@given(weighted_samples(max_size=60), st.integers(2, 12))
def test_quantile_edges_are_numpys_inverted_cdf(sample: Sample, n_bins: int) -> None:
    raw = repeated(sample)
    expected = reference_edges(raw, n_bins)
    np.testing.assert_array_equal(quantile_bin_edges(raw, ones(raw), n_bins), expected)
    np.testing.assert_array_equal(quantile_bin_edges(sample[0], sample[1], n_bins), expected)


def reference_bin_shares(values: FloatArray, weights: FloatArray, edges: FloatArray) -> FloatArray:
    bounds = np.concatenate(([-np.inf], edges, [np.inf]))
    # The first bin is closed at -inf too.
    shares = [
        weights[((values > lo) | (lo == -np.inf)) & (values <= hi)].sum()
        for lo, hi in itertools.pairwise(bounds)
    ]
    return np.array(shares) / weights.sum()


@checked
@given(weighted_samples(max_size=60), weighted_samples(max_size=60), st.integers(2, 12))
def test_bin_probabilities(reference: Sample, current: Sample, n_bins: int) -> None:
    edges = quantile_bin_edges(reference[0], reference[1], n_bins)
    values, weights = current[0], current[1].astype(np.float64)
    shares = bin_probabilities(values, weights, edges)
    assert shares.shape == (edges.size + 1,)
    assert shares.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(shares, reference_bin_shares(values, weights, edges), atol=1e-12)
    raw = repeated(current)
    np.testing.assert_allclose(bin_probabilities(raw, ones(raw), edges), shares, atol=1e-12)


def test_deciles_of_continuous_data_hold_a_tenth_each() -> None:
    reference = rng_normal(3, 1000)
    edges = quantile_bin_edges(reference, ones(reference))
    assert edges.size == 9
    np.testing.assert_allclose(bin_probabilities(reference, ones(reference), edges), 0.1)


def test_constant_reference_gives_below_equal_above_bins() -> None:
    reference = np.full(20, 3.0)
    edges = quantile_bin_edges(reference, ones(reference))
    np.testing.assert_array_equal(edges, [np.nextafter(3.0, -np.inf), 3.0])
    np.testing.assert_array_equal(bin_probabilities(reference, ones(reference), edges), [0, 1, 0])
    # Drift either way lands in a bin the reference left empty.
    below = np.full(5, 2.0)
    assert bin_probabilities(below, ones(below), edges).tolist() == [1.0, 0.0, 0.0]
    above = np.full(5, 4.0)
    assert bin_probabilities(above, ones(above), edges).tolist() == [0.0, 0.0, 1.0]


def test_discrete_reference_edges() -> None:
    reference = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 2.0])
    edges = quantile_bin_edges(reference, ones(reference), n_bins=4)
    np.testing.assert_array_equal(edges, [np.nextafter(0.0, -np.inf), 0.0, 1.0])
    shares = bin_probabilities(np.array([-1.0, 0.0, 1.0, 5.0]), np.ones(4), edges)
    np.testing.assert_array_equal(shares, [0.25, 0.25, 0.25, 0.25])


def test_numpy_integer_bin_count() -> None:
    values = np.arange(10.0)
    np.testing.assert_array_equal(
        quantile_bin_edges(values, ones(values), np.int64(5)),
        quantile_bin_edges(values, ones(values), 5),
    )


def test_no_edges_is_one_bin() -> None:
    assert bin_probabilities([1.0, 2.0], [1.0, 1.0], []).tolist() == [1.0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: quantile_bin_edges([1.0], [1.0], n_bins=1), "n_bins"),
        (lambda: quantile_bin_edges([1.0], [1.0], n_bins=True), "n_bins"),
        (lambda: quantile_bin_edges([1.0], [1.0], n_bins=2.5), "n_bins"),
        (lambda: quantile_bin_edges([], [], n_bins=4), "values is empty"),
        (lambda: bin_probabilities([1.0], [1.0], [2.0, 1.0]), "edges must be strictly"),
        (lambda: bin_probabilities([1.0], [1.0], [1.0, 1.0]), "edges must be strictly"),
        (lambda: bin_probabilities([1.0], [1.0], [np.nan]), "edges must be strictly"),
        (lambda: bin_probabilities([1.0], [1.0], [[1.0]]), "edges must be one-dimensional"),
        (lambda: bin_probabilities([1.0], [-1.0], [0.0]), "weights must be finite"),
    ],
)
def test_bin_arguments_are_validated(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# PSI, Jensen-Shannon, Hellinger


def reference_psi(p: FloatArray, q: FloatArray, eps: float = 1e-4) -> float:
    total = 0.0
    for pi, qi in zip(p / p.sum(), q / q.sum(), strict=True):
        pc, qc = max(pi, eps), max(qi, eps)
        total += (qc - pc) * math.log(qc / pc)
    return total


def reference_hellinger(p: FloatArray, q: FloatArray) -> float:
    # Through the Bhattacharyya coefficient: H^2 = 1 - sum sqrt(p q).
    return math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p / p.sum() * q / q.sum())))))


@checked
@given(histogram_pairs())
def test_psi_against_reference(pair: tuple[FloatArray, FloatArray]) -> None:
    p, q = pair
    value = psi(p, q)
    assert value == pytest.approx(reference_psi(p, q), rel=1e-9, abs=1e-12)
    assert math.isfinite(value)
    assert value >= 0.0
    assert psi(q, p) == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert psi(p, 7 * p) == pytest.approx(0.0, abs=1e-12)


def test_psi_worked_examples() -> None:
    # 0.4 ln(1.8) + 0.4 ln(5)
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * math.log(1.8) + 0.4 * math.log(5))
    # Counts and shares give the same value.
    assert psi([50, 50], [90, 10]) == psi([0.5, 0.5], [0.9, 0.1])
    # Disjoint: both empty bins are clipped to eps, so the value is finite.
    assert psi([1, 0], [0, 1]) == pytest.approx(2 * (1 - 1e-4) * math.log(1e4))
    assert psi([1, 0], [0, 1], eps=1e-6) == pytest.approx(2 * (1 - 1e-6) * math.log(1e6))


@checked
@given(histogram_pairs())
def test_jensen_shannon_is_scipys(pair: tuple[FloatArray, FloatArray]) -> None:
    p, q = pair
    value = jensen_shannon_distance(p, q)
    assert value == pytest.approx(jensenshannon(p, q, base=2), abs=1e-7)
    assert 0.0 <= value <= 1.0
    assert jensen_shannon_distance(q, p) == pytest.approx(value, abs=1e-12)
    assert jensen_shannon_distance(p, 3 * p) == pytest.approx(0.0, abs=1e-7)


@checked
@given(histogram_pairs())
def test_hellinger_against_reference(pair: tuple[FloatArray, FloatArray]) -> None:
    p, q = pair
    value = hellinger_distance(p, q)
    assert value == pytest.approx(reference_hellinger(p, q), abs=1e-7)
    assert 0.0 <= value <= 1.0
    assert hellinger_distance(q, p) == pytest.approx(value, abs=1e-12)
    assert hellinger_distance(p, 3 * p) == pytest.approx(0.0, abs=1e-12)


def test_histogram_distance_extremes() -> None:
    assert jensen_shannon_distance([1, 0, 0], [0, 2, 3]) == 1.0
    assert hellinger_distance([1, 0, 0], [0, 2, 3]) == 1.0
    # sqrt(1/2 ((sqrt .5 - 1)^2 + .5)) = sqrt(1 - sqrt(.5))
    assert hellinger_distance([0.5, 0.5], [1.0, 0.0]) == pytest.approx(
        math.sqrt(1 - math.sqrt(0.5))
    )


HISTOGRAM_FUNCTIONS = [psi, jensen_shannon_distance, hellinger_distance]


@pytest.mark.parametrize("function", HISTOGRAM_FUNCTIONS)
@pytest.mark.parametrize(
    ("p", "q", "match"),
    [
        ([], [], "p must be a non-empty"),
        ([0.5, 0.5], [1.0], "p and q must be aligned"),
        ([0.5, -0.5], [0.5, 0.5], "p must be finite and non-negative"),
        ([0.5, 0.5], [np.nan, 0.5], "q must be finite and non-negative"),
        ([0.0, 0.0], [0.5, 0.5], "p must have a positive"),
    ],
)
def test_bad_histograms_are_rejected(
    function: Callable[..., float], p: Any, q: Any, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        function(p, q)


@pytest.mark.parametrize("eps", [0.0, -1e-4, 1.0, math.nan])
def test_psi_rejects_bad_eps(eps: float) -> None:
    with pytest.raises(ValueError, match="eps"):
        psi([0.5, 0.5], [0.5, 0.5], eps=eps)


# --------------------------------------------------------------------------------------------
# Wasserstein


@checked
@given(
    weighted_samples(),
    weighted_samples(),
    st.floats(0.1, 10.0),
)
def test_wasserstein_is_scipys(a: Sample, b: Sample, scale: float) -> None:
    # Non-integer weights too: scale one sample's weights.
    a_weights = a[1] * scale
    expected = sps.wasserstein_distance(a[0], b[0], a_weights, b[1])
    value = wasserstein_distance(a[0], a_weights, b[0], b[1])
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert wasserstein_distance(b[0], b[1], a[0], a_weights) == pytest.approx(value, abs=1e-9)
    a_raw, b_raw = repeated(a), repeated(b)
    assert wasserstein_distance(a_raw, ones(a_raw), b_raw, ones(b_raw)) == pytest.approx(
        value, rel=1e-9, abs=1e-9
    )


def test_wasserstein_of_a_shift_is_the_shift() -> None:
    a = rng_normal(4, 200)
    assert wasserstein_distance(a, ones(a), a + 2.5, ones(a)) == pytest.approx(2.5)
    assert wasserstein_distance(a, ones(a), a, 2 * ones(a)) == 0.0
    # Entirely outside the other's range: the distance between the means.
    assert wasserstein_distance([0.0, 1.0], [1, 1], [10.0], [1]) == pytest.approx(9.5)


@checked
@given(weighted_samples(), weighted_samples())
def test_normalized_wasserstein_is_evidentlys(a: Sample, b: Sample) -> None:
    a_raw, b_raw = repeated(a), repeated(b)
    value = normalized_wasserstein(a[0], a[1], b[0], b[1])
    assert value >= 0.0
    if a_raw.min() == a_raw.max():
        assert value == (0.0 if np.all(b_raw == a_raw[0]) else math.inf)
    else:
        # np.std loses precision once squared deviations are subnormal (values near 1e-160);
        # the function scales first, so only compare where numpy's reference is accurate.
        assume(np.var(a_raw) >= np.finfo(np.float64).tiny)
        expected = sps.wasserstein_distance(a_raw, b_raw) / np.std(a_raw)
        assert value == pytest.approx(expected, rel=1e-7, abs=1e-9)


def test_normalized_wasserstein_constant_reference() -> None:
    # 0.1 + 0.1 + 0.1 is not 0.3, so the computed std of this constant would be ~1e-17.
    constant = np.full(3, 0.1)
    assert normalized_wasserstein(constant, ones(constant), [0.1], [5.0]) == 0.0
    assert normalized_wasserstein(constant, ones(constant), [0.1, 0.2], [1, 1]) == math.inf
    # Zero-weight items are not part of the reference.
    assert normalized_wasserstein([0.1, 9.0], [1.0, 0.0], [0.1], [1.0]) == 0.0


def test_normalized_wasserstein_is_scale_free() -> None:
    a, b = rng_normal(5, 300), rng_normal(6, 200, loc=0.4)
    value = normalized_wasserstein(a, ones(a), b, ones(b))
    assert normalized_wasserstein(1e4 * a, ones(a), 1e4 * b, ones(b)) == pytest.approx(value)


def test_wasserstein_near_the_float_limits() -> None:
    # Gaps of 2e308 overflow; an unscaled integral would give 0 * inf = NaN here.
    huge = np.array([-1e308, 1e308])
    assert wasserstein_distance(huge, [1, 1], huge, [2, 2]) == 0.0
    assert wasserstein_distance(huge, [1, 1], huge, [1, 3]) == pytest.approx(5e307)
    assert normalized_wasserstein(huge, [1, 1], huge, [1, 3]) == pytest.approx(0.5)
    # Squares of 1e-200 underflow; the ratio does not depend on the unit.
    a, b = rng_normal(8, 50), rng_normal(9, 40, loc=1.0)
    expected = normalized_wasserstein(a, ones(a), b, ones(b))
    assert normalized_wasserstein(1e-200 * a, ones(a), 1e-200 * b, ones(b)) == pytest.approx(
        expected
    )


@pytest.mark.parametrize("function", [wasserstein_distance, normalized_wasserstein])
def test_wasserstein_rejects_infinite_values(function: Callable[..., float]) -> None:
    with pytest.raises(ValueError, match="b_values must be finite"):
        function([0.0], [1.0], [np.inf], [1.0])


# --------------------------------------------------------------------------------------------
# Categorical


def test_categorical_linf_worked_example() -> None:
    baseline = {"a": 50, "b": 50}
    current = {"a": 80, "b": 10, "c": 10}
    # |0.5 - 0.8|, |0.5 - 0.1|, |0 - 0.1|: per-category, not cumulative.
    assert categorical_linf(baseline, current) == pytest.approx(0.4)
    assert categorical_linf(current, baseline) == pytest.approx(0.4)
    assert categorical_linf(baseline, {"a": 3, "b": 3}) == 0.0
    assert categorical_linf({"a": 1}, {"b": 1}) == 1.0


def test_category_probabilities_are_aligned() -> None:
    categories, p, q = category_probabilities({"b": 1, "a": 3}, {"c": 2, "a": 2, "b": 0})
    assert categories == ["a", "b", "c"]
    np.testing.assert_allclose(p, [0.75, 0.25, 0.0])
    np.testing.assert_allclose(q, [0.5, 0.0, 0.5])
    assert psi(p, q) > 0.25
    assert 0.0 < jensen_shannon_distance(p, q) < 1.0


@pytest.mark.parametrize(
    "function", [categorical_linf, category_probabilities, categorical_chi_squared]
)
@pytest.mark.parametrize(
    ("baseline", "current", "match"),
    [
        ({}, {"a": 1}, "baseline_counts must have a positive"),
        ({"a": 0}, {"a": 1}, "baseline_counts must have a positive"),
        ({"a": 1}, {}, "current_counts must have a positive"),
        ({"a": 1, "b": -1}, {"a": 1}, r"baseline_counts\['b'\] must be"),
        ({"a": 1}, {"a": math.nan}, r"current_counts\['a'\] must be"),
    ],
)
def test_bad_counts_are_rejected(
    function: Callable[..., object],
    baseline: Mapping[str, float],
    current: Mapping[str, float],
    match: str,
) -> None:
    with pytest.raises(ValueError, match=match):
        function(baseline, current)


@st.composite
def count_tables(draw: st.DrawFn, min_count: int, max_count: int) -> tuple[list[str], list[float]]:
    size = draw(st.integers(2, 25))
    names = [f"c{i:02d}" for i in range(size)]
    counts = draw(st.lists(st.integers(min_count, max_count), min_size=size, max_size=size))
    return names, [float(c) for c in counts]


@checked
@given(count_tables(1, 20), st.integers(30, 5000), st.integers(0, 2**32 - 1))
def test_chi_squared_without_regrouping_is_scipys(
    table: tuple[list[str], list[float]], current_total: int, seed: int
) -> None:
    names, counts = table
    shares = np.array(counts) / sum(counts)
    expected = current_total * shares
    size = len(names)
    rules_hold = expected.min() >= 10 if size == 2 else 5 * np.sum(expected < 5) <= size
    if size > 2:
        rules_hold = rules_hold and expected.min() >= 1
    current = np.random.default_rng(seed).multinomial(current_total, shares).astype(float)
    result = categorical_chi_squared(
        dict(zip(names, counts, strict=True)), dict(zip(names, current, strict=True))
    )
    if rules_hold:
        reference = sps.chisquare(current, f_exp=expected)
        assert result is not None
        assert result.statistic == pytest.approx(reference.statistic, rel=1e-9, abs=1e-9)
        assert result.pvalue == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)
        assert (result.dof, result.categories) == (size - 1, size)
    else:
        assert result is None or result.categories < size


def reference_regroup(expected: list[float], observed: list[float]) -> list[tuple[float, float]]:
    """Deequ's regrouping loop written plainly: merge the smallest expected into the next one.

    Ties go to the earlier group: original groups in sorted category order, then merged ones
    in the order they were formed.
    """
    groups = [(e, i, o) for i, (e, o) in enumerate(zip(expected, observed, strict=True))]
    next_id = len(groups)
    while len(groups) >= 2:
        k = len(groups)
        smallest = min(e for e, _, _ in groups)
        if k == 2:
            valid = smallest >= 10
        else:
            valid = smallest >= 1 and sum(e < 5 for e, _, _ in groups) <= int(0.2 * k)
        if valid:
            break
        first = min(groups, key=lambda g: (g[0], g[1]))
        groups.remove(first)
        second = min(groups, key=lambda g: (g[0], g[1]))
        groups.remove(second)
        groups.append((first[0] + second[0], next_id, first[2] + second[2]))
        next_id += 1
    return [(e, o) for e, _, o in sorted(groups, key=lambda g: g[1])]


@checked
@given(
    st.dictionaries(st.sampled_from("abcdefghijkl"), st.integers(0, 40), min_size=1),
    st.dictionaries(st.sampled_from("abcdefghijklmnop"), st.integers(0, 40), min_size=1),
)
def test_chi_squared_regrouping_follows_deequ(
    baseline: dict[str, int], current: dict[str, int]
) -> None:
    assume(sum(baseline.values()) > 0 and sum(current.values()) > 0)
    names = sorted(baseline.keys() | current.keys())
    seen = [c for c in names if baseline.get(c, 0) > 0]
    n = sum(current.values())
    btotal = sum(baseline.values())
    expected = [baseline[c] / btotal * n for c in seen]
    observed = [float(current.get(c, 0)) for c in seen]
    unseen = sum(v for c, v in current.items() if baseline.get(c, 0) == 0)
    if unseen > 0:
        expected.append(0.0)
        observed.append(float(unseen))
    groups = reference_regroup(expected, observed)

    result = categorical_chi_squared(baseline, current)
    if len(groups) < 2:
        assert result is None
        return
    assert result is not None
    statistic = sum((o - e) ** 2 / e for e, o in groups)
    assert result.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-9)
    assert result.categories == len(groups)
    assert result.dof == len(groups) - 1
    assert result.pvalue == pytest.approx(sps.chi2.sf(statistic, len(groups) - 1), rel=1e-9)
    assert 0.0 <= result.pvalue <= 1.0
    assert math.isfinite(result.statistic)


def test_chi_squared_cochran_rule_for_two_categories() -> None:
    # Expected 9 and 9: below Cochran's 10, merged into one group, so no test.
    assert categorical_chi_squared({"a": 50, "b": 50}, {"a": 9, "b": 9}) is None
    # Expected 10 and 10: (15 - 10)^2 / 10 + (5 - 10)^2 / 10 = 5 on 1 degree of freedom.
    result = categorical_chi_squared({"a": 50, "b": 50}, {"a": 15, "b": 5})
    assert result is not None
    assert (result.statistic, result.dof, result.categories) == (5.0, 1, 2)
    assert result.pvalue == pytest.approx(0.025347318677468)


def test_chi_squared_yates_rule_merges_the_rarest() -> None:
    # Expected 100, 100, 1: with 3 groups none may be below 5, so "c" joins the tie-winner "a"
    # (expected 101, observed 80 + 11), next to "b" (expected 100, observed 110): Cochran holds.
    result = categorical_chi_squared({"a": 1000, "b": 1000, "c": 10}, {"a": 80, "b": 110, "c": 11})
    assert result is not None
    assert (result.categories, result.dof) == (2, 1)
    assert result.statistic == pytest.approx((91 - 101) ** 2 / 101 + (110 - 100) ** 2 / 100)


def test_chi_squared_single_category_is_no_test() -> None:
    assert categorical_chi_squared({"a": 10}, {"a": 100}) is None
    # A new category next to a single-category baseline: the unseen group has expected 0,
    # fails Cochran and is merged, so still no test (the L-infinity distance catches it).
    assert categorical_chi_squared({"a": 10}, {"a": 100, "b": 100}) is None


def test_chi_squared_counts_unseen_categories_as_drift() -> None:
    baseline = {"a": 500, "b": 300, "c": 200}
    steady = {"a": 50, "b": 30, "c": 20}
    assert categorical_chi_squared(baseline, steady) == ChiSquaredResult(0.0, 1.0, 2, 3)
    # Deequ would drop "new" and see no drift. Here it joins the rarest group "c":
    # expected 100, 60, 40 against observed 50, 30, 120 -> 25 + 15 + 160.
    result = categorical_chi_squared(baseline, {**steady, "new": 100})
    assert result is not None
    assert result.statistic == pytest.approx(200.0)
    assert (result.categories, result.dof) == (3, 2)
    assert result.pvalue == pytest.approx(math.exp(-100.0))
    # A current window made only of new categories still gives a defined test.
    only_new = categorical_chi_squared({"a": 1, "b": 1, "c": 1}, {"x": 20, "y": 10})
    assert only_new is not None
    assert only_new.statistic == pytest.approx(40.0 + 10.0 + 10.0)


def test_chi_squared_on_a_thousand_categories() -> None:
    rng = np.random.default_rng(7)
    baseline = {f"c{i}": float(rng.integers(1, 50)) for i in range(1000)}
    current = {f"c{i}": float(rng.integers(0, 50)) for i in range(100, 1100)}
    result = categorical_chi_squared(baseline, current)
    assert result is not None
    assert 2 <= result.categories <= 1000
    assert result.pvalue == 0.0
