"""SageMaker capture records: parsing, payload shapes laid out as rows, tables."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from modelmon.errors import DatasetError
from modelmon.formats.capture_jsonl import (
    CapturePayload,
    capture_to_table,
    parse_capture_record,
    record_rows,
)

FIXTURE = Path(__file__).parent / "data/capture/AllTraffic/2022/04/18/00/21-48-871-f04a8538.jsonl"


def side(data: str, encoding: str = "CSV", content_type: str = "text/csv") -> dict[str, Any]:
    return {"observedContentType": content_type, "mode": "X", "data": data, "encoding": encoding}


def record(
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    capture = {}
    if inputs is not None:
        capture["endpointInput"] = inputs
    if outputs is not None:
        capture["endpointOutput"] = outputs
    metadata = {"eventId": "e-1", "inferenceTime": "2022-04-18T00:21:48Z", **meta}
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


def json_side(value: object) -> dict[str, Any]:
    return side(json.dumps(value), "JSON", "application/json")


def rows_of(inputs: dict[str, Any] | None, outputs: dict[str, Any] | None) -> tuple[Any, ...]:
    laid_out = record_rows(parse_capture_record(record(inputs, outputs), 1))
    return laid_out.names, laid_out.rows, laid_out.named


# -- parsing -----------------------------------------------------------------------------------


def test_fixture_records_parse_with_utc_times_and_ids() -> None:
    lines = FIXTURE.read_text().splitlines()
    first, second = (parse_capture_record(json.loads(x), n) for n, x in enumerate(lines, 1))
    assert first.event_id == "f04a8538-696c-4648-8064-8b680b2e3318"
    assert first.inference_id is None
    assert first.inference_time == datetime(2022, 4, 18, 0, 21, 48, tzinfo=UTC)
    assert first.input == CapturePayload("CSV", "text/csv", [["132", "10", "182.9", "0", "1"]])
    assert first.output == CapturePayload("CSV", "text/csv; charset=utf-8", [["0.0363977"]])
    assert second.line == 2
    assert second.inference_id == "order-17"
    assert second.inference_time == datetime(2022, 4, 18, 0, 21, 49, 512000, tzinfo=UTC)


def test_times_with_offsets_are_converted_to_utc_and_naive_times_taken_as_utc() -> None:
    shifted = parse_capture_record(record(side("1"), inferenceTime="2022-04-18T02:00:00+02:00"), 1)
    naive = parse_capture_record(record(side("1"), inferenceTime="2022-04-18T00:00:00"), 1)
    assert shifted.inference_time == naive.inference_time == datetime(2022, 4, 18, tzinfo=UTC)


def test_json_and_base64_payloads_are_decoded() -> None:
    raw = b"\x89PNG\x00"
    parsed = parse_capture_record(
        record(json_side({"a": [1, 2]}), side(base64.b64encode(raw).decode(), "base64", "x/y")), 3
    )
    assert parsed.input == CapturePayload("JSON", "application/json", {"a": [1, 2]})
    assert parsed.output == CapturePayload("BASE64", "x/y", raw)


def test_only_an_input_is_enough() -> None:
    parsed = parse_capture_record(record(side("1,2")), 1)
    assert parsed.output is None
    assert parsed.input is not None


@pytest.mark.parametrize(
    ("obj", "column", "fragment"),
    [
        ([1, 2], None, "expected an object with captureData and eventMetadata"),
        ({"eventMetadata": {}}, "captureData", "found nothing (the key is missing or null)"),
        (record(), "captureData", "expected endpointInput and/or endpointOutput"),
        (
            {"captureData": {"endpointInput": side("1")}},
            "eventMetadata",
            "expected an object with eventId and inferenceTime",
        ),
        (record(side("1"), eventId=7), "eventMetadata.eventId", "found a number: '7'"),
        (record(side("1"), inferenceId=7), "eventMetadata.inferenceId", "expected a string"),
        (
            record(side("1"), inferenceTime="yesterday"),
            "eventMetadata.inferenceTime",
            "expected an ISO-8601 time like 2022-04-18T00:21:48Z; found a string: '\"yesterday\"'",
        ),
        (record("1,2"), "captureData.endpointInput", "found a string"),
        (record(side("1", "XML")), "captureData.endpointInput.encoding", "CSV, JSON or BASE64"),
        (record({"encoding": "CSV"}), "captureData.endpointInput.data", "expected a string"),
        (
            record(side("{1:", "JSON")),
            "captureData.endpointInput.data",
            "the payload is not valid JSON (Expecting property name enclosed in double quotes"
            " at character 2) (found '{1:')",
        ),
        (
            record(side('{"a": "\\ud800"}', "JSON")),
            "captureData.endpointInput.data",
            "the payload holds a lone surrogate escape (like \\ud800), not valid Unicode",
        ),
        (record(side("@@", "BASE64")), "captureData.endpointInput.data", "not valid base64"),
    ],
)
def test_invalid_records_name_the_line_and_field(
    obj: object, column: str | None, fragment: str
) -> None:
    with pytest.raises(DatasetError, match=r"capture\.jsonl, line 12") as caught:
        parse_capture_record(obj, 12, path="capture.jsonl")
    assert caught.value.line == 12
    assert caught.value.column == column
    assert fragment in str(caught.value)


# -- payload shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "names", "rows", "named"),
    [
        (side("132,10,182.9"), ["_c1", "_c2", "_c3"], [["132", "10", "182.9"]], False),
        (side("1,,3\n4,5,6\n"), ["_c1", "_c2", "_c3"], [["1", None, "3"], ["4", "5", "6"]], False),
        (side('"a,b",2'), ["_c1", "_c2"], [["a,b", "2"]], False),
        (json_side([1, 2.5, "x", None, True]), None, [["1", "2.5", "x", None, "true"]], False),
        (json_side([[1, 2], [3, 4]]), ["_c1", "_c2"], [["1", "2"], ["3", "4"]], False),
        (json_side({"age": 41, "plan": "pro"}), ["age", "plan"], [["41", "pro"]], True),
        (
            json_side([{"a": 1}, {"b": [1, 2]}]),
            ["a", "b"],
            [["1", None], [None, "[1,2]"]],
            True,
        ),
        (
            json_side({"instances": [[1, 2], [3, 4]]}),
            ["_c1", "_c2"],
            [["1", "2"], ["3", "4"]],
            False,
        ),
        (json_side({"instances": [{"features": [1.0, 2]}]}), ["_c1", "_c2"], [["1.0", "2"]], False),
        (json_side({"inputs": [5, 6]}), ["_c1"], [["5"], ["6"]], False),
        (json_side(7), ["_c1"], [["7"]], False),
        (
            side(base64.b64encode(b"1,2").decode(), "BASE64", "text/csv"),
            ["_c1", "_c2"],
            [["1", "2"]],
            False,
        ),
        (
            side(base64.b64encode(b'{"f": "\xc3\xa9"}').decode(), "BASE64", "application/json"),
            ["f"],
            [["é"]],
            True,
        ),
    ],
)
def test_input_shapes_become_rows_after_the_output(
    payload: dict[str, Any], names: list[str] | None, rows: list[list[Any]], named: bool
) -> None:
    got_names, got_rows, got_named = rows_of(payload, side("\n".join(["0.5"] * len(rows))))
    width = len(rows[0])
    expected_names = names or [f"_c{index}" for index in range(1, width + 1)]
    assert got_names == ["_c0", *expected_names]
    assert got_rows == [["0.5", *row] for row in rows]
    assert got_named == named


def test_batch_outputs_line_up_line_by_line_or_from_one_line() -> None:
    by_line = rows_of(side("1,2\n3,4"), side("0.1\n0.9"))
    one_line = rows_of(side("1,2\n3,4"), side("0.1,0.9"))
    wrapped = rows_of(side("1,2\n3,4"), json_side({"predictions": [0.1, 0.9]}))
    assert by_line[1] == one_line[1] == wrapped[1] == [["0.1", "1", "2"], ["0.9", "3", "4"]]


def test_a_side_may_be_missing() -> None:
    assert rows_of(side("1,2"), None)[:2] == (["_c0", "_c1"], [["1", "2"]])
    assert rows_of(None, side("0.5"))[:2] == (["_c0"], [["0.5"]])


@pytest.mark.parametrize(
    ("inputs", "outputs", "fragment"),
    [
        (side("1\n2\n3"), side("0.1\n0.2"), "expected one output row per input row (3)"),
        (side("1,2\n3"), side("0\n1"), "found 1 and 2 values"),
        (json_side([[1, 2], [3]]), side("0\n1"), "different numbers of values"),
        (json_side({"a": {"b": 1}}), side("1"), None),
        (json_side([[1, [2]]]), side("1"), "cannot lay out as rows"),
        (json_side([]), side("1"), "cannot lay out as rows"),
        (json_side([[1], {"a": 1}]), side("1"), "mixes rows of values and rows of named features"),
        (json_side({"_c0": 1}), side("1"), "both hold a value named the same"),
        (side("AAAA", "BASE64", "image/png"), side("1"), "content type 'image/png'"),
        (side(base64.b64encode(b"\xff").decode(), "BASE64", "text/csv"), side("1"), "UTF-8"),
    ],
)
def test_unsupported_shapes_are_errors_naming_the_line(
    inputs: dict[str, Any], outputs: dict[str, Any], fragment: str | None
) -> None:
    parsed = parse_capture_record(record(inputs, outputs), 9)
    if fragment is None:  # an object inside a named row is kept as JSON text, not an error
        assert record_rows(parsed).rows == [["1", '{"b":1}']]
        return
    with pytest.raises(DatasetError, match=r"f\.jsonl, line 9") as caught:
        record_rows(parsed, path="f.jsonl")
    assert fragment in str(caught.value)


# -- tables --------------------------------------------------------------------------------------


def test_capture_to_table_types_columns_output_first() -> None:
    records = [
        parse_capture_record(json.loads(line), number)
        for number, line in enumerate(FIXTURE.read_text().splitlines(), 1)
    ]
    table = capture_to_table(records)
    assert table.schema == pa.schema(
        [
            ("_c0", pa.float64()),
            ("_c1", pa.int64()),
            ("_c2", pa.int64()),
            ("_c3", pa.float64()),
            ("_c4", pa.int64()),
            ("_c5", pa.int64()),
        ]
    )
    assert table.column("_c0").to_pylist() == [0.0363977, 0.9120012]


def test_capture_to_table_unions_named_columns() -> None:
    records = [
        parse_capture_record(record(json_side({"a": 1, "b": "x"}), side("0")), 1),
        parse_capture_record(record(json_side({"a": 2.5, "c": None}), side("1")), 2),
    ]
    table = capture_to_table(records)
    assert table.to_pydict() == {
        "_c0": [0, 1],
        "a": [1.0, 2.5],
        "b": ["x", None],
        "c": [None, None],
    }
    assert table.schema.field("c").type == pa.null()


def test_capture_to_table_rejects_records_whose_width_changes() -> None:
    records = [
        parse_capture_record(record(side("1,2,3"), side("0")), 1),
        parse_capture_record(record(side("1,2"), side("0")), 2),
    ]
    with pytest.raises(DatasetError, match=r"c\.jsonl, line 2") as caught:
        capture_to_table(records, path="c.jsonl")
    assert "expected 1 output + 3 input values (as on line 1 of c.jsonl)" in str(caught.value)
    assert "found 1 output + 2 input values" in str(caught.value)
