"""Captured inferences laid out as stored columns: the capture schema (version 1).

One row per prediction. An inference whose request holds several instances (a CSV body of n lines,
``{"instances": [...]}``) becomes n rows sharing its ``inference_id``, numbered by ``row_index``.

=========================  =======================  ==============================================
column                     type                     meaning
=========================  =======================  ==============================================
inference_id               string, not null         joins the prediction with its label
inference_time             timestamp[us, UTC]       when the request arrived; picks the partition
model, version             string                   as in the partition path
row_index                  int32                    the row's position within its inference
latency_ms                 float64                  time to answer, null if not measured
status                     int32                    HTTP status when captured over HTTP
error                      string                   why the inference failed, null if it did not
source                     string                   sdk, asgi, proxy or import
request_content_type       string                   the body's media type as sent
request_encoding           string                   CSV, JSON or BASE64, as SageMaker writes it
request_data               string                   the body: its text, or base64 when not text
response_content_type,     string                   the same for the response
response_encoding,
response_data
output.<name>              any                      model outputs, one column per value
input.<name>               any                      model inputs, one column per value
=========================  =======================  ==============================================

Bodies (``request_*``/``response_*``) are kept on an inference's first row only (``row_index``
0); later rows of a multi-instance request hold nulls there, so a batch body is stored once.

Feature columns are named ``input.`` or ``output.`` followed by the name the payload gave the value
(a JSON key), or ``_c<position>`` for values given by position (CSV fields, JSON arrays, scalars;
positions count from 0 on each side). Bodies and the SDK's single-record values are decoded by the
rules of :mod:`modelmon.formats.capture_jsonl` and stored as text, marked with the field metadata
``modelmon.text``; the reader types such a column over the whole window it reads (int, float or
string), exactly as the CSV reader types a column, so a capture profiles like the CSV or JSON it
came from. Columns of a logged DataFrame keep their Arrow types.

How a body is decoded, from its content type (parameters such as ``charset`` are ignored):

* ``application/json``, ``text/json``, ``*+json``: JSON;
* JSON Lines (``application/jsonlines``, ``application/x-ndjson``...): one row per line;
* ``text/csv``, ``application/csv``: CSV;
* no content type: JSON if it parses, else CSV;
* any other type (images, ``application/octet-stream``, ``text/plain``): kept as base64 only, as
  SageMaker keeps content types it was not told about.

A body that claims JSON or CSV (or has no content type) but is not valid UTF-8 JSON or CSV is kept
as base64, yields no columns and counts as an undecodable body; so does valid JSON of a shape that
is not rows (see ``capture_jsonl``), kept as its JSON text. The response of a failed request (HTTP
status 400 or more) is kept but not decoded: an error message is not a prediction.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, cast

import pyarrow as pa

from modelmon.capture.layout import utc
from modelmon.capture.records import InferenceEvent, Payload
from modelmon.errors import DatasetError
from modelmon.formats.capture_jsonl import CapturePayload, CaptureRecord, CaptureRows, record_rows
from modelmon.formats.json_values import JsonValue

__all__ = [
    "CAPTURE_SCHEMA_VERSION",
    "DROPPED_KEY",
    "INPUT_PREFIX",
    "METADATA_SCHEMA",
    "OUTPUT_PREFIX",
    "SCHEMA_KEY",
    "TEXT_FIELD",
    "LoggedInference",
    "TableBuilder",
    "is_position",
    "is_text_field",
    "plain_value",
]

CAPTURE_SCHEMA_VERSION = "1"
# Parquet key-value metadata of every capture file: the schema version, and the records of its
# partition the writer dropped (queue full) since its previous file there.
SCHEMA_KEY = "modelmon.capture.schema"
DROPPED_KEY = "modelmon.capture.dropped"
INPUT_PREFIX = "input."
OUTPUT_PREFIX = "output."
TEXT_FIELD = {b"modelmon.text": b"1"}

METADATA_SCHEMA = pa.schema(
    [
        pa.field("inference_id", pa.string(), nullable=False),
        pa.field("inference_time", pa.timestamp("us", tz="UTC")),
        pa.field("model", pa.string()),
        pa.field("version", pa.string()),
        pa.field("row_index", pa.int32()),
        pa.field("latency_ms", pa.float64()),
        pa.field("status", pa.int32()),
        pa.field("error", pa.string()),
        pa.field("source", pa.string()),
        pa.field("request_content_type", pa.string()),
        pa.field("request_encoding", pa.string()),
        pa.field("request_data", pa.string()),
        pa.field("response_content_type", pa.string()),
        pa.field("response_encoding", pa.string()),
        pa.field("response_data", pa.string()),
    ]
)

_JSON_LINES = {
    "application/jsonlines",
    "application/x-jsonlines",
    "application/jsonl",
    "application/x-ndjson",
    "application/ndjson",
}
_CSV = {"text/csv", "application/csv", "text/x-csv"}


class LoggedInference(NamedTuple):
    """One inference logged through the SDK with Python values instead of bodies.

    ``inputs`` and ``outputs`` are laid out like a JSON body holding them: a mapping gives named
    values, a sequence (or a 1-D array) values by position, a scalar one value, a sequence of
    sequences or mappings several rows. (A NamedTuple: built on the caller's thread for every
    logged inference, it is several times cheaper than a frozen dataclass.)
    """

    model: str
    version: str
    inference_id: str
    time: datetime
    inputs: object
    outputs: object
    latency_ms: float | None
    error: str | None


def is_position(name: str) -> bool:
    """Whether a feature name (without its prefix) is a position, ``_c<k>``."""
    return name.startswith("_c") and name[2:].isdigit()


def is_text_field(field: pa.Field) -> bool:
    """Whether a stored feature column holds text to be typed when read."""
    return bool(field.metadata) and field.metadata.get(b"modelmon.text") == b"1"


# -- bodies ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Body:
    content_type: str
    encoding: str
    data: str
    rows: CaptureRows | None
    undecodable: bool


def _decode(payload: Payload, side: str, time: datetime, columns: bool) -> _Body:
    content_type = payload.content_type
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _JSON_LINES:
        kind = "jsonl"
    elif media in _CSV:
        kind = "csv"
    elif media in ("application/json", "text/json") or media.endswith("+json"):
        kind = "json"
    elif not media:
        kind = "sniff"
    else:
        return _Body(content_type, "BASE64", _base64(payload.data), None, undecodable=False)
    if not payload.data.strip():  # an empty body (a GET, a 204) is no problem and no columns
        return _Body(content_type, "CSV" if kind == "csv" else "JSON", "", None, False)
    try:
        text = payload.data.decode("utf-8")
        value = _parse(text, kind)
    except (UnicodeDecodeError, ValueError, csv.Error):
        return _Body(content_type, "BASE64", _base64(payload.data), None, undecodable=True)
    encoding = "CSV" if isinstance(value, _CsvRows) else "JSON"
    if not columns:
        return _Body(content_type, encoding, text, None, undecodable=False)
    rows = _side_rows(value, content_type, side, time)
    return _Body(content_type, encoding, text, rows, undecodable=rows is None)


class _CsvRows(list[list[str]]):
    """Rows of CSV fields (a distinct type, so a parsed body says which encoding it had)."""


def _parse(text: str, kind: str) -> JsonValue | _CsvRows:
    if kind == "sniff":
        try:
            return cast("JsonValue", json.loads(text))
        except ValueError:
            kind = "csv"
    if kind == "csv":
        return _CsvRows(row for row in csv.reader(io.StringIO(text)) if row)
    if kind == "jsonl":
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        # One row per line: a line holding a single value is a row of one value.
        return [line if isinstance(line, list | dict) else [line] for line in lines]
    return cast("JsonValue", json.loads(text))


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _side_rows(
    value: JsonValue | _CsvRows, content_type: str, side: str, time: datetime
) -> CaptureRows | None:
    """``value`` laid out as rows by capture_jsonl's rules; None if it has no row shape."""
    flat = None if isinstance(value, _CsvRows) else flat_rows(value, side)
    if flat is not None:
        return flat
    payload = (
        CapturePayload("CSV", content_type, list(value))
        if isinstance(value, _CsvRows)
        else CapturePayload("JSON", content_type, value)
    )
    record = CaptureRecord(
        line=0,
        event_id="",
        inference_id=None,
        inference_time=time,
        input=payload if side == "input" else None,
        output=payload if side == "output" else None,
    )
    try:
        return record_rows(record)
    except DatasetError:
        return None


