"""Confidence-based performance estimation (CBPE): a classifier's quality without labels.

If a row's calibrated probability of being positive is ``p``, its label is a coin that lands
positive with probability ``p``. So the confusion matrix of a window has an expectation (CBPE's
point estimate: the metric of the expected counts, as NannyML computes it) and a distribution:
:func:`simulate_binary_counts` draws the labels the window could have, and the metric of each
draw shows how far the realised value may fall from the estimate. A percentile interval of
those draws covers the realised value at its stated rate whenever the probabilities are
calibrated and P(y | x) has not changed (CBPE's two assumptions; the monitor checks the first).

Inputs: ``probabilities`` in [0, 1] (already calibrated), ``predicted`` the model's decisions
(True = positive), ``scores`` the raw scores the ROC curve ranks by.

Cost: exact draws cost rows x draws coin flips. Beyond ``EXACT_BUDGET`` of them the counts are
drawn from their normal approximation (a sum of that many independent coins is normal to well
within the Monte Carlo error), and the AUC from fewer exact draws (see ``auc_draws``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from modelmon.stats.classification import BinaryCounts, ratio

__all__ = [
    "auc_draws",
    "expected_binary_counts",
    "expected_roc_auc",
    "normal_interval",
    "percentile_interval",
    "score_ranks",
    "simulate_binary_counts",
    "simulate_roc_auc",
]

Floats: TypeAlias = npt.NDArray[np.float64]
Bools: TypeAlias = npt.NDArray[np.bool_]

# Draws are made in blocks of about this many rows x draws, to bound memory.
_BLOCK = 4_000_000
EXACT_BUDGET = 20_000_000
MIN_AUC_DRAWS = 40


def expected_binary_counts(probabilities: Floats, predicted: Bools) -> BinaryCounts:
    """Expected (tp, fp, fn, tn) when each row is positive with its probability."""
    positive = float(probabilities[predicted].sum())
    missed = float(probabilities[~predicted].sum())
    n_predicted = float(np.count_nonzero(predicted))
    return positive, n_predicted - positive, missed, probabilities.size - n_predicted - missed


def expected_roc_auc(probabilities: Floats, scores: Floats) -> float:
    """The area under the expected ROC curve: expected true and false positives at each score."""
    order = np.argsort(-scores, kind="stable")
    ranked, p = scores[order], probabilities[order]
    last = np.r_[ranked[1:] != ranked[:-1], True]
    tps = np.r_[0.0, np.cumsum(p)[last]]
    fps = np.r_[0.0, np.cumsum(1.0 - p)[last]]
    tpr, fpr = ratio(tps, tps[-1]), ratio(fps, fps[-1])
    return float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1])).sum() / 2.0)


def _label_draws(
    probabilities: Floats, draws: int, rng: np.random.Generator
) -> Iterator[npt.NDArray[np.bool_]]:
    """Blocks of simulated label vectors, one row per draw."""
    per_block = max(1, _BLOCK // max(1, probabilities.size))
    done = 0
    while done < draws:
        block = min(per_block, draws - done)
        yield rng.random((block, probabilities.size)) < probabilities
        done += block


def simulate_binary_counts(
    probabilities: Floats, predicted: Bools, draws: int, rng: np.random.Generator
) -> BinaryCounts:
    """(tp, fp, fn, tn) arrays of ``draws`` simulated label vectors."""
    n_predicted = float(np.count_nonzero(predicted))
    if probabilities.size * draws > EXACT_BUDGET:
        tp = _normal_sum(probabilities[predicted], draws, rng)
        fn = _normal_sum(probabilities[~predicted], draws, rng)
        return tp, n_predicted - tp, fn, probabilities.size - n_predicted - fn
    tps, fns = [], []
    for labels in _label_draws(probabilities, draws, rng):
        tps.append(np.count_nonzero(labels[:, predicted], axis=1))
        fns.append(np.count_nonzero(labels[:, ~predicted], axis=1))
    tp = np.concatenate(tps).astype(np.float64)
    fn = np.concatenate(fns).astype(np.float64)
    return tp, n_predicted - tp, fn, probabilities.size - n_predicted - fn


def _normal_sum(probabilities: Floats, draws: int, rng: np.random.Generator) -> Floats:
    """Draws of the number of heads of independent coins, from its normal approximation."""
    mean = float(probabilities.sum())
    sd = float(np.sqrt((probabilities * (1.0 - probabilities)).sum()))
    heads: Floats = np.clip(np.round(rng.normal(mean, sd, draws)), 0, probabilities.size)
    return heads


def auc_draws(rows: int, draws: int) -> int:
    """How many exact AUC draws fit the budget (at least ``MIN_AUC_DRAWS``, at most ``draws``).

    With fewer than ``draws``, summarise them by a normal interval: a large window's AUC is
    normally distributed, and its spread is what the few draws estimate."""
    return max(MIN_AUC_DRAWS, min(draws, EXACT_BUDGET // max(1, rows)))


def score_ranks(scores: Floats) -> Floats:
    """Mid-ranks of ``scores`` (ties share their mean rank), for :func:`simulate_roc_auc`."""
    from scipy.stats import rankdata

    ranks: Floats = rankdata(scores).astype(np.float64)
    return ranks


def simulate_roc_auc(
    probabilities: Floats, ranks: Floats, draws: int, rng: np.random.Generator
) -> Floats:
    """ROC AUC of ``draws`` simulated label vectors (NaN where a draw has only one class), from
    the scores' :func:`score_ranks`.

    The Mann-Whitney form with mid-ranks for ties, which equals the trapezoidal area."""
    n = float(ranks.size)
    out = []
    for labels in _label_draws(probabilities, draws, rng):
        positives = labels.sum(axis=1).astype(np.float64)
        # Elementwise multiply and sum: a matrix product is slow with this machine's BLAS.
        rank_sum = (labels * ranks).sum(axis=1)
        pairs = positives * (n - positives)
        with np.errstate(invalid="ignore", divide="ignore"):
            auc = (rank_sum - positives * (positives + 1) / 2) / pairs
        out.append(np.where(pairs > 0, auc, np.nan))
    return np.concatenate(out)


def percentile_interval(samples: Floats, level: float) -> tuple[float, float]:
    """The central ``level`` interval of ``samples`` (NaNs ignored; NaN, NaN if none are left)."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def normal_interval(samples: Floats, level: float) -> tuple[float, float]:
    """mean -/+ z * sd of ``samples`` (NaNs ignored), the central ``level`` normal interval."""
    from scipy.stats import norm

    finite = samples[np.isfinite(samples)]
    if finite.size < 2:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + level / 2.0))
    mean, sd = float(finite.mean()), float(finite.std(ddof=1))
    return mean - z * sd, mean + z * sd
