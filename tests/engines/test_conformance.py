"""Engine conformance: every engine profiles the same data to the same answers.

Counts, types, categories and distinct counts must be identical; moments equal within
floating-point tolerance (the partials are summed in another order); quantiles within the KLL
sketch's own rank-error bound; the SageMaker files identical apart from the sketches.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from modelmon.engines.local import profile_dataset
from modelmon.engines.spark import SparkEngine, merge_in_order, profile_frame
from modelmon.engines.spark_read import SparkInput
from modelmon.formats.datasets import DatasetSource, open_dataset
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.stats.profile import DatasetProfile

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

Engine = Callable[[Path], DatasetProfile]
PROBS = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])


def _local(path: Path) -> DatasetProfile:
    return profile_dataset(open_dataset(path), workers=2)


@pytest.fixture(scope="module")
def engines(spark: Any) -> dict[str, Engine]:
    # Two merge groups over the test's several partitions: both merge stages run.
    on_spark = SparkEngine(session=spark, merge_groups=2)
    return {"local": _local, "spark": lambda path: on_spark.profile(path)[1]}


def _exact_values(path: Path, name: str) -> np.ndarray:
    column = pq.read_table(path, columns=[name]).column(name)
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)
    return np.sort(values[~np.isnan(values)])


def _assert_same_profile(a: DatasetProfile, b: DatasetProfile) -> None:
    assert a.names == b.names
    assert a.row_count == b.row_count
    for name in a.names:
        x, y = a.columns[name], b.columns[name]
        assert (x.num_present, x.num_missing, x.types) == (y.num_present, y.num_missing, y.types)
        assert x.first_string == y.first_string
        assert x.category_counts() == y.category_counts()
        assert x.distinct_count() == y.distinct_count()
        assert (x.moments.count, x.min, x.max) == (y.moments.count, y.min, y.max), name
        for stat in ("mean", "std_dev", "sum"):
            p, q = getattr(x, stat), getattr(y, stat)
            assert (math.isnan(p) and math.isnan(q)) or p == pytest.approx(q, rel=1e-12), stat


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_engines_agree_on_every_statistic(
    engines: dict[str, Engine], data_dir: Path, fmt: str
) -> None:
    path = data_dir / f"train.{fmt}"
    local, spark = engines["local"](path), engines["spark"](path)
    assert local.row_count == 24_000
    assert local.columns["mixed"].first_string is not None  # a row number that must survive
    _assert_same_profile(local, spark)


def test_spark_quantiles_are_within_the_sketch_error(
    engines: dict[str, Engine], data_dir: Path
) -> None:
    path = data_dir / "train.parquet"
    profile = engines["spark"](path)
    checked = 0
    for name in ("normal", "lognormal", "whole"):
        sketch = profile.columns[name].kll
        exact = _exact_values(path, name)
        assert sketch.n == exact.size
        bound = sketch.normalized_rank_error()
        assert 0.0 < bound < 0.01  # the sketch has compacted: this is not an exact comparison
        for estimate, p in zip(sketch.quantile(PROBS), PROBS, strict=True):
            lo = np.searchsorted(exact, estimate, side="left") / exact.size
            hi = np.searchsorted(exact, estimate, side="right") / exact.size
            assert lo - bound <= p <= hi + bound, (name, p)
            checked += 1
    assert checked == 27


# Drift measures are computed from the KLL sketches, so they agree within the sketches' error;
# everything else in the files is counted or summed and must agree to floating-point precision.
_FROM_SKETCHES = {"metrics", "statistic", "description", "rule"}
_NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][+-]?\d+)?")


def _assert_same_json(a: Path, b: Path) -> None:
    _assert_close(json.loads(a.read_text()), json.loads(b.read_text()), a.name, loose=False)


def _assert_close(x: Any, y: Any, where: str, *, loose: bool) -> None:
    if isinstance(x, dict):
        assert isinstance(y, dict), where
        # The sketches themselves (and the buckets read from them) differ by design.
        keys = x.keys() - {"kll"}
        assert keys == y.keys() - {"kll"}, where
        for key in keys:
            _assert_close(x[key], y[key], f"{where}.{key}", loose=loose or key in _FROM_SKETCHES)
    elif isinstance(x, list):
        assert isinstance(y, list), where
        assert len(x) == len(y), where
        for i, (p, q) in enumerate(zip(x, y, strict=True)):
            _assert_close(p, q, f"{where}[{i}]", loose=loose)
    elif isinstance(x, float) and isinstance(y, float) and loose and "pvalue" in where:
        # A p-value of a near-zero distance swings with the distance's sketch error; the
        # verdicts (compared exactly) are what must agree.
        assert 0.0 <= x <= 1.0, where
        assert 0.0 <= y <= 1.0, where
    elif isinstance(x, float) and isinstance(y, float):
        tolerance = {"rel": 0.05, "abs": 0.02} if loose else {"rel": 1e-9, "abs": 1e-12}
        assert x == pytest.approx(y, **tolerance), where
    elif isinstance(x, str) and loose:
        assert _NUMBER.sub("#", x) == _NUMBER.sub("#", y), where
        for p, q in zip(_NUMBER.findall(x), _NUMBER.findall(y), strict=True):
            assert float(p) == pytest.approx(float(q), rel=0.05, abs=0.02), where
    else:
        assert x == y, where


def test_both_engines_write_the_same_sagemaker_files(
    spark: Any, data_dir: Path, tmp_path: Path
) -> None:
    outputs: dict[str, Path] = {}
    for name, engine in (("local", "local"), ("spark", SparkEngine(session=spark))):
        monitor = DataQualityMonitor(engine=engine, allow_mixed_types=True)
        baseline = monitor.baseline(data_dir / "train.parquet")
        baseline.save(tmp_path / name / "baseline")
        result = monitor.check(data_dir / "drifted.parquet", baseline)
        result.save(tmp_path / name / "check")
        outputs[name] = tmp_path / name
        assert result.has_violations  # the drifted columns are found
    files = ["baseline/statistics.json", "baseline/constraints.json"]
    files += ["check/statistics.json", "check/constraint_violations.json"]
    files += ["check/drift_report.json"]
    for file in files:
        _assert_same_json(outputs["local"] / file, outputs["spark"] / file)


def test_a_spark_dataframe_is_profiled_on_spark(spark: Any, data_dir: Path) -> None:
    frame = spark.read.parquet(str(data_dir / "train.parquet")).repartition(3)
    baseline = DataQualityMonitor(allow_mixed_types=True).baseline(frame)
    assert baseline.statistics.item_count == 24_000
    local = DataQualityMonitor(allow_mixed_types=True).baseline(data_dir / "train.parquet")
    assert [f.name for f in baseline.constraints.features] == [
        f.name for f in local.constraints.features
    ]
    # Shuffled rows: same counts and types, whatever the order.
    assert baseline.constraints == local.constraints


def test_partials_merge_in_row_order() -> None:
    first = DatasetProfile.empty(["x"])
    second = DatasetProfile.empty(["x"])
    import pyarrow as pa

    first.update(pa.record_batch({"x": pa.array(["1", "2"])}))
    second.update(pa.record_batch({"x": pa.array(["3", "text"])}))
    from modelmon.engines.spark import _partial

    blobs = [_partial(i, p).column("profile")[0].as_py() for i, p in enumerate((first, second))]
    merged = merge_in_order(["x"], blobs)
    example = merged.columns["x"].first_string
    assert example is not None
    assert (example.value, example.row) == ("text", 3)
    assert merged.row_count == 4


def test_an_empty_frame_profiles_to_no_rows(spark: Any) -> None:
    frame = spark.range(0).selectExpr("id", "cast(id as string) as s")
    profile = profile_frame(SparkInput(frame, DatasetSource("empty", "spark", True)))
    assert profile.row_count == 0
    assert profile.names == ["id", "s"]
