"""A baseline written by SageMaker (its churn example's shape) checks data modelmon reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import modelmon

SAGEMAKER = Path(__file__).parents[1] / "formats" / "data" / "sagemaker"


def _churn_rows(rows: int, seed: int, *, day_mins_in_hours: bool = False) -> np.ndarray:
    """Rows like the churn data set the baseline describes, in its column order."""
    rng = np.random.default_rng(seed)

    def ints(mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
        return np.clip(np.round(rng.normal(mean, sd, rows)), lo, hi)

    def mins(mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
        return np.clip(np.round(rng.normal(mean, sd, rows), 1), lo, hi)

    vmail = np.where(rng.random(rows) < 0.72, 0, ints(29, 7.5, 4, 51))
    day_mins = mins(180.2, 53.8, 0, 350.8)
    if day_mins_in_hours:
        day_mins = np.round(day_mins / 60, 3)
    return np.column_stack(
        [
            (rng.random(rows) < 0.139).astype(float),
            ints(101.3, 39.6, 1, 243),
            vmail,
            day_mins,
            ints(100.3, 20.4, 0, 165),
            mins(200.1, 50.4, 31.2, 361.8),
            ints(99.6, 19.8, 12, 170),
            mins(201.4, 51.1, 23.2, 395),
            ints(100.2, 19.6, 42, 175),
            mins(10.25, 2.86, 0, 18.4),
        ]
    )


def _write_csv(path: Path, rows: np.ndarray) -> Path:
    integral = {0, 1, 2, 4, 6, 8}
    lines = [
        ",".join(str(int(v)) if i in integral else repr(float(v)) for i, v in enumerate(row))
        for row in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def baseline() -> modelmon.DataQualityBaseline:
    return modelmon.load_baseline(
        statistics=SAGEMAKER / "churn_statistics.json",
        constraints=SAGEMAKER / "churn_constraints.json",
    )


def test_healthy_headerless_csv_matches_by_position(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    path = _write_csv(tmp_path / "window.csv", _churn_rows(2_000, seed=1))
    result = modelmon.DataQualityMonitor(csv_header=False).check(path, baseline)
    assert [f.name for f in result.statistics.features][:2] == ["Churn", "Account Length"]
    assert result.drifted_features == []
    assert result.violations == ()


def test_a_unit_change_is_caught(tmp_path: Path, baseline: modelmon.DataQualityBaseline) -> None:
    path = _write_csv(tmp_path / "window.csv", _churn_rows(2_000, seed=2, day_mins_in_hours=True))
    result = modelmon.DataQualityMonitor(csv_header=False).check(path, baseline)
    assert result.drifted_features == ["Day Mins"]
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == [
        ("Day Mins", "baseline_drift_check")
    ]


def test_per_feature_override_from_the_file_applies(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    path = _write_csv(tmp_path / "window.csv", _churn_rows(2_000, seed=3))
    result = modelmon.DataQualityMonitor(csv_header=False).check(path, baseline)
    account = next(f for f in result.drift if f.name == "Account Length")
    assert account.method == "Simple L-infinity"
    assert account.threshold == 0.2


def test_sagemaker_capture_files_put_the_prediction_first(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    rows = _churn_rows(500, seed=4)
    capture = tmp_path / "endpoint" / "AllTraffic" / "2022" / "04" / "18" / "00"
    capture.mkdir(parents=True)
    lines = []
    for i, row in enumerate(rows):
        features = ",".join(repr(float(v)) for v in row[1:])
        record = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": features,
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": str(int(row[0])),
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": f"id-{i}", "inferenceTime": "2022-04-18T00:21:48Z"},
            "eventVersion": "0",
        }
        lines.append(json.dumps(record))
    (capture / "21-48-871-abc.jsonl").write_text("\n".join(lines) + "\n")
    monitor = modelmon.DataQualityMonitor(dataset_format="sagemaker-capture")
    result = monitor.check(tmp_path / "endpoint", baseline)
    assert result.statistics.item_count == 500
    assert [v.constraint_check_type for v in result.violations if v.feature_name == "Churn"] == []
    assert result.drifted_features == []
