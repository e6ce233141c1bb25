"""NDCG of a live feature-attribution ranking against the baseline's (sagemaker.md §6).

Clarify's rule: order the features by their *live* attribution, but score each position with the
feature's *baseline* attribution, and divide by the score of the baseline's own order::

    DCG  = Σ_i a(F'_i) / log2(i + 1)     F' = features by live attribution, descending
    iDCG = Σ_i a(F_i)  / log2(i + 1)     F  = features by baseline attribution, descending
    NDCG = DCG / iDCG                    a  = baseline attribution

This is scikit-learn's ``ndcg_score(y_true=[baseline], y_score=[live])`` (the doc links it).
Ties in the live scores are averaged over the tied positions, as scikit-learn does, so the result
does not depend on the order the features were listed in.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["ndcg"]


def ndcg(
    baseline: Mapping[str, float], live: Mapping[str, float], *, top_k: int | None = None
) -> float:
    """NDCG of the ranking by ``live`` against the ranking by ``baseline`` (feature -> value).

    Features are those of ``baseline``; one missing from ``live`` ranks last (attribution 0).
    Baseline attributions are the gains, so they must be finite and non-negative (mean |SHAP|,
    mean-square). ``top_k`` keeps only the first k positions. All-zero gains give 1.0: no ranking
    can be worse than another. Raises ValueError for an empty baseline or a bad value."""
    if not baseline:
        raise ValueError("baseline has no features")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    names = list(baseline)
    gains = np.array([float(baseline[n]) for n in names], dtype=np.float64)
    scores = np.array([float(live.get(n, 0.0)) for n in names], dtype=np.float64)
    if not np.isfinite(gains).all() or (gains < 0).any():
        raise ValueError("baseline attributions must be finite and non-negative")
    if not np.isfinite(scores).all():
        raise ValueError("live attributions must be finite")
    k = len(names) if top_k is None else min(top_k, len(names))
    discounts = 1.0 / np.log2(np.arange(len(names)) + 2.0)
    discounts[k:] = 0.0
    ideal = float((np.sort(gains)[::-1] * discounts).sum())
    if ideal == 0.0:
        return 1.0
    return _tied_dcg(gains, scores, discounts) / ideal


def _tied_dcg(gains: np.ndarray, scores: np.ndarray, discounts: np.ndarray) -> float:
    """DCG of ``gains`` ordered by ``scores`` descending; tied scores share their positions'
    discounts equally (scikit-learn's ``_tie_averaged_dcg``)."""
    unique, inverse, counts = np.unique(-scores, return_inverse=True, return_counts=True)
    group_gain = np.zeros(len(unique))
    np.add.at(group_gain, inverse, gains)
    ends = np.cumsum(counts)
    starts = ends - counts
    cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    mean_discount = (cumulative[ends] - cumulative[starts]) / counts
    return float((group_gain * mean_discount).sum())