def flat_rows(value: JsonValue, side: str) -> CaptureRows | None:
    """The rows of the commonest JSON values, fast: a scalar, a flat array of scalars, an object
    of scalar values (never a wrapper such as ``{"instances": [...]}``, whose value is an array).
    None for any other value, which ``record_rows`` lays out. Gives exactly what ``record_rows``
    gives (a property test holds the two together); several times faster, on the writer thread
    of every captured inference."""
    if isinstance(value, dict):
        if not value or not all(_is_scalar(item) for item in value.values()):
            return None
        names, cells, named = list(value), [_cell(item) for item in value.values()], True
    elif isinstance(value, list):
        if not value or not all(_is_scalar(item) for item in value):
            return None
        names, cells, named = _positions(len(value)), [_cell(item) for item in value], False
    else:
        names, cells, named = ["_c0"], [_cell(value)], False
    width = len(cells)
    output_width, input_width = (width, 0) if side == "output" else (0, width)
    return CaptureRows(names, [cells], output_width, input_width, named=named)


def _is_scalar(value: JsonValue) -> bool:
    return not isinstance(value, list | dict)


def _positions(width: int) -> list[str]:
    return [f"_c{position}" for position in range(width)]


def _cell(value: JsonValue) -> str | None:
    """capture_jsonl's cell: text as is, null as null, anything else as its JSON spelling."""
    if value is None or isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)  # what json.dumps writes for a finite float
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _aligned(inputs: CaptureRows | None, outputs: CaptureRows | None) -> CaptureRows | None:
    """The output rows matched to the input rows, or None if they cannot be.

    Mirrors capture_jsonl: n input rows answered by one positional row of n values give one
    value per row; any other difference in row counts does not line up.
    """
    if inputs is None or outputs is None or len(inputs.rows) == len(outputs.rows):
        return outputs
    if not outputs.named and len(outputs.rows) == 1 and len(outputs.rows[0]) == len(inputs.rows):
        return CaptureRows(["_c0"], [[cell] for cell in outputs.rows[0]], 1, 0, named=False)
    return None


