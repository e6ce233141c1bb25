"""import_labels: every kind of label file, row-by-row problems, storage by arrival hour."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.capture import CaptureWriter, InferenceEvent, import_labels, read_captures
from modelmon.errors import ConfigError, DatasetError

EventFactory = Callable[..., InferenceEvent]
T0 = datetime(2024, 5, 1, 13, 5, tzinfo=UTC)
ARRIVAL = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path: Path, make_event: EventFactory) -> Path:
    """Captures of inference ids a, b, c, d."""
    with CaptureWriter(tmp_path, flush_interval=3600.0) as writer:
        for name in "abcd":
            writer.submit(make_event(name))
    return tmp_path


def ground_truth(inference_id: str, data: str = "1", encoding: str = "CSV") -> str:
    return json.dumps(
        {
            "groundTruthData": {"data": data, "encoding": encoding},
            "eventMetadata": {"eventId": inference_id},
            "eventVersion": "0",
        }
    )


def test_a_clean_csv_is_imported_under_its_arrival_hour(data_dir: Path) -> None:
    source = data_dir / "labels.csv"
    source.write_text("inference_id,label\na,1\nb,0\n")
    report = import_labels(data_dir, "churn", source, arrival_time=ARRIVAL)
    assert (report.read, report.imported, report.exit_code) == (2, 2, 0)
    [file] = report.files
    assert file.parent == data_dir / "labels/churn/2024/05/03/09"
    stored = pq.read_table(file)
    assert stored["label"].to_pylist() == ["1", "0"]
    assert stored["label_time"].to_pylist() == [ARRIVAL, ARRIVAL]
    assert stored["label_source"].to_pylist() == [str(source)] * 2


def test_sagemaker_ground_truth_with_every_kind_of_problem(data_dir: Path) -> None:
    lines = [
        ground_truth("a", "1"),
        ground_truth("b", "0"),
        ground_truth("zzz", "1"),  # 3: unknown inference id
        ground_truth("a", "0"),  # 4: duplicate
        ground_truth("c", "1,0"),  # 5: not one value
        "{broken",  # 6: not JSON
        ground_truth("d", "", "CSV"),  # 7: missing
        ground_truth("d", "1", "BASE64"),  # 8: unsupported encoding
        json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}}),  # 9: no event id
        "",
        ground_truth("c", '"yes"', "JSON"),  # 11: a JSON string label
    ]
    source = data_dir / "gt.jsonl"
    source.write_text("\n".join(lines) + "\n")
    report = import_labels(data_dir, "churn", source, arrival_time=ARRIVAL)
    assert (report.read, report.imported, report.exit_code) == (10, 3, 1)
    messages = {problem.line: str(problem) for problem in report.problems}
    assert sorted(messages) == [3, 4, 5, 6, 7, 8, 9]
    assert messages[3].endswith(
        "line 3: no captured prediction of model 'churn' has inference id 'zzz'"
    )
    assert "line 4: inference id 'a' already has a label (line 1 of" in messages[4]
    assert "column 'groundTruthData.data': the label is not one value" in messages[5]
    assert "line 6: the line is not valid JSON" in messages[6]
    assert "the label is missing" in messages[7]
    assert "encoding is not supported (expected CSV (or JSON); found 'BASE64')" in messages[8]
    assert "column 'eventMetadata.eventId': the inference id is missing" in messages[9]
    assert report.problem_counts == {
        "unknown inference ids": 1,
        "duplicates": 1,
        "unparseable labels": 2,
        "unreadable rows": 1,
        "missing labels": 1,
        "missing inference ids": 1,
    }
    labels = read_captures(data_dir, "churn")["label"].to_pylist()
    assert labels == ["1", "0", "yes", None]  # mixed text: a string column


def test_parquet_problems_are_located_by_row(data_dir: Path) -> None:
    source = data_dir / "labels.parquet"
    pq.write_table(pa.table({"id": ["a", None, "b"], "y": [1.0, 0.0, None]}), source)
    report = import_labels(
        data_dir, "churn", source, inference_id_column="id", label_column="y", arrival_time=ARRIVAL
    )
    assert report.imported == 1
    assert [str(p) for p in report.problems] == [
        f"{source}, column 'id': row 2: the inference id is missing",
        f"{source}, column 'y': row 3: the label is missing",
    ]


def test_unknown_ids_are_kept_when_asked(data_dir: Path) -> None:
    source = data_dir / "labels.jsonl"
    source.write_text('{"inference_id": "later", "label": "cat"}\n')
    refused = import_labels(data_dir, "churn", source)
    assert (refused.imported, refused.exit_code) == (0, 2)
    kept = import_labels(data_dir, "churn", source, keep_unknown=True)
    assert (kept.imported, kept.exit_code) == (1, 0)
    assert "1 labels match no captured prediction of 'churn' yet" in kept.notes[0]


def test_an_in_memory_table_and_a_directory(data_dir: Path) -> None:
    table = pa.table({"inference_id": ["a", "b"], "label": [True, False]})
    report = import_labels(data_dir, "churn", table, arrival_time=ARRIVAL)
    assert (report.imported, report.source) == (2, "Table")
    folder = data_dir / "incoming" / "2024" / "05"
    folder.mkdir(parents=True)
    (folder / "one.jsonl").write_text(ground_truth("c") + "\n")
    (folder / "two.csv").write_text("inference_id,label\nd,0\n")
    (folder / ".hidden.csv").write_text("inference_id,label\na,9\n")
    report = import_labels(data_dir, "churn", data_dir / "incoming", arrival_time=ARRIVAL)
    assert (report.read, report.imported, report.exit_code) == (2, 2, 0)
    assert read_captures(data_dir, "churn")["label"].to_pylist() == ["true", "false", "1", "0"]


def test_labels_arriving_over_hours_go_to_their_hours(data_dir: Path) -> None:
    source = data_dir / "labels.csv"
    source.write_text("inference_id,label\na,1\n")
    for hours in (0, 1, 25):
        import_labels(data_dir, "churn", source, arrival_time=ARRIVAL + timedelta(hours=hours))
    files = (data_dir / "labels").rglob("*.parquet")
    assert sorted(str(p.parent.relative_to(data_dir / "labels")) for p in files) == [
        "churn/2024/05/03/09",
        "churn/2024/05/03/10",
        "churn/2024/05/04/10",
    ]


def test_unusable_sources_raise(data_dir: Path) -> None:
    with pytest.raises(DatasetError, match=r"the label file does not exist"):
        import_labels(data_dir, "churn", data_dir / "missing.csv")
    source = data_dir / "labels.csv"
    source.write_text("id,truth\na,1\n")
    with pytest.raises(ConfigError, match=r"'inference_id_column' parameter of import_labels"):
        import_labels(data_dir, "churn", source)
    with pytest.raises(ConfigError, match=r"'label_column' parameter .* Got 'nope' instead"):
        import_labels(data_dir, "churn", source, inference_id_column="id", label_column="nope")
