"""The Python SDK as a model server or batch job uses it: log, log_batch, wrap."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from modelmon.capture import Capture, read_captures
from modelmon.capture.sampling import keeps_id
from modelmon.errors import ConfigError

QUIET: dict[str, Any] = {"flush_interval": 3600.0}


class FakeTimer:
    """perf_counter that advances 25 ms per reading."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.025
        return self.now


@pytest.fixture
def capture(tmp_path: Path, clock: Any) -> Capture:
    return Capture("churn", "v3", data_dir=tmp_path, clock=clock, timer=FakeTimer(), **QUIET)


def read(tmp_path: Path) -> pa.Table:
    return read_captures(tmp_path, "churn", with_labels=False)


def test_log_records_one_inference_with_its_metadata(
    capture: Capture, tmp_path: Path, clock: Any
) -> None:
    returned = capture.log(
        {"age": 41, "plan": "pro", "tags": ["a", "b"]},
        {"churn": 0.93},
        inference_id="req-1",
        latency_ms=4.1,
    )
    clock.advance(seconds=1)
    generated = capture.log({"age": 42.5, "plan": "basic"}, np.float64(0.2))
    capture.close()
    assert returned == "req-1"
    assert len(generated) == 32
    table = read(tmp_path)
    rows = table.to_pylist()
    assert [r["inference_id"] for r in rows] == ["req-1", generated]
    assert rows[0]["latency_ms"] == 4.1
    assert rows[0]["source"] == "sdk"
    assert str(rows[0]["inference_time"]) == "2024-05-01 13:05:00+00:00"
    # Typed over the window like a CSV column: 41 and 42.5 make a float column.
    assert table.schema.field("input.age").type == pa.float64()
    assert table.column("input.age").to_pylist() == [41.0, 42.5]
    assert table.column("input.tags").to_pylist() == ['["a","b"]', None]
    assert table.column("output.churn").to_pylist() == [0.93, None]
    assert table.column("output._c0").to_pylist() == [None, 0.2]


def test_values_by_position_and_numpy_arrays(capture: Capture, tmp_path: Path) -> None:
    capture.log(np.array([[1.0, 2.0, 3.0]]), np.array([0.5]), inference_id="a")
    capture.log([4, 5, 6], 1, inference_id="b")
    capture.close()
    table = read(tmp_path)
    assert table.column_names[-4:] == ["output._c0", "input._c0", "input._c1", "input._c2"]
    assert table.column("input._c2").to_pylist() == [3.0, 6.0]
    assert table.column("output._c0").to_pylist() == [0.5, 1.0]


def test_a_dict_changed_after_log_does_not_change_the_record(
    capture: Capture, tmp_path: Path
) -> None:
    features = {"age": 41}
    capture.log(features, 0.1, inference_id="a")
    features["age"] = 99
    capture.close()
    assert read(tmp_path).column("input.age").to_pylist() == [41]


def test_log_refuses_a_table_and_points_to_log_batch(capture: Capture) -> None:
    with pytest.raises(ConfigError, match=r"log a table with Capture.log_batch"):
        capture.log(pd.DataFrame({"a": [1]}))


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_log_batch_logs_every_row_with_native_types(
    capture: Capture, tmp_path: Path, kind: str
) -> None:
    data = {"request": ["r1", "r2", "r3"], "age": [41, 52, 33], "plan": ["pro", "x", None]}
    frame: Any = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "arrow": pa.table}[kind](data)
    predictions = pd.Series([0.1, 0.7, 0.3], name="churn")
    ids = capture.log_batch(frame, predictions, inference_ids="request", latency_ms=12.0)
    capture.close()
    assert ids == ["r1", "r2", "r3"]
    table = read(tmp_path)
    assert table.column("inference_id").to_pylist() == ids
    assert "input.request" not in table.column_names
    assert table.column("input.age").to_pylist() == [41, 52, 33]
    assert table.column("input.plan").to_pylist() == ["pro", "x", None]
    assert table.column("output.churn").to_pylist() == [0.1, 0.7, 0.3]
    assert table.column("latency_ms").to_pylist() == [12.0] * 3


def test_log_batch_with_numbered_columns_and_a_2d_output(capture: Capture, tmp_path: Path) -> None:
    frame = pd.DataFrame(np.arange(6).reshape(3, 2))
    ids = capture.log_batch(frame, np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]]))
    capture.close()
    table = read(tmp_path)
    assert len(set(ids)) == 3
    assert [n for n in table.column_names if "." in n] == [
        "output._c0",
        "output._c1",
        "input._c0",
        "input._c1",
    ]


