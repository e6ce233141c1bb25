"""The monitor end to end: SageMaker's files, constraints, segments, bad input, no labels."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn import metrics as skm

from modelmon.errors import BaselineFormatError, ConfigError, DatasetError
from modelmon.formats import sagemaker_model_quality as mq
from modelmon.monitors.model_quality import (
    ModelQualityMonitor,
    load_model_quality_baseline,
)

Scored = Callable[..., pa.Table]
REGIONS = ("east", "north", "south", "west")
T = datetime(2026, 11, 2, 13, 5, 7, 729_000, tzinfo=UTC)


def binary(**options: object) -> ModelQualityMonitor:
    return ModelQualityMonitor(
        "BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="score",
        clock=lambda: T,
        **options,  # type: ignore[arg-type]
    )


def test_binary_baseline_files_have_sagemakers_shape(make_scored: Scored, tmp_path: Path) -> None:
    table = make_scored(3_000, seed=1)
    baseline = binary().baseline(table)
    baseline.save(tmp_path)
    statistics = json.loads((tmp_path / "statistics.json").read_text())
    assert statistics["version"] == 0.0
    assert statistics["dataset"] == {
        "item_count": 3000,
        "evaluation_time": "2026-11-02T13:05:07.729Z",
    }
    metrics = statistics["binary_classification_metrics"]
    assert list(metrics) == list(mq.BINARY_METRICS)
    assert all(
        set(metrics[k]) == {"value", "standard_deviation"}
        for k in metrics
        if "curve" not in k and k != "confusion_matrix"
    )
    label = table["label"].to_numpy()
    prediction = table["prediction"].to_numpy()
    tn, fp, fn, tp = skm.confusion_matrix(label, prediction).ravel()
    assert metrics["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert metrics["auc"]["value"] == pytest.approx(skm.roc_auc_score(label, table["score"]))
    assert metrics["f1"]["value"] == pytest.approx(skm.f1_score(label, prediction))
    assert metrics["accuracy_best_constant_classifier"]["value"] == pytest.approx(label.mean())
    assert 0 < metrics["f1"]["standard_deviation"] < 0.05
    roc = metrics["receiver_operating_characteristic_curve"]
    assert roc["false_positive_rates"][0] == 0.0
    assert roc["true_positive_rates"][-1] == 1.0
    assert len(roc["false_positive_rates"]) <= 1000
    constraints = json.loads((tmp_path / "constraints.json").read_text())
    suggested = constraints["binary_classification_constraints"]
    assert suggested["f1"]["comparison_operator"] == "LessThanThreshold"
    assert suggested["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    f1 = metrics["f1"]
    # 3 sampling sds below; an 80% subsample's sd is half the sampling sd, so about 6 of those.
    margin = f1["value"] - suggested["f1"]["threshold"]
    assert 3 * f1["standard_deviation"] < margin < 12 * f1["standard_deviation"]
    assert (tmp_path / "calibration.json").exists()
    loaded = load_model_quality_baseline(tmp_path)
    assert loaded.statistics == baseline.statistics
    assert loaded.constraints == baseline.constraints
    assert loaded.calibration == baseline.calibration


def test_std_is_nan_below_200_rows_and_the_same_on_every_run(make_scored: Scored) -> None:
    small = binary().baseline(make_scored(199, seed=2)).statistics
    assert all(np.isnan(m.standard_deviation) for m in small.metrics.values())
    text = mq.statistics_to_json(small)["binary_classification_metrics"]
    assert text["f1"]["standard_deviation"] == "NaN"  # type: ignore[index]
    table = make_scored(500, seed=2)
    first, second = binary().baseline(table), binary().baseline(table)
    assert first.statistics == second.statistics
    other_seed = binary(seed=7).baseline(table).statistics
    assert other_seed.metrics["f1"].value == first.statistics.metrics["f1"].value
    assert (
        other_seed.metrics["f1"].standard_deviation
        != first.statistics.metrics["f1"].standard_deviation
    )


def test_a_broken_window_violates_and_a_healthy_one_does_not(
    make_scored: Scored, tmp_path: Path
) -> None:
    monitor = binary(segments=["region"])
    baseline = monitor.baseline(make_scored(5_000, seed=1))
    assert sorted(baseline.segment_constraints) == [f"region={r}" for r in REGIONS]
    baseline.save(tmp_path / "baseline")
    assert load_model_quality_baseline(tmp_path / "baseline") == baseline
    healthy = monitor.check(make_scored(2_000, seed=2), baseline)
    assert not healthy.has_violations, healthy.violations
    assert healthy.exit_message() == "Completed: Job completed successfully with no violations."
    broken = monitor.check(make_scored(2_000, seed=3, drifts=["unit_change"]), baseline)
    assert broken.has_violations
    names = {v.metric_name for v in broken.violations}
    assert {"accuracy", "precision"} <= names
    accuracy = next(v for v in broken.violations if v.metric_name == "accuracy")
    assert accuracy.description.startswith("Metric accuracy with 0.")
    assert " was LessThanThreshold " in accuracy.description
    assert any("in segment region=north" in v.description for v in broken.violations)
    written = broken.save(tmp_path / "report")
    assert [p.name for p in written] == [
        "statistics.json",
        "constraint_violations.json",
        "segments.json",
        "estimated_performance.json",
    ]
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    violations = violations["violations"]
    assert list(violations[0]) == ["constraint_check_type", "description", "metric_name"]
    segments = json.loads((tmp_path / "report" / "segments.json").read_text())["segments"]
    assert {s["value"] for s in segments} == {"north", "south", "east", "west"}
    assert sum(s["item_count"] for s in segments) == 2_000
    assert broken.estimate is not None
    assert broken.estimate.calibration_drift


def test_a_drop_in_one_segment_is_not_hidden_by_the_average(make_scored: Scored) -> None:
    monitor = binary(segments=["region"], constraint_tolerance=1.0)
    baseline = monitor.baseline(make_scored(8_000, seed=1))
    window = make_scored(4_000, seed=4)
    region = window["region"].to_pylist()
    prediction = window["prediction"].to_pylist()
    label = window["label"].to_pylist()
    # The model starts answering at random in the smallest region only.
    flipped = [
        1 - y if r == "west" and i % 2 else p
        for i, (r, p, y) in enumerate(zip(region, prediction, label, strict=True))
    ]
    window = window.set_column(
        window.column_names.index("prediction"), "prediction", pa.array(flipped)
    )
    result = monitor.check(window, baseline)
    segment_metrics = {v.metric_name for v in result.violations if "region=west" in v.description}
    assert "accuracy" in segment_metrics
    assert not any("region=north" in v.description for v in result.violations)


@pytest.mark.parametrize(
    ("operator", "value", "fires"),
    [
        ("LessThanThreshold", 0.5, False),
        ("LessThanThreshold", 0.49, True),
        ("LessThanOrEqualToThreshold", 0.5, True),
        ("GreaterThanThreshold", 0.5, False),
        ("GreaterThanThreshold", 0.51, True),
        ("GreaterThanOrEqualToThreshold", 0.5, True),
        ("GreaterThanOrEqualToThreshold", float("nan"), False),
    ],
)
def test_every_sagemaker_operator(
    operator: mq.ComparisonOperator, value: float, fires: bool
) -> None:
    assert mq.violated(value, mq.MetricConstraint(0.5, operator)) is fires


def test_multiclass_and_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    actual = rng.choice(["cat", "dog", "emu"], 600)
    predicted = np.where(rng.random(600) < 0.7, actual, rng.choice(["cat", "dog", "emu"], 600))
    table = pa.table({"y": actual, "yhat": predicted})
    monitor = ModelQualityMonitor(
        "MulticlassClassification", inference_attribute="yhat", ground_truth_attribute="y"
    )
    stats = monitor.baseline(table).statistics
    assert stats.metrics["weighted_f1"].value == pytest.approx(
        skm.f1_score(actual, predicted, average="weighted")
    )
    assert list(stats.confusion_matrix or {}) == ["cat", "dog", "emu"]
    # The constant classifier predicts the last class ("emu"), as SageMaker's predicts "1".
    share = float(np.mean(actual == "emu"))
    assert stats.metrics["accuracy_best_constant_classifier"].value == pytest.approx(share)
    assert list(mq.statistics_to_json(stats)["multiclass_classification_metrics"]) == list(  # type: ignore[arg-type]
        mq.MULTICLASS_METRICS
    )
    with pytest.raises(DatasetError, match=r"outside the declared classes in row 3") as error:
        monitor.check(
            table.set_column(0, "y", pa.array(["cat", "dog", "yak", *actual[3:]])),
            monitor.baseline(table),
        )
    assert error.value.column == "y"

    truth = rng.normal(size=300)
    guess = truth + rng.normal(scale=0.3, size=300)
    regression = ModelQualityMonitor("Regression", inference_attribute="guess")
    baseline = regression.baseline(pa.table({"guess": guess, "label": truth}))
    assert baseline.statistics.metrics["r2"].value == pytest.approx(skm.r2_score(truth, guess))
    assert baseline.constraints.constraints["mae"].comparison_operator == "GreaterThanThreshold"
    assert baseline.constraints.constraints["r2"].comparison_operator == "LessThanThreshold"
    worse = regression.check(pa.table({"guess": truth + 1.0, "label": truth}), baseline)
    assert {"mae", "mse", "rmse", "r2"} == {v.metric_name for v in worse.violations}
    assert worse.estimate is None


def test_a_window_without_labels_is_estimated_not_scored_zero(
    make_scored: Scored, tmp_path: Path
) -> None:
    monitor = binary()
    baseline = monitor.baseline(make_scored(3_000, seed=1))
    window = make_scored(1_000, seed=2)
    window = window.set_column(
        window.column_names.index("label"), "label", pa.nulls(1_000, pa.int64())
    )
    result = monitor.check(window, baseline)
    assert (result.labelled_count, result.statistics, result.violations) == (0, None, ())
    assert "no labels in window yet" in result.exit_message()
    assert result.estimate is not None
    assert 0.5 < result.estimate.metrics["accuracy"].value < 1
    assert [p.name for p in result.save(tmp_path)] == [
        "constraint_violations.json",
        "estimated_performance.json",
    ]


def test_bad_input_names_file_row_and_column(make_scored: Scored, tmp_path: Path) -> None:
    table = make_scored(300, seed=1)
    csv = tmp_path / "data.csv"
    pacsv.write_csv(table.drop_columns(["label"]), csv)
    with pytest.raises(
        DatasetError, match=r"data\.csv, column 'label': the ground-truth column is missing"
    ):
        binary().baseline(csv)
    labels = table["label"].to_pylist()
    labels[4] = 2
    pacsv.write_csv(
        table.set_column(table.column_names.index("label"), "label", pa.array(labels)), csv
    )
    with pytest.raises(
        DatasetError,
        match=r"line 6, column 'label': a class outside the declared classes in row 5 "
        r"\(expected one of '0', '1'; found 2\)",
    ):
        binary().baseline(csv)
    scores = table["score"].to_pylist()
    scores[9] = 1.5
    pacsv.write_csv(
        table.set_column(table.column_names.index("score"), "score", pa.array(scores)), csv
    )
    with pytest.raises(
        DatasetError, match=r"line 11, column 'score': a probability is outside \[0, 1\] in row 10"
    ):
        binary().baseline(csv)


def test_parameters_are_checked_at_the_boundary(make_scored: Scored) -> None:
    table = make_scored(50, seed=1)
    with pytest.raises(ConfigError, match="'problem_type' parameter"):
        ModelQualityMonitor("Ranking", inference_attribute="p").baseline(table)
    with pytest.raises(ConfigError, match="'probability_threshold' parameter"):
        binary(probability_threshold=1.5).baseline(table)
    with pytest.raises(ConfigError, match="'inference_attribute' parameter"):
        ModelQualityMonitor("Regression").baseline(table)
    baseline = binary().baseline(table)
    with pytest.raises(ConfigError, match="baseline is for a BinaryClassification model"):
        ModelQualityMonitor("Regression", inference_attribute="score").check(table, baseline)


def test_reader_is_tolerant_and_precise(tmp_path: Path) -> None:
    # SageMaker's own documented example (trimmed), with "version": 0 and no evaluation_time.
    example = {
        "version": 0,
        "dataset": {"item_count": 4},
        "binary_classification_metrics": {
            "confusion_matrix": {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}},
            "recall": {"value": 1.0, "standard_deviation": "NaN"},
            "receiver_operating_characteristic_curve": {
                "false_positive_rates": [0.0, 1.0],
                "true_positive_rates": [0.0, 1.0],
            },
            "custom_metric": {"value": 3.0, "standard_deviation": None},
        },
    }
    stats = mq.statistics_from_json(example)
    assert stats.confusion_matrix == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    assert np.isnan(stats.metrics["recall"].standard_deviation)
    assert stats.metrics["custom_metric"].value == 3.0
    round_trip = mq.statistics_from_json(json.loads(json.dumps(mq.statistics_to_json(stats))))
    assert round_trip.metrics.keys() == stats.metrics.keys()
    with pytest.raises(
        BaselineFormatError,
        match=r"c\.json, column 'regression_constraints\.mae\.comparison_operator': "
        "unsupported value",
    ):
        mq.constraints_from_json(
            {"regression_constraints": {"mae": {"threshold": 1, "comparison_operator": "Above"}}},
            path="c.json",
        )
    with pytest.raises(BaselineFormatError, match="expected exactly one metrics section"):
        mq.statistics_from_json({"dataset": {"item_count": 1}, "features": []})
    violations = (
        mq.ModelQualityViolation(
            "f1", "LessThanThreshold", "Metric f1 with 0.5 was LessThanThreshold 0.6"
        ),
    )
    mq.write_violations(tmp_path / "v.json", violations)
    assert mq.read_violations(tmp_path / "v.json") == violations
