"""One Spark session for every Spark test (it takes 6-12 s to start), and the shared data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

ROWS = 24_000


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from modelmon.engines.spark_session import start_session

    session = start_session(
        "local[2]",
        {
            # Small splits: one file becomes several ordered partitions, so merging is tested.
            "spark.sql.files.maxPartitionBytes": str(256 << 10),
            "spark.driver.memory": "1g",
            # C1-only JIT: faster for short test jobs (platform.md §1); not for benchmarks.
            "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        },
    )
    yield session
    session.stop()


def mixed_table(rows: int = ROWS, seed: int = 7, shift: float = 0.0) -> pa.Table:
    """Numbers with nulls, integers, whole floats, categories, a mixed column and booleans."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(shift, 1.0, rows)
    normal[rng.random(rows) < 0.05] = np.nan
    cities = np.array(["paris", "lyon", "nice", "lille", "brest"])
    city = rng.choice(cities, rows, p=[0.4, 0.3, 0.15, 0.1, 0.05]).astype(object)
    city[rng.random(rows) < 0.02] = None
    mixed = rng.integers(0, 100, rows).astype(str).astype(object)
    mixed[[rows // 3, rows // 2]] = ["n/a", "unknown"]
    return pa.table(
        {
            "normal": pa.array(normal, from_pandas=True),
            "lognormal": rng.lognormal(0.0, 1.0 + shift, rows),
            "count": rng.poisson(3.0, rows),
            "whole": np.floor(rng.exponential(10.0, rows)),
            "city": pa.array(city, pa.string()),
            "mixed": pa.array(mixed, pa.string()),
            "flag": pa.array(rng.random(rows) < 0.3),
        }
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``train`` and ``drifted`` as Parquet (many row groups) and CSV."""
    root = tmp_path_factory.mktemp("engines")
    for name, table in (("train", mixed_table()), ("drifted", mixed_table(seed=8, shift=0.5))):
        pq.write_table(table, root / f"{name}.parquet", row_group_size=4_000)
        pacsv.write_csv(table, root / f"{name}.csv")
    return root
