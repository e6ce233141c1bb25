"""Drift statistics between a baseline and a current window: pure functions, numbers out.

Numeric columns arrive as *weighted samples*: ``(values, weights)`` pairs such as a KLL sketch's
``sorted_view()``. Every item stands for ``weight`` observations, so with all weights equal to 1 a
weighted sample is the raw data, and each function here then agrees with its scipy counterpart.
Values need not be sorted. Categorical columns arrive as ``{category: count}`` mappings.

Conventions shared by every function:

* Inputs are validated and misuse raises ``ValueError`` naming the argument: an empty sample, a
  NaN value, a negative or non-finite weight or count, weights or counts that sum to zero. Callers
  guard against empty windows before they get here; "no data" is not a distance.
* No function returns NaN for valid input. Where a statistic is undefined in the textbook sense, a
  documented value is returned instead (``math.inf`` for a normalised Wasserstein distance against
  a constant reference; ``None`` for a chi-squared test that cannot be run).
* The ECDF of a weighted sample is right-continuous: ``F(x) = weight of items <= x / total weight``.
  This is what ``scipy.stats.ks_2samp`` uses, so ties are handled the same way.

Where a choice departs from Deequ (the library behind SageMaker Model Monitor), the docstring says
so; the departures are all in ``categorical_chi_squared``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_C_ALPHA",
    "DEFAULT_PSI_EPSILON",
    "ChiSquaredResult",
    "bin_probabilities",
    "c_for_alpha",
    "categorical_chi_squared",
    "categorical_linf",
    "category_probabilities",
    "hellinger_distance",
    "jensen_shannon_distance",
    "ks_pvalue",
    "linf_distance",
    "linf_robust",
    "normalized_wasserstein",
    "psi",
    "quantile_bin_edges",
    "wasserstein_distance",
]

FloatArray = npt.NDArray[np.float64]


def _scipy_stats() -> Any:
    # scipy.stats takes half a second to import; only the p-values need it, so a baseline,
    # which computes none, starts without it.
    from scipy import stats

    return stats


# Deequ's default c(alpha) for linf_robust: alpha ~ 0.003 (Knuth, TAOCP vol. 2, 3.3.1, eq. 15).
DEFAULT_C_ALPHA: Final = 1.8

# Shares below this are raised to it before PSI takes logarithms (Evidently uses the same 1e-4 for
# empty bins); without it a bin empty on one side makes PSI infinite.
DEFAULT_PSI_EPSILON: Final = 1e-4

# Expected-count rules of Deequ's chi-squared regrouping (Distance.scala). More than 2 groups
# (Yates): at most 20% of expected counts below 5, and all at least 1. Exactly 2 groups
# (Cochran): both at least 10.
_YATES_MIN_EXPECTED: Final = 5.0
_YATES_MAX_SHARE_BELOW: Final = 0.2
_YATES_FLOOR: Final = 1.0
_COCHRAN_MIN_EXPECTED: Final = 10.0

# Up to this effective sample size ks_pvalue uses scipy's kstwo, which is exact and takes at most
# ~10 ms. Above it kstwo's exact tail (2 * smirnov(n, D)) takes up to seconds per call (n near
# 1e6), and it returns NaN once n passes ~2.5e9.
_KSTWO_EXACT_MAX_N: Final = 10_000


# --------------------------------------------------------------------------------------------
# Validation helpers


def _weighted_sample(
    values: npt.ArrayLike,
    weights: npt.ArrayLike,
    values_name: str,
    weights_name: str,
    *,
    finite: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Validate a weighted sample and return it as float arrays (original order)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{values_name} must be one-dimensional, got shape {v.shape}")
    if w.shape != v.shape:
        raise ValueError(
            f"{weights_name} must have the shape of {values_name} {v.shape}, got {w.shape}"
        )
    if v.size == 0:
        raise ValueError(f"{values_name} is empty; a drift statistic needs at least one value")
    if finite:
        if not np.isfinite(v).all():
            raise ValueError(
                f"{values_name} must be finite (no NaN or infinity) for a Wasserstein distance; "
                "drop infinite items first (linf_distance and the bin functions accept them)"
            )
    elif np.isnan(v).any():
        raise ValueError(f"{values_name} must not contain NaN")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{weights_name} must be finite and non-negative")
    total = w.sum()
    if not (np.isfinite(total) and total > 0):
        raise ValueError(f"{weights_name} must have a positive, finite sum, got {total}")
    return v, w


def _sorted_sample(
    values: npt.ArrayLike,
    weights: npt.ArrayLike,
    values_name: str,
    weights_name: str,
    *,
    finite: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Validate a weighted sample and return (values ascending, cumulative weights with a 0)."""
    v, w = _weighted_sample(values, weights, values_name, weights_name, finite=finite)
    # A sketch view is already sorted; a stable sort of sorted input is linear.
    order = np.argsort(v, kind="stable")
    cumulative = np.concatenate(([0.0], np.cumsum(w[order])))
    return v[order], cumulative


