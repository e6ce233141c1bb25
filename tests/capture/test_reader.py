"""read_captures: windows, typing across files, labels joined, and the features the monitor sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from modelmon.capture import (
    CaptureWriter,
    InferenceEvent,
    capture_features,
    import_labels,
    read_captures,
)
from modelmon.errors import NotFoundError
from modelmon.monitors.data_quality import DataQualityMonitor

EventFactory = Callable[..., InferenceEvent]
T0 = datetime(2024, 5, 1, 13, 5, tzinfo=UTC)


def write(data_dir: Path, events: list[InferenceEvent], flushes: int = 1) -> None:
    """Write ``events`` in ``flushes`` flushes (so in as many files per partition)."""
    with CaptureWriter(data_dir, flush_interval=3600.0) as writer:
        size = -(-len(events) // flushes)
        for start in range(0, len(events), size):
            for item in events[start : start + size]:
                writer.submit(item)
            writer.flush()


def test_the_window_is_half_open_and_spans_partitions(
    tmp_path: Path, make_event: EventFactory
) -> None:
    times = [T0 + timedelta(minutes=30 * k) for k in range(6)]  # 13:05 .. 15:35
    write(tmp_path, [make_event(f"id-{k}", time=t) for k, t in enumerate(times)])
    table = read_captures(tmp_path, "churn", start=times[1], end=times[4])
    assert table["inference_id"].to_pylist() == ["id-1", "id-2", "id-3"]
    assert read_captures(tmp_path, "churn", start=times[5] + timedelta(hours=5)).num_rows == 0
    assert read_captures(tmp_path, "churn").num_rows == 6


def test_text_columns_are_typed_over_the_whole_window(
    tmp_path: Path, make_event: EventFactory
) -> None:
    bodies = [b'{"n": 1, "zip": "02134"}', b'{"n": 2.5, "zip": "abc"}', b'{"n": 3, "zip": "07"}']
    write(tmp_path, [make_event(f"id-{k}", request=b) for k, b in enumerate(bodies)], flushes=3)
    table = read_captures(tmp_path, "churn")
    assert table.schema.field("input.n").type == pa.float64()
    assert table["input.n"].to_pylist() == [1.0, 2.5, 3.0]
    # One window's text decides the type, so "02134" keeps its leading zero.
    assert table["input.zip"].to_pylist() == ["02134", "abc", "07"]
    assert (
        read_captures(tmp_path, "churn", end=T0 + timedelta(seconds=1)).schema.field("input.n").type
        == pa.float64()
    )


def test_versions_are_read_together_or_one_at_a_time(
    tmp_path: Path, make_event: EventFactory
) -> None:
    write(tmp_path, [make_event("a", version="v1"), make_event("b", version="v2")])
    assert read_captures(tmp_path, "churn")["version"].to_pylist() == ["v1", "v2"]
    assert read_captures(tmp_path, "churn", version="v2")["inference_id"].to_pylist() == ["b"]
    with pytest.raises(NotFoundError, match=r"version 'v9'.*versions with captures: v1, v2"):
        read_captures(tmp_path, "churn", version="v9")
    with pytest.raises(NotFoundError, match=r"model 'fraud'.*models with captures: churn"):
        read_captures(tmp_path, "fraud")


def test_the_latest_label_is_joined_and_as_of_limits_it(
    tmp_path: Path, make_event: EventFactory
) -> None:
    write(tmp_path, [make_event("a"), make_event("b"), make_event("c")])
    first = tmp_path / "first.csv"
    first.write_text("inference_id,label\na,1\nb,0\n")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text("inference_id,label\nb,1\n")
    day1, day2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    import_labels(tmp_path, "churn", first, arrival_time=day1)
    import_labels(tmp_path, "churn", fixed, arrival_time=day2)
    table = read_captures(tmp_path, "churn")
    assert table["label"].to_pylist() == [1, 1, None]
    assert table.schema.field("label").type == pa.int64()
    assert table["label_time"].to_pylist() == [day1, day2, None]
    earlier = read_captures(tmp_path, "churn", labels_as_of=day1 + timedelta(hours=1))
    assert earlier["label"].to_pylist() == [1, 0, None]
    assert "label" not in read_captures(tmp_path, "churn", with_labels=False).column_names


def test_capture_features_is_what_the_data_quality_monitor_profiles(
    tmp_path: Path, make_event: EventFactory
) -> None:
    events = [
        make_event(
            f"id-{k}", request=f"{k},{k * 2},x".encode(), response=b"0.5", content_type="text/csv"
        )
        for k in range(30)
    ]
    write(tmp_path, events)
    features = capture_features(read_captures(tmp_path, "churn"))
    # SageMaker's capture layout: the output first, then the inputs, by position.
    assert features.column_names == ["_c0", "_c1", "_c2", "_c3"]
    monitor = DataQualityMonitor()
    baseline = monitor.baseline(features)
    result = monitor.check(features, baseline)
    assert not result.violations


def test_capture_features_keeps_prefixes_when_names_would_clash(
    tmp_path: Path, make_event: EventFactory
) -> None:
    write(tmp_path, [make_event(request=b'{"x": 1}', response=b'{"x": 2}')])
    features = capture_features(read_captures(tmp_path, "churn"))
    assert features.column_names == ["output.x", "input.x"]


def test_to_pandas(tmp_path: Path, make_event: EventFactory) -> None:
    write(tmp_path, [make_event()])
    frame: Any = read_captures(tmp_path, "churn").to_pandas()
    assert frame.loc[0, "input.age"] == 41
