"""Classification metrics over arrays, as Spark MLlib (SageMaker's analyzer) computes them.

Everything is vectorised: the confusion-count functions take arrays of counts (one per simulated
or subsampled draw) as well as scalars, so estimation reuses them unchanged.

Conventions, SageMaker's (Spark's ``BinaryClassificationMetrics``/``MulticlassMetrics``):

* a ratio whose denominator is zero is 0.0 (scikit-learn's ``zero_division=0``);
* ``true_negative_rate = 1 - false_positive_rate`` and ``false_negative_rate = 1 -
  true_positive_rate``, which is how SageMaker's own example numbers come out to the last digit;
* the ROC curve is (0, 0), one point per distinct score from the highest down, then (1, 1); the
  precision-recall curve is (0, precision at the highest score), then one point per distinct
  score. ``roc_auc`` is the trapezoidal area under the full curve (scikit-learn's value).
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "BinaryCounts",
    "Cumulative",
    "auc_binning_error",
    "auc_from",
    "binary_counts",
    "binary_rates",
    "confusion_matrix",
    "downsample_curve",
    "f_beta",
    "histogram_cumulative",
    "precision_recall_curve",
    "precision_recall_from",
    "ratio",
    "roc_auc",
    "roc_curve",
    "roc_from",
    "score_cumulative",
    "score_histogram",
    "weighted_scores",
]

Floats: TypeAlias = npt.NDArray[np.float64]
Counts: TypeAlias = "npt.NDArray[np.float64] | float"
BinaryCounts: TypeAlias = tuple[Counts, Counts, Counts, Counts]
"""(true positives, false positives, false negatives, true negatives)."""
Cumulative: TypeAlias = tuple[Floats, Floats, float, float]
"""Cumulative (true, false) positives at each distinct score from the highest down, and the
totals of positives and negatives: everything the curves and the AUC need."""


def ratio(numerator: Counts, denominator: Counts) -> Floats:
    """``numerator / denominator``, 0.0 where the denominator is 0 (Spark's and sklearn's rule)."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, 0.0, num / safe)


def f_beta(precision: Counts, recall: Counts, beta: float) -> Floats:
    """The F-beta score from precision and recall; 0.0 when both are 0."""
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    b2 = beta * beta
    return ratio((1 + b2) * p * r, b2 * p + r)


def binary_counts(actual: npt.NDArray[np.bool_], predicted: npt.NDArray[np.bool_]) -> BinaryCounts:
    """Confusion counts of boolean arrays (True = the positive class "1")."""
    tp = float(np.count_nonzero(actual & predicted))
    fp = float(np.count_nonzero(~actual & predicted))
    fn = float(np.count_nonzero(actual & ~predicted))
    return tp, fp, fn, float(actual.size) - tp - fp - fn


def binary_rates(counts: BinaryCounts) -> dict[str, Floats]:
    """Every count-based binary metric under SageMaker's key, from (tp, fp, fn, tn)."""
    tp, fp, fn, tn = (np.asarray(c, dtype=np.float64) for c in counts)
    recall = ratio(tp, tp + fn)
    precision = ratio(tp, tp + fp)
    fpr = ratio(fp, fp + tn)
    return {
        "recall": recall,
        "precision": precision,
        "accuracy": ratio(tp + tn, tp + fp + fn + tn),
        "true_positive_rate": recall,
        "true_negative_rate": 1.0 - fpr,
        "false_positive_rate": fpr,
        "false_negative_rate": 1.0 - recall,
        "f0_5": f_beta(precision, recall, 0.5),
        "f1": f_beta(precision, recall, 1.0),
        "f2": f_beta(precision, recall, 2.0),
    }


def confusion_matrix(
    actual: npt.NDArray[np.int64], predicted: npt.NDArray[np.int64], classes: int
) -> npt.NDArray[np.int64]:
    """Counts ``[actual, predicted]`` of class codes ``0..classes-1``."""
    flat = np.bincount(actual * classes + predicted, minlength=classes * classes)
    return flat.reshape(classes, classes).astype(np.int64)


def weighted_scores(matrix: npt.NDArray[np.int64] | Floats) -> dict[str, Floats]:
    """Support-weighted recall, precision and F-scores of a ``[..., actual, predicted]`` matrix.

    Leading axes are draws. Classes are weighted by their actual frequency, as Spark's
    ``MulticlassMetrics.weighted*`` and scikit-learn's ``average="weighted"`` do.
    """
    m = np.asarray(matrix, dtype=np.float64)
    tp = np.diagonal(m, axis1=-2, axis2=-1)
    support = m.sum(axis=-1)
    predicted = m.sum(axis=-2)
    total = support.sum(axis=-1, keepdims=True)
    weight = ratio(support, total)
    recall = ratio(tp, support)
    precision = ratio(tp, predicted)
    scores = {
        "accuracy": ratio(tp.sum(axis=-1), total[..., 0]),
        "weighted_recall": (weight * recall).sum(axis=-1),
        "weighted_precision": (weight * precision).sum(axis=-1),
    }
    for key, beta in (("weighted_f0_5", 0.5), ("weighted_f1", 1.0), ("weighted_f2", 2.0)):
        scores[key] = (weight * f_beta(precision, recall, beta)).sum(axis=-1)
    return scores