def _ecdf(sorted_values: FloatArray, cumulative: FloatArray, x: FloatArray) -> FloatArray:
    """Right-continuous weighted ECDF of a sorted sample at each point of ``x``."""
    result: FloatArray = (
        cumulative[np.searchsorted(sorted_values, x, side="right")] / cumulative[-1]
    )
    return result


def _power_of_two_scale(magnitude: float) -> float:
    """A power of two with ``magnitude / scale`` in [1, 2) (1 for 0).

    Dividing by it is exact and brings values near 1, so gaps between values near the float
    limit cannot overflow (``0 * inf`` would be NaN) and squares of tiny values cannot underflow.
    """
    if magnitude == 0.0:
        return 1.0
    return math.ldexp(1.0, math.frexp(magnitude)[1] - 1)


def _distributions(p: npt.ArrayLike, q: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validate two aligned histograms (counts or shares) and normalise each to sum 1."""
    pa = np.asarray(p, dtype=np.float64)
    qa = np.asarray(q, dtype=np.float64)
    for name, arr in (("p", pa), ("q", qa)):
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty one-dimensional array, got {arr.shape}")
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise ValueError(f"{name} must be finite and non-negative")
        total = arr.sum()
        if not (np.isfinite(total) and total > 0):
            raise ValueError(f"{name} must have a positive, finite sum, got {total}")
    if pa.shape != qa.shape:
        raise ValueError(f"p and q must be aligned, got shapes {pa.shape} and {qa.shape}")
    return pa / pa.sum(), qa / qa.sum()


def _aligned_counts(
    baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Counts of both windows over the sorted union of their categories (absent = 0)."""
    categories = sorted(baseline_counts.keys() | current_counts.keys())
    aligned = []
    for name, counts in (("baseline_counts", baseline_counts), ("current_counts", current_counts)):
        array = np.array([counts.get(c, 0.0) for c in categories], dtype=np.float64)
        bad = ~(np.isfinite(array) & (array >= 0))
        if bad.any():
            category = categories[int(np.argmax(bad))]
            raise ValueError(
                f"{name}[{category!r}] must be a finite, non-negative count, got {counts[category]}"
            )
        total = array.sum()
        if not (np.isfinite(total) and total > 0):
            raise ValueError(f"{name} must have a positive, finite total count, got {total}")
        aligned.append(array)
    return categories, aligned[0], aligned[1]


# --------------------------------------------------------------------------------------------
# L-infinity (Kolmogorov-Smirnov) family


def linf_distance(
    a_values: npt.ArrayLike,
    a_weights: npt.ArrayLike,
    b_values: npt.ArrayLike,
    b_weights: npt.ArrayLike,
) -> float:
    """L-infinity distance ``sup_x |F_a(x) - F_b(x)|`` between two weighted ECDFs.

    Both ECDFs are evaluated at every item of either sample, as Deequ does for two KLL sketches;
    with unit weights this is ``scipy.stats.ks_2samp(a, b, method="asymp").statistic``, ties
    included (the default method rounds it to a multiple of ``1 / lcm(n, m)``, a last-bit
    difference). ±infinity values are allowed (they sit at the ends of the ECDF). In [0, 1].
    """
    av, ac = _sorted_sample(a_values, a_weights, "a_values", "a_weights")
    bv, bc = _sorted_sample(b_values, b_weights, "b_values", "b_weights")
    grid = np.concatenate((av, bv))
    return float(np.max(np.abs(_ecdf(av, ac, grid) - _ecdf(bv, bc, grid))))


def _distance_and_sizes(distance: float, n: float, m: float) -> tuple[float, float, float]:
    """Validate and return as Python floats (numpy scalars would warn where these overflow)."""
    if not 0.0 <= distance <= 1.0:
        raise ValueError(f"distance must be an L-infinity distance in [0, 1], got {distance}")
    for name, size in (("n", n), ("m", m)):
        if not (math.isfinite(size) and size > 0):
            raise ValueError(f"{name} must be a positive, finite sample size, got {size}")
    return float(distance), float(n), float(m)


def c_for_alpha(alpha: float) -> float:
    """Deequ's KS critical coefficient ``c(alpha) = sqrt(-ln(alpha / 2) / 2)`` for linf_robust."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be a significance level in (0, 1], got {alpha}")
    return math.sqrt(-math.log(alpha / 2.0) / 2.0)


def linf_robust(distance: float, n: float, m: float, c: float = DEFAULT_C_ALPHA) -> float:
    """SageMaker's "Robust" L-infinity: ``max(0, D - c * sqrt((n + m) / (n * m)))``.

    ``n`` and ``m`` are the observation counts behind the two samples (a sketch's total weight,
    not its number of retained items). The subtracted term is the KS critical value at level
    alpha (``c = c_for_alpha(alpha)``; the default 1.8 is alpha ~ 0.003), so the result is 0
    until D is significant. Same formula for the categorical L-infinity distance.
    """
    distance, n, m = _distance_and_sizes(distance, n, m)
    if not (math.isfinite(c) and c >= 0):
        raise ValueError(f"c must be a finite, non-negative coefficient, got {c}")
    # sqrt(1/n + 1/m) is sqrt((n + m) / (n * m)) without overflow for huge counts.
    return max(0.0, distance - c * math.sqrt(1.0 / n + 1.0 / m))


def ks_pvalue(distance: float, n: float, m: float) -> float:
    """Two-sided asymptotic KS p-value, as ``scipy.stats.ks_2samp(a, b, method="asymp")``.

    scipy's formula is ``kstwo.sf(D, n_eff)`` with ``n_eff = round(n * m / (n + m))``, the
    one-sample KS distribution at the effective sample size. Two departures keep it defined
    and fast:

    * ``n_eff`` is at least 1 (scipy rounds n = m = 1 down to 0 and returns NaN);
    * above ``n_eff = 10_000`` the limiting Kolmogorov distribution with its first finite-size
      correction, ``kstwobign.sf(D * sqrt(n_eff) + 1 / (6 * sqrt(n_eff)))``, replaces kstwo,
      which is slow there. Its relative error against kstwo is about ``100 / n_eff`` (1% at
      the switch) wherever the p-value is above 1e-14.

    ``n`` and ``m`` are observation counts (a sketch's total weight, possibly non-integral).
    Like scipy's, this p-value treats the samples as independent draws of continuous data;
    ties and sketch error make it approximate.
    """
    distance, n, m = _distance_and_sizes(distance, n, m)
    # scipy's expression, so that halves round as in scipy; the harmonic form if it overflows.
    product = n * m
    harmonic = product / (n + m) if math.isfinite(product) else 1.0 / (1.0 / n + 1.0 / m)
    effective = max(1.0, float(np.round(harmonic)))
    if effective <= _KSTWO_EXACT_MAX_N:
        p = float(_scipy_stats().kstwo.sf(distance, effective))
    else:
        root = math.sqrt(effective)
        p = float(_scipy_stats().kstwobign.sf(distance * root + 1.0 / (6.0 * root)))
    return min(1.0, max(0.0, p))


# --------------------------------------------------------------------------------------------
# Binned distributions and the distances between them


def quantile_bin_edges(
    values: npt.ArrayLike, weights: npt.ArrayLike, n_bins: int = 10
) -> FloatArray:
    """Interior bin edges at the reference's weighted quantiles ``i / n_bins``, ``0 < i < n_bins``.

    A quantile is the inverse ECDF: the smallest item whose cumulative share reaches the level
    (``np.quantile(..., method="inverted_cdf")`` with unit weights), so edges are always items of
    the reference. Repeated edges (ties, discrete data) are merged, so there may be fewer than
    ``n_bins`` bins. Bins are right-closed (see ``bin_probabilities``), so an edge sits at the
    top of its bin; when the lowest edge is the reference minimum itself (an atom of at least
    ``1/n_bins`` of the mass, or fewer items than bins), an edge just below the minimum is added
    so that current values below the reference's range get a bin of their own. A constant
    reference ``c`` therefore gives the three bins ``x < c``, ``x == c``, ``x > c``.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    v, cumulative = _sorted_sample(values, weights, "values", "weights")
    total = cumulative[-1]
    # Compare cumulative * n_bins with i * total rather than cumulative with (i / n_bins) * total:
    # for integer weights both sides are exact, so a level that falls exactly on an item picks
    # that item and not the next one.
    positions = np.searchsorted(
        cumulative[1:] * n_bins, np.arange(1, n_bins, dtype=np.float64) * total, side="left"
    )
    edges = np.unique(v[positions])
    # First item with positive weight: zero-weight items carry no mass and are not the minimum.
    support_min = v[np.argmax(np.diff(cumulative) > 0)]
    if edges[0] == support_min:
        edges = np.unique(np.concatenate(([np.nextafter(support_min, -np.inf)], edges)))
    return edges


def bin_probabilities(
    values: npt.ArrayLike, weights: npt.ArrayLike, edges: npt.ArrayLike
) -> FloatArray:
    """Shares of a weighted sample in ``(-inf, e1], (e1, e2], ..., (ek, inf)``; ``k + 1`` bins.

    ``edges`` must be strictly increasing (``quantile_bin_edges`` returns such); with no edges
    the single bin holds everything. The shares sum to 1.
    """
    v, w = _weighted_sample(values, weights, "values", "weights")
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1:
        raise ValueError(f"edges must be one-dimensional, got shape {e.shape}")
    if np.isnan(e).any() or (e[1:] <= e[:-1]).any():
        raise ValueError("edges must be strictly increasing and free of NaN")
    # side="left": a value equal to an edge belongs to the bin that edge closes.
    shares: FloatArray = (
        np.bincount(np.searchsorted(e, v, side="left"), weights=w, minlength=e.size + 1) / w.sum()
    )
    return shares


def psi(p: npt.ArrayLike, q: npt.ArrayLike, eps: float = DEFAULT_PSI_EPSILON) -> float:
    """Population stability index ``sum (q - p) ln(q / p)``; ``p`` is the reference.

    ``p`` and ``q`` are aligned histograms (counts or shares; each is normalised to sum 1).
    Shares below ``eps`` are raised to ``eps`` and not renormalised: every term stays >= 0, so
    PSI is >= 0, symmetric, 0 for identical inputs, and finite when a bin is empty on one side
    (such a bin contributes about ``share * ln(share / eps)``). Common reading: < 0.1 stable,
    0.1-0.25 moderate shift, > 0.25 major shift.
    """
    if not (math.isfinite(eps) and 0.0 < eps < 1.0):
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    pn, qn = _distributions(p, q)
    pc = np.maximum(pn, eps)
    qc = np.maximum(qn, eps)
    return float(np.sum((qc - pc) * np.log(qc / pc)))


def jensen_shannon_distance(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """Jensen-Shannon distance in bits, ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.

    The square root of the JS divergence, a metric in [0, 1]: 0 for identical distributions, 1
    for disjoint supports. ``p`` and ``q`` are aligned counts or shares; zeros are fine.
    """
    pn, qn = _distributions(p, q)
    mid = (pn + qn) / 2.0

    def kl_to_mid(x: FloatArray) -> float:
        # 0 * log(0 / m) = 0; where x > 0 the midpoint is at least x / 2 > 0.
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / mid[mask])))

    divergence = (kl_to_mid(pn) + kl_to_mid(qn)) / 2.0
    # Clamped: rounding can take the divergence a hair below 0 or above 1.
    return math.sqrt(min(1.0, max(0.0, divergence)))


