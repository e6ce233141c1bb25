"""The streaming monitor on captured credit traffic: detections, checkpoints, restarts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.errors import ConfigError
from modelmon.formats import sagemaker as sm
from modelmon.services.streaming import SERVICE_ERRORS, StreamingMonitor
from modelmon.store import ExecutionStatus, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
DRIFTED_FROM = T0 + 6 * HOUR


def _fixed_clock() -> datetime:
    return T0


@pytest.fixture
def statistics(baseline_files: dict[str, Any]) -> sm.Statistics:
    return sm.statistics_from_json(baseline_files["statistics.json"], path="statistics.json")


@pytest.fixture
def traffic(capture_hour: Callable[..., None]) -> None:
    """Six ordinary hours of 400 applications, then three where incomes rise by 40% and a new
    region takes a third of the traffic."""
    for h in range(9):
        drifts = ("income_shift", "new_region") if h >= 6 else ()
        capture_hour(T0 + h * HOUR, seed=100 + h, drifts=drifts)


def _monitor(statistics: sm.Statistics, state: Path, **options: Any) -> StreamingMonitor:
    return StreamingMonitor("credit", "v1", statistics, state, clock=_fixed_clock, **options)


@pytest.mark.usefixtures("traffic")
def test_detects_the_changes_where_they_happen_and_nowhere_else(
    statistics: sm.Statistics, data_dir: Path, tmp_path: Path, store: Store
) -> None:
    monitor = _monitor(statistics, tmp_path / "state")
    result = monitor.catch_up(data_dir)
    assert result.records == 9 * 400
    streams = {d.stream for d in result.detections}
    assert "income" in streams
    assert "region=(other)" in streams  # the new region
    for d in result.detections:
        assert d.timestamp >= DRIFTED_FROM, d  # no false alarm in six ordinary hours
        assert d.record >= 6 * 400
    assert all(d.feature in ("income", "region") for d in result.detections)
    income = next(v for v in result.violations if v[0] == "income")
    assert income[1] == "baseline_drift_check"
    assert income[2].startswith("Streaming drift (adwin) in feature 'income' at record ")
    point = next(p for p in result.points if p.labels.get("feature") == "income")
    assert point.name == "streaming_drift_detected"
    assert point.value == 1.0
    assert point.labels["monitor"] == "streaming"
    assert point.labels["detector"] == "adwin"
    outcome = result.outcome()
    assert outcome.status is ExecutionStatus.COMPLETED_WITH_VIOLATIONS
    # The points go into the store like any monitor's, where alert rules read them.
    assert store.metrics.write_points(outcome.points) == len(result.points)
    stored = store.metrics.query_points(
        "streaming_drift_detected", {"feature": "income"}, start=T0, end=T0 + 10 * HOUR
    )
    assert sum(len(s.values) for s in stored) >= 1


@pytest.mark.usefixtures("traffic")
def test_a_restart_resumes_where_it_stopped(
    statistics: sm.Statistics, data_dir: Path, tmp_path: Path
) -> None:
    uninterrupted = _monitor(statistics, tmp_path / "one").catch_up(data_dir)
    files = sorted((data_dir / "captures" / "credit" / "v1").rglob("*.parquet"))
    first = _monitor(statistics, tmp_path / "two")
    for path in files[:7]:  # into the drifted hours, then the process "dies"
        first.process(pq.read_table(path))
    again = _monitor(statistics, tmp_path / "two")
    assert again.restored
    assert again.records == 7 * 400
    tail = [again.process(pq.read_table(path)) for path in files[7:]]
    resumed = [d for part in tail for d in part.detections]
    expected = [d for d in uninterrupted.detections if d.record >= 7 * 400]
    assert [(d.stream, d.record) for d in resumed] == [(d.stream, d.record) for d in expected]


@pytest.mark.usefixtures("traffic")
def test_catch_up_processes_each_file_once(
    statistics: sm.Statistics, data_dir: Path, tmp_path: Path
) -> None:
    monitor = _monitor(statistics, tmp_path / "state")
    assert monitor.catch_up(data_dir).records == 3600
    assert monitor.catch_up(data_dir).records == 0
    restarted = _monitor(statistics, tmp_path / "state")
    assert restarted.catch_up(data_dir).records == 0


def test_a_state_for_other_settings_or_a_torn_file_starts_afresh(
    statistics: sm.Statistics, tmp_path: Path
) -> None:
    table = pa.table({"income": np.full(100, 52_000.0)})
    monitor = _monitor(statistics, tmp_path)
    monitor.process(table)
    saved = json.loads(monitor.path.read_text())
    assert saved["records"] == 100
    assert set(saved["streams"]) >= {"income", "region=(other)", SERVICE_ERRORS}
    assert _monitor(statistics, tmp_path).restored
    other = _monitor(statistics, tmp_path, detector_options={"delta": 0.0001})
    assert not other.restored
    assert other.records == 0
    monitor.path.write_text('{"version": 1, "fing')
    assert not _monitor(statistics, tmp_path).restored


def test_service_errors_are_a_stream_too(statistics: sm.Statistics, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    failing = np.r_[rng.random(3000) < 0.01, rng.random(1000) < 0.2]
    table = pa.table(
        {
            "status": pa.array(np.where(failing, 503, 200), pa.int32()),
            "error": pa.array([None] * len(failing), pa.string()),
        }
    )
    result = _monitor(statistics, tmp_path).process(table)
    assert [d.stream for d in result.detections] == [SERVICE_ERRORS]
    assert result.detections[0].record >= 3000
    assert result.violations[0][:2] == (SERVICE_ERRORS, "service_error_check")
    assert "the service error rate" in result.violations[0][2]


def test_a_model_error_column_gets_its_own_detector(
    statistics: sm.Statistics, tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    wrong = np.r_[rng.random(3000) < 0.1, rng.random(2000) < 0.3].astype(float)
    monitor = _monitor(statistics, tmp_path, error_column="wrong", error_detector="ddm")
    result = monitor.process(pa.table({"wrong": wrong}))
    ddm = [d for d in result.detections if d.stream == "wrong"]
    assert ddm
    assert any(d.record >= 3000 for d in ddm)
    assert ddm[0].detector == "ddm"
    assert "model error rate" in ddm[0].description


def test_text_columns_from_captures_are_typed(statistics: sm.Statistics, tmp_path: Path) -> None:
    """Captured bodies keep values as text; numeric features are read as numbers."""
    incomes = [str(v) for v in np.full(400, 52_000.0)]
    table = pa.table({"input.income": incomes, "input.region": ["NA"] * 400})
    result = _monitor(statistics, tmp_path).process(table)
    assert result.records == 400
    monitor = _monitor(statistics, tmp_path)
    assert monitor.streams["income"].detector.state()["width"] == 400


def test_bad_settings_are_config_errors(statistics: sm.Statistics, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'detector' parameter"):
        _monitor(statistics, tmp_path, detector="cusum")
    with pytest.raises(ConfigError, match="'error_detector' parameter"):
        _monitor(statistics, tmp_path, error_detector="adwin2")
    with pytest.raises(ConfigError, match="do not fit adwin"):
        _monitor(statistics, tmp_path, detector_options={"lambda": 3})
    with pytest.raises(ConfigError, match="'categories' parameter"):
        _monitor(statistics, tmp_path, categories=0)
