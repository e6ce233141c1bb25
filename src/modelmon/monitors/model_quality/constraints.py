"""Constraints on model-quality metrics: suggested from a baseline, checked against a window.

Suggestion: every quality metric gets a constraint in the direction that means "worse"
(``LessThanThreshold`` for accuracy-like metrics, ``GreaterThanThreshold`` for error metrics and
error rates). The threshold is the baseline value moved ``tolerance`` sampling standard deviations
towards "worse" (3 by default: NannyML's band; the sampling sd is the ``noise`` of
:mod:`.metrics`, or, for statistics read from a file, twice its subsample
``standard_deviation``), kept within the metric's range. Without either (under 20 rows) the
threshold is the baseline value itself, as SageMaker suggests it. Users may edit the file; all
four SageMaker operators apply.

Checking: ``Simple`` is SageMaker's rule, ``value <op> threshold``. ``Robust`` (the default)
also asks the value to cross the threshold by more than ``z`` of the window's own sampling
standard deviations, so a small window or segment does not alarm on noise; with too few rows to
know the noise (under 20) nothing is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from modelmon.formats.sagemaker_model_quality import (
    ComparisonOperator,
    MetricConstraint,
    MetricValue,
    ModelQualityConstraints,
    ModelQualityStatistics,
    ModelQualityViolation,
    ProblemType,
    violated,
    violation_description,
)

# An 80% subsample without replacement varies by sqrt(0.2 / 0.8) = 1/2 of the sampling sd.
_SUBSAMPLE_TO_SAMPLING = 2.0

__all__ = ["SUGGESTED_METRICS", "check_constraints", "suggest_constraints"]

SUGGESTED_METRICS: dict[ProblemType, tuple[str, ...]] = {
    "Regression": ("mae", "mse", "rmse", "r2"),
    "BinaryClassification": (
        "recall",
        "precision",
        "accuracy",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
        "auc",
        "f0_5",
        "f1",
        "f2",
    ),
    "MulticlassClassification": (
        "accuracy",
        "weighted_recall",
        "weighted_precision",
        "weighted_f0_5",
        "weighted_f1",
        "weighted_f2",
    ),
}
_LOWER_IS_BETTER = {"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"}
_UNBOUNDED = {"mae", "mse", "rmse", "r2"}


def suggest_constraints(
    statistics: ModelQualityStatistics,
    tolerance: float = 3.0,
    noise: Mapping[str, float] | None = None,
) -> ModelQualityConstraints:
    """One constraint per quality metric of ``statistics`` (see the module docstring)."""
    suggested: dict[str, MetricConstraint] = {}
    for name in SUGGESTED_METRICS[statistics.problem_type]:
        metric = statistics.metrics.get(name)
        if metric is None or not math.isfinite(metric.value):
            continue
        sd = _SUBSAMPLE_TO_SAMPLING * metric.standard_deviation
        if noise is not None and name in noise:
            sd = noise[name]
        suggested[name] = _suggest(name, metric, tolerance * sd)
    return ModelQualityConstraints(statistics.problem_type, suggested)


def _suggest(name: str, metric: MetricValue, margin: float) -> MetricConstraint:
    margin = margin if math.isfinite(margin) else 0.0
    operator: ComparisonOperator
    if name in _LOWER_IS_BETTER:
        operator, threshold = "GreaterThanThreshold", metric.value + margin
        if name not in _UNBOUNDED:
            threshold = min(threshold, 1.0)
    else:
        operator, threshold = "LessThanThreshold", metric.value - margin
        if name not in _UNBOUNDED:
            threshold = max(threshold, 0.0)
    return MetricConstraint(float(threshold), operator)


def check_constraints(
    metrics: Mapping[str, MetricValue],
    constraints: ModelQualityConstraints,
    *,
    noise: Mapping[str, float] | None = None,
    z: float = 2.0,
    segment: str | None = None,
) -> tuple[ModelQualityViolation, ...]:
    """The violated constraints, in the constraints file's order; ``noise`` (sampling sds)
    makes the check Robust, None makes it Simple (see the module docstring).

    A constraint on a metric the window lacks (a custom metric, or AUC without scores) is not
    checked; a NaN value never violates. ``segment`` ("region=north") is named in the text."""
    out = []
    for name, constraint in constraints.constraints.items():
        metric = metrics.get(name)
        if metric is None or not violated(metric.value, constraint):
            continue
        if noise is not None and not _beyond_noise(metric.value, constraint, z * noise[name]):
            continue
        description = violation_description(name, metric.value, constraint)
        if segment is not None:
            description += f" in segment {segment}"
        out.append(ModelQualityViolation(name, constraint.comparison_operator, description))
    return tuple(out)


def _beyond_noise(value: float, constraint: MetricConstraint, allowance: float) -> bool:
    """Whether ``value`` still violates once moved ``allowance`` towards the safe side."""
    if not math.isfinite(allowance):
        return False
    safer = (
        value + allowance
        if constraint.comparison_operator.startswith("Less")
        else value - allowance
    )
    return violated(safer, constraint)
