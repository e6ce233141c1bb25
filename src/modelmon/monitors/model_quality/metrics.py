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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from modelmon.formats.sagemaker_model_quality import MetricValue, ModelQualityStatistics
from modelmon.monitors.model_quality.data import QualityData
from modelmon.stats.classification import (
    binary_counts,
    binary_rates,
    confusion_matrix,
    downsample_curve,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    weighted_scores,
)
from modelmon.stats.regression import regression_metrics

__all__ = ["MIN_ROWS_FOR_STD", "NOISE_DRAWS", "SUBSAMPLES", "Measured", "quality_statistics"]

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
    constant = _constant_class(data.classes)

    def multiclass(idx: Indices) -> dict[str, float]:
        m = confusion_matrix(codes[idx], predicted_codes[idx], k)
        scores = {name: float(v) for name, v in weighted_scores(m).items()}
        # The best constant classifier predicts one class for every row: its column is the support.
        always = np.zeros_like(m)
        always[:, constant] = m.sum(axis=1)
        for name, v in weighted_scores(always).items():
            scores[f"{name}_best_constant_classifier"] = float(v)
        return scores

    values, noise = _with_std(multiclass, chosen, seed)
    statistics = ModelQualityStatistics(
        "MulticlassClassification",
        chosen.size,
        values,
        evaluation_time,
        confusion_matrix=_matrix_json(matrix, data.classes, observed_only=True),
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
    curves: bool,
    curve_points: int,
) -> Measured:
    actual = codes == 1
    predicted = predicted_codes == 1
    scores = data.scores

    def binary(idx: Indices) -> dict[str, float]:
        a = actual[idx]
        out = {k: float(v) for k, v in binary_rates(binary_counts(a, predicted[idx])).items()}
        positives = float(np.count_nonzero(a))
        # SageMaker's best constant classifier always predicts "1".
        constant = binary_rates((positives, float(a.size) - positives, 0.0, 0.0))
        for name in ("recall", "precision", "accuracy", "f0_5", "f1", "f2"):
            out[f"{name}_best_constant_classifier"] = float(constant[name])
        if scores is not None:
            out["auc"] = roc_auc(a, scores[idx])
        return out

    roc = pr = None
    if scores is not None and curves and chosen.size:
        fpr, tpr = downsample_curve(*roc_curve(actual[chosen], scores[chosen]), curve_points)
        precisions, recalls = downsample_curve(
            *precision_recall_curve(actual[chosen], scores[chosen]), curve_points
        )
        roc = (tuple(fpr.tolist()), tuple(tpr.tolist()))
        pr = (tuple(precisions.tolist()), tuple(recalls.tolist()))
    values, noise = _with_std(binary, chosen, seed)
    statistics = ModelQualityStatistics(
        "BinaryClassification",
        chosen.size,
        values,
        evaluation_time,
        confusion_matrix=_matrix_json(matrix, data.classes, observed_only=False),
        roc_curve=roc,
        precision_recall_curve=pr,
    )
    return Measured(statistics, noise)


def _with_std(
    metrics: Metrics, chosen: Indices, seed: int
) -> tuple[dict[str, MetricValue], dict[str, float]]:
    values = metrics(chosen)
    if chosen.size < MIN_ROWS_FOR_NOISE:
        return {n: MetricValue(v) for n, v in values.items()}, dict.fromkeys(values, math.nan)
    rng = np.random.default_rng(seed)
    half = chosen.size // 2
    halves = [metrics(rng.choice(chosen, size=half, replace=False)) for _ in range(NOISE_DRAWS)]
    noise = {name: float(np.std([d[name] for d in halves], ddof=1)) for name in values}
    if chosen.size < MIN_ROWS_FOR_STD:
        return {n: MetricValue(v) for n, v in values.items()}, noise
    size = round(SUBSAMPLE_SHARE * chosen.size)
    draws = [metrics(rng.choice(chosen, size=size, replace=False)) for _ in range(SUBSAMPLES)]
    std = {name: float(np.std([d[name] for d in draws], ddof=1)) for name in values}
    return {n: MetricValue(v, std[n]) for n, v in values.items()}, noise


def _constant_class(classes: tuple[str, ...]) -> int:
    """The class the multiclass best constant classifier predicts: the last in class order.

    SageMaker's examples fit "always predict the largest label" (Spark's labels are numbers);
    for 0/1 labels that is "1", as for binary problems. Inferred, not documented."""
    return len(classes) - 1


def _matrix_json(
    matrix: npt.NDArray[np.int64], classes: tuple[str, ...], *, observed_only: bool
) -> dict[str, dict[str, int]]:
    """``{actual: {predicted: count}}``; multiclass keeps only classes that occur."""
    keep = list(range(len(classes)))
    if observed_only:
        seen = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
        keep = [i for i in keep if seen[i]]
    return {classes[a]: {classes[p]: int(matrix[a, p]) for p in keep} for a in keep}
