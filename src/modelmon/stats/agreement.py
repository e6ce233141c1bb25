"""How far two model versions' predictions on the same inputs agree: pure functions, numbers out.

The two arrays are *paired*: item ``i`` of each is the prediction of one version for the same
input (joined by inference id, or one row of a dataset scored by both). Callers drop pairs with a
missing side first; these functions validate and raise ``ValueError`` naming the argument on
misuse (different lengths, no pairs, NaN scores).

* Labels: :func:`disagreement_rate` and its Wilson score interval (:func:`wilson_interval`).
* Scores: :func:`score_agreement`: mean and maximum absolute difference, the KS statistic between
  the two score distributions, and Spearman's rank correlation. The KS statistic describes how
  the distributions differ; no p-value is given because paired scores are not independent
  samples, which the KS test assumes.
* Segments: :func:`segment_codes` groups pairs by a segment column, largest segments first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.stats.distances import linf_distance

__all__ = [
    "LabelAgreement",
    "ScoreAgreement",
    "disagreement_rate",
    "label_agreement",
    "rank_correlation",
    "score_agreement",
    "segment_codes",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]
# z for a two-sided 95% interval.
_Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class LabelAgreement:
    """Agreement of two versions' labels on ``n`` inputs; ``low``/``high`` bound the rate (95%)."""

    n: int
    disagreements: int
    rate: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class ScoreAgreement:
    """Agreement of two versions' scores on ``n`` inputs.

    ``rank_correlation`` is None when either side is constant (Spearman's rho is undefined).
    """

    n: int
    mean_abs_diff: float
    max_abs_diff: float
    ks_statistic: float
    rank_correlation: float | None


def _paired(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a), np.asarray(b)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"a and b must be one-dimensional, got shapes {x.shape} and {y.shape}")
    if x.shape != y.shape:
        raise ValueError(f"a and b must be paired (same length), got {x.size} and {y.size}")
    if x.size == 0:
        raise ValueError("a and b are empty; agreement needs at least one pair")
    return x, y


def _scores(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _paired(a, b)
    x, y = x.astype(np.float64), y.astype(np.float64)
    if np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("scores must not contain NaN; drop the pairs with a missing side")
    return x, y


def disagreement_rate(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """The share of pairs whose labels differ, in [0, 1]."""
    x, y = _paired(a, b)
    return float(np.count_nonzero(x != y)) / x.size


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion: sensible at 0, 1 and small ``n``."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes} of {n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0 and n the bound is exactly 0 (or 1); rounding would leave it a hair off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def label_agreement(a: npt.ArrayLike, b: npt.ArrayLike) -> LabelAgreement:
    """Disagreement rate of paired labels, with its 95% Wilson interval."""
    x, y = _paired(a, b)
    different = int(np.count_nonzero(x != y))
    low, high = wilson_interval(different, x.size)
    return LabelAgreement(x.size, different, different / x.size, low, high)


def _average_ranks(values: FloatArray, order: np.ndarray) -> FloatArray:
    """Ranks from 1, ties given the mean of the ranks they span (``scipy.stats.rankdata``);
    ``order`` sorts ``values`` (any sort: tied items get the same rank whatever their order)."""
    ordered = values[order]
    new_run = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    starts = np.flatnonzero(new_run)
    run = np.cumsum(new_run) - 1  # each sorted item's run of equal values
    ends = np.concatenate((starts[1:], [values.size]))
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = mean_rank[run]
    return ranks


def _spearman(
    x: FloatArray, y: FloatArray, x_order: np.ndarray, y_order: np.ndarray
) -> float | None:
    rx, ry = _average_ranks(x, x_order), _average_ranks(y, y_order)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    # Elementwise products: np.dot is slow on this machine's BLAS for big arrays.
    sxx, syy = float((dx * dx).sum()), float((dy * dy).sum())
    if sxx == 0.0 or syy == 0.0:
        return None
    rho = float((dx * dy).sum()) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, rho))


def rank_correlation(a: npt.ArrayLike, b: npt.ArrayLike) -> float | None:
    """Spearman's rho of paired scores (Pearson's r of their average ranks); None if either
    side is constant, where it is undefined."""
    x, y = _scores(a, b)
    return _spearman(x, y, np.argsort(x), np.argsort(y))


def score_agreement(a: npt.ArrayLike, b: npt.ArrayLike) -> ScoreAgreement:
    """Distances between paired scores (see the module docstring)."""
    x, y = _scores(a, b)
    diff = np.abs(x - y)
    ones = np.ones(x.size)
    # One sort per side serves both the ranks and the KS statistic (whose own sort of an
    # already sorted sample is linear).
    x_order, y_order = np.argsort(x), np.argsort(y)
    return ScoreAgreement(
        n=x.size,
        mean_abs_diff=float(diff.mean()),
        max_abs_diff=float(diff.max()),
        ks_statistic=linf_distance(x[x_order], ones, y[y_order], ones),
        rank_correlation=_spearman(x, y, x_order, y_order),
    )


def segment_codes(
    segments: pa.Array | pa.ChunkedArray | Sequence[object],
) -> tuple[list[str], np.ndarray]:
    """Segment names (as text, ``"null"`` for a missing value) ordered by size, largest first
    (ties by name), and each item's index into them."""
    array = segments if isinstance(segments, pa.Array | pa.ChunkedArray) else pa.array(segments)
    if len(array) == 0:
        return [], np.zeros(0, dtype=np.int64)
    # Arrow's dictionary encoding: no Python object per item, which matters at millions of rows.
    text = pc.fill_null(array.cast(pa.string()), "null")
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    names = [str(name) for name in encoded.dictionary.to_pylist()]
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    counts = np.bincount(codes, minlength=len(names))
    order = sorted(range(len(names)), key=lambda i: (-int(counts[i]), names[i]))
    position = np.empty(len(names), dtype=np.int64)
    position[order] = np.arange(len(names))
    return [names[i] for i in order], position[codes]
