"""import_captures: SageMaker data capture in its S3 layout, and batch-inference output files."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.capture import import_captures, read_captures
from modelmon.errors import ConfigError, DatasetError

SAMPLE = Path(__file__).parents[1] / "formats" / "data" / "capture"


def capture_line(
    event_id: str,
    data: str,
    *,
    encoding: str = "CSV",
    time: str = "2022-04-18T00:21:48Z",
    content_type: str = "text/csv",
    inference_id: str | None = None,
) -> str:
    meta = {"eventId": event_id, "inferenceTime": time}
    if inference_id is not None:
        meta["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                },
                "endpointOutput": {
                    "observedContentType": "text/csv",
                    "mode": "OUTPUT",
                    "data": "0.5",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": meta,
            "eventVersion": "0",
        }
    )


def test_sagemaker_layout_is_imported_with_the_variant_as_version(tmp_path: Path) -> None:
    copy = tmp_path / "s3" / "churn-endpoint"
    shutil.copytree(SAMPLE, copy)
    report = import_captures(tmp_path / "data", "churn", tmp_path / "s3")
    assert (report.read, report.imported, report.exit_code) == (2, 2, 0)
    table = read_captures(tmp_path / "data", "churn")
    assert table["version"].to_pylist() == ["AllTraffic", "AllTraffic"]
    # The join key: inferenceId when the client gave one, else eventId.
    assert table["inference_id"].to_pylist() == ["f04a8538-696c-4648-8064-8b680b2e3318", "order-17"]
    assert table["output._c0"].to_pylist() == [0.0363977, 0.9120012]
    assert table["input._c2"].to_pylist() == [182.9, 210.1]
    assert table["source"].to_pylist() == ["import", "import"]


def test_bad_lines_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    source = tmp_path / "capture.jsonl"
    lines = [
        capture_line("e1", "1,2"),
        "{not json",
        json.dumps({"captureData": {}, "eventMetadata": {}}),
        capture_line(
            "e4",
            base64.b64encode(b"\x00\x01").decode(),
            encoding="BASE64",
            content_type="application/x-image",
        ),
        capture_line("e5", "{broken", encoding="JSON", content_type="application/json"),
        capture_line("e6", "3,4", time="yesterday"),
    ]
    source.write_text("\n".join(lines) + "\n")
    report = import_captures(tmp_path / "data", "churn", source, version="v1")
    assert (report.read, report.imported, report.exit_code) == (6, 2, 1)
    assert [(p.line, p.problem) for p in report.problems] == [
        (
            2,
            "the line is not valid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1))",
        ),
        (3, "the capture record holds neither an input nor an output"),
        (
            5,
            "the payload is not valid JSON "
            "(Expecting property name enclosed in double quotes at character 2)",
        ),
        (6, "eventMetadata.inferenceTime is not valid"),
    ]
    table = read_captures(tmp_path / "data", "churn")
    assert table["inference_id"].to_pylist() == ["e1", "e4"]
    assert table["request_encoding"].to_pylist() == ["CSV", "BASE64"]


def test_importing_the_same_file_again_replaces_instead_of_duplicating(tmp_path: Path) -> None:
    source = tmp_path / "capture.jsonl"
    source.write_text(capture_line("e1", "1,2") + "\n")
    first = import_captures(tmp_path / "data", "churn", source)
    again = import_captures(tmp_path / "data", "churn", source)
    assert first.files == again.files
    assert read_captures(tmp_path / "data", "churn").num_rows == 1


def test_batch_transform_csv_without_header_ends_with_id_and_time(tmp_path: Path) -> None:
    source = tmp_path / "out.csv"
    source.write_text(
        "41,pro,0.9,7f0c1d2e,2024-05-01T13:00:05Z\n"
        "52,basic,0.1,8a9b0c1d,2024-05-01T14:10:00Z\n"
        "33,pro,0.4,,2024-05-01T14:20:00Z\n"
        "29,pro,0.3,9b0c1d2e,not-a-time\n"
    )
    report = import_captures(
        tmp_path / "data", "churn", source, version="v2", output_columns=["_c2"]
    )
    assert (report.read, report.imported, report.exit_code) == (4, 2, 1)
    assert [str(p) for p in report.problems] == [
        f"{source}, line 3, column '_c3': the inference id is missing",
        f"{source}, line 4, column '_c4': the time is not valid "
        "(expected an ISO-8601 time; found 'not-a-time')",
    ]
    table = read_captures(tmp_path / "data", "churn")
    assert table["inference_id"].to_pylist() == ["7f0c1d2e", "8a9b0c1d"]
    assert [n for n in table.column_names if "." in n] == ["output._c0", "input._c0", "input._c1"]
    assert table["output._c0"].to_pylist() == [0.9, 0.1]
    hours = sorted(p.parent.name for p in (tmp_path / "data").rglob("*.parquet"))
    assert hours == ["13", "14"]


def test_parquet_and_jsonl_with_sagemaker_keys(tmp_path: Path) -> None:
    moment = datetime(2024, 5, 1, 13, 0, 5)
    pq.write_table(
        pa.table(
            {
                "age": [41],
                "score": [0.9],
                "SageMakerInferenceId": ["p1"],
                "SageMakerInferenceTime": [moment],
            }
        ),
        tmp_path / "out.parquet",
    )
    (tmp_path / "out.jsonl").write_text(
        '{"age": 52, "score": 0.1, "SageMakerInferenceId": "j1", '
        '"SageMakerInferenceTime": "2024-05-01T13:30:00Z"}\n'
    )
    for name in ("out.parquet", "out.jsonl"):
        report = import_captures(
            tmp_path / "data", "churn", tmp_path / name, output_columns=["score"]
        )
        assert report.exit_code == 0
    table = read_captures(tmp_path / "data", "churn")
    assert table["inference_id"].to_pylist() == ["p1", "j1"]
    assert table["inference_time"].to_pylist() == [
        moment.replace(tzinfo=UTC),
        datetime(2024, 5, 1, 13, 30, tzinfo=UTC),
    ]
    assert table["input.age"].to_pylist() == [41, 52]
    assert table["output.score"].to_pylist() == [0.9, 0.1]


def test_a_file_without_times_gets_the_import_time(tmp_path: Path) -> None:
    source = tmp_path / "out.csv"
    source.write_text("inference_id,age\na,1\n")
    now = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    report = import_captures(tmp_path / "data", "churn", source, clock=lambda: now)
    assert "has no inference-time column" in report.notes[0]
    assert read_captures(tmp_path / "data", "churn")["inference_time"].to_pylist() == [now]


def test_unusable_imports_raise(tmp_path: Path) -> None:
    source = tmp_path / "out.csv"
    source.write_text("age,score\n1,2\n")
    with pytest.raises(ConfigError, match=r"'inference_id_column' parameter of import_captures"):
        import_captures(tmp_path / "data", "churn", source)
    with pytest.raises(ConfigError, match=r"'output_columns' parameter .* Got 'nope' instead"):
        import_captures(
            tmp_path / "data", "churn", source, inference_id_column="age", output_columns=["nope"]
        )
    with pytest.raises(DatasetError, match=r"the capture file does not exist"):
        import_captures(tmp_path / "data", "churn", tmp_path / "missing")
