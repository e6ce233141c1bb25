"""The service-health monitor over captured inferences: summaries, benchmark, history, files."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from modelmon.capture import read_captures
from modelmon.errors import BaselineFormatError, ConfigError, DatasetError
from modelmon.monitors.service_health import (
    HealthBaseline,
    ServiceHealthMonitor,
    load_health_baseline,
    summarize,
)

T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
RNG = np.random.default_rng(11)


def window(
    latencies: np.ndarray | list[float], statuses: list[int] | None = None, rows: int = 1
) -> pa.Table:
    """A capture table: one inference per latency, ``rows`` rows each, over the hour from T0."""
    n = len(latencies)
    statuses = statuses or [200] * n
    step = 3_600_000_000 // max(n, 1)
    columns: dict[str, list[object]] = {
        "inference_id": [],
        "inference_time": [],
        "row_index": [],
        "latency_ms": [],
        "status": [],
        "error": [],
    }
    for i in range(n):
        for r in range(rows):
            columns["inference_id"].append(f"r{i}")
            columns["inference_time"].append(T0 + timedelta(microseconds=i * step))
            columns["row_index"].append(r)
            columns["latency_ms"].append(float(latencies[i]))
            columns["status"].append(statuses[i])
            columns["error"].append(None if statuses[i] < 400 else f"HTTP {statuses[i]}")
    return pa.table(columns)


def normal_latencies(n: int, scale: float = 1.0) -> np.ndarray:
    return RNG.lognormal(np.log(40), 0.3, n) * scale


def checks(result: object) -> list[tuple[str, str]]:
    return [(v.feature_name, v.constraint_check_type) for v in result.violations]  # type: ignore[attr-defined]


def test_a_summary_of_captured_traffic(write_traffic: Callable[..., None], tmp_path: Path) -> None:
    latencies = normal_latencies(600)
    statuses = [503 if i % 50 == 0 else (400 if i % 25 == 0 else 200) for i in range(600)]
    write_traffic(tmp_path, latencies, statuses=statuses)
    table = read_captures(tmp_path, "churn", version="v1", with_labels=False)
    summary = summarize(table, start=T0, end=T0 + HOUR)
    assert summary.records == 600
    assert summary.latency_ms["p50"] == pytest.approx(np.percentile(latencies, 50))
    assert summary.latency_ms["p99"] == pytest.approx(np.percentile(latencies, 99))
    assert summary.throughput_per_min == pytest.approx(10.0)
    assert summary.error_rate == pytest.approx(12 / 600)
    assert summary.client_error_rate == pytest.approx(12 / 600)
    assert summary.not_evaluated == {}


def test_an_inference_of_many_rows_counts_once() -> None:
    summary = summarize(window([10.0, 20.0] * 10, rows=3), start=T0, end=T0 + HOUR)
    assert (summary.records, summary.latency_records) == (20, 20)
    assert summary.throughput_per_min == pytest.approx(20 / 60)


def test_small_windows_leave_out_what_they_cannot_measure() -> None:
    summary = summarize(window(normal_latencies(20)))
    assert summary.latency_ms == {
        "p50": pytest.approx(summary.latency_ms["p50"]),
        "p90": None,
        "p99": None,
    }
    assert summary.error_rate is None
    assert summary.not_evaluated["latency_p99_ms"] == (
        "not evaluated: 20 inferences with a latency; the p99 needs at least 500"
    )
    assert "an error rate needs at least 30" in summary.not_evaluated["error_rate"]
    assert set(summary.metrics()) == {"latency_p50_ms", "throughput_per_min"}
    empty = summarize(window([]))
    assert (empty.records, empty.throughput_per_min, empty.mean_latency_ms) == (0, None, None)
    assert "window's length is unknown" in empty.not_evaluated["throughput_per_min"]


def test_a_slower_window_violates_the_benchmark_by_percentile() -> None:
    monitor = ServiceHealthMonitor()
    benchmark = monitor.baseline(window(normal_latencies(2000)), start=T0, end=T0 + HOUR)
    healthy = monitor.check(window(normal_latencies(2000)), benchmark=benchmark)
    assert not healthy.has_violations
    slow = monitor.check(window(normal_latencies(2000, scale=2.0)), benchmark=benchmark)
    assert checks(slow) == [
        ("latency_p50_ms", "latency_check"),
        ("latency_p90_ms", "latency_check"),
        ("latency_p99_ms", "latency_check"),
    ]
    p99 = slow.violations[2].description
    now, then = slow.summary.latency_ms["p99"], benchmark.summary.latency_ms["p99"]
    assert p99 == (
        f"p99 latency {now:.4g} ms exceeds benchmark {then:.4g} ms x 1.5 (over 2000 inferences)."
    )


def test_errors_violate_only_when_clearly_above_the_benchmark() -> None:
    monitor = ServiceHealthMonitor()
    benchmark = monitor.baseline(window(normal_latencies(1000)))
    assert benchmark.summary.error_rate == 0.0
    few = [500 if i == 0 else 200 for i in range(40)]  # 1 of 40: noise, not an outage
    assert not monitor.check(window(normal_latencies(40), few), benchmark=benchmark).violations
    many = [503 if i % 10 == 0 else 200 for i in range(1000)]
    result = monitor.check(window(normal_latencies(1000), many), benchmark=benchmark)
    assert checks(result) == [("error_rate", "error_rate_check")]
    assert result.violations[0].description.startswith("error rate 10% (100 of 1000 inferences")
    clients = [404 if i % 10 == 0 else 200 for i in range(1000)]  # bad requests are not outages
    assert not monitor.check(
        window(normal_latencies(1000), clients), benchmark=benchmark
    ).violations


def test_history_flags_a_jump_but_not_a_wobble_or_a_short_past() -> None:
    monitor = ServiceHealthMonitor()
    current = window(normal_latencies(1000, scale=3.0))
    steady = {"latency_p50_ms": [40.0, 41.0, 39.5, 40.2, 40.8, 39.9]}
    result = monitor.check(current, history=steady, start=T0, end=T0 + HOUR)
    assert checks(result) == [("latency_p50_ms", "latency_history_check")]
    assert "robust SDs above its history (median 40.1 ms over the last 6 windows)" in (
        result.violations[0].description
    )
    assert "not evaluated: 0 earlier values" in result.not_evaluated["latency_p99_ms vs history"]
    flat = {"error_rate": [0.0] * 10, "latency_p50_ms": [40.0] * 10}
    wobble = window([40.5] * 1000, [500 if i == 0 else 200 for i in range(1000)])
    assert not monitor.check(wobble, history=flat).violations  # 0.1% errors, 1% slower: no page
    short = monitor.check(current, history={"latency_p50_ms": [40.0, 41.0]})
    assert not short.violations


def test_a_throughput_drop_against_history() -> None:
    history = {"throughput_per_min": [600.0, 590.0, 610.0, 605.0, 598.0]}
    result = ServiceHealthMonitor().check(
        window(normal_latencies(3000)), start=T0, end=T0 + HOUR, history=history
    )
    assert checks(result) == [("throughput_per_min", "throughput_history_check")]
    assert result.violations[0].description.startswith("throughput 50/min is ")


def test_baseline_files_round_trip_and_bad_ones_are_named(tmp_path: Path) -> None:
    baseline = ServiceHealthMonitor().baseline(window(normal_latencies(600)), source="load test")
    path = baseline.save(tmp_path)
    loaded = load_health_baseline(tmp_path)
    assert loaded == baseline
    assert load_health_baseline(path) == baseline
    document = json.loads(path.read_text())
    document["latency_ms"]["p99"] = "fast"
    path.write_text(json.dumps(document))
    with pytest.raises(BaselineFormatError, match="'p99'"):
        load_health_baseline(path)
    path.write_text("{}")
    with pytest.raises(BaselineFormatError, match="not a service-health baseline"):
        load_health_baseline(path)
    with pytest.raises(BaselineFormatError, match="'records'"):
        HealthBaseline.from_json({"kind": "ServiceHealthBaseline", "latency_ms": {}}, "b.json")


def test_bad_parameters_and_inputs_are_named() -> None:
    with pytest.raises(ConfigError, match="'latency_tolerance'"):
        ServiceHealthMonitor(latency_tolerance=0.5).check(window([1.0]))
    with pytest.raises(ConfigError, match="'min_history'"):
        ServiceHealthMonitor(min_history=0).check(window([1.0]))
    with pytest.raises(DatasetError, match="'latency_ms'"):
        summarize(pa.table({"row_index": [0]}))


def test_the_cli_baselines_a_load_test_and_checks_a_release(
    write_traffic: Callable[..., None],
    run_cli: Callable[[list[str]], int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    write_traffic(data, normal_latencies(800), version="v1")
    write_traffic(data, normal_latencies(800, scale=2.5), version="v2", start=T0 + HOUR)
    common = ["--captures", str(data), "--model", "churn"]
    window_of_v1 = ["--start", T0.isoformat(), "--end", (T0 + HOUR).isoformat()]
    baseline = ["service-health", "baseline", *common, "--version", "v1", *window_of_v1]
    assert run_cli([*baseline, "--output", str(tmp_path / "bench")]) == 0
    assert "Benchmark of model 'churn' version 'v1'" in capsys.readouterr().out
    check = ["service-health", "check", *common, "--baseline", str(tmp_path / "bench")]
    assert run_cli([*check, "--version", "v2", "--output", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "VIOLATION latency_p99_ms: p99 latency" in printed
    report = json.loads((tmp_path / "out" / "service_health_report.json").read_text())
    assert report["current"]["records"] == 800
    assert run_cli([*check, "--version", "v1", "--output", str(tmp_path / "same")]) == 0
    missing = [*check, "--version", "v9", "--output", str(tmp_path / "x")]
    assert run_cli(missing) == 2
    assert "versions with captures: v1, v2" in capsys.readouterr().err
    nothing = [*baseline[:-4], "--start", "2020-01-01", "--end", "2020-01-02"]
    assert run_cli([*nothing, "--output", str(tmp_path / "y")]) == 2
