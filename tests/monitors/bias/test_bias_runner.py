"""run_model_bias on a real SQLite store: captured traffic, late labels, a Clarify baseline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from modelmon import Capture
from modelmon.capture import import_labels
from modelmon.formats import clarify
from modelmon.monitors.bias import BiasBaseline
from modelmon.services.runners.bias import run_model_bias
from modelmon.services.runners.context import EmptyWindow, Outcome, RunContext
from modelmon.store import MonitorType, Store, open_store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
MODEL, VERSION = "credit", "v1"


@pytest.fixture
def store(tmp_path: Path, credit_baseline: BiasBaseline) -> Iterator[Store]:
    files = {
        "analysis.json": clarify.bias_analysis_to_json(credit_baseline.analysis),
        "analysis_config.json": dict(credit_baseline.config),
    }
    with open_store(f"sqlite:///{tmp_path}/modelmon.db", migrate=True) as opened:
        opened.models.create_model(MODEL, now=T0)
        opened.models.create_version(MODEL, VERSION, now=T0)
        opened.models.set_baseline(MODEL, VERSION, MonitorType.MODEL_BIAS, files, now=T0)
        yield opened


def capture(data_dir: Path, table: pa.Table, hour: int, *, labels: bool = True) -> None:
    """Log ``table``'s applications with their score in hour ``hour``; labels arrive later."""
    ids = [f"{hour}-{i}" for i in range(table.num_rows)]
    features = table.drop_columns(["default", "score", "prediction"])
    with Capture(MODEL, VERSION, data_dir=data_dir) as session:
        session.log_batch(
            features, pa.table({"score": table["score"]}), inference_ids=ids, time=T0 + hour * H
        )
    if labels:
        truth = pa.table({"inference_id": ids, "label": table["default"]})
        import_labels(data_dir, MODEL, truth, arrival_time=T0 + (hour + 2) * H)


def run(store: Store, data_dir: Path, hour: int, **config: Any) -> Outcome:
    plan = store.schedules.create_schedule(
        f"bias-{hour}",
        model=MODEL,
        version=VERSION,
        monitor_type=MonitorType.MODEL_BIAS,
        cron="cron(0 * ? * * *)",
        now=T0,
        config={"label": "label", **config},
    )
    start = T0 + hour * H
    execution = store.executions.try_acquire_execution(
        plan.id, start + H, window_start=start, window_end=start + H, owner="t",
        lease_seconds=60, now=start + H,
    )  # fmt: skip
    assert execution is not None
    clock: Callable[[], datetime] = lambda: start + 3 * H  # noqa: E731
    return run_model_bias(RunContext.create(store, execution, plan, data_dir, clock))


def test_healthy_window_completes_with_points(
    store: Store, tmp_path: Path, scored: Callable[..., pa.Table]
) -> None:
    capture(tmp_path, scored(2_000, seed=11), hour=0)
    outcome = run(store, tmp_path, 0)
    assert not outcome.has_violations, outcome.violations
    assert outcome.message.startswith("Completed:")
    assert set(outcome.files) == {
        "analysis.json",
        "constraint_violations.json",
        "bias_drift_report.json",
    }
    names = {p.name for p in outcome.points}
    assert {"bias_CI", "bias_DPPL", "bias_DI", "bias_FT", "bias_CDDPL"} <= names
    dppl = next(
        p for p in outcome.points if p.name == "bias_DPPL" and "gender" in p.labels["facet"]
    )
    assert dppl.labels["facet"] == "gender=female"
    assert dppl.labels["stage"] == "post_training"
    assert dppl.labels["model"] == MODEL
    assert dppl.timestamp == T0 + H
    assert all(np.isfinite(p.value) for p in outcome.points)


def test_biased_window_violates(
    store: Store, tmp_path: Path, scored: Callable[..., pa.Table]
) -> None:
    capture(tmp_path, scored(2_000, seed=12, penalty=0.3), hour=1)
    outcome = run(store, tmp_path, 1)
    assert outcome.has_violations
    assert ("gender=female", "bias_drift_check") in {(v[0], v[1]) for v in outcome.violations}


def test_window_without_labels_is_empty(
    store: Store, tmp_path: Path, scored: Callable[..., pa.Table]
) -> None:
    capture(tmp_path, scored(200, seed=13), hour=2, labels=False)
    with pytest.raises(EmptyWindow, match="no labels in window"):
        run(store, tmp_path, 2)
