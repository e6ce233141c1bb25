"""Multivariate drift, FDR control and "not evaluated" verdicts in the data-quality monitor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from modelmon.errors import ConfigError
from modelmon.monitors.data_quality import DataQualityMonitor, load_baseline
from modelmon.monitors.data_quality.multivariate import (
    REFERENCE_FILE,
    multivariate_metrics,
)

METHODS = ("domain_classifier", "pca", "mmd")


def _table(rows: int, seed: int, correlation: float = 0.8, **extra: object) -> pa.Table:
    """Two correlated normals and a category whose share follows the first; ``correlation``
    changes the joint distribution and neither marginal."""
    rng = np.random.default_rng(seed)
    cov = [[1.0, correlation], [correlation, 1.0]]
    ab = rng.multivariate_normal([0.0, 0.0], cov, rows)
    colour = np.where(ab[:, 0] > 0, "red", "blue")
    columns: dict[str, object] = {"a": ab[:, 0], "b": ab[:, 1], "colour": colour, **extra}
    return pa.table(columns)


@pytest.fixture(scope="module")
def monitor() -> DataQualityMonitor:
    return DataQualityMonitor(multivariate=METHODS, multivariate_rows=1500)


def test_the_baseline_keeps_a_bounded_row_sample(
    monitor: DataQualityMonitor, tmp_path: Path
) -> None:
    baseline = monitor.baseline(_table(4000, 1))
    assert baseline.reference is not None
    assert baseline.reference.num_rows == 1500
    assert baseline.reference.column_names == ["a", "b", "colour"]
    baseline.save(tmp_path)
    loaded = load_baseline(tmp_path)
    assert loaded.reference is not None
    assert loaded.reference.equals(baseline.reference)
    plain = DataQualityMonitor().baseline(_table(500, 1))
    assert plain.reference is None
    plain.save(tmp_path / "plain")
    assert not (tmp_path / "plain" / REFERENCE_FILE).exists()


def test_a_broken_correlation_is_multivariate_drift_only(
    monitor: DataQualityMonitor, tmp_path: Path
) -> None:
    baseline = monitor.baseline(_table(4000, 1))
    result = monitor.check(_table(3000, 2, correlation=-0.8), baseline)
    assert result.drifted_features == []  # no single feature moved
    verdicts = {m.method: m for m in result.multivariate}
    assert all(verdicts[m].drift for m in METHODS), [m.rule for m in result.multivariate]
    assert verdicts["domain_classifier"].statistic > 0.75
    top = {t["feature"] for t in verdicts["domain_classifier"].details["top_features"][:2]}
    assert top == {"a", "b"}
    assert {(v.feature_name, v.constraint_check_type) for v in result.violations} == {
        (f"multivariate.{m}", "baseline_drift_check") for m in METHODS
    }
    report = result.drift_report()
    assert report["summary"]["multivariate_drifted"] == list(METHODS)
    written = result.save(tmp_path)
    saved = json.loads((tmp_path / "drift_report.json").read_text())
    assert [m["method"] for m in saved["multivariate"]] == list(METHODS)
    assert tmp_path / "constraint_violations.json" in written
    metrics = multivariate_metrics(result.multivariate)
    assert set(metrics) == {
        "multivariate_domain_classifier_auc",
        "multivariate_pca_reconstruction_error",
        "multivariate_pca_relative_change",
        "multivariate_mmd2",
        "multivariate_mmd_pvalue",
    }


def test_unchanged_data_is_not_multivariate_drift(monitor: DataQualityMonitor) -> None:
    baseline = monitor.baseline(_table(4000, 1))
    result = monitor.check(_table(3000, 3), baseline)
    assert [m.drift for m in result.multivariate] == [False, False, False]
    assert not result.has_violations


def test_too_few_rows_say_which_method_needs_how_many(monitor: DataQualityMonitor) -> None:
    baseline = monitor.baseline(_table(4000, 1))
    result = monitor.check(_table(20, 3, correlation=-0.8), baseline)
    reasons = {m.method: m.reason for m in result.multivariate}
    assert all(m.drift is None for m in result.multivariate)
    assert reasons == {
        "domain_classifier": (
            "the domain classifier needs at least 100 rows in the current data, found 20"
        ),
        "pca": "PCA reconstruction needs at least 50 rows in the current data, found 20",
        "mmd": "MMD needs at least 30 rows in the current data, found 20",
    }
    assert multivariate_metrics(result.multivariate) == {}


def test_unusable_columns_are_set_aside_with_a_reason(monitor: DataQualityMonitor) -> None:
    ids = np.array([f"id-{i}" for i in range(4000)])
    base = _table(4000, 1, customer=ids, flat=np.full(4000, 3.0), note=np.full(4000, "x"))
    baseline = monitor.baseline(base)
    current_ids = np.array([f"new-{i}" for i in range(600)])
    current = _table(
        600,
        2,
        customer=current_ids,
        flat=np.full(600, 3.0),
        note=pa.nulls(600, pa.string()),
    )
    result = monitor.check(current, baseline)
    skipped = result.multivariate[0].details["skipped_columns"]
    assert skipped["customer"].startswith("1500 distinct values in the baseline sample")
    assert skipped["flat"].startswith("constant in the baseline sample")
    assert skipped["note"] == "every value is missing in the current sample"
    assert all(m.drift is not None for m in result.multivariate)  # a, b, colour still count
    # Per feature, the identifier column is "not evaluated" rather than a meaningless distance.
    customer = next(f for f in result.drift if f.name == "customer")
    assert customer.drift is None
    assert customer.reason is not None
    # The distinct count is the baseline's HyperLogLog estimate of 4000.
    assert re.match(r"\d{4} distinct values in the baseline \(more than 1000\)", customer.reason)
    assert result.drift_report()["summary"]["not_evaluated"]["customer"] == customer.reason


def test_nothing_usable_is_not_evaluated() -> None:
    monitor = DataQualityMonitor(multivariate=("pca",))
    base = pa.table({"flat": np.zeros(200)})
    result = monitor.check(pa.table({"flat": np.zeros(200)}), monitor.baseline(base))
    (pca,) = result.multivariate
    assert pca.drift is None
    assert pca.reason is not None
    assert pca.reason.startswith("no column can be used: flat: constant")


def test_a_baseline_without_rows_says_how_to_get_them() -> None:
    baseline = DataQualityMonitor().baseline(_table(500, 1))
    result = DataQualityMonitor(multivariate=("mmd",)).check(_table(500, 2), baseline)
    assert result.multivariate[0].drift is None
    assert REFERENCE_FILE in str(result.multivariate[0].reason)


def test_fdr_control_across_features_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    names = [f"f{i}" for i in range(20)]
    base = pa.table({n: rng.normal(size=3000) for n in names})
    shifted = {n: rng.normal(size=2000) for n in names}
    shifted["f3"] = shifted["f3"] + 1.0
    shifted["f7"] = shifted["f7"] + 0.6
    monitor = DataQualityMonitor(fdr=0.05)
    result = monitor.check(pa.table(shifted), monitor.baseline(base))
    pvalues = np.array([f.metrics["ks_pvalue"] for f in result.drift])
    adjusted = np.array([f.metrics["pvalue_bh_adjusted"] for f in result.drift])
    np.testing.assert_allclose(adjusted, stats.false_discovery_control(pvalues), rtol=1e-12)
    assert result.drifted_features == ["f3", "f7"]
    assert all("BH-adjusted KS p-value" in f.rule for f in result.drift)
    drift_violations = [
        v for v in result.violations if v.constraint_check_type.endswith("drift_check")
    ]
    assert [v.feature_name for v in drift_violations] == ["f3", "f7"]
    assert "BH-adjusted" in drift_violations[0].description


def test_fdr_still_needs_a_shift_that_matters() -> None:
    """On a big window a 0.1-sd shift is highly significant, but its distance (about 0.04) is
    below the 0.1 threshold: no alarm."""
    rng = np.random.default_rng(5)
    monitor = DataQualityMonitor(fdr=0.05)
    baseline = monitor.baseline(pa.table({"x": rng.normal(size=100_000)}))
    result = monitor.check(pa.table({"x": rng.normal(0.1, 1.0, 100_000)}), baseline)
    (x,) = result.drift
    assert x.metrics["pvalue_bh_adjusted"] < 1e-6
    assert x.drift is False
    assert "<= threshold 0.1" in x.rule


def test_fdr_with_chi_squared_replaces_the_threshold() -> None:
    rng = np.random.default_rng(6)
    monitor = DataQualityMonitor(fdr=0.05, categorical_drift_method="ChiSquared")
    base = pa.table({"c": rng.choice(["a", "b", "c"], 3000)})
    now = pa.table({"c": rng.choice(["a", "b", "c"], 2000, p=[0.5, 0.3, 0.2])})
    (c,) = monitor.check(now, monitor.baseline(base)).drift
    assert c.drift is True
    assert c.threshold == 0.05
    assert c.statistic == c.metrics["chi_squared_pvalue"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"multivariate": ("pca", "umap")}, "'multivariate' parameter"),
        ({"multivariate_rows": 0}, "'multivariate_rows' parameter"),
        ({"fdr": 1.5}, "'fdr' parameter"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DataQualityMonitor(**options).baseline(_table(100, 1))  # type: ignore[arg-type]
