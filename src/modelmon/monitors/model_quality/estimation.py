"""Estimated performance before labels arrive: CBPE with a calibration fitted on the baseline.

* Binary classifiers: the score is mapped to P(label = 1) by an isotonic fit on the baseline's
  labelled rows; every count-based metric and the ROC AUC are estimated (see
  :mod:`modelmon.stats.quality_estimation`).
* Multiclass classifiers: the probability of the predicted class is mapped to P(prediction is
  right), which gives the estimated accuracy.
* Regression: not estimated (NannyML's DLE needs a second model; not in scope).

The interval is the central ``confidence_level`` range of the metric over simulated label draws:
it says where the realised value will fall if the calibration still holds. The draws are spread
over ``BOOTSTRAPS`` calibrations refitted on bootstrap resamples of the baseline, so the interval
also carries the calibration's own uncertainty (without it, a window much larger than the
baseline would get an interval narrower than what the baseline can know). Warnings say when the
estimate's assumptions look broken: scores outside the range the calibration saw, the baseline
carrying no calibration, or, once labels are there, a Hosmer-Lemeshow test rejecting the
calibration (calibration drift: the estimate can no longer be trusted, whatever it says).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from modelmon.errors import BaselineFormatError
from modelmon.formats import sagemaker as sm
from modelmon.formats.json_values import JsonValue
from modelmon.formats.sagemaker_model_quality import PROBLEM_TYPES, ProblemType, json_number
from modelmon.monitors.model_quality.data import QualityData
from modelmon.stats.calibration import (
    Calibration,
    CalibrationTest,
    fit_isotonic,
    hosmer_lemeshow,
)
from modelmon.stats.classification import binary_rates
from modelmon.stats.quality_estimation import (
    auc_draws,
    expected_binary_counts,
    expected_roc_auc,
    normal_interval,
    percentile_interval,
    score_ranks,
    simulate_binary_counts,
    simulate_roc_auc,
)

__all__ = [
    "CALIBRATION_FILE",
    "ESTIMATE_FILE",
    "EstimatedMetric",
    "EstimatedPerformance",
    "ScoreCalibration",
    "calibration_from_json",
    "estimate_performance",
    "fit_score_calibration",
    "points_of",
]

CALIBRATION_FILE = "calibration.json"
ESTIMATE_FILE = "estimated_performance.json"
BINARY_ESTIMATES = (
    "accuracy",
    "precision",
    "recall",
    "f0_5",
    "f1",
    "f2",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
)
# Scores outside the calibrated range beyond this share make the map extrapolate too much.
OUTSIDE_RANGE_WARNING = 0.05
# The calibration test needs enough labelled rows to say anything.
MIN_ROWS_FOR_TEST = 100
BOOTSTRAPS = 20


@dataclass(frozen=True)
class ScoreCalibration:
    """The baseline's map from scores to probabilities (``calibration.json``, modelmon's own).

    ``target`` is what the probability is of: "positive" (binary: label 1) or "correct"
    (multiclass: the prediction is right). ``bootstrap`` holds the same fit on resamples of the
    baseline, whose spread is the calibration's uncertainty."""

    problem_type: ProblemType
    target: Literal["positive", "correct"]
    calibration: Calibration
    item_count: int
    bootstrap: tuple[Calibration, ...] = ()

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "version": 0.0,
            "method": "isotonic",
            "problem_type": self.problem_type,
            "target": self.target,
            "item_count": self.item_count,
            "scores": list(self.calibration.x),
            "probabilities": list(self.calibration.y),
            "bootstrap": [
                {"scores": list(c.x), "probabilities": list(c.y)} for c in self.bootstrap
            ],
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        sm.write_json_atomic(path, self.to_json())


