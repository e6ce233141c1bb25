"""SageMaker's model-quality statistics of labelled rows, with the subsample standard deviation.

The standard deviation of each metric is SageMaker's: with at least 200 rows, the metric is
computed on 5 random 80% subsamples (without replacement) and their standard deviation is
reported; below 200 rows it is NaN. The subsamples come from a seeded generator, so the same data
always gives the same file. SageMaker does not say whether it divides by n or n - 1; we use
n - 1 (Spark's ``stddev``), the usual estimate from 5 draws.

Beware what that number is: an 80% subsample drawn without replacement varies by only
sqrt(0.2 / 0.8) = 1/2 of the metric's own sampling noise, and 5 draws estimate it roughly (its
relative error is about a third). :class:`Measured` therefore also carries ``noise``, the
metric's sampling standard deviation on this many rows, from ``NOISE_DRAWS`` half subsamples (a
half subsample without replacement varies exactly as much as the metric itself); it is computed
from 20 rows on. Thresholds and Robust checks use it; it is not written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from modelmon.formats.sagemaker_model_quality import MetricValue, ModelQualityStatistics
from modelmon.monitors.model_quality.data import QualityData
from modelmon.stats.classification import (
    BinaryCounts,
    Cumulative,
    binary_counts,
    binary_rates,
    confusion_matrix,
    downsample_curve,
    precision_recall_from,
    roc_auc,
    roc_from,
    score_cumulative,
    weighted_scores,
)
from modelmon.stats.regression import regression_metrics

__all__ = [
    "MIN_ROWS_FOR_NOISE",
    "MIN_ROWS_FOR_STD",
    "NOISE_DRAWS",
    "SUBSAMPLES",
    "Measured",
    "binary_metrics",
    "constant_class",
    "matrix_json",
    "multiclass_metrics",
    "quality_statistics",
    "with_std",
    "written_curves",
]

MIN_ROWS_FOR_STD = 200
MIN_ROWS_FOR_NOISE = 20
SUBSAMPLES = 5
SUBSAMPLE_SHARE = 0.8
NOISE_DRAWS = 20


@dataclass(frozen=True)
class Measured:
    """The statistics of some rows, and each metric's sampling standard deviation (NaN when
    there were too few rows to tell)."""

    statistics: ModelQualityStatistics
    noise: Mapping[str, float]


Indices: TypeAlias = npt.NDArray[np.int64]
Metrics: TypeAlias = Callable[[Indices], dict[str, float]]


def quality_statistics(
    data: QualityData,
    rows: npt.NDArray[np.bool_] | None = None,
    *,
    seed: int = 0,
    evaluation_time: str | None = None,
    curve_points: int = 1000,
    curves: bool = True,
) -> Measured:
    """The statistics of the labelled rows of ``data`` (and of ``rows``, if given).

    ``curve_points`` caps the points written per curve (the AUC always uses every point).
    """
    mask = data.labelled if rows is None else data.labelled & rows
    chosen = np.flatnonzero(mask).astype(np.int64)
    if data.problem_type == "Regression":
        actual = np.asarray(data.actual, dtype=np.float64)
        predicted = np.asarray(data.predicted, dtype=np.float64)

        def regression(idx: Indices) -> dict[str, float]:
            return regression_metrics(actual[idx], predicted[idx])

        values, noise = _with_std(regression, chosen, seed)
        return Measured(
            ModelQualityStatistics("Regression", chosen.size, values, evaluation_time), noise
        )
    codes = np.asarray(data.actual, dtype=np.int64)
    predicted_codes = np.asarray(data.predicted, dtype=np.int64)
    k = len(data.classes)
    matrix = confusion_matrix(codes[chosen], predicted_codes[chosen], k)
    if data.problem_type == "BinaryClassification":
        return _binary(
            data,
            codes,
            predicted_codes,
            chosen,
            matrix,
            seed,
            evaluation_time,
            curves,
            curve_points,
        )
    constant = constant_class(data.classes)

    def multiclass(idx: Indices) -> dict[str, float]:
        return multiclass_metrics(confusion_matrix(codes[idx], predicted_codes[idx], k), constant)

    values, noise = _with_std(multiclass, chosen, seed)
    statistics = ModelQualityStatistics(
        "MulticlassClassification",
        chosen.size,
        values,
        evaluation_time,
        confusion_matrix=matrix_json(matrix, data.classes, observed_only=True),
    )
    return Measured(statistics, noise)


def _binary(
    data: QualityData,
    codes: npt.NDArray[np.int64],
    predicted_codes: npt.NDArray[np.int64],
    chosen: Indices,
    matrix: npt.NDArray[np.int64],
    seed: int,
    evaluation_time: str | None,
    with_curves: bool,
    curve_points: int,
) -> Measured:
    actual = codes == 1
    predicted = predicted_codes == 1
    scores = data.scores

    def binary(idx: Indices) -> dict[str, float]:
        a = actual[idx]
        auc = None if scores is None else roc_auc(a, scores[idx])
        return binary_metrics(binary_counts(a, predicted[idx]), auc)

    roc = pr = None
    if scores is not None and with_curves and chosen.size:
        roc, pr = written_curves(score_cumulative(actual[chosen], scores[chosen]), curve_points)
    values, noise = _with_std(binary, chosen, seed)
    statistics = ModelQualityStatistics(
        "BinaryClassification",
        chosen.size,
        values,
        evaluation_time,
        confusion_matrix=matrix_json(matrix, data.classes, observed_only=False),
        roc_curve=roc,
        precision_recall_curve=pr,
    )
    return Measured(statistics, noise)


def _with_std(
    metrics: Metrics, chosen: Indices, seed: int
) -> tuple[dict[str, MetricValue], dict[str, float]]:
    values = metrics(chosen)
    if chosen.size < MIN_ROWS_FOR_NOISE:
        return with_std(values, [], [])
    rng = np.random.default_rng(seed)
    half = chosen.size // 2
    halves = [metrics(rng.choice(chosen, size=half, replace=False)) for _ in range(NOISE_DRAWS)]
    if chosen.size < MIN_ROWS_FOR_STD:
        return with_std(values, halves, [])
    size = round(SUBSAMPLE_SHARE * chosen.size)
    draws = [metrics(rng.choice(chosen, size=size, replace=False)) for _ in range(SUBSAMPLES)]
    return with_std(values, halves, draws)


def with_std(
    values: Mapping[str, float],
    halves: Sequence[Mapping[str, float]],
    subsamples: Sequence[Mapping[str, float]],
) -> tuple[dict[str, MetricValue], dict[str, float]]:
    """The metric values with SageMaker's standard deviation over ``subsamples`` (80% draws;
    NaN without them), and the noise over ``halves`` (half draws; NaN without them)."""
    noise = {
        name: float(np.std([d[name] for d in halves], ddof=1)) if halves else math.nan
        for name in values
    }
    return {
        name: MetricValue(v, float(np.std([d[name] for d in subsamples], ddof=1)))
        if subsamples
        else MetricValue(v)
        for name, v in values.items()
    }, noise


def binary_metrics(counts: BinaryCounts, auc: float | None) -> dict[str, float]:
    """SageMaker's binary metrics from the confusion counts (tp, fp, fn, tn) and the AUC."""
    out = {k: float(v) for k, v in binary_rates(counts).items()}
    tp, fp, fn, tn = (float(c) for c in counts)
    positives = tp + fn
    # SageMaker's best constant classifier always predicts "1".
    constant = binary_rates((positives, fp + tn, 0.0, 0.0))
    for name in ("recall", "precision", "accuracy", "f0_5", "f1", "f2"):
        out[f"{name}_best_constant_classifier"] = float(constant[name])
    if auc is not None:
        out["auc"] = auc
    return out