def plain_value(value: object) -> JsonValue:
    """``value`` as plain JSON-like Python: numpy arrays and scalars, tuples, pandas and polars
    Series (a Series indexed by strings is named values, else values by position)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): plain_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(item) for item in value]
    kind = type(value)
    if kind.__name__ == "Series" and kind.__module__.startswith("pandas"):
        named = cast("dict[object, object]", value.to_dict())  # type: ignore[attr-defined]
        if all(isinstance(key, str) for key in named):
            return plain_value(named)
        return plain_value(list(named.values()))
    for method in ("tolist", "to_list"):  # numpy arrays and scalars; polars Series
        convert = getattr(value, method, None)
        if callable(convert):
            return plain_value(convert())
    return str(value)


# -- rows to columns -------------------------------------------------------------------------------


class TableBuilder:
    """Accumulates events of one partition as rows, then builds the stored table."""

    def __init__(self) -> None:
        self._meta: dict[str, list[object]] = {name: [] for name in METADATA_SCHEMA.names}
        self._outputs: dict[str, list[str | None]] = {}
        self._inputs: dict[str, list[str | None]] = {}
        self._rows = 0
        self.undecodable = 0

    @property
    def num_rows(self) -> int:
        return self._rows

    def add_event(self, event: InferenceEvent) -> None:
        time = utc(event.time)
        request = _decode(event.request, "input", time, True) if event.request else None
        decode_response = event.status is None or event.status < 400
        response = (
            _decode(event.response, "output", time, decode_response) if event.response else None
        )
        self.undecodable += sum(1 for body in (request, response) if body and body.undecodable)
        inputs = request.rows if request else None
        outputs = response.rows if response else None
        aligned = _aligned(inputs, outputs)
        if outputs is not None and aligned is None:
            self.undecodable += 1
        self._add_rows(
            event.inference_id,
            time,
            event.model,
            event.version,
            event.latency_ms,
            event.status,
            event.error,
            event.source,
            request,
            response,
            inputs,
            aligned,
        )

    def add_logged(self, logged: LoggedInference) -> None:
        time = utc(logged.time)
        sides: list[CaptureRows | None] = []
        bodies: list[_Body | None] = []
        for value, side in ((logged.inputs, "input"), (logged.outputs, "output")):
            if value is None:
                sides.append(None)
                bodies.append(None)
                continue
            plain = plain_value(value)
            rows = _side_rows(plain, "", side, time)
            sides.append(rows)
            # Only a value with no row shape is kept whole, as JSON text, so nothing is lost.
            text = None if rows is not None else json.dumps(plain, ensure_ascii=False)
            bodies.append(None if text is None else _Body("", "JSON", text, None, True))
        inputs, outputs = sides
        aligned = _aligned(inputs, outputs)
        self.undecodable += sum(1 for body in bodies if body is not None)
        if outputs is not None and aligned is None:
            self.undecodable += 1
        self._add_rows(
            logged.inference_id,
            time,
            logged.model,
            logged.version,
            logged.latency_ms,
            None,
            logged.error,
            "sdk",
            bodies[0],
            bodies[1],
            inputs,
            aligned,
        )

    def _add_rows(
        self,
        inference_id: str,
        time: datetime,
        model: str,
        version: str,
        latency_ms: float | None,
        status: int | None,
        error: str | None,
        source: str,
        request: _Body | None,
        response: _Body | None,
        inputs: CaptureRows | None,
        outputs: CaptureRows | None,
    ) -> None:
        count = max(len(inputs.rows) if inputs else 0, len(outputs.rows) if outputs else 0, 1)
        meta = self._meta
        for index in range(count):
            first = index == 0
            meta["inference_id"].append(inference_id)
            meta["inference_time"].append(time)
            meta["model"].append(model)
            meta["version"].append(version)
            meta["row_index"].append(index)
            meta["latency_ms"].append(latency_ms)
            meta["status"].append(status)
            meta["error"].append(error)
            meta["source"].append(source)
            for prefix, body in (("request", request), ("response", response)):
                kept = body if first else None
                meta[f"{prefix}_content_type"].append(kept.content_type if kept else None)
                meta[f"{prefix}_encoding"].append(kept.encoding if kept else None)
                meta[f"{prefix}_data"].append(kept.data if kept else None)
        self._add_cells(self._inputs, INPUT_PREFIX, inputs, count)
        self._add_cells(self._outputs, OUTPUT_PREFIX, outputs, count)
        self._rows += count

    def _add_cells(
        self,
        columns: dict[str, list[str | None]],
        prefix: str,
        side: CaptureRows | None,
        count: int,
    ) -> None:
        if side is not None:
            for position, name in enumerate(side.names):
                column = columns.get(prefix + name)
                if column is None:
                    column = columns[prefix + name] = [None] * self._rows
                column.extend(row[position] if position < len(row) else None for row in side.rows)
        end = self._rows + count
        for column in columns.values():
            if len(column) < end:
                column.extend([None] * (end - len(column)))

    def table(self) -> pa.Table:
        arrays = [pa.array(self._meta[f.name], f.type) for f in METADATA_SCHEMA]
        fields = list(METADATA_SCHEMA)
        for columns in (self._outputs, self._inputs):
            for name, values in columns.items():
                arrays.append(pa.array(values, pa.string()))
                fields.append(pa.field(name, pa.string(), metadata=TEXT_FIELD))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
