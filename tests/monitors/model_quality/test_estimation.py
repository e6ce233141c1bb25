"""Estimated performance on simulated data where the truth is known.

A calibrated classifier's labels are drawn from its scores, so the realised value of every window
is known: the stated 95% interval must cover it about 95% of the time, and a miscalibrated model
must be flagged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from modelmon.errors import ConfigError
from modelmon.monitors.model_quality import ModelQualityBaseline, ModelQualityMonitor

WINDOWS = 150
Calibrated = Callable[..., pa.Table]


@pytest.fixture(scope="module")
def monitor() -> ModelQualityMonitor:
    return ModelQualityMonitor(
        "BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="score",
        estimation_draws=400,
    )


@pytest.fixture(scope="module")
def baseline(monitor: ModelQualityMonitor, make_calibrated: Calibrated) -> ModelQualityBaseline:
    return monitor.baseline(make_calibrated(20_000, np.random.default_rng(0)))


def test_interval_covers_the_realised_value_at_the_stated_rate(
    monitor: ModelQualityMonitor, baseline: ModelQualityBaseline, make_calibrated: Calibrated
) -> None:
    rng = np.random.default_rng(1)
    names = ("accuracy", "precision", "recall", "f1", "auc")
    covered = dict.fromkeys(names, 0)
    flagged = 0
    for _ in range(WINDOWS):
        estimate = monitor.estimate(make_calibrated(400, rng), baseline)
        flagged += estimate.calibration_drift
        for name in names:
            m = estimate.metrics[name]
            assert m.realised is not None
            covered[name] += m.lower <= m.realised <= m.upper
    rates = {name: count / WINDOWS for name, count in covered.items()}
    # 95% stated; with 150 windows the binomial standard error is 1.8 points.
    assert all(0.89 <= rate <= 0.995 for rate in rates.values()), rates
    assert flagged / WINDOWS <= 0.05  # the drift test at alpha 0.01 rarely fires on good data


def test_point_estimate_is_close_to_the_realised_value_on_large_windows(
    monitor: ModelQualityMonitor, baseline: ModelQualityBaseline, make_calibrated: Calibrated
) -> None:
    estimate = monitor.estimate(make_calibrated(20_000, np.random.default_rng(2)), baseline)
    for name in ("accuracy", "f1", "auc"):
        m = estimate.metrics[name]
        assert m.realised is not None
        assert m.value == pytest.approx(m.realised, abs=0.015), name
        assert m.upper - m.lower < 0.03


def test_calibration_drift_is_flagged_and_the_estimate_misses(
    monitor: ModelQualityMonitor, baseline: ModelQualityBaseline, make_calibrated: Calibrated
) -> None:
    window = make_calibrated(2_000, np.random.default_rng(3), shift=0.3)
    estimate = monitor.estimate(window, baseline)
    assert estimate.calibration_drift
    assert any("Hosmer-Lemeshow" in w for w in estimate.warnings)
    accuracy = estimate.metrics["accuracy"]
    assert accuracy.realised is not None
    assert not accuracy.lower <= accuracy.realised <= accuracy.upper


def test_estimate_without_labels_and_scores_beyond_the_calibrated_range(
    monitor: ModelQualityMonitor, baseline: ModelQualityBaseline, make_calibrated: Calibrated
) -> None:
    window = make_calibrated(500, np.random.default_rng(4))
    unlabelled = window.set_column(2, "label", pa.nulls(500, pa.int64()))
    estimate = monitor.estimate(unlabelled, baseline)
    assert estimate.labelled_count == 0
    assert estimate.calibration_test is None
    assert all(m.realised is None for m in estimate.metrics.values())
    assert 0.5 < estimate.metrics["accuracy"].value < 0.9
    narrow = ModelQualityMonitor(
        "BinaryClassification", inference_attribute="prediction", probability_attribute="score"
    )
    squeezed = make_calibrated(2_000, np.random.default_rng(5))
    squeezed = squeezed.set_column(0, "score", pa.array(np.linspace(0.4, 0.6, 2_000)))
    small = narrow.baseline(squeezed)
    outside = narrow.estimate(unlabelled, small)
    assert any("outside the range" in w for w in outside.warnings)


def test_multiclass_accuracy_estimate_covers_the_truth() -> None:
    rng = np.random.default_rng(6)

    def window(rows: int) -> pa.Table:
        predicted = rng.integers(0, 3, rows)
        confidence = rng.uniform(0.34, 1.0, rows)
        correct = rng.random(rows) < confidence
        actual = np.where(correct, predicted, (predicted + rng.integers(1, 3, rows)) % 3)
        probabilities = [
            [c if k == p else (1 - c) / 2 for k in range(3)]
            for p, c in zip(predicted, confidence, strict=True)
        ]
        return pa.table({"pred": predicted, "probs": pa.array(probabilities), "label": actual})

    monitor = ModelQualityMonitor(
        "MulticlassClassification",
        inference_attribute="pred",
        probability_attribute="probs",
        estimation_draws=400,
    )
    baseline = monitor.baseline(window(10_000))
    assert baseline.calibration is not None
    assert baseline.calibration.target == "correct"
    covered = 0
    for _ in range(60):
        accuracy = monitor.estimate(window(300), baseline).metrics["accuracy"]
        assert accuracy.realised is not None
        covered += accuracy.lower <= accuracy.realised <= accuracy.upper
    assert covered >= 53  # 95% of 60 is 57; binomial slack


def test_estimation_needs_a_classifier_with_scores(make_calibrated: Calibrated) -> None:
    monitor = ModelQualityMonitor("Regression", inference_attribute="prediction")
    with pytest.raises(ConfigError, match="needs a classifier's scores"):
        monitor.estimate(make_calibrated(10, np.random.default_rng(0)), "unused")
