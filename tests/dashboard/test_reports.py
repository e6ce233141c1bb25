"""The self-contained HTML report and the distribution comparison it and the dashboard draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmon.examples import FEATURES, generate_credit
from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.reports import (
    compare_features,
    data_quality_report,
    execution_report,
    render_html_report,
    write_html_report,
)
from modelmon.reports.distributions import compact_number


def _numeric(name: str, values: np.ndarray) -> sm.FeatureStatistics:
    """A feature whose sketch holds every value exactly (level 0 only, as for small data)."""
    stats = sm.NumericalStatistics(
        num_present=values.size,
        num_missing=0,
        mean=float(values.mean()),
        sum=float(values.sum()),
        std_dev=float(values.std()),
        min=float(values.min()),
        max=float(values.max()),
        sketch=sm.KllSketch(data=(tuple(float(v) for v in values),)),
    )
    return sm.FeatureStatistics(name, "Fractional", numerical=stats)


def _categorical(name: str, counts: dict[str, int]) -> sm.FeatureStatistics:
    buckets = tuple(sm.CategoricalBucket(v, n) for v, n in counts.items())
    stats = sm.StringStatistics(sum(counts.values()), 0, float(len(counts)), buckets)
    return sm.FeatureStatistics(name, "String", string=stats)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(finite, min_size=1, max_size=300),
    st.lists(finite, min_size=1, max_size=300),
    st.integers(2, 30),
)
def test_numeric_shares_are_numpys_histogram_over_shared_edges(
    baseline: list[float], current: list[float], bins: int
) -> None:
    a, b = np.asarray(baseline), np.asarray(current)
    found = compare_features(_numeric("x", a), _numeric("x", b), bins=bins)
    edges = np.asarray(found.edges)
    assert edges[0] <= min(a.min(), b.min())
    assert edges[-1] >= max(a.max(), b.max())
    for side, values in ((found.baseline, a), (found.current, b)):
        expected, _ = np.histogram(values, bins=edges)
        assert side == pytest.approx((expected / values.size).tolist(), abs=1e-12)
        assert sum(side) == pytest.approx(1.0)
    assert len(found.labels) == len(found.axis_labels) == len(found.baseline)


def test_categories_beyond_the_limit_are_pooled() -> None:
    baseline = {f"c{i:02d}": 100 - i for i in range(25)}
    current = {"c00": 10, "new": 90}
    found = compare_features(
        _categorical("c", baseline), _categorical("c", current), max_categories=20
    )
    assert len(found.categories) == 21
    assert found.categories[-1] == "(other 6)"
    assert "new" in found.categories  # big in the current window: shown, not pooled
    assert sum(found.baseline) == pytest.approx(1.0)
    assert sum(found.current) == pytest.approx(1.0)
    shares = dict(zip(found.categories, found.current, strict=True))
    assert shares["new"] == pytest.approx(0.9)
    assert shares["c01"] == 0.0


def test_a_feature_missing_on_one_side_has_no_shares_there() -> None:
    found = compare_features(None, _numeric("x", np.arange(10.0)))
    assert found.baseline == ()
    assert sum(found.current) == pytest.approx(1.0)
    assert found.baseline_summary == {}
    with pytest.raises(ValueError, match="at least one side"):
        compare_features(None, None)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1_234_567.0, "1.23M"), (27_600.0, "27.6k"), (0.01234, "0.0123"), (-5_000.0, "-5k")],
)
def test_compact_numbers(value: float, text: str) -> None:
    assert compact_number(value) == text


@pytest.fixture(scope="module")
def checked() -> tuple[Any, Any]:
    monitor = DataQualityMonitor()
    baseline = monitor.baseline(generate_credit(4_000, seed=1).select(list(FEATURES)))
    current = generate_credit(1_000, seed=3, drifts=("income_shift",)).select(list(FEATURES))
    return monitor.check(current, baseline), baseline


def test_report_of_a_check_names_every_feature_and_violation(checked: tuple[Any, Any]) -> None:
    result, baseline = checked
    html = render_html_report(data_quality_report(result, baseline, title="Credit check"))
    assert html.startswith("<!doctype html>")
    assert "<title>Credit check</title>" in html
    assert "default-src 'none'" in html  # opened from disk or a mail: fetches nothing
    assert "<script" not in html
    for feature in FEATURES:
        assert f'id="feature-{feature}"' in html
    (violation,) = [v for v in result.violations if v.feature_name == "income"]
    assert violation.description in html
    assert "1 violation" in html
    # Summaries only: a few hundred kilobytes at most, whatever the number of rows.
    assert len(html.encode()) < 300_000
    # Drifted features come first among the distributions.
    assert html.index('id="feature-income"') < html.index('id="feature-age"')


def test_write_is_atomic_and_equals_render(checked: tuple[Any, Any], tmp_path: Path) -> None:
    result, baseline = checked
    report = data_quality_report(result, baseline)
    path = write_html_report(tmp_path / "report.html", report)
    assert path.read_text(encoding="utf-8") == render_html_report(report)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_execution_report_reads_stored_files_and_tolerates_missing_ones(
    checked: tuple[Any, Any], tmp_path: Path
) -> None:
    result, baseline = checked
    written = result.save(tmp_path / "run")
    statistics, constraints = baseline.save(tmp_path / "baseline")
    baseline_files = {
        "statistics.json": sm.statistics_to_json(baseline.statistics),  # inline JSON
        "constraints.json": str(constraints),  # or a path
    }
    report = execution_report(
        {p.name: str(p) for p in written}, baseline_files, title="run", details=[("Model", "x")]
    )
    assert report.statistics == result.statistics
    assert report.violations == result.violations
    assert report.drift_report == result.drift_report()
    failed = execution_report({}, baseline_files, title="failed run")
    html = render_html_report(failed)
    assert "No violations" in html
    assert 'id="feature-income"' in html  # the baseline's distribution is still shown
    assert statistics.exists()


def test_constant_and_all_missing_features_still_render() -> None:
    constant = _numeric("k", np.full(50, 3.0))
    found = compare_features(constant, constant)
    assert found.baseline == (1.0,)
    empty = sm.FeatureStatistics("e", "Unknown")
    assert compare_features(empty, empty).categories == ()
    monitor = DataQualityMonitor()
    baseline = monitor.baseline(pa.table({"k": [3.0] * 50, "e": ["a"] * 50}))
    current = pa.table({"k": [3.0] * 50, "e": pa.nulls(50, pa.string())})
    html = render_html_report(data_quality_report(monitor.check(current, baseline), baseline))
    assert 'id="feature-k"' in html
    assert 'id="feature-e"' in html
