"""run_model_explainability on a real SQLite store with captured traffic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from modelmon import Capture
from modelmon.formats import clarify
from modelmon.models import EstimatorModel
from modelmon.monitors.attribution import AttributionMonitor
from modelmon.services.runners.attribution import run_model_explainability
from modelmon.services.runners.context import Outcome, RunContext
from modelmon.store import MonitorType, Store, open_store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
MODEL, VERSION = "credit", "v1"
Data = Callable[..., pd.DataFrame]


@pytest.fixture
def store(tmp_path: Path, model_file: Path, data: Data) -> Iterator[Store]:
    baseline = AttributionMonitor(model=str(model_file)).baseline(data(600, 3))
    files = {
        "analysis.json": clarify.explainability_to_json(baseline.analysis),
        "analysis_config.json": dict(baseline.config),
    }
    with open_store(f"sqlite:///{tmp_path}/modelmon.db", migrate=True) as opened:
        opened.models.create_model(MODEL, now=T0)
        opened.models.create_version(MODEL, VERSION, now=T0)
        opened.models.set_baseline(MODEL, VERSION, MonitorType.MODEL_EXPLAINABILITY, files, now=T0)
        yield opened


def run(store: Store, data_dir: Path, hour: int, frame: pd.DataFrame, model: str) -> Outcome:
    with Capture(MODEL, VERSION, data_dir=data_dir) as session:
        session.log_batch(
            pa.Table.from_pandas(frame), pa.table({"p": [0.5] * len(frame)}), time=T0 + hour * H
        )
    plan = store.schedules.create_schedule(
        f"shap-{hour}",
        model=MODEL,
        version=VERSION,
        monitor_type=MonitorType.MODEL_EXPLAINABILITY,
        cron="cron(0 * ? * * *)",
        now=T0,
        config={"model": model},
    )
    start = T0 + hour * H
    execution = store.executions.try_acquire_execution(
        plan.id, start + H, window_start=start, window_end=start + H, owner="t",
        lease_seconds=60, now=start + H,
    )  # fmt: skip
    assert execution is not None
    ctx = RunContext.create(store, execution, plan, data_dir, lambda: start + H)
    return run_model_explainability(ctx)


def test_points_per_feature_and_ndcg(
    store: Store, tmp_path: Path, model_file: Path, data: Data
) -> None:
    outcome = run(store, tmp_path / "data", 0, data(400, 4), str(model_file))
    assert not outcome.has_violations
    names = {p.name for p in outcome.points}
    assert names == {f"feature_attribution_f{i}" for i in range(6)} | {"feature_attribution_ndcg"}
    ndcg = next(p for p in outcome.points if p.name == "feature_attribution_ndcg")
    assert ndcg.value > 0.99
    assert ndcg.labels["label"] == "label0"
    f0 = next(p for p in outcome.points if p.name == "feature_attribution_f0")
    assert f0.labels["feature"] == "f0"
    assert set(outcome.files) == {
        "analysis.json",
        "constraint_violations.json",
        "attribution_drift_report.json",
    }


def test_broken_feature_violates(
    store: Store, tmp_path: Path, model_file: Path, data: Data
) -> None:
    outcome = run(store, tmp_path / "data", 1, data(400, 4, flat="f0"), str(model_file))
    assert outcome.has_violations
    ((label, check, description),) = outcome.violations
    assert (label, check) == ("label0", "feature_attribution_drift_check")
    assert description.startswith("Feature attribution drift ")


def test_estimator_model_objects_are_accepted(tree_model: object) -> None:
    assert AttributionMonitor.from_config({"model": EstimatorModel(tree_model, "gb")}).model
