"""BiasMonitor: baseline and check on credit data, the CI rule, insufficient data, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats import clarify
from modelmon.monitors.bias import BiasBaseline, BiasMonitor, FacetSpec, load_bias_baseline
from modelmon.stats.bias import allowed_range

Scored = Callable[..., pa.Table]
Make = Callable[..., BiasMonitor]


def test_baseline_has_every_metric_per_facet(credit_baseline: BiasBaseline) -> None:
    analysis = credit_baseline.analysis
    assert analysis.pre_training is not None
    assert analysis.post_training is not None
    gender = analysis.pre_training.facets["gender"][0]
    assert gender.value_or_threshold == "female"
    assert [m.name for m in gender.metrics] == ["CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL"]
    age = analysis.post_training.facets["age"][0]
    assert age.value_or_threshold.startswith("(50, ")
    names = [m.name for m in age.metrics]
    assert names == [
        "DPPL", "DI", "DCAcc", "DCR", "RD", "SD", "DAR", "DRR", "AD", "TE", "CDDPL", "FT", "GE",
    ]  # fmt: skip
    assert all(m.value is not None for m in age.metrics)


def test_files_round_trip(credit_baseline: BiasBaseline, tmp_path: Path) -> None:
    credit_baseline.save(tmp_path)
    raw = json.loads((tmp_path / "analysis.json").read_text())
    assert raw["version"] == "1.0"
    entry = raw["pre_training_bias_metrics"]["facets"]["gender"][0]
    assert entry["metrics"][0] == {
        "name": "CI",
        "description": "Class Imbalance (CI)",
        "value": entry["metrics"][0]["value"],
    }
    loaded = load_bias_baseline(tmp_path)
    assert loaded.analysis == credit_baseline.analysis
    assert loaded.config["label"] == "default"
    assert loaded.config["predictor"] == {"probability_threshold": 0.5, "probability": "score"}


def test_same_population_no_violations(credit_baseline: BiasBaseline, scored: Scored) -> None:
    result = BiasMonitor().check(scored(3_000, seed=7), credit_baseline)
    assert not result.has_violations, [d.to_json() for d in result.drift if d.violated]
    assert result.exit_message().startswith("Completed:")


def test_a_model_turned_against_women_violates(
    credit_baseline: BiasBaseline, scored: Scored
) -> None:
    result = BiasMonitor().check(scored(3_000, seed=7, penalty=0.3), credit_baseline)
    violated = {(d.facet, d.metric) for d in result.drift if d.violated}
    assert ("gender", "DPPL") in violated
    assert ("gender", "DI") in violated
    violation = next(v for v in result.violations if v.metric_name == "DPPL")
    assert violation.facet_value == "female"
    assert violation.description.endswith("does not meet the constraint requirement")


def test_small_windows_do_not_false_alarm(credit_baseline: BiasBaseline, scored: Scored) -> None:
    """Windows of 80 rows from the training population: the range widened to where such windows
    fall rarely alarms, where comparing the point estimate with Clarify's range (the baseline's
    own value) would alarm nearly every time."""
    widened = naive = 0
    for seed in range(20):
        result = BiasMonitor(resamples=300).check(scored(80, seed=100 + seed), credit_baseline)
        widened += result.has_violations
        naive += any(
            d.value is not None
            and not allowed_range(d.metric, d.baseline)[0]
            <= d.value
            <= allowed_range(d.metric, d.baseline)[1]
            for d in result.drift
        )
    assert naive >= 18
    assert widened <= 2


def test_tiny_window_is_insufficient_data_not_a_number(
    credit_baseline: BiasBaseline, scored: Scored
) -> None:
    result = BiasMonitor().check(scored(12, seed=3), credit_baseline)
    assert not result.has_violations
    insufficient = [d for d in result.drift if d.value is None]
    assert insufficient
    assert all(d.reason and d.reason.startswith("insufficient data") for d in insufficient)
    metric = result.analysis.post_training.facets["age"][0].metric("RD")  # type: ignore[union-attr]
    assert metric is not None
    assert metric.value is None
    assert metric.error is not None


def test_several_facets_and_one_per_value(tmp_path: Path, scored: Scored, monitor: Make) -> None:
    baseline = monitor(facets=["region"], group_variable=None).baseline(scored(4_000, seed=2))
    assert baseline.analysis.pre_training is not None
    values = [e.value_or_threshold for e in baseline.analysis.pre_training.facets["region"]]
    assert values == ["east", "north", "south", "west"]
    result = BiasMonitor().check(scored(2_000, seed=3), baseline)
    assert {d.facet_value for d in result.drift} == set(values)


def test_numeric_value_of_a_continuous_column_is_a_threshold(scored: Scored, monitor: Make) -> None:
    table = scored(2_000, seed=2)
    baseline = monitor(facets=[{"name": "income", "values": ["60000"]}]).baseline(table)
    assert baseline.analysis.pre_training is not None
    entry = baseline.analysis.pre_training.facets["income"][0]
    assert entry.value_or_threshold.startswith("(60000, ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"label": "defaulted"}, "label column 'defaulted' is not in the dataset"),
        ({"facets": [FacetSpec("sex", ("f",))]}, "facet column 'sex' is not in the dataset"),
        ({"facets": [FacetSpec("gender", ("other",))]}, "facet value 'other' never occurs"),
        ({"label_values": ["yes"]}, "label value 'yes' never occurs"),
        ({"facets": [FacetSpec("gender", threshold=3.0)]}, "threshold needs a numeric column"),
    ],
)
def test_bad_input_names_what(
    options: dict[str, object], message: str, scored: Scored, monitor: Make
) -> None:
    with pytest.raises(DatasetError, match=message):
        monitor(**options).baseline(scored(500, seed=1))


def test_bad_config_is_a_config_error(scored: Scored, monitor: Make) -> None:
    with pytest.raises(ConfigError, match="'confidence' parameter"):
        monitor(confidence=1.5).baseline(scored(500, seed=1))
    with pytest.raises(ConfigError, match="exclude each other"):
        monitor(predicted_label="prediction").baseline(scored(500, seed=1))
    with pytest.raises(ConfigError, match="unknown keys"):
        BiasMonitor.from_config({"lable": "x"})


def test_cli_baseline_and_check(
    run_cli: Callable[..., int],
    train_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    scored: Scored,
) -> None:
    base = tmp_path / "baseline"
    code = run_cli(
        "bias", "baseline", "--dataset", train_file, "--label", "default", "--label-value", "1",
        "--facet", "gender", "--facet-value", "female", "--facet", "age", "--facet-threshold",
        "50", "--predicted-label", "prediction", "--group-variable", "region", "--output", base,
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    analysis = clarify.read_bias_analysis(base / "analysis.json")
    assert analysis.post_training is not None
    assert set(analysis.post_training.facets) == {"gender", "age"}
    window = tmp_path / "window.parquet"
    pq.write_table(scored(2_000, seed=9, penalty=0.3), window)
    report = tmp_path / "report"
    code = run_cli("bias", "check", "--dataset", window, "--baseline", base, "--output", report)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "gender=female DPPL" in out
    violations = json.loads((report / "constraint_violations.json").read_text())
    assert violations["version"] == "1.0"
    assert {"facet": "gender", "facet_value": "female", "metric_name": "DPPL"}.items() <= next(
        v for v in violations["violations"] if v["metric_name"] == "DPPL"
    ).items()
    assert violations["violations"][0]["constraint_check_type"] == "bias_drift_check"
    healthy = tmp_path / "healthy.parquet"
    pq.write_table(scored(2_000, seed=10), healthy)
    assert (
        run_cli("bias", "check", "--dataset", healthy, "--baseline", base, "--output", report) == 0
    )


def test_cli_bad_input_exits_2(
    run_cli: Callable[..., int],
    train_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run_cli(
        "bias", "baseline", "--dataset", train_file, "--label", "default", "--label-value", "1",
        "--facet", "gender", "--facet-value", "nobody", "--output", tmp_path / "b",
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "column 'gender'" in err
    assert "facet value 'nobody' never occurs" in err
    code = run_cli(
        "bias", "check", "--dataset", train_file, "--baseline", tmp_path / "missing",
        "--output", tmp_path / "r",
    )  # fmt: skip
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
