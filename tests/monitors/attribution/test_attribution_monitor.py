"""AttributionMonitor: Clarify's files, NDCG drift, bounded kernel SHAP, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats import clarify
from modelmon.models import EstimatorModel
from modelmon.monitors.attribution import AttributionMonitor, load_attribution_baseline

Data = Callable[..., pd.DataFrame]


def test_tree_baseline_ranks_features_by_weight(
    tree_model: GradientBoostingClassifier, data: Data, tmp_path: Path
) -> None:
    baseline = AttributionMonitor(model=EstimatorModel(tree_model, "gb")).baseline(data(800, 3))
    values = baseline.analysis.explanations["tree_shap"]["label0"].global_shap_values
    assert list(values) == ["f0", "f1", "f2", "f3", "f4", "f5"]
    assert sorted(values, key=lambda f: -values[f])[:3] == ["f0", "f1", "f2"]
    baseline.save(tmp_path)
    raw = json.loads((tmp_path / "analysis.json").read_text())
    assert raw["version"] == "1.0"
    assert set(raw["explanations"]["tree_shap"]["label0"]) == {
        "global_shap_values",
        "expected_value",
        "aggregates",
    }
    config = json.loads((tmp_path / "analysis_config.json").read_text())
    assert config["headers"] == ["f0", "f1", "f2", "f3", "f4", "f5"]
    assert len(config["methods"]["shap"]["baseline"]) == 50
    assert load_attribution_baseline(tmp_path).analysis == baseline.analysis


def test_stable_data_passes_and_a_broken_feature_violates(
    tree_model: GradientBoostingClassifier, data: Data
) -> None:
    monitor = AttributionMonitor(model=EstimatorModel(tree_model, "gb"))
    baseline = monitor.baseline(data(800, 3))
    healthy = monitor.check(data(800, 4), baseline)
    assert not healthy.has_violations
    assert healthy.scores["label0"] > 0.99
    broken = monitor.check(data(800, 4, flat="f0"), baseline)
    assert broken.has_violations
    assert broken.scores["label0"] < 0.9
    (violation,) = broken.violations
    assert violation.label == "label0"
    assert violation.metric_name == "shap"
    assert violation.constraint_check_type == "feature_attribution_drift_check"
    assert violation.description == (
        f"Feature attribution drift {broken.scores['label0']!r} exceeds threshold 0.9"
    )
    lenient = AttributionMonitor(model=EstimatorModel(tree_model, "gb"), ndcg_threshold=0.5)
    assert not lenient.check(data(800, 4, flat="f0"), baseline).has_violations


def test_kernel_shap_is_bounded(linear_model: LogisticRegression, data: Data) -> None:
    monitor = AttributionMonitor(
        model=EstimatorModel(linear_model, "lr"), max_rows=25, nsamples=64, background_size=8
    )
    baseline = monitor.baseline(data(1_000, 3))
    assert list(baseline.analysis.explanations) == ["kernel_shap"]
    assert len(baseline.config["methods"]["shap"]["baseline"]) == 8
    result = monitor.check(data(1_000, 5, flat="f0"), baseline)
    assert result.rows_explained == 25
    assert result.method == "kernel_shap"
    assert result.has_violations


def test_bad_input(tree_model: GradientBoostingClassifier, data: Data) -> None:
    monitor = AttributionMonitor(model=EstimatorModel(tree_model, "gb"))
    with pytest.raises(DatasetError, match="model feature 'f5' is not in the dataset"):
        monitor.baseline(data(50, 1).drop(columns=["f5"]))
    with pytest.raises(ConfigError, match="'agg_method' parameter"):
        AttributionMonitor(model=EstimatorModel(tree_model, "gb"), agg_method="max").baseline(
            data(50, 1)
        )
    with pytest.raises(ConfigError, match="'model' parameter"):
        AttributionMonitor.from_config({"max_rows": 3})


def test_cli_with_a_model_file(
    run_cli: Callable[..., int],
    model_file: Path,
    data: Data,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    train, healthy, broken = (tmp_path / n for n in ("train.csv", "ok.csv", "broken.csv"))
    data(600, 3).to_csv(train, index=False)
    data(600, 4).to_csv(healthy, index=False)
    data(600, 4, flat="f0").to_csv(broken, index=False)
    base = tmp_path / "baseline"
    code = run_cli(
        "attribution", "baseline", "--dataset", train, "--model", model_file, "--output", base
    )
    assert code == 0, capsys.readouterr().err
    assert "label0: top features f0" in capsys.readouterr().out
    args = ("--baseline", base, "--model", model_file, "--output", tmp_path / "report")
    assert run_cli("attribution", "check", "--dataset", healthy, *args) == 0
    assert run_cli("attribution", "check", "--dataset", broken, *args) == 1
    out = capsys.readouterr().out
    assert "below threshold 0.9" in out
    violations = clarify.attribution_violations_from_json(
        json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    )
    assert [v.label for v in violations] == ["label0"]


def test_cli_bad_model_exits_2(
    run_cli: Callable[..., int], data: Data, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = tmp_path / "train.csv"
    data(50, 3).to_csv(train, index=False)
    bad = tmp_path / "model.joblib"
    bad.write_text("garbage")
    code = run_cli(
        "attribution", "baseline", "--dataset", train, "--model", bad, "--output", tmp_path
    )
    assert code == 2
    assert "the model file cannot be loaded" in capsys.readouterr().err
