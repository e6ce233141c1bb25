"""The ServiceHealth and PredictionDrift runners, called directly on a real SQLite store with
traffic captured by modelmon's CaptureWriter and Capture SDK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from modelmon import Capture
from modelmon.capture import CaptureWriter, InferenceEvent, Payload, read_captures
from modelmon.errors import ConfigError
from modelmon.examples import generate_credit, score_credit
from modelmon.monitors.service_health import BASELINE_FILE, ServiceHealthMonitor
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.services.runners.prediction_drift import run_prediction_drift
from modelmon.services.runners.service_health import run_service_health
from modelmon.store import Matcher, MonitorType, Schedule, Store

T0 = datetime.fromisoformat("2026-11-02T00:00:00+00:00")
H = timedelta(hours=1)
MODEL = "credit"
HOURLY = "cron(0 * ? * * *)"


def schedule(store: Store, version: str, kind: MonitorType, **config: Any) -> Schedule:
    return store.schedules.create_schedule(
        f"{version}-{kind.value}",
        model=MODEL,
        version=version,
        monitor_type=kind,
        cron=HOURLY,
        now=T0,
        config=config,
    )


def run(
    runner: Callable[[RunContext], Outcome],
    store: Store,
    plan: Schedule,
    hour: int,
    data_dir: Path,
    clock: Any,
) -> Outcome:
    """Run ``plan`` over the hour ``hour`` after T0 and record its points, as the executor does."""
    start = T0 + hour * H
    execution = store.executions.try_acquire_execution(
        plan.id,
        start + H,
        window_start=start,
        window_end=start + H,
        owner="test",
        lease_seconds=60,
        now=start + H,
    )
    assert execution is not None
    outcome = runner(RunContext.create(store, execution, plan, data_dir, clock))
    store.metrics.write_points(outcome.points, execution_id=execution.id)
    return outcome


def traffic(data_dir: Path, hour: int, *, version: str = "v1", scale: float = 1.0) -> None:
    """520 proxied inferences during the hour ``hour`` after T0, latencies around 40 ms."""
    rng = np.random.default_rng(hour)
    latencies = rng.lognormal(np.log(40), 0.25, 520) * scale
    with CaptureWriter(data_dir) as writer:
        for i, latency in enumerate(latencies):
            writer.submit(
                InferenceEvent(
                    model=MODEL,
                    version=version,
                    inference_id=f"{version}-{hour}-{i}",
                    time=T0 + hour * H + timedelta(seconds=6.9 * i),
                    request=Payload(b'{"age": 41}', "application/json"),
                    response=Payload(b'{"default_probability": 0.2}', "application/json"),
                    latency_ms=float(latency),
                    status=200,
                    source="proxy",
                )
            )


def violations(outcome: Outcome) -> list[tuple[str, str]]:
    return [(feature, check) for feature, check, _ in outcome.violations]


# -- service health ---------------------------------------------------------------------------


def test_service_health_learns_its_history_then_flags_a_slowdown(
    store: Store, data_dir: Path, clock: Any
) -> None:
    plan = schedule(store, "v1", MonitorType.SERVICE_HEALTH)
    for hour in range(6):
        traffic(data_dir, hour)
    traffic(data_dir, 6, scale=2.0)
    outcomes = [run(run_service_health, store, plan, h, data_dir, clock) for h in range(7)]
    assert [o.has_violations for o in outcomes] == [False] * 6 + [True]
    assert ("latency_p50_ms", "latency_history_check") in violations(outcomes[6])
    (p99,) = store.metrics.query_points(
        "service_latency_p99_ms", {"model": MODEL}, start=T0, end=T0 + 8 * H
    )
    assert p99.labels == {
        "model": MODEL,
        "version": "v1",
        "monitor": "ServiceHealth",
        "schedule": "v1-ServiceHealth",
    }
    assert p99.timestamps == tuple(T0 + (h + 1) * H for h in range(7))
    assert p99.values[6] > 1.5 * p99.values[5]
    (throughput,) = store.metrics.query_points(
        "service_throughput_per_min", {"model": MODEL}, start=T0, end=T0 + 8 * H
    )
    assert throughput.values[0] == pytest.approx(520 / 60)
    (errors,) = store.metrics.query_points(
        "service_error_rate", {"model": MODEL}, start=T0, end=T0 + 8 * H
    )
    assert set(errors.values) == {0.0}
    report = Path(outcomes[6].files["service_health_report.json"])
    assert report.is_file()
    assert "latency_p50_ms vs history" not in report.read_text()


def test_service_health_against_an_attached_benchmark(
    store: Store, data_dir: Path, clock: Any
) -> None:
    traffic(data_dir, 0)
    load_test = read_captures(data_dir, MODEL, version="v1", with_labels=False)
    benchmark = ServiceHealthMonitor().baseline(load_test, start=T0, end=T0 + H)
    store.models.set_baseline(
        MODEL, "v1", MonitorType.SERVICE_HEALTH, {BASELINE_FILE: benchmark.to_json()}, now=T0
    )
    traffic(data_dir, 1, scale=2.0)
    plan = schedule(store, "v1", MonitorType.SERVICE_HEALTH)
    outcome = run(run_service_health, store, plan, 1, data_dir, clock)
    assert violations(outcome) == [
        ("latency_p50_ms", "latency_check"),
        ("latency_p90_ms", "latency_check"),
        ("latency_p99_ms", "latency_check"),
    ]
    assert "exceeds benchmark" in outcome.violations[2][2]


def test_service_health_against_another_version_in_the_same_window(
    store: Store, data_dir: Path, clock: Any
) -> None:
    store.models.create_version(MODEL, "v2", now=T0)
    traffic(data_dir, 0, version="v1")
    traffic(data_dir, 0, version="v2", scale=1.7)
    canary = schedule(store, "v2", MonitorType.SERVICE_HEALTH, benchmark_version="v1")
    outcome = run(run_service_health, store, canary, 0, data_dir, clock)
    assert ("latency_p50_ms", "latency_check") in violations(outcome)


def test_service_health_refuses_unknown_config_and_fails_an_empty_window(
    store: Store, data_dir: Path, clock: Any
) -> None:
    typo = schedule(store, "v1", MonitorType.SERVICE_HEALTH, latency_tolerence=2)
    traffic(data_dir, 0)
    with pytest.raises(ConfigError, match="'latency_tolerence'"):
        run(run_service_health, store, typo, 0, data_dir, clock)
    plan = store.schedules.create_schedule(
        "other", model=MODEL, version="v1", monitor_type=MonitorType.SERVICE_HEALTH,
        cron=HOURLY, now=T0,
    )  # fmt: skip
    with pytest.raises(EmptyWindow, match="no captured data in window"):
        run(run_service_health, store, plan, 5, data_dir, clock)


def test_service_health_calls_an_empty_window_after_traffic_an_outage(
    store: Store, data_dir: Path, clock: Any
) -> None:
    plan = schedule(store, "v1", MonitorType.SERVICE_HEALTH)
    for hour in range(3):
        traffic(data_dir, hour)
    for hour in range(3):
        assert not run(run_service_health, store, plan, hour, data_dir, clock).has_violations
    outage = run(run_service_health, store, plan, 3, data_dir, clock)  # nothing captured
    assert violations(outage) == [("throughput_per_min", "throughput_history_check")]
    assert "may be down" in outage.violations[0][2]
    (throughput,) = store.metrics.query_points(
        "service_throughput_per_min", {"model": MODEL}, start=T0, end=T0 + 5 * H
    )
    assert throughput.values[-1] == 0.0


# -- prediction drift ---------------------------------------------------------------------------


def shadowed_hour(data_dir: Path, hour: int, *, agree: bool) -> None:
    """400 applications scored by v1 and, with the same inference ids, by the v2 challenger."""
    table = generate_credit(400, seed=hour)
    features = table.select([n for n in table.column_names if n != "default"])
    ids = [f"h{hour}-{i}" for i in range(400)]
    stable = score_credit(table)
    rng = np.random.default_rng(hour)
    challenger = stable + rng.normal(0, 0.005, 400) if agree else rng.permutation(stable)
    for version, scores in (("v1", stable), ("v2", challenger)):
        with Capture(MODEL, version, data_dir=data_dir) as capture:
            capture.log_batch(
                features,
                pa.table({"default_probability": scores}),
                inference_ids=ids,
                time=T0 + hour * H + timedelta(minutes=5),
            )


def test_prediction_drift_compares_the_challenger_with_the_previous_version(
    store: Store, data_dir: Path, clock: Any
) -> None:
    store.models.create_version(MODEL, "v2", now=T0 + H)
    plan = schedule(
        store, "v2", MonitorType.PREDICTION_DRIFT, output="default_probability", segment="region"
    )
    shadowed_hour(data_dir, 0, agree=True)
    shadowed_hour(data_dir, 1, agree=False)
    agreeing = run(run_prediction_drift, store, plan, 0, data_dir, clock)
    assert not agreeing.has_violations
    differing = run(run_prediction_drift, store, plan, 1, data_dir, clock)
    assert ("prediction", "prediction_rank_check") in violations(differing)
    assert any(f.startswith("region=") for f, _ in violations(differing))
    (overall,) = store.metrics.query_points(
        "prediction_rank_correlation",
        {"model": MODEL, "segment": ""},
        start=T0,
        end=T0 + 3 * H,
    )
    assert overall.labels == {
        "model": MODEL,
        "version": "v2",
        "baseline_version": "v1",
        "monitor": "PredictionDrift",
        "schedule": "v2-PredictionDrift",
    }
    assert overall.values[0] > 0.99 > 0.5 > overall.values[1]
    segments = store.metrics.query_points(
        "prediction_compared_rows",
        {"segment": Matcher("=~", "region=.*")},
        start=T0,
        end=T0 + 3 * H,
    )
    regions = set(generate_credit(400, seed=1)["region"].to_pylist())
    assert {s.labels["segment"] for s in segments} == {f"region={r}" for r in regions}
    assert sum(s.values[1] for s in segments) == 400
    report = Path(differing.files["prediction_drift_report.json"])
    assert '"baseline": "v1"' in report.read_text()


def test_prediction_drift_needs_a_baseline_version_and_both_versions_in_the_window(
    store: Store, data_dir: Path, clock: Any
) -> None:
    first = schedule(store, "v1", MonitorType.PREDICTION_DRIFT, output="default_probability")
    shadowed_hour(data_dir, 0, agree=True)
    with pytest.raises(ConfigError, match="first version of model 'credit'"):
        run(run_prediction_drift, store, first, 0, data_dir, clock)
    store.models.create_version(MODEL, "v2", now=T0 + H)
    plan = schedule(store, "v2", MonitorType.PREDICTION_DRIFT)  # the single output is found
    assert not run(run_prediction_drift, store, plan, 0, data_dir, clock).has_violations
    with Capture(MODEL, "v2", data_dir=data_dir) as capture:  # the challenger alone
        capture.log({"age": 30}, {"default_probability": 0.1}, time=T0 + 2 * H)
        capture.log({"age": 30}, {"default_probability": 0.1}, time=T0 + 3 * H)
    with pytest.raises(EmptyWindow, match="no captured data of baseline version 'v1'"):
        run(run_prediction_drift, store, plan, 2, data_dir, clock)
    with Capture(MODEL, "v1", data_dir=data_dir) as capture:  # ...and v1 on other requests
        capture.log({"age": 30}, {"default_probability": 0.1}, time=T0 + 3 * H)
    with pytest.raises(EmptyWindow, match="answered by both version 'v1' and version 'v2'"):
        run(run_prediction_drift, store, plan, 3, data_dir, clock)
