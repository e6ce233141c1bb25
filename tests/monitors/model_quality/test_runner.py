"""The ModelQuality runner on a real SQLite store, captured traffic and late labels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from modelmon import Capture
from modelmon.capture import import_labels
from modelmon.errors import ConfigError
from modelmon.examples import FEATURES, generate_credit, score_credit
from modelmon.formats import sagemaker_model_quality as mq
from modelmon.monitors.model_quality import ModelQualityMonitor
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.services.runners.model_quality import run_model_quality
from modelmon.store import MonitorType, Store, open_store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
MODEL, VERSION = "credit", "v1"
CONFIG = {
    "problem_type": "BinaryClassification",
    "inference_attribute": "prediction",
    "probability_attribute": "default_probability",
    "segments": ["region"],
}


def _scored(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    score = score_credit(table)
    outputs = pa.table({"default_probability": score, "prediction": (score >= 0.3).astype(int)})
    return table.select(list(FEATURES)), outputs


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    validation = generate_credit(4_000, seed=1)
    _features, outputs = _scored(validation)
    reference = pa.table(
        {
            "prediction": outputs["prediction"],
            "default_probability": outputs["default_probability"],
            "label": validation["default"],
        }
    )
    baseline = ModelQualityMonitor(
        "BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="default_probability",
    ).baseline(reference)
    assert baseline.calibration is not None
    files: dict[str, Any] = {
        "statistics.json": mq.statistics_to_json(baseline.statistics),
        "constraints.json": mq.constraints_to_json(baseline.constraints),
        "calibration.json": baseline.calibration.to_json(),
    }
    with open_store(f"sqlite:///{tmp_path}/modelmon.db", migrate=True) as opened:
        opened.models.create_model(MODEL, now=T0)
        opened.models.create_version(MODEL, VERSION, now=T0)
        opened.models.set_baseline(MODEL, VERSION, MonitorType.MODEL_QUALITY, files, now=T0)
        yield opened


def _capture(
    data_dir: Path, hour: datetime, *, seed: int, drifts: tuple[str, ...] = ()
) -> pa.Table:
    """Capture 600 scored applications in ``hour``; return their ids and true labels."""
    table = generate_credit(600, seed=seed, drifts=drifts)
    features, outputs = _scored(table)
    with Capture(MODEL, VERSION, data_dir=data_dir) as capture:
        ids = capture.log_batch(features, outputs, time=hour + timedelta(minutes=7))
    return pa.table({"inference_id": ids, "label": table["default"]})


def _run(
    store: Store, data_dir: Path, hour: datetime, name: str, config: dict[str, Any] = CONFIG
) -> Outcome:
    schedule = store.schedules.create_schedule(
        name,
        model=MODEL,
        version=VERSION,
        monitor_type=MonitorType.MODEL_QUALITY,
        cron="cron(0 * ? * * *)",
        now=T0,
        config=config,
    )
    execution = store.executions.try_acquire_execution(
        schedule.id,
        hour + H,
        window_start=hour,
        window_end=hour + H,
        owner="test",
        lease_seconds=60,
        now=hour + H,
    )
    assert execution is not None
    ctx = RunContext.create(store, execution, schedule, data_dir, lambda: hour + 2 * H)
    return run_model_quality(ctx)


def _points(outcome: Outcome) -> dict[tuple[str, str], float]:
    return {(p.name, p.labels.get("segment", "")): p.value for p in outcome.points}


def test_estimated_before_labels_measured_after(store: Store, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    truth = _capture(data_dir, T0, seed=2)
    before = _run(store, data_dir, T0, "before")
    assert not before.has_violations
    assert "no labels in window yet" in before.message
    points = _points(before)
    assert points[("model_quality_label_coverage", "")] == 0.0
    estimate = points[("model_quality_estimated_accuracy", "")]
    low = points[("model_quality_estimated_accuracy_lower", "")]
    high = points[("model_quality_estimated_accuracy_upper", "")]
    assert low <= estimate <= high
    assert ("model_quality_accuracy", "") not in points
    assert sorted(before.files) == ["constraint_violations.json", "estimated_performance.json"]

    report = import_labels(data_dir, MODEL, truth, arrival_time=T0 + 3 * H)
    assert report.imported == 600
    after = _run(store, data_dir, T0, "after")
    assert not after.has_violations, after.violations
    assert after.message == "Completed: Job completed successfully with no violations."
    points = _points(after)
    assert points[("model_quality_label_coverage", "")] == 1.0
    realised = points[("model_quality_accuracy", "")]
    assert abs(realised - points[("model_quality_estimated_accuracy", "")]) < 0.06
    assert ("model_quality_accuracy", "region=north") in points
    assert all(p.labels["model"] == MODEL and p.timestamp == T0 + H for p in after.points)
    assert "statistics.json" in after.files
    assert "segments.json" in after.files


def test_a_broken_hour_records_violations(store: Store, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    truth = _capture(data_dir, T0, seed=3, drifts=("unit_change",))
    import_labels(data_dir, MODEL, truth, arrival_time=T0 + 3 * H)
    outcome = _run(store, data_dir, T0, "broken")
    assert outcome.has_violations
    assert outcome.message.startswith("CompletedWithViolations")
    metrics = {feature for feature, _, _ in outcome.violations}
    assert "accuracy" in metrics
    checks = {check for _, check, _ in outcome.violations}
    assert checks <= set(mq.COMPARISON_OPERATORS)
    assert ("model_quality_calibration_p_value", "") in _points(outcome)


def test_an_empty_window_and_a_bad_config(store: Store, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(EmptyWindow, match="no captured data in window"):
        _run(store, data_dir, T0, "empty")
    _capture(data_dir, T0, seed=4)
    with pytest.raises(ConfigError, match="names column 'decision'"):
        _run(store, data_dir, T0, "bad-config", {**CONFIG, "inference_attribute": "decision"})