def hellinger_distance(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """Hellinger distance ``sqrt(1/2 * sum (sqrt p - sqrt q)^2)``, in [0, 1].

    0 for identical distributions, 1 for disjoint supports. ``p`` and ``q`` are aligned counts
    or shares; zeros are fine.
    """
    pn, qn = _distributions(p, q)
    half_sum = 0.5 * float(np.sum((np.sqrt(pn) - np.sqrt(qn)) ** 2))
    return math.sqrt(min(1.0, half_sum))


# --------------------------------------------------------------------------------------------
# Wasserstein


def wasserstein_distance(
    a_values: npt.ArrayLike,
    a_weights: npt.ArrayLike,
    b_values: npt.ArrayLike,
    b_weights: npt.ArrayLike,
) -> float:
    """Exact first Wasserstein (earth mover's) distance ``integral |F_a - F_b| dx``.

    Equals ``scipy.stats.wasserstein_distance(a_values, b_values, a_weights, b_weights)``. In
    the units of the data, so not comparable across features (see ``normalized_wasserstein``).
    Values must be finite.
    """
    av, ac = _sorted_sample(a_values, a_weights, "a_values", "a_weights", finite=True)
    bv, bc = _sorted_sample(b_values, b_weights, "b_values", "b_weights", finite=True)
    # Two sorted runs: a stable (merge-based) sort is linear on them, quicksort is not.
    grid = np.sort(np.concatenate((av, bv)), kind="stable")
    scale = _power_of_two_scale(max(abs(grid[0]), abs(grid[-1])))
    # Both ECDFs are constant on each [grid[i], grid[i+1]).
    left = grid[:-1]
    gaps = np.diff(grid / scale)
    # np.sum of the product, not np.dot: BLAS threads waking up cost milliseconds here.
    return scale * float(np.sum(np.abs(_ecdf(av, ac, left) - _ecdf(bv, bc, left)) * gaps))


def normalized_wasserstein(
    a_values: npt.ArrayLike,
    a_weights: npt.ArrayLike,
    b_values: npt.ArrayLike,
    b_weights: npt.ArrayLike,
) -> float:
    """Wasserstein distance divided by the population std (ddof 0) of the reference ``a``.

    Evidently's "normed Wasserstein": ``wasserstein_distance(a, b) / np.std(a)`` for unit
    weights, read in reference standard deviations (Evidently's default threshold is 0.1). A
    constant reference has std 0: the result is then 0.0 if ``b`` is the same constant and
    ``math.inf`` otherwise, since any movement is infinitely many standard deviations.
    Values must be finite.
    """
    distance = wasserstein_distance(a_values, a_weights, b_values, b_weights)
    v, w = _weighted_sample(a_values, a_weights, "a_values", "a_weights", finite=True)
    positive = w > 0
    v, w = v[positive], w[positive]
    scale = _power_of_two_scale(float(np.max(np.abs(v))))
    z = v / scale
    # A constant is recognised from the values, not from the computed std: the weighted mean of
    # a constant is not always exactly that constant, which would leave a spurious std of ~1e-17.
    scaled_std = (
        0.0
        if z.min() == z.max()
        else math.sqrt(float(np.average((z - np.average(z, weights=w)) ** 2, weights=w)))
    )
    if scaled_std == 0.0:
        return 0.0 if distance == 0.0 else math.inf
    return (distance / scale) / scaled_std


# --------------------------------------------------------------------------------------------
# Categorical


def category_probabilities(
    baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Both windows' category shares aligned over the sorted union of categories.

    Returns ``(categories, p, q)`` with ``p`` the baseline and ``q`` the current shares; a
    category missing from one window has share 0 there. Feed ``p, q`` to ``psi``,
    ``jensen_shannon_distance`` or ``hellinger_distance``.
    """
    categories, baseline, current = _aligned_counts(baseline_counts, current_counts)
    return categories, baseline / baseline.sum(), current / current.sum()


def categorical_linf(
    baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]
) -> float:
    """SageMaker's categorical L-infinity: ``max_v |p_baseline(v) - p_current(v)|``, in [0, 1].

    Per-category frequencies over the union of categories, not cumulative ones (categories have
    no order). Apply ``linf_robust`` with the two total counts for the "Robust" form.
    """
    _, p, q = category_probabilities(baseline_counts, current_counts)
    return float(np.max(np.abs(p - q)))


@dataclass(frozen=True)
class ChiSquaredResult:
    """Pearson goodness-of-fit test of the current counts against the baseline distribution.

    ``categories`` is the number of groups after regrouping rare categories; ``dof`` is
    ``categories - 1``.
    """

    statistic: float
    pvalue: float
    dof: int
    categories: int


def _regroup(expected: FloatArray, observed: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Merge the two groups with the smallest expected counts until the rules hold.

    Deequ's loop: with more than 2 groups, Yates (at most 20% of expected counts below 5, all
    at least 1); with exactly 2, Cochran (both at least 10); stop below 2 groups. Deequ breaks
    ties in expected count by hash order; here the earlier group (by sorted category name, then
    by time of merging) goes first, so the result is deterministic.
    """
    heap = [
        (e, i, o) for i, (e, o) in enumerate(zip(expected.tolist(), observed.tolist(), strict=True))
    ]
    heapq.heapify(heap)
    next_id = len(heap)
    below_yates = sum(e < _YATES_MIN_EXPECTED for e, _, _ in heap)
    while len(heap) >= 2:
        smallest = heap[0][0]
        if len(heap) == 2:
            valid = smallest >= _COCHRAN_MIN_EXPECTED
        else:
            valid = smallest >= _YATES_FLOOR and below_yates <= _YATES_MAX_SHARE_BELOW * len(heap)
        if valid:
            break
        e1, _, o1 = heapq.heappop(heap)
        e2, _, o2 = heapq.heappop(heap)
        merged = e1 + e2
        below_yates += (
            (merged < _YATES_MIN_EXPECTED) - (e1 < _YATES_MIN_EXPECTED) - (e2 < _YATES_MIN_EXPECTED)
        )
        heapq.heappush(heap, (merged, next_id, o1 + o2))
        next_id += 1
    heap.sort(key=lambda group: group[1])
    return (
        np.array([e for e, _, _ in heap], dtype=np.float64),
        np.array([o for _, _, o in heap], dtype=np.float64),
    )


def categorical_chi_squared(
    baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]
) -> ChiSquaredResult | None:
    """SageMaker's "ChiSquared" categorical drift test (Deequ on Spark MLlib's ``chiSqTest``).

    The expected count of a category is its baseline share times the current total. Rare
    categories are then regrouped (see ``_regroup``): with more than 2 groups, at most 20% of
    expected counts may be below 5 and all must be at least 1 (Yates); with exactly 2, both
    must be at least 10 (Cochran). Fewer than 2 groups left means no test: ``None``. This
    happens for a single-category baseline or a current window too small for the rules.

    Categories absent from the baseline (or with count 0 there) have expected count 0. Here
    their current counts form one "unseen" group with expected 0, which the rules always merge
    into the rarest baseline group, so they add to the discrepancy and the test stays defined.
    The current total used for expected counts includes them.

    Without regrouping and unseen categories this is
    ``scipy.stats.chisquare(current, f_exp=current_total * baseline_share)``.

    Departures from Deequ's ``Distance.categoricalChiSquareTest``, each making the test
    stricter or better defined:

    * Deequ drops current-only categories (from the counts and the total), which hides exactly
      the drift a new category signals.
    * Deequ's code checks only the 20% part of the Yates rule its comment quotes; the "all at
      least 1" part is enforced here (it is also what folds the unseen group in).
    * Ties between equally rare groups are broken by category name, not by hash order.
    * The p-value is ``chi2.sf(statistic, dof)``; Spark computes ``1 - cdf``, which rounds
      p-values below ~1e-16 to 0.
    """
    _, baseline, current = _aligned_counts(baseline_counts, current_counts)
    in_baseline = baseline > 0
    current_total = current.sum()
    # Share times total, in Deequ's order, so that borderline expected counts (exactly 5 or
    # 10) round the same way and regroup alike.
    expected = baseline[in_baseline] / baseline.sum() * current_total
    observed = current[in_baseline]
    unseen = current[~in_baseline].sum()
    if unseen > 0:
        expected = np.append(expected, 0.0)
        observed = np.append(observed, unseen)
    expected, observed = _regroup(expected, observed)
    if expected.size < 2:
        return None
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    dof = expected.size - 1
    return ChiSquaredResult(
        statistic=statistic,
        pvalue=float(_scipy_stats().chi2.sf(statistic, dof)),
        dof=dof,
        categories=int(expected.size),
    )
