"""The data-quality monitor end to end through the Python API, on generated data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import modelmon
from modelmon.examples import generate_credit
from modelmon.formats import sagemaker as sm

ROWS = 20_000


@pytest.fixture(scope="module")
def train() -> pa.Table:
    return generate_credit(ROWS, seed=1)


@pytest.fixture(scope="module")
def baseline(train: pa.Table) -> modelmon.DataQualityBaseline:
    return modelmon.DataQualityMonitor().baseline(train)


def _feature(stats: sm.Statistics, name: str) -> sm.FeatureStatistics:
    return next(f for f in stats.features if f.name == name)


def _checks(result: modelmon.DataQualityResult) -> set[tuple[str, str]]:
    return {(v.feature_name, v.constraint_check_type) for v in result.violations}


def test_baseline_statistics_match_numpy(
    train: pa.Table, baseline: modelmon.DataQualityBaseline
) -> None:
    stats = baseline.statistics
    assert stats.item_count == ROWS
    assert [f.name for f in stats.features] == train.column_names
    for name in ("age", "income", "loan_amount", "debt_to_income"):
        values = train[name].to_numpy().astype(np.float64)
        numerical = _feature(stats, name).numerical
        assert numerical is not None
        assert numerical.num_present == ROWS
        assert numerical.num_missing == 0
        assert numerical.mean == pytest.approx(values.mean(), rel=1e-12)
        assert numerical.std_dev == pytest.approx(values.std(ddof=0), rel=1e-9)
        assert numerical.sum == pytest.approx(values.sum(), rel=1e-12)
        assert (numerical.min, numerical.max) == (values.min(), values.max())
        assert len(numerical.buckets) == 10
        assert sum(b.count for b in numerical.buckets) == pytest.approx(ROWS)
        assert numerical.buckets[0].lower_bound == values.min()
        assert numerical.buckets[-1].upper_bound == values.max()
    assert _feature(stats, "age").inferred_type == "Integral"
    assert _feature(stats, "income").inferred_type == "Fractional"
    region = _feature(stats, "region")
    assert region.inferred_type == "String"
    assert region.string is not None
    counts = dict(
        zip(
            *np.unique(train["region"].to_numpy(zero_copy_only=False), return_counts=True),
            strict=True,
        )
    )
    assert {b.value: b.count for b in region.string.buckets} == counts
    assert region.string.distinct_count == 4.0


def test_equal_width_buckets_match_numpy_histogram(
    train: pa.Table, baseline: modelmon.DataQualityBaseline
) -> None:
    values = train["credit_score"].to_numpy().astype(np.float64)
    numerical = _feature(baseline.statistics, "credit_score").numerical
    assert numerical is not None
    expected, _ = np.histogram(values, bins=10, range=(values.min(), values.max()))
    # Deequ's bins, like numpy's, are [a, b) but the last, which is closed. 20,000 values have
    # compacted the k=2048 sketch, so counts are within its rank error of numpy's.
    counts = np.array([b.count for b in numerical.buckets])
    assert np.abs(counts - expected).max() <= 0.005 * ROWS
    assert all(float(c).is_integer() for c in counts)
    assert counts.sum() == ROWS


def test_suggested_constraints(baseline: modelmon.DataQualityBaseline) -> None:
    features = {f.name: f for f in baseline.constraints.features}
    assert features["region"].domains == ("east", "north", "south", "west")
    assert features["gender"].domains == ("female", "male")
    assert features["age"].is_non_negative is True
    assert features["age"].domains is None
    assert all(f.completeness == 1.0 for f in features.values())
    config = baseline.constraints.monitoring_config
    assert config.distribution_constraints.comparison_method == "Robust"
    assert config.distribution_constraints.comparison_threshold == 0.1
    assert config.datatype_check_threshold == 1.0


def test_healthy_day_has_no_violations(baseline: modelmon.DataQualityBaseline) -> None:
    result = modelmon.DataQualityMonitor().check(generate_credit(5_000, seed=2), baseline)
    assert result.violations == ()
    assert result.drifted_features == []
    assert all(f.drift is False for f in result.drift)


def test_broken_day_finds_every_injected_problem(baseline: modelmon.DataQualityBaseline) -> None:
    broken = generate_credit(
        5_000, seed=3, drifts=["income_shift", "unit_change", "missing_scores", "new_region"]
    )
    result = modelmon.DataQualityMonitor().check(broken, baseline)
    assert set(result.drifted_features) == {"income", "loan_amount", "region"}
    assert _checks(result) == {
        ("income", "baseline_drift_check"),
        ("loan_amount", "baseline_drift_check"),
        ("region", "baseline_drift_check"),
        ("region", "categorical_values_check"),
        ("credit_score", "completeness_check"),
    }
    drift = {f.name: f for f in result.drift}
    assert drift["income"].rule.startswith("Robust L-infinity")
    assert "> threshold 0.1" in drift["income"].rule
    assert set(drift["income"].metrics) == {
        "linf_simple",
        "linf_robust",
        "ks_pvalue",
        "psi",
        "jensen_shannon",
        "hellinger",
        "wasserstein_normed",
    }
    assert drift["income"].metrics["ks_pvalue"] < 1e-10


def test_drift_distance_is_scipy_ks_statistic(
    train: pa.Table, baseline: modelmon.DataQualityBaseline
) -> None:
    from scipy import stats

    current = generate_credit(3_000, seed=9, drifts=["older_applicants"])
    result = modelmon.DataQualityMonitor().check(current, baseline)
    drift = {f.name: f for f in result.drift}["age"]
    expected = stats.ks_2samp(train["age"].to_numpy(), current["age"].to_numpy())
    # The baseline sketch of 20k values has compacted: distance within its rank error.
    assert drift.metrics["linf_simple"] == pytest.approx(expected.statistic, abs=0.01)
    assert drift.drift is True


def test_robust_spares_small_windows_that_simple_flags(
    baseline: modelmon.DataQualityBaseline,
) -> None:
    small = generate_credit(40, seed=5)
    robust = modelmon.DataQualityMonitor().check(small, baseline)
    assert robust.drifted_features == []
    simple_baseline = modelmon.DataQualityMonitor(comparison_method="Simple").baseline(
        generate_credit(ROWS, seed=1)
    )
    simple = modelmon.DataQualityMonitor().check(small, simple_baseline)
    assert simple.drifted_features, "Simple L-infinity flags sampling noise at 40 rows"


def test_data_type_and_missing_and_extra_columns(baseline: modelmon.DataQualityBaseline) -> None:
    current = generate_credit(2_000, seed=4).drop_columns(["purpose"])
    ages = current["age"].to_pylist()
    ages[10] = 33.5  # one fractional value in an Integral column
    current = current.set_column(0, "age", pa.array([float(a) for a in ages]))
    current = current.append_column("new_feature", pa.array(np.ones(current.num_rows)))
    result = modelmon.DataQualityMonitor().check(current, baseline)
    assert _checks(result) == {
        ("purpose", "missing_column_check"),
        ("new_feature", "extra_column_check"),
        ("age", "data_type_check"),
    }
    typed = next(v for v in result.violations if v.constraint_check_type == "data_type_check")
    assert typed.description.endswith("Observed: Only 99.95% of data is Integral.")


def test_whole_floats_are_integral(baseline: modelmon.DataQualityBaseline) -> None:
    # pandas turns an int column with a missing value into floats: not a change of type.
    current = generate_credit(2_000, seed=4)
    ages = [float(a) for a in current["age"].to_pylist()]
    ages[5] = math.nan
    current = current.set_column(0, "age", pa.array(ages, pa.float64()))
    checks = _checks(modelmon.DataQualityMonitor().check(current, baseline))
    assert checks == {("age", "completeness_check")}


def test_mixed_text_in_a_numeric_column_is_a_type_violation(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    current = generate_credit(1_000, seed=6)
    ages = [str(a) for a in current["age"].to_pylist()]
    ages[3] = "unknown"
    path = tmp_path / "day.csv"
    pacsv.write_csv(current.set_column(0, "age", pa.array(ages)), path)
    result = modelmon.DataQualityMonitor().check(path, baseline)
    typed = [v for v in result.violations if v.constraint_check_type == "data_type_check"]
    assert [v.feature_name for v in typed] == ["age"]
    assert "Expected data type: Integral, Expected match: 100.0%" in typed[0].description
    assert "Only 99.9% of data is Integral." in typed[0].description


def test_mixed_types_in_a_baseline_are_refused_with_the_line(tmp_path: Path) -> None:
    table = generate_credit(500, seed=7)
    ages = [str(a) for a in table["age"].to_pylist()]
    ages[41] = "forty"
    path = tmp_path / "train.csv"
    pacsv.write_csv(table.set_column(0, "age", pa.array(ages)), path)
    with pytest.raises(modelmon.DatasetError, match=r"train\.csv, line 43, column 'age'") as info:
        modelmon.DataQualityMonitor().baseline(path)
    assert "'forty'" in str(info.value)
    assert "--allow-mixed-types" in str(info.value)
    allowed = modelmon.DataQualityMonitor(allow_mixed_types=True).baseline(path)
    assert _feature(allowed.statistics, "age").inferred_type == "String"


def test_all_null_baseline_column_is_refused() -> None:
    table = generate_credit(100, seed=8).append_column("empty", pa.nulls(100, pa.float64()))
    with pytest.raises(modelmon.DatasetError, match=r"column 'empty'.*every one of the 100 values"):
        modelmon.DataQualityMonitor().baseline(table)


def test_all_null_current_column_breaks_completeness(
    baseline: modelmon.DataQualityBaseline,
) -> None:
    current = generate_credit(500, seed=8)
    current = current.set_column(1, "income", pa.nulls(500, pa.float64()))
    result = modelmon.DataQualityMonitor().check(current, baseline)
    assert ("income", "completeness_check") in _checks(result)
    assert {f.name: f for f in result.drift}["income"].drift is None


def test_headerless_csv_is_matched_by_position(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    path = tmp_path / "day.csv"
    table = generate_credit(1_000, seed=2)
    pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=False))
    result = modelmon.DataQualityMonitor(csv_header=False).check(path, baseline)
    assert result.violations == ()
    assert [f.name for f in result.statistics.features] == table.column_names


def test_evaluate_constraints_disabled_and_overrides(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    broken = generate_credit(5_000, seed=3, drifts=["income_shift", "new_region"])
    constraints = sm.constraints_to_json(baseline.constraints)
    assert isinstance(constraints, dict)
    features = constraints["features"]
    assert isinstance(features, list)
    for feature in features:
        assert isinstance(feature, dict)
        if feature["name"] == "income":
            feature["monitoringConfigOverrides"] = {
                "distribution_constraints": {"comparison_threshold": 0.9}
            }
        if feature["name"] == "region":
            feature["monitoringConfigOverrides"] = {"evaluate_constraints": "Disabled"}
    edited = modelmon.DataQualityBaseline(
        baseline.statistics, sm.constraints_from_json(constraints)
    )
    result = modelmon.DataQualityMonitor().check(broken, edited)
    assert result.violations == ()
    assert "region" in result.drifted_features  # still reported, just not a violation

    config = constraints["monitoring_config"]
    assert isinstance(config, dict)
    config["evaluate_constraints"] = "Disabled"
    silenced = modelmon.DataQualityBaseline(
        baseline.statistics, sm.constraints_from_json(constraints)
    )
    assert (
        modelmon.DataQualityMonitor().check(broken.drop_columns(["age"]), silenced).violations == ()
    )


def test_chi_squared_method(train: pa.Table) -> None:
    # The threshold is the p-value below which a feature has drifted: 0.003 is the false-alarm
    # rate the Robust L-infinity correction uses.
    baseline = modelmon.DataQualityMonitor(
        categorical_drift_method="ChiSquared", categorical_comparison_threshold=0.003
    ).baseline(train)
    healthy = modelmon.DataQualityMonitor().check(generate_credit(5_000, seed=2), baseline)
    region = {f.name: f for f in healthy.drift}["region"]
    assert region.method == "ChiSquared"
    assert region.drift is False
    broken = modelmon.DataQualityMonitor().check(
        generate_credit(5_000, seed=3, drifts=["new_region"]), baseline
    )
    region = {f.name: f for f in broken.drift}["region"]
    assert region.drift is True
    assert region.rule.startswith("ChiSquared p-value")


def test_save_writes_sagemaker_files_that_read_back(
    tmp_path: Path, baseline: modelmon.DataQualityBaseline
) -> None:
    statistics_path, constraints_path = baseline.save(tmp_path / "baseline")
    assert sm.read_statistics(statistics_path) == baseline.statistics
    assert sm.read_constraints(constraints_path) == baseline.constraints
    raw = json.loads(statistics_path.read_text())
    kll = raw["features"][0]["numerical_statistics"]["distribution"]["kll"]
    assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    result = modelmon.DataQualityMonitor().check(
        generate_credit(2_000, seed=3, drifts=["income_shift"]), tmp_path / "baseline"
    )
    written = result.save(tmp_path / "report")
    assert [p.name for p in written] == [
        "statistics.json",
        "constraint_violations.json",
        "drift_report.json",
    ]
    report = json.loads((tmp_path / "report" / "drift_report.json").read_text())
    assert report["summary"]["drifted"] == ["income"]
    violations = sm.read_violations(tmp_path / "report" / "constraint_violations.json")
    assert [v.feature_name for v in violations.violations] == ["income"]


def test_accepts_pandas_polars_and_files(tmp_path: Path, train: pa.Table) -> None:
    import pandas as pd
    import polars as pl

    small = train.slice(0, 3_000)
    parquet = tmp_path / "train.parquet"
    pq.write_table(small, parquet)
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in small.to_pylist()) + "\n")
    monitor = modelmon.DataQualityMonitor()
    results = [
        monitor.baseline(small).statistics,
        monitor.baseline(small.to_pandas()).statistics,
        monitor.baseline(pl.from_arrow(small)).statistics,
        monitor.baseline(parquet).statistics,
        monitor.baseline(jsonl).statistics,
    ]
    assert isinstance(small.to_pandas(), pd.DataFrame)
    for other in results[1:]:
        assert other == results[0]


def test_invalid_parameters_name_the_parameter() -> None:
    with pytest.raises(
        modelmon.ConfigError,
        match=r"The 'comparison_threshold' parameter of DataQualityMonitor must be a float in "
        r"the range \[0, 1\]\. Got 2 instead\.",
    ):
        modelmon.DataQualityMonitor(comparison_threshold=2).baseline(generate_credit(10))
    with pytest.raises(modelmon.ConfigError, match=r"'comparison_method'.*Got 'robust'"):
        modelmon.DataQualityMonitor(comparison_method="robust").baseline(generate_credit(10))


def test_nan_counts_as_missing() -> None:
    table = pa.table({"x": pa.array([1.0, math.nan, 3.0, None])})
    stats = modelmon.DataQualityMonitor().baseline(table).statistics
    numerical = stats.features[0].numerical
    assert numerical is not None
    assert (numerical.num_present, numerical.num_missing) == (2, 2)
    assert numerical.mean == 2.0


def test_infinities_are_values_not_crashes() -> None:
    values = np.linspace(0, 1, 1_000)
    baseline = modelmon.DataQualityMonitor().baseline(pa.table({"x": values}))
    current = values.copy()
    current[:5] = np.inf
    result = modelmon.DataQualityMonitor().check(pa.table({"x": current}), baseline)
    drift = result.drift[0]
    assert drift.drift is False
    assert math.isfinite(drift.metrics["wasserstein_normed"])


def test_chi_squared_without_a_testable_table_is_not_evaluated() -> None:
    monitor = modelmon.DataQualityMonitor(categorical_drift_method="ChiSquared")
    baseline = monitor.baseline(pa.table({"plan": ["pro"] * 50}))
    result = monitor.check(pa.table({"plan": ["pro"] * 30}), baseline)
    drift = result.drift[0]
    assert drift.drift is None
    assert drift.reason == "too few categories for a chi-squared test after regrouping"
    assert result.violations == ()