def multiclass_metrics(matrix: npt.NDArray[np.int64], constant: int) -> dict[str, float]:
    """SageMaker's multiclass metrics from a ``[actual, predicted]`` confusion matrix."""
    scores = {name: float(v) for name, v in weighted_scores(matrix).items()}
    # The best constant classifier predicts one class for every row: its column is the support.
    always = np.zeros_like(matrix)
    always[:, constant] = matrix.sum(axis=1)
    for name, v in weighted_scores(always).items():
        scores[f"{name}_best_constant_classifier"] = float(v)
    return scores


Curve: TypeAlias = tuple[tuple[float, ...], tuple[float, ...]]


def written_curves(cumulative: Cumulative, curve_points: int) -> tuple[Curve, Curve]:
    """The ROC and precision-recall curves as written, at most ``curve_points`` points each."""
    fpr, tpr = downsample_curve(*roc_from(cumulative), curve_points)
    precisions, recalls = downsample_curve(*precision_recall_from(cumulative), curve_points)
    return (
        (tuple(fpr.tolist()), tuple(tpr.tolist())),
        (tuple(precisions.tolist()), tuple(recalls.tolist())),
    )


def constant_class(classes: tuple[str, ...]) -> int:
    """The class the multiclass best constant classifier predicts: the last in class order.

    SageMaker's examples fit "always predict the largest label" (Spark's labels are numbers);
    for 0/1 labels that is "1", as for binary problems. Inferred, not documented."""
    return len(classes) - 1


def matrix_json(
    matrix: npt.NDArray[np.int64], classes: tuple[str, ...], *, observed_only: bool
) -> dict[str, dict[str, int]]:
    """``{actual: {predicted: count}}``; multiclass keeps only classes that occur."""
    keep = list(range(len(classes)))
    if observed_only:
        seen = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
        keep = [i for i in keep if seen[i]]
    return {classes[a]: {classes[p]: int(matrix[a, p]) for p in keep} for a in keep}