def calibration_from_json(obj: object, *, path: str | os.PathLike[str]) -> ScoreCalibration:
    """Read a decoded ``calibration.json``; errors name the file and the key."""

    def fail(key: str, expected: str, found: object) -> BaselineFormatError:
        return BaselineFormatError(
            "not a calibration file", path=path, column=key, expected=expected, found=repr(found)
        )

    if not isinstance(obj, Mapping):
        raise fail("", "a JSON object", obj)
    problem = obj.get("problem_type")
    if problem not in PROBLEM_TYPES or problem == "Regression":
        raise fail("problem_type", "BinaryClassification or MulticlassClassification", problem)
    target = obj.get("target")
    if target not in ("positive", "correct"):
        raise fail("target", '"positive" or "correct"', target)

    def knots(item: object, where: str) -> Calibration:
        if not isinstance(item, Mapping):
            raise fail(where, "a JSON object", item)
        xs, ys = item.get("scores"), item.get("probabilities")
        if not (isinstance(xs, list) and isinstance(ys, list) and xs and len(xs) == len(ys)):
            raise fail(f"{where}scores", "two non-empty arrays of equal length", (xs, ys))
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in [*xs, *ys]):
            raise fail(f"{where}scores", "numbers", "other values")
        return Calibration(tuple(float(v) for v in xs), tuple(float(v) for v in ys))

    resamples = obj.get("bootstrap", [])
    if not isinstance(resamples, list):
        raise fail("bootstrap", "a JSON array", resamples)
    count = obj.get("item_count", 0)
    return ScoreCalibration(
        problem,
        target,
        knots(obj, ""),
        int(count) if isinstance(count, int | float) else 0,
        tuple(knots(item, f"bootstrap[{i}].") for i, item in enumerate(resamples)),
    )


def fit_score_calibration(data: QualityData, *, seed: int = 0) -> ScoreCalibration | None:
    """Fit the calibration on the labelled rows (and on ``BOOTSTRAPS`` resamples of them);
    None without scores, labels or for regression."""
    if data.scores is None or data.problem_type == "Regression" or data.labelled_rows == 0:
        return None
    rows = data.labelled
    scores = data.scores[rows]
    if data.problem_type == "BinaryClassification":
        outcome = np.asarray(data.actual)[rows] == 1
    else:
        outcome = np.asarray(data.actual)[rows] == np.asarray(data.predicted)[rows]
    rng = np.random.default_rng(seed)
    resamples = [rng.integers(0, scores.size, scores.size) for _ in range(BOOTSTRAPS)]
    return ScoreCalibration(
        data.problem_type,
        "positive" if data.problem_type == "BinaryClassification" else "correct",
        fit_isotonic(scores, outcome),
        scores.size,
        tuple(fit_isotonic(scores[r], outcome[r]) for r in resamples),
    )


@dataclass(frozen=True)
class EstimatedMetric:
    """An estimate, its interval, and the realised value when every row has its label."""

    value: float
    lower: float
    upper: float
    realised: float | None = None


@dataclass(frozen=True)
class EstimatedPerformance:
    problem_type: ProblemType
    item_count: int
    labelled_count: int
    confidence_level: float
    metrics: Mapping[str, EstimatedMetric]
    warnings: tuple[str, ...] = ()
    calibration_test: CalibrationTest | None = None
    method: str = "CBPE"

    @property
    def calibration_drift(self) -> bool:
        return any(w.startswith("calibration drift") for w in self.warnings)

    def to_json(self) -> dict[str, JsonValue]:
        metrics: dict[str, JsonValue] = {}
        for name, m in self.metrics.items():
            item: dict[str, JsonValue] = {
                "value": json_number(m.value),
                "lower": json_number(m.lower),
                "upper": json_number(m.upper),
            }
            if m.realised is not None:
                item["realised"] = json_number(m.realised)
            metrics[name] = item
        test: JsonValue = None
        if self.calibration_test is not None:
            t = self.calibration_test
            test = {
                "method": "Hosmer-Lemeshow",
                "statistic": json_number(t.statistic),
                "degrees_of_freedom": t.groups,
                "p_value": json_number(t.p_value),
            }
        return {
            "version": 0.0,
            "method": self.method,
            "problem_type": self.problem_type,
            "dataset": {"item_count": self.item_count, "labelled_count": self.labelled_count},
            "confidence_level": self.confidence_level,
            "metrics": metrics,
            "calibration_test": test,
            "warnings": list(self.warnings),
        }

    def save(self, directory: str | os.PathLike[str]) -> Path:
        path = Path(directory) / ESTIMATE_FILE
        sm.write_json_atomic(path, self.to_json())
        return path


