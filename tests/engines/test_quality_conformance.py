"""Model-quality engine conformance: the spark engine measures what the local engine measures.

Counts and confusion matrices must be identical, regression metrics equal within 1e-9 (the sums
are added in another order), the AUC within the binning bound the spark engine states, and a
clearly degraded window must give the same violations. Standard deviations come from other
random draws on each engine, so only their presence is compared.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmon.cli import main as cli_main
from modelmon.cli import model_quality as cli_model_quality
from modelmon.engines.spark import SparkEngine
from modelmon.errors import ConfigError, DatasetError
from modelmon.formats.sagemaker_model_quality import ModelQualityStatistics
from modelmon.monitors.model_quality import ModelQualityMonitor
from modelmon.monitors.model_quality.data import QualityData
from modelmon.monitors.model_quality.spark import DRAWS, QualityPartial, draw_masks
from modelmon.stats.classification import (
    auc_binning_error,
    auc_from,
    histogram_cumulative,
    score_histogram,
)
from modelmon.stats.regression import regression_from_sums

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

ROWS = 6_000


def _binary(rng: np.random.Generator, degraded: bool) -> pa.Table:
    score = rng.beta(2.0, 3.0, ROWS)
    truth = rng.random(ROWS) if degraded else score
    label = pa.array((rng.random(ROWS) < truth).astype(np.int64), mask=rng.random(ROWS) < 0.05)
    return pa.table({"score": score, "prediction": (score >= 0.5).astype(np.int64), "label": label})


def _multiclass(rng: np.random.Generator, degraded: bool) -> pa.Table:
    label = rng.choice(4, ROWS, p=[0.4, 0.3, 0.2, 0.1])
    right = rng.random(ROWS) < (0.3 if degraded else 0.8)
    prediction = np.where(right, label, rng.integers(0, 4, ROWS))
    return pa.table({"prediction": prediction, "label": label})


def _regression(rng: np.random.Generator, degraded: bool) -> pa.Table:
    # A large mean: R2's sum of squares must not lose digits to cancellation.
    label = rng.normal(1e4, 10.0, ROWS)
    prediction = label + rng.normal(0.0, 8.0 if degraded else 2.0, ROWS)
    missing = rng.random(ROWS) < 0.05
    return pa.table({"prediction": prediction, "label": pa.array(label, mask=missing)})


MAKERS: dict[str, Callable[[np.random.Generator, bool], pa.Table]] = {
    "BinaryClassification": _binary,
    "MulticlassClassification": _multiclass,
    "Regression": _regression,
}
ATTRIBUTES: dict[str, dict[str, str]] = {
    "BinaryClassification": {"inference_attribute": "prediction", "probability_attribute": "score"},
    "MulticlassClassification": {"inference_attribute": "prediction"},
    "Regression": {"inference_attribute": "prediction"},
}


@pytest.fixture(scope="module")
def small_splits(spark: Any) -> Iterator[Any]:
    """Parquet splits of 4 KiB: each test file becomes several ordered partitions."""
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    spark.conf.set(key, str(4 << 10))
    yield spark
    spark.conf.set(key, before)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Path]:
    root = tmp_path_factory.mktemp("quality")
    out = {}
    for seed, (problem, make) in enumerate(MAKERS.items()):
        for degraded in (False, True):
            path = root / f"{problem}-{'degraded' if degraded else 'good'}.parquet"
            table = make(np.random.default_rng([seed, degraded]), degraded)
            pq.write_table(table, path, row_group_size=500)
            out[problem, degraded] = path
    return out


# -- the partials themselves, without Spark -------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(2, 400),
    levels=st.sampled_from([7, 100, 10_000, 0]),
    bins=st.sampled_from([10, 1_000, 10_000]),
    seed=st.integers(0, 2**32 - 1),
)
def test_binned_auc_is_within_its_stated_bound(
    rows: int, levels: int, bins: int, seed: int
) -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    if levels:  # many ties, as real models' rounded scores have
        score = np.round(score * levels) / levels
    actual = rng.random(rows) < score
    if actual.all() or not actual.any():
        return
    histogram = score_histogram(actual, score, bins)
    binned = auc_from(histogram_cumulative(histogram))
    exact = float(roc_auc_score(actual, score))
    assert abs(binned - exact) <= auc_binning_error(histogram) + 1e-12


def test_merged_regression_partials_are_exact() -> None:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    rng = np.random.default_rng(5)
    actual = rng.normal(1e6, 3.0, 5_000)
    predicted = actual + rng.normal(0.0, 1.0, 5_000)
    total = QualityPartial()
    for piece in np.array_split(np.arange(5_000), 7):  # uneven pieces, merged pairwise
        part = QualityPartial()
        data = QualityData(
            "Regression", None, piece.size, np.ones(piece.size, bool),  # type: ignore[arg-type]
            actual[piece], predicted[piece], None, (), {},
        )  # fmt: skip
        part.add(data, np.ones((DRAWS, piece.size), bool))
        total = total.merge(part)
    assert total.moments is not None
    n, _, squares, absolute, squared = total.moments[0]
    metrics = regression_from_sums(n, absolute, squared, squares)
    assert metrics["mse"] == pytest.approx(mean_squared_error(actual, predicted), rel=1e-12)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(actual, predicted), rel=1e-12)
    assert metrics["r2"] == pytest.approx(r2_score(actual, predicted), rel=1e-9)


def test_draws_are_deterministic_shares_of_the_rows() -> None:
    masks = draw_masks(0, 3, 1_000, 50_000)
    assert np.array_equal(masks, draw_masks(0, 3, 1_000, 50_000))
    assert not np.array_equal(masks, draw_masks(1, 3, 1_000, 50_000))
    # A piece read at another offset is the same rows' answer.
    assert np.array_equal(masks[:, 10:20], draw_masks(0, 3, 1_010, 10))
    shares = masks.mean(axis=1)
    assert shares[0] == 1.0
    np.testing.assert_allclose(shares[1:21], 0.5, atol=0.01)
    np.testing.assert_allclose(shares[21:], 0.8, atol=0.01)
    # Draws are independent of each other: two half draws share a quarter of the rows.
    assert (masks[1] & masks[2]).mean() == pytest.approx(0.25, abs=0.01)


# -- both engines ---------------------------------------------------------------------------


def _monitors(problem: str, spark: Any) -> tuple[ModelQualityMonitor, ModelQualityMonitor]:
    attributes = ATTRIBUTES[problem]
    on_spark = SparkEngine(session=spark)
    return (
        ModelQualityMonitor(problem, **attributes),  # type: ignore[arg-type]
        ModelQualityMonitor(problem, engine=on_spark, **attributes),  # type: ignore[arg-type]
    )


def _same_statistics(
    local: ModelQualityStatistics, spark: ModelQualityStatistics, auc_bound: float = 0.0
) -> None:
    assert local.item_count == spark.item_count
    assert list(local.metrics) == list(spark.metrics)
    assert local.confusion_matrix == spark.confusion_matrix
    for name, metric in local.metrics.items():
        other = spark.metrics[name]
        tolerance = auc_bound + 1e-12 if name == "auc" else 0.0
        assert other.value == pytest.approx(metric.value, rel=1e-9, abs=tolerance), name
        # Both engines give a standard deviation from their own 5 draws at this size: each is
        # within a factor of about 5 of the truth, so they agree within a factor of 25.
        ours, theirs = metric.standard_deviation, other.standard_deviation
        assert math.isfinite(ours), name
        assert math.isfinite(theirs), name
        assert (ours == 0.0) == (theirs == 0.0), name
        assert ours == 0.0 or 1 / 25 < theirs / ours < 25, name


@pytest.mark.parametrize("problem", list(MAKERS))
def test_spark_measures_what_local_measures(
    small_splits: Any, files: dict[tuple[str, bool], Path], problem: str
) -> None:
    path = files[problem, False]
    assert small_splits.read.parquet(str(path)).rdd.getNumPartitions() >= 3
    local, spark = (m.baseline(path) for m in _monitors(problem, small_splits))
    bound = 0.0
    if problem == "BinaryClassification":
        table = pq.read_table(path).filter(pa.compute.is_valid(pa.compute.field("label")))
        actual = table["label"].to_numpy() == 1
        bound = auc_binning_error(score_histogram(actual, table["score"].to_numpy(), 10_000))
        assert bound < 1e-3
        assert spark.statistics.roc_curve is not None
        assert local.statistics.metrics["auc"].value != spark.statistics.metrics["auc"].value
    _same_statistics(local.statistics, spark.statistics, bound)
    assert local.constraints.constraints.keys() == spark.constraints.constraints.keys()


@pytest.mark.parametrize("problem", ["BinaryClassification", "Regression"])
def test_both_engines_find_the_same_violations(
    small_splits: Any, files: dict[tuple[str, bool], Path], problem: str
) -> None:
    local, spark = _monitors(problem, small_splits)
    baseline = local.baseline(files[problem, False])
    found = [m.check(files[problem, True], baseline) for m in (local, spark)]
    named = [[(v.metric_name, v.constraint_check_type) for v in r.violations] for r in found]
    assert named[0], "the degraded window must violate"
    assert named[0] == named[1]
    assert found[0].item_count == found[1].item_count == ROWS
    assert found[0].labelled_count == found[1].labelled_count


def test_a_bad_row_is_named_as_the_local_engine_names_it(small_splits: Any, tmp_path: Path) -> None:
    table = _binary(np.random.default_rng(3), False)
    score = table["score"].to_numpy().copy()
    score[4_321] = 1.5
    path = tmp_path / "bad.parquet"
    pq.write_table(table.set_column(0, "score", pa.array(score)), path, row_group_size=500)
    messages = []
    for monitor in _monitors("BinaryClassification", small_splits):
        with pytest.raises(DatasetError, match="row 4322") as error:
            monitor.baseline(path)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_segments_and_estimates_are_refused_on_spark(
    small_splits: Any, files: dict[tuple[str, bool], Path]
) -> None:
    path = files["BinaryClassification", False]
    monitor = ModelQualityMonitor(
        "BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="score",
        engine=SparkEngine(session=small_splits),
    )
    baseline = monitor.baseline(path)
    with pytest.raises(ConfigError, match=r"Estimated performance .* local engine"):
        monitor.estimate(path, baseline)
    monitor.segments = ["prediction"]
    with pytest.raises(ConfigError, match=r"Segments \(--segment\)"):
        monitor.baseline(path)
    monitor.engine = "gpu"
    with pytest.raises(ConfigError, match="'engine' parameter"):
        monitor.baseline(path)


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``modelmon`` as main() runs it, with model-quality registered if the lead has not yet."""
    import argparse

    original = cli_main.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        for action in parser._actions:
            subcommands = isinstance(action, argparse._SubParsersAction)
            if subcommands and "model-quality" not in (action.choices or {}):
                cli_model_quality.register(action)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", build)

    def run(*args: object) -> tuple[int, str, str]:
        code = cli_main.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_on_spark_writes_the_local_files(
    small_splits: Any,
    files: dict[tuple[str, bool], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = _cli(monkeypatch, capsys)
    common = ["--inference-attribute", "prediction", "--engine", "spark"]
    code, out, err = run(
        "model-quality", "baseline", "--problem-type", "Regression",
        "--dataset", files["Regression", False], "--output", tmp_path / "base", *common,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "base").iterdir()) == [
        "constraints.json",
        "statistics.json",
    ]
    code, out, err = run(
        "model-quality", "check", "--dataset", files["Regression", True],
        "--baseline", tmp_path / "base", "--output", tmp_path / "report", *common,
    )  # fmt: skip
    assert code == 1, err
    assert "CompletedWithViolations" in out
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    assert {v["metric_name"] for v in violations["violations"]} >= {"mse", "rmse"}
    assert small_splits.sparkContext._jsc is not None  # the shared session is left running


def test_cli_on_spark_refuses_a_missing_label_column(
    small_splits: Any,
    files: dict[tuple[str, bool], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = _cli(monkeypatch, capsys)
    code, _, err = run(
        "model-quality", "baseline", "--problem-type", "Regression",
        "--dataset", files["Regression", False], "--output", tmp_path / "out",
        "--inference-attribute", "prediction", "--ground-truth-attribute", "truth",
        "--engine", "spark",
    )  # fmt: skip
    assert code == 2
    assert "'truth'" in err
    assert "ground-truth column is missing" in err
    assert not (tmp_path / "out").exists()
