"""CaptureWriter: what submit, flush and close put on disk, and what the counters say."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.capture import CaptureWriter, InferenceEvent, new_inference_id
from modelmon.capture.reader import dropped_counts
from modelmon.errors import ConfigError

EventFactory = Callable[..., InferenceEvent]
Stored = Callable[..., pa.Table]
# A writer whose thread only writes when asked (flush, close or max_batch), so tests control it.
QUIET: dict[str, Any] = {"flush_interval": 3600.0}


def test_submitted_events_are_on_disk_after_flush(
    tmp_path: Path, make_event: EventFactory, clock: Any
) -> None:
    with CaptureWriter(tmp_path, clock=clock, **QUIET) as writer:
        assert all(writer.submit(make_event(f"id-{i}")) for i in range(3))
        writer.flush()
        stats = writer.stats
    assert (stats.submitted, stats.written, stats.dropped, stats.files_written) == (3, 3, 0, 1)
    assert stats.last_flush_time == clock.now
    [file] = (tmp_path / "captures/churn/v3/2024/05/01/13").glob("*.parquet")
    assert file.name.startswith("20240501T130500.000000Z-")
    table = pq.read_table(file)
    assert table.column("inference_id").to_pylist() == ["id-0", "id-1", "id-2"]
    assert table.column("input.age").to_pylist() == ["41"] * 3
    assert table.column("input.plan").to_pylist() == ["pro"] * 3
    assert table.column("output.score").to_pylist() == ["0.9"] * 3
    assert table.column("status").to_pylist() == [200] * 3
    assert table.column("request_data").to_pylist() == ['{"age": 41, "plan": "pro"}'] * 3
    assert table.column("request_encoding").to_pylist() == ["JSON"] * 3
    assert table.schema.metadata[b"modelmon.capture.schema"] == b"1"


def test_events_go_to_the_utc_hour_of_their_inference_time(
    tmp_path: Path, make_event: EventFactory
) -> None:
    paris = timezone(timedelta(hours=2))
    times = [
        datetime(2024, 5, 1, 15, 59, tzinfo=paris),  # 13:59 UTC
        datetime(2024, 5, 1, 14, 0),  # naive: UTC, never local time
        datetime(2024, 12, 31, 23, 30, tzinfo=paris),  # 21:30 UTC
    ]
    with CaptureWriter(tmp_path, **QUIET) as writer:
        for i, moment in enumerate(times):
            writer.submit(make_event(f"id-{i}", time=moment))
    hours = sorted(str(p.parent.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet"))
    assert hours == [
        "captures/churn/v3/2024/05/01/13",
        "captures/churn/v3/2024/05/01/14",
        "captures/churn/v3/2024/12/31/21",
    ]


def test_a_full_queue_drops_counts_and_never_blocks(
    tmp_path: Path, make_event: EventFactory
) -> None:
    writer = CaptureWriter(tmp_path, queue_size=5, max_batch=100, **QUIET)
    accepted = [writer.submit(make_event(f"id-{i}")) for i in range(8)]
    assert accepted == [True] * 5 + [False] * 3
    assert writer.stats.dropped == 3
    writer.close()
    stats = writer.stats
    assert (stats.submitted, stats.written, stats.dropped) == (8, 5, 3)
    # The drops are kept with the files, so they outlive the process.
    hour = datetime(2024, 5, 1, 13, tzinfo=UTC)
    assert dropped_counts(tmp_path, "churn") == {("v3", hour): 3}


def test_drops_of_a_partition_without_rows_get_an_empty_file(
    tmp_path: Path, make_event: EventFactory
) -> None:
    writer = CaptureWriter(tmp_path, queue_size=1, **QUIET)
    writer.submit(make_event("kept"))
    assert not writer.submit(make_event("lost", version="v4"))
    writer.close()
    [file] = (tmp_path / "captures/churn/v4").rglob("*.parquet")
    assert pq.read_table(file).num_rows == 0
    assert pq.read_metadata(file).metadata[b"modelmon.capture.dropped"] == b"1"


def test_reaching_max_batch_writes_without_waiting_for_the_interval(
    tmp_path: Path, make_event: EventFactory
) -> None:
    with CaptureWriter(tmp_path, max_batch=4, **QUIET) as writer:
        for i in range(4):
            writer.submit(make_event(f"id-{i}"))
        # flush() would wake the thread itself: wait for the size trigger alone instead.
        done = threading.Event()

        def written() -> None:
            while writer.stats.written < 4:
                threading.Event().wait(0.005)
            done.set()

        threading.Thread(target=written, daemon=True).start()
        assert done.wait(5.0)


def test_closed_writer_drops_and_close_is_idempotent(
    tmp_path: Path, make_event: EventFactory
) -> None:
    writer = CaptureWriter(tmp_path, **QUIET)
    writer.close()
    writer.close()
    assert not writer.submit(make_event())
    assert writer.stats.dropped == 1
    writer.flush()  # nothing to wait for


def test_bodies_that_are_not_json_or_csv_are_kept_raw_and_counted(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    with CaptureWriter(tmp_path, **QUIET) as writer:
        writer.submit(make_event("bad-json", request=b'{"age": 4', response=b"\xff\xfe"))
        writer.submit(
            make_event(
                "image",
                request=b"\x89PNG",
                response=b'{"label": "cat"}',
                content_type="image/png",
                response_type="application/json",
            )
        )
        writer.submit(make_event("nested", request=b"[[[1]]]"))
        writer.flush()
        assert writer.stats.undecodable_bodies == 3  # bad JSON, bad UTF-8, JSON of no row shape
    table = stored(tmp_path).sort_by("inference_id")
    rows = {row["inference_id"]: row for row in table.to_pylist()}
    assert rows["bad-json"]["request_encoding"] == "BASE64"
    assert base64.b64decode(rows["bad-json"]["request_data"]) == b'{"age": 4'
    assert base64.b64decode(rows["bad-json"]["response_data"]) == b"\xff\xfe"
    assert "input.age" not in table.column_names
    # A content type that is not tabular is kept base64, as SageMaker does, and is not a problem.
    assert rows["image"]["request_encoding"] == "BASE64"
    assert rows["image"]["output.label"] == "cat"
    assert rows["nested"]["request_encoding"] == "JSON"
    assert rows["nested"]["request_data"] == "[[[1]]]"


def test_csv_bodies_of_several_instances_become_several_rows(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    with CaptureWriter(tmp_path, **QUIET) as writer:
        writer.submit(
            make_event(
                "batch",
                request=b"1,a\n2,b\n3,c\n",
                response=b"0.1,0.2,0.3",
                content_type="text/csv; charset=utf-8",
            )
        )
    table = stored(tmp_path)
    assert table.column("row_index").to_pylist() == [0, 1, 2]
    assert table.column("input._c0").to_pylist() == ["1", "2", "3"]
    assert table.column("input._c1").to_pylist() == ["a", "b", "c"]
    # n predictions on one line answer n instances, one each (as capture_jsonl lays them out).
    assert table.column("output._c0").to_pylist() == ["0.1", "0.2", "0.3"]
    # The bodies are kept once, on the first row.
    assert table.column("request_data").to_pylist() == ["1,a\n2,b\n3,c\n", None, None]


def test_json_bodies_follow_the_capture_layout_rules(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    with CaptureWriter(tmp_path, **QUIET) as writer:
        writer.submit(
            make_event(
                "instances",
                request=b'{"instances": [{"x": 1}, {"x": 2}]}',
                response=b'{"predictions": [0.5, 0.7]}',
            )
        )
        writer.submit(
            make_event(
                "lines",
                request=b'{"x": 3}\n{"x": 4}\n',
                response=None,
                content_type="application/jsonlines",
            )
        )
        writer.submit(make_event("sniffed", request=b"[5, 6]", response=b"7", content_type=""))
    rows = stored(tmp_path).sort_by([("inference_id", "ascending"), ("row_index", "ascending")])
    assert rows.column("inference_id").to_pylist() == ["instances"] * 2 + ["lines"] * 2 + [
        "sniffed"
    ]
    assert rows.column("input.x").to_pylist() == ["1", "2", "3", "4", None]
    assert rows.column("output._c0").to_pylist() == ["0.5", "0.7", None, None, "7"]
    assert rows.column("input._c1").to_pylist() == [None] * 4 + ["6"]


def test_error_responses_are_kept_but_not_decoded(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    with CaptureWriter(tmp_path, **QUIET) as writer:
        writer.submit(make_event(response=b'{"detail": "boom"}', status=500, error="upstream 500"))
    table = stored(tmp_path)
    assert "output.detail" not in table.column_names
    assert table.column("response_data").to_pylist() == ['{"detail": "boom"}']
    assert table.column("error").to_pylist() == ["upstream 500"]


def test_a_failed_write_is_counted_and_the_writer_carries_on(
    tmp_path: Path, make_event: EventFactory, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "captures"
    blocker.write_text("a file where a directory should be")
    writer = CaptureWriter(tmp_path, **QUIET)
    writer.submit(make_event())
    writer.flush()
    assert (writer.stats.failed, writer.stats.written) == (1, 0)
    assert "could not write 1 captured records of churn/v3" in caplog.text
    blocker.unlink()
    writer.submit(make_event("later"))
    writer.close()
    assert (writer.stats.failed, writer.stats.written) == (1, 1)


def test_names_that_are_not_safe_directories_are_never_written(
    tmp_path: Path, make_event: EventFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with CaptureWriter(tmp_path / "data", **QUIET) as writer:
        writer.submit(make_event(model="../../escape"))
    assert writer.stats.failed == 1
    assert not list(tmp_path.rglob("*.parquet"))


def test_many_threads_submit_and_every_record_is_written_once(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    writer = CaptureWriter(tmp_path, flush_interval=0.01, max_batch=50)

    def work(thread: int) -> None:
        for i in range(300):
            writer.submit(make_event(f"{thread}-{i}"))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    ids = stored(tmp_path, columns=["inference_id"]).column("inference_id").to_pylist()
    assert sorted(ids) == sorted(f"{t}-{i}" for t in range(4) for i in range(300))
    assert writer.stats.written == 1200


def test_new_inference_ids_are_uuid4_hex() -> None:
    import uuid

    ids = {new_inference_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(hex=i).version == 4 and len(i) == 32 for i in ids)


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("sampling", 1.5, r"'sampling' parameter of CaptureWriter must be a float in the range"),
        ("queue_size", 0, r"'queue_size' parameter of CaptureWriter must be an int >= 1"),
        ("flush_interval", 0, r"'flush_interval' parameter of CaptureWriter must be a number"),
        ("max_batch", True, r"'max_batch' parameter of CaptureWriter must be an int >= 1"),
    ],
)
def test_bad_parameters_are_refused(
    tmp_path: Path, parameter: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        CaptureWriter(tmp_path, **{parameter: value})  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_writes_its_own_records_not_the_parents(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    writer = CaptureWriter(tmp_path, **QUIET)
    writer.submit(make_event("parent-1"))  # queued, not yet written, when the process forks
    pid = os.fork()
    if pid == 0:  # the child: a pre-fork server's worker
        code = 1
        try:
            writer.submit(make_event("child-1"))
            writer.close()
            code = 0 if writer.stats.written == 1 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    writer.close()
    ids = stored(tmp_path, columns=["inference_id"]).column("inference_id").to_pylist()
    assert sorted(ids) == ["child-1", "parent-1"]


def test_empty_bodies_are_no_problem(
    tmp_path: Path, make_event: EventFactory, stored: Stored
) -> None:
    with CaptureWriter(tmp_path, **QUIET) as writer:
        writer.submit(make_event("get", request=b"", response=b"  \n", status=204))
        writer.submit(make_event("csv", request=b"", response=b"", content_type="text/csv"))
        writer.flush()
        assert writer.stats.undecodable_bodies == 0
    table = stored(tmp_path)
    assert table.column("request_data").to_pylist() == ["", ""]
    assert not [n for n in table.column_names if n.startswith(("input.", "output."))]