def estimate_performance(
    data: QualityData,
    calibration: ScoreCalibration | None,
    *,
    confidence_level: float = 0.95,
    draws: int = 500,
    seed: int = 0,
    calibration_alpha: float = 0.01,
    realised: Mapping[str, float] | None = None,
) -> EstimatedPerformance | None:
    """CBPE over every row of ``data``; None when it cannot apply (regression, no scores)."""
    if data.scores is None or data.problem_type == "Regression" or data.rows == 0:
        return None
    warnings = []
    if calibration is None:
        probabilities = np.clip(data.scores, 0.0, 1.0)
        spread = [probabilities]
        warnings.append(
            "the baseline has no calibration.json: scores are taken as calibrated "
            "probabilities; rebuild the baseline with modelmon to fit one"
        )
    else:
        probabilities = calibration.calibration.apply(data.scores)
        spread = [c.apply(data.scores) for c in calibration.bootstrap] or [probabilities]
        low, high = calibration.calibration.score_range
        outside = float(np.mean((data.scores < low) | (data.scores > high)))
        if outside > OUTSIDE_RANGE_WARNING:
            warnings.append(
                f"{outside:.1%} of scores lie outside the range the calibration was fitted on "
                f"([{low:.4g}, {high:.4g}]); the estimate extrapolates"
            )
    rng = np.random.default_rng(seed)
    predicted = np.asarray(data.predicted)
    if data.problem_type == "BinaryClassification":
        metrics = _binary(
            probabilities, spread, predicted == 1, data.scores, draws, rng, confidence_level
        )
        outcome = np.asarray(data.actual) == 1
    else:
        metrics = _accuracy(probabilities, spread, draws, rng, confidence_level)
        outcome = np.asarray(data.actual) == predicted
    test = None
    if data.labelled_rows >= MIN_ROWS_FOR_TEST:
        rows = data.labelled
        test = hosmer_lemeshow(probabilities[rows], outcome[rows])
        if test.p_value < calibration_alpha:
            warnings.append(
                f"calibration drift: the scores no longer match the labels (Hosmer-Lemeshow "
                f"p = {test.p_value:.2g} < {calibration_alpha}); estimated performance is "
                "unreliable until the calibration is refitted"
            )
    if realised is not None and data.labelled_rows == data.rows:
        metrics = {
            name: EstimatedMetric(m.value, m.lower, m.upper, realised.get(name))
            for name, m in metrics.items()
        }
    return EstimatedPerformance(
        data.problem_type,
        data.rows,
        data.labelled_rows,
        confidence_level,
        metrics,
        tuple(warnings),
        test,
    )


def _split(draws: int, parts: int) -> list[int]:
    """``draws`` spread over ``parts`` calibrations as evenly as possible."""
    return [draws // parts + (i < draws % parts) for i in range(parts)]


def _binary(
    probabilities: npt.NDArray[np.float64],
    spread: list[npt.NDArray[np.float64]],
    predicted: npt.NDArray[np.bool_],
    scores: npt.NDArray[np.float64],
    draws: int,
    rng: np.random.Generator,
    level: float,
) -> dict[str, EstimatedMetric]:
    expected = binary_rates(expected_binary_counts(probabilities, predicted))
    parts = [
        simulate_binary_counts(p, predicted, d, rng)
        for p, d in zip(spread, _split(draws, len(spread)), strict=True)
    ]
    counts = tuple(np.concatenate([np.atleast_1d(part[i]) for part in parts]) for i in range(4))
    simulated = binary_rates((counts[0], counts[1], counts[2], counts[3]))
    out = {}
    for name in BINARY_ESTIMATES:
        out[name] = EstimatedMetric(
            float(expected[name]), *percentile_interval(simulated[name], level)
        )
    exact = auc_draws(scores.size, draws)
    ranks = score_ranks(scores)
    auc = np.concatenate(
        [
            simulate_roc_auc(p, ranks, d, rng)
            for p, d in zip(spread, _split(exact, len(spread)), strict=True)
            if d
        ]
    )
    interval = percentile_interval if exact == draws else normal_interval
    out["auc"] = EstimatedMetric(expected_roc_auc(probabilities, scores), *interval(auc, level))
    return out


def _accuracy(
    probabilities: npt.NDArray[np.float64],
    spread: list[npt.NDArray[np.float64]],
    draws: int,
    rng: np.random.Generator,
    level: float,
) -> dict[str, EstimatedMetric]:
    everything = np.ones(probabilities.size, dtype=bool)
    correct = [
        np.atleast_1d(simulate_binary_counts(p, everything, d, rng)[0])
        for p, d in zip(spread, _split(draws, len(spread)), strict=True)
    ]
    accuracy = np.concatenate(correct).astype(np.float64) / probabilities.size
    return {
        "accuracy": EstimatedMetric(
            float(probabilities.mean()), *percentile_interval(accuracy, level)
        )
    }


def points_of(estimate: EstimatedPerformance) -> dict[str, dict[str, float]]:
    """``{metric: {"value", "lower", "upper"}}`` of the finite estimates (for metric points)."""
    out = {}
    for name, m in estimate.metrics.items():
        if all(math.isfinite(v) for v in (m.value, m.lower, m.upper)):
            out[name] = {"value": m.value, "lower": m.lower, "upper": m.upper}
    return out