def score_cumulative(actual: npt.NDArray[np.bool_], scores: Floats) -> Cumulative:
    """Cumulative (true, false) positives at each distinct score, highest score first."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    positive = actual[order].astype(np.float64)
    # The last row of each run of equal scores: a threshold admits all rows of its score at once.
    last = np.r_[ranked[1:] != ranked[:-1], True]
    tps = np.cumsum(positive)[last]
    fps = np.cumsum(1.0 - positive)[last]
    positives = float(positive.sum())
    return tps, fps, positives, float(actual.size) - positives


def score_histogram(
    actual: npt.NDArray[np.bool_], scores: Floats, bins: int
) -> npt.NDArray[np.int64]:
    """Counts ``[negative, positive][bin]`` of scores in ``bins`` equal-width bins of [0, 1].

    Histograms of parts of the data add up to the histogram of the whole, so an engine that
    reads in pieces gets curves and an AUC from them (see :func:`histogram_cumulative`).
    """
    index = np.minimum((scores * bins).astype(np.int64), bins - 1)
    flat = np.bincount(actual.astype(np.int64) * bins + index, minlength=2 * bins)
    return flat.reshape(2, bins).astype(np.int64)


def histogram_cumulative(histogram: npt.NDArray[np.int64] | Floats) -> Cumulative:
    """:func:`score_cumulative` of binned scores: each non-empty bin acts as one distinct score.

    Rows within a bin become ties; see :func:`auc_binning_error` for what that costs the AUC.
    """
    h = np.asarray(histogram, dtype=np.float64)
    negatives, positives = h[0, ::-1], h[1, ::-1]
    used = (negatives + positives) > 0
    return (
        np.cumsum(positives)[used],
        np.cumsum(negatives)[used],
        float(positives.sum()),
        float(negatives.sum()),
    )


def auc_binning_error(histogram: npt.NDArray[np.int64] | Floats) -> float:
    """A bound on |AUC of the binned scores - AUC of the exact scores|.

    The AUC is the share of (positive, negative) pairs ranked right, ties counting half.
    Binning only changes pairs that share a bin, from 0, 1/2 or 1 to 1/2; so the error is at
    most half the share of pairs within one bin.
    """
    h = np.asarray(histogram, dtype=np.float64)
    pairs = float(h[0].sum() * h[1].sum())
    return 0.0 if pairs == 0.0 else float((h[0] * h[1]).sum()) / (2.0 * pairs)


def roc_curve(actual: npt.NDArray[np.bool_], scores: Floats) -> tuple[Floats, Floats]:
    """(false positive rates, true positive rates): Spark's ROC curve, see the module notes."""
    return roc_from(score_cumulative(actual, scores))


def precision_recall_curve(actual: npt.NDArray[np.bool_], scores: Floats) -> tuple[Floats, Floats]:
    """(precisions, recalls): Spark's precision-recall curve, see the module notes."""
    return precision_recall_from(score_cumulative(actual, scores))


def roc_auc(actual: npt.NDArray[np.bool_], scores: Floats) -> float:
    """Area under the ROC curve by the trapezoidal rule (equals scikit-learn's roc_auc_score
    when both classes are present; with one class, Spark's curve gives 0.0 or 1.0)."""
    return auc_from(score_cumulative(actual, scores))


def roc_from(cumulative: Cumulative) -> tuple[Floats, Floats]:
    """:func:`roc_curve` from cumulative counts (e.g. :func:`histogram_cumulative`)."""
    tps, fps, positives, negatives = cumulative
    fpr = np.r_[0.0, ratio(fps, negatives), 1.0]
    tpr = np.r_[0.0, ratio(tps, positives), 1.0]
    return fpr, tpr


def precision_recall_from(cumulative: Cumulative) -> tuple[Floats, Floats]:
    """:func:`precision_recall_curve` from cumulative counts."""
    tps, fps, positives, _ = cumulative
    precision = ratio(tps, tps + fps)
    recall = ratio(tps, positives)
    return np.r_[precision[:1], precision], np.r_[0.0, recall]


def auc_from(cumulative: Cumulative) -> float:
    """:func:`roc_auc` from cumulative counts."""
    fpr, tpr = roc_from(cumulative)
    return float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1])).sum() / 2.0)


def downsample_curve(xs: Floats, ys: Floats, max_points: int) -> tuple[Floats, Floats]:
    """At most ``max_points`` points of a curve, kept evenly along it with both ends.

    Like Spark's ``numBins``, this keeps a readable file for millions of distinct scores; the
    area is always computed from the full curve.
    """
    if max_points < 2 or xs.size <= max_points:
        return xs, ys
    keep = np.unique(np.linspace(0, xs.size - 1, max_points).round().astype(np.int64))
    return xs[keep], ys[keep]
