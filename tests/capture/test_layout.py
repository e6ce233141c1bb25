"""Partition paths, their pruning by time, safe names and atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.capture.layout import check_name, file_name, hour_partitions, write_atomically
from modelmon.errors import ConfigError


def test_hour_partitions_walks_only_what_overlaps_the_window(tmp_path: Path) -> None:
    for hour in (
        "2023/12/31/23",
        "2024/01/01/00",
        "2024/01/01/05",
        "2024/02/29/10",
        "2024/13/01/00",
    ):
        (tmp_path / hour).mkdir(parents=True)
    (tmp_path / "notes").mkdir()
    start = datetime(2024, 1, 1, 0, 30, tzinfo=UTC)
    end = datetime(2024, 2, 29, 10, tzinfo=UTC)
    found = [hour for hour, _ in hour_partitions(tmp_path, start, end)]
    assert found == [datetime(2024, 1, 1, 0, tzinfo=UTC), datetime(2024, 1, 1, 5, tzinfo=UTC)]
    everything = [str(path.relative_to(tmp_path)) for _, path in hour_partitions(tmp_path)]
    assert everything == ["2023/12/31/23", "2024/01/01/00", "2024/01/01/05", "2024/02/29/10"]


@pytest.mark.parametrize("name", ["", "..", "../x", "a/b", ".hidden", "x" * 129, "naïve", 3])
def test_unsafe_names_are_refused(name: object) -> None:
    with pytest.raises(ConfigError, match=r"'model' parameter of Capture must be 1 to 128"):
        check_name(name, "model", "Capture")


def test_names_are_unique_and_sort_by_time() -> None:
    early = datetime(2024, 5, 1, 13, 0, 0, 5, tzinfo=UTC)
    late = datetime(2024, 5, 1, 13, 0, 1, tzinfo=UTC)
    names = [file_name(early) for _ in range(100)]
    assert len(set(names)) == 100
    assert max(names) < file_name(late)


def test_an_atomic_write_leaves_the_whole_file_or_nothing(tmp_path: Path) -> None:
    table = pa.table({"x": [1, 2]})
    path = write_atomically(tmp_path / "a" / "b", "f.parquet", table, {"k": "v"})
    assert pq.read_table(path)["x"].to_pylist() == [1, 2]
    assert pq.read_metadata(path).metadata[b"k"] == b"v"
    assert [p.name for p in path.parent.iterdir()] == ["f.parquet"]

    class Broken:
        num_rows = 1
        schema = table.schema

    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever pyarrow raises for a non-table
        write_atomically(tmp_path / "a" / "b", "g.parquet", Broken())  # type: ignore[arg-type]
    assert [p.name for p in path.parent.iterdir()] == ["f.parquet"]
