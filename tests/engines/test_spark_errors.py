"""The spark engine on bad input: a clear message and exit status 2, never a JVM stack trace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.cli.main import main
from modelmon.engines.spark import SparkEngine
from modelmon.engines.spark_session import check_master, require_pyspark
from modelmon.errors import ConfigError, DatasetError
from modelmon.monitors.data_quality import DataQualityMonitor

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["data-quality", *args])
    return code, capsys.readouterr().err


# -- no Spark needed ---------------------------------------------------------------------------


def test_missing_pyspark_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # makes `import pyspark` fail
    with pytest.raises(ConfigError, match=r"pip install 'modelmon\[spark\]'"):
        require_pyspark()
    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), data)
    code, err = _cli(capsys, "baseline", "--dataset", str(data), "--output", str(tmp_path / "o"),
                     "--engine", "spark", "--spark-master", "local[1]")  # fmt: skip
    assert code == 2
    assert "pip install 'modelmon[spark]'" in err
    assert not (tmp_path / "o").exists()


def test_an_unreachable_master_is_refused_quickly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(
        ConfigError, match=r"Cannot reach the Spark master 'spark://127\.0\.0\.1:1'"
    ):
        check_master("spark://127.0.0.1:1")
    with pytest.raises(ConfigError, match=r"not a master URL"):
        check_master("localhost:7077")
    with pytest.raises(ConfigError, match=r"not a valid spark://HOST:PORT"):
        check_master("spark://host:port")
    code, err = _cli(capsys, "baseline", "--dataset", str(tmp_path), "--output", str(tmp_path),
                     "--engine", "spark", "--spark-master", "spark://127.0.0.1:1")  # fmt: skip
    assert code == 2
    assert "Cannot reach the Spark master" in err


def test_spark_master_needs_the_spark_engine(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="2"):
        main(["data-quality", "baseline", "--dataset", str(tmp_path), "--output", str(tmp_path),
              "--spark-master", "local[2]"])  # fmt: skip


def test_an_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'engine' parameter of DataQualityMonitor"):
        DataQualityMonitor(engine="dask").baseline(pa.table({"x": [1.0]}))


def test_the_local_engine_never_imports_pyspark(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,x\n2,y\n")
    code = (
        "import sys\n"
        "from modelmon.cli.main import main\n"
        f"code = main(['data-quality', 'baseline', '--dataset', {str(data)!r}, "
        f"'--output', {str(tmp_path / 'out')!r}])\n"
        "print(code, any(m.split('.')[0] in ('pyspark', 'py4j') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["0", "False"]


# -- with the session ----------------------------------------------------------------------------


@pytest.fixture
def engine(spark: Any) -> SparkEngine:
    return SparkEngine(session=spark)


def test_cli_runs_baseline_and_check_on_spark(
    spark: Any, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spark_opts = ["--engine", "spark", "--spark-master", "local[2]"]
    base, chk = str(tmp_path / "base"), str(tmp_path / "chk")
    train, drifted = str(data_dir / "train.csv"), str(data_dir / "drifted.csv")
    options = ["--dataset", train, "--output", base, "--allow-mixed-types", *spark_opts]
    assert _cli(capsys, "baseline", *options) == (0, "")
    options = ["--dataset", drifted, "--baseline", base, "--output", chk, *spark_opts]
    code, _ = _cli(capsys, "check", *options)
    assert code == 1  # the drifted columns are violations
    violations = json.loads((tmp_path / "chk" / "constraint_violations.json").read_text())
    assert {v["feature_name"] for v in violations["violations"]} >= {"normal"}
    assert spark.sparkContext.master == "local[2]"  # the CLI used, and left, the running session
    spark.range(1).count()


def test_another_master_than_the_running_one_is_refused(spark: Any) -> None:
    with pytest.raises(ConfigError, match=r"already running in this process"):
        SparkEngine(master="local[1]").spark()


def test_a_missing_path_names_it(engine: SparkEngine, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nothing\.parquet"):
        engine.profile(tmp_path / "nothing.parquet")


def test_a_path_spark_cannot_read_is_a_dataset_error(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _cli(capsys, "baseline", "--dataset", "nosuchfs://bucket/data.parquet",
                     "--output", str(tmp_path / "o"), "--engine", "spark")  # fmt: skip
    assert code == 2
    assert "nosuchfs://bucket/data.parquet" in err
    assert "Spark cannot read the data" in err
    assert "\tat " not in err  # no JVM stack trace


def test_parquet_files_whose_types_clash_are_refused(engine: SparkEngine, tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"a": pa.array([1, 2], pa.int64()), "b": ["x", "y"]}), tmp_path / "1.parquet"
    )
    pq.write_table(pa.table({"a": [1.5, 2.5], "b": ["z", "w"]}), tmp_path / "2.parquet")
    with pytest.raises(DatasetError, match=r"(?s)Spark cannot read.*merging schemas.*BIGINT"):
        engine.profile(tmp_path)


def test_parquet_files_missing_a_column_are_merged(engine: SparkEngine, tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1.0, 2.0]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [3.0], "b": ["z"]}), tmp_path / "2.parquet")
    profile = engine.profile(tmp_path)[1]
    assert profile.row_count == 3
    assert (profile.columns["b"].num_present, profile.columns["b"].num_missing) == (1, 2)


def test_csv_files_with_different_headers_are_refused(engine: SparkEngine, tmp_path: Path) -> None:
    (tmp_path / "1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "2.csv").write_text("a,c\n3,4\n")
    with pytest.raises(DatasetError, match=r"(?s)2\.csv.*header"):
        engine.profile(tmp_path)


def test_a_csv_row_of_the_wrong_width_is_refused(engine: SparkEngine, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DatasetError, match=r"(?s)bad\.csv.*Malformed"):
        engine.profile(tmp_path / "bad.csv")


def test_a_headerless_csv_gets_positional_names(engine: SparkEngine, tmp_path: Path) -> None:
    (tmp_path / "plain.csv").write_text("1,x\n2,y\n3,x\n")
    dataset, profile = engine.profile(tmp_path / "plain.csv")
    assert profile.names == ["_c0", "_c1"]
    assert not dataset.source.has_header
    assert profile.columns["_c0"].inferred_type == "Integral"


def test_formats_spark_does_not_read_are_refused(engine: SparkEngine, tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(ConfigError, match=r"reads Parquet and CSV"):
        engine.profile(tmp_path / "d.jsonl")
    with pytest.raises(ConfigError, match=r"path or a Spark DataFrame"):
        engine.profile(pa.table({"a": [1]}))


def test_a_frame_with_two_columns_of_one_name_is_refused(engine: SparkEngine, spark: Any) -> None:
    frame = spark.range(3).selectExpr("id as a", "id as a")
    with pytest.raises(DatasetError, match=r"two columns have the same name"):
        engine.profile(frame)


def test_multivariate_drift_asks_for_the_local_engine(engine: SparkEngine, data_dir: Path) -> None:
    monitor = DataQualityMonitor(engine=engine, multivariate=["pca"], allow_mixed_types=True)
    with pytest.raises(ConfigError, match=r"local engine"):
        monitor.baseline(data_dir / "train.parquet")