@pytest.mark.parametrize(
    ("outputs", "ids", "message"),
    [
        (np.zeros(2), None, r"'outputs' parameter of Capture.log_batch must have one row per"),
        (None, ["a"], r"'inference_ids' parameter of Capture.log_batch must give one id per"),
        (None, "nope", r"'inference_ids' parameter of Capture.log_batch must name a column"),
    ],
)
def test_log_batch_refuses_mismatched_arguments(
    capture: Capture, outputs: Any, ids: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        capture.log_batch(pd.DataFrame({"a": [1, 2, 3]}), outputs, inference_ids=ids)


def test_deterministic_sampling_keeps_the_same_ids_everywhere(tmp_path: Path) -> None:
    ids = [f"req-{i}" for i in range(400)]
    expected = {i for i in ids if keeps_id(i, 0.3)}
    single = Capture("churn", "v1", data_dir=tmp_path / "a", sampling=0.3, **QUIET)
    for inference_id in ids:
        single.log({"x": 1}, 0, inference_id=inference_id)
    single.close()
    batch = Capture("churn", "v1", data_dir=tmp_path / "b", sampling=0.3, **QUIET)
    batch.log_batch(pd.DataFrame({"id": ids, "x": range(400)}), inference_ids="id")
    batch.close()
    for directory, capture in ((tmp_path / "a", single), (tmp_path / "b", batch)):
        kept = set(read_captures(directory, "churn", with_labels=False)["inference_id"].to_pylist())
        assert kept == expected
        assert capture.stats.sampled_out == 400 - len(expected)
    assert 80 < len(expected) < 160


def test_wrap_records_inputs_outputs_latency_and_exceptions(
    capture: Capture, tmp_path: Path
) -> None:
    @capture.wrap
    def predict(features: dict[str, float]) -> float:
        if features["age"] < 0:
            raise ValueError("age must be positive")
        return 0.25

    assert predict({"age": 30}) == 0.25
    with pytest.raises(ValueError, match="age must be positive"):
        predict({"age": -1})
    capture.close()
    rows = read(tmp_path).to_pylist()
    assert [r["input.age"] for r in rows] == [30, -1]
    assert [r["output._c0"] for r in rows] == [0.25, None]
    assert [r["error"] for r in rows] == [None, "ValueError: age must be positive"]
    assert [r["latency_ms"] for r in rows] == pytest.approx([25.0, 25.0])


def test_wrap_takes_the_id_argument_and_names_several_arguments(
    capture: Capture, tmp_path: Path
) -> None:
    class Model:
        @capture.wrap(id_arg="request_id")
        def predict(self, age: int, plan: str, request_id: str) -> int:
            return 1

    Model().predict(41, plan="pro", request_id="req-9")
    capture.close()
    [row] = read(tmp_path).to_pylist()
    assert (row["inference_id"], row["input.age"], row["input.plan"]) == ("req-9", 41, "pro")


def test_wrap_async_and_batch_calls(capture: Capture, tmp_path: Path) -> None:
    @capture.wrap
    async def predict(frame: pd.DataFrame) -> np.ndarray:
        await asyncio.sleep(0)
        return np.full(len(frame), 0.5)

    result = asyncio.run(predict(pd.DataFrame({"x": [1, 2]})))
    assert result.tolist() == [0.5, 0.5]
    capture.close()
    table = read(tmp_path)
    assert table.column("output._c0").to_pylist() == [0.5, 0.5]
    assert table.column("input.x").to_pylist() == [1, 2]


def test_wrap_refuses_an_unknown_id_argument(capture: Capture) -> None:
    def predict(x: int) -> int:
        return x

    with pytest.raises(ConfigError, match=r"'id_arg' parameter of Capture.wrap must name"):
        capture.wrap(id_arg="request")(predict)


def test_log_never_raises_for_a_problem_of_capture(capture: Capture, tmp_path: Path) -> None:
    class Weird:
        def tolist(self) -> list[int]:
            raise RuntimeError("no")

    capture.log(Weird(), 1, inference_id="weird")
    capture.log({"x": 1}, 1, inference_id="fine")
    capture.close()
    assert capture.stats.failed == 1
    assert read(tmp_path)["inference_id"].to_pylist() == ["fine"]


def test_model_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"The 'model' parameter of Capture must be 1 to 128"):
        Capture("../churn", data_dir=tmp_path)


def test_small_batches_of_one_flush_share_a_file(capture: Capture, tmp_path: Path) -> None:
    for start in range(0, 30, 3):
        capture.log_batch(pa.table({"x": [start, start + 1, start + 2]}))
    capture.log_batch(pa.table({"x": [0.5]}))  # a float column joins the int ones
    capture.close()
    assert capture.stats.files_written == 1
    assert read(tmp_path)["input.x"].to_pylist() == [*map(float, range(30)), 0.5]
