"""The local engine: threads change nothing but speed, and reader errors reach the caller."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import modelmon
from modelmon.engines.local import profile_dataset
from modelmon.examples import generate_credit
from modelmon.formats.datasets import open_dataset


def test_parallel_profile_equals_serial(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(generate_credit(30_000, seed=3), path, row_group_size=4_000)
    serial = profile_dataset(open_dataset(path, batch_rows=5_000), workers=1)
    parallel = profile_dataset(open_dataset(path, batch_rows=5_000), workers=2)
    assert serial.row_count == parallel.row_count == 30_000
    for name in serial.names:
        a, b = serial.columns[name], parallel.columns[name]
        assert (a.num_present, a.num_missing, a.types) == (b.num_present, b.num_missing, b.types)
        assert a.moments == b.moments
        assert [x.tolist() for x in a.kll.levels] == [x.tolist() for x in b.kll.levels]
        assert a.category_counts() == b.category_counts()


def test_reader_errors_reach_the_caller_and_the_reader_stops(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    rows = "\n".join(f"{i},{i * 2}" for i in range(50_000))
    path.write_text("a,b\n" + rows + "\n1,2,3\n")
    before = threading.active_count()
    with pytest.raises(modelmon.DatasetError, match=r"bad\.csv, line 50002"):
        profile_dataset(open_dataset(path, batch_rows=1_000), workers=2)
    assert threading.active_count() == before
