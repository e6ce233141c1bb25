"""SageMaker data-capture records (JSON Lines, reference/sagemaker.md §7), laid out as rows.

One line of a capture file is one inference event::

    {"captureData": {
        "endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                           "data": "132,10,182.9", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                           "data": "0.0363977", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "f04a8538-...", "inferenceId": "42",
                       "inferenceTime": "2022-04-18T00:21:48Z"},
     "eventVersion": "0"}

:func:`parse_capture_record` checks and decodes one such object; :func:`record_rows` lays a record
out as table rows, **output values first, then input values** (SageMaker matches columns by
position and puts the prediction first, §3 and §9); :func:`capture_to_table` turns records into an
Arrow table.

Payload shapes that become rows (anything else is a :class:`DatasetError` naming the line):

* CSV (``encoding`` CSV, or BASE64 of a ``text/csv`` content type): one row per line of ``data``.
* JSON (``encoding`` JSON, or BASE64 of a JSON content type), where a *row* is a scalar (one value),
  a flat array of scalars (values by position), an object (values by name; a nested value is kept as
  its JSON text) or ``{"features": [...]}`` (SageMaker's built-in algorithms):
  - a row on its own, e.g. ``[1, 2.5, "a"]``, ``{"age": 41, "plan": "pro"}`` or ``0.93``;
  - an array of array/object rows (a batch request), e.g. ``[[1, 2], [3, 4]]``;
  - ``{"instances" | "inputs" | "predictions" | "outputs": [row, ...]}`` (TF Serving and SageMaker
    JSON): every element is one row, so ``{"predictions": [0.2, 0.9]}`` is two rows.

A batch record must hold as many output rows as input rows, with one exception: n input rows and a
single output row of n values (one prediction per instance on one line) give one value per row.

Columns are named ``_c0, _c1, ...`` by position in the whole row, except values a JSON object
named (then the dataset has a header). Records laid out by position must all have the same number
of output and input values, or the positional match with a baseline would silently shift.

Every cell is kept as text (JSON numbers as their JSON text, true/false as words) and typed per
column by :func:`modelmon.formats.text_types.infer_text_kind`, exactly as the CSV reader does, so a
capture and the CSV it came from profile alike.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeAlias, cast

import pyarrow as pa

from modelmon.errors import DatasetError
from modelmon.formats.json_values import JsonValue, compact_json, load_json
from modelmon.formats.text_types import convert_text, infer_text_kind

__all__ = [
    "CaptureLayout",
    "CapturePayload",
    "CaptureRecord",
    "CaptureRows",
    "capture_to_table",
    "parse_capture_record",
    "record_rows",
    "text_columns",
]

Encoding = Literal["CSV", "JSON", "BASE64"]
Cell: TypeAlias = "str | None"

_ENCODINGS: dict[str, Encoding] = {"CSV": "CSV", "JSON": "JSON", "BASE64": "BASE64"}
_WRAPPER_KEYS = ("instances", "inputs", "predictions", "outputs")
_SNIPPET = 80


@dataclass(frozen=True)
class CapturePayload:
    """One side (input or output) of a captured inference, decoded.

    ``value`` is a list of rows of fields for CSV, the parsed JSON value for JSON and the raw bytes
    for BASE64.
    """

    encoding: Encoding
    content_type: str
    value: list[list[str]] | JsonValue | bytes


@dataclass(frozen=True)
class CaptureRecord:
    """One captured inference event; ``line`` is its 1-based line in the capture file."""

    line: int
    event_id: str
    inference_id: str | None
    inference_time: datetime
    input: CapturePayload | None
    output: CapturePayload | None


@dataclass(frozen=True)
class CaptureRows:
    """A record laid out as table rows: output values first, then input values.

    ``names`` has one entry per value: a key where the payload named it, else ``_c<position>``.
    ``named`` says whether any value was named; a record that is not named is matched by position.
    """

    names: list[str]
    rows: list[list[Cell]]
    output_width: int
    input_width: int
    named: bool


# -- parsing one record ------------------------------------------------------------------------


def parse_capture_record(obj: object, line: int, *, path: str | None = None) -> CaptureRecord:
    """Check and decode one capture record (a parsed JSON line); errors name ``path``, ``line``."""
    top = _mapping(obj, "", "an object with captureData and eventMetadata", path, line)
    capture = _mapping(
        top.get("captureData"),
        "captureData",
        "an object with endpointInput and/or endpointOutput",
        path,
        line,
    )
    if "endpointInput" not in capture and "endpointOutput" not in capture:
        raise DatasetError(
            "the capture record holds neither an input nor an output",
            path=path,
            line=line,
            column="captureData",
            expected="endpointInput and/or endpointOutput",
            found=_keys(capture),
        )
    meta = _mapping(
        top.get("eventMetadata"),
        "eventMetadata",
        "an object with eventId and inferenceTime",
        path,
        line,
    )
    inference_id = meta.get("inferenceId")
    if inference_id is not None and not isinstance(inference_id, str):
        raise _field_error("eventMetadata.inferenceId", "a string", inference_id, path, line)
    return CaptureRecord(
        line=line,
        event_id=_string(meta.get("eventId"), "eventMetadata.eventId", path, line),
        inference_id=inference_id,
        inference_time=_timestamp(meta.get("inferenceTime"), path, line),
        input=_payload(capture.get("endpointInput"), "captureData.endpointInput", path, line),
        output=_payload(capture.get("endpointOutput"), "captureData.endpointOutput", path, line),
    )


def _payload(raw: object, where: str, path: str | None, line: int) -> CapturePayload | None:
    if raw is None:
        return None
    side = _mapping(raw, where, "an object with data and encoding", path, line)
    data = _string(side.get("data"), f"{where}.data", path, line)
    encoding = side.get("encoding")
    kind = _ENCODINGS.get(encoding.upper()) if isinstance(encoding, str) else None
    if kind is None:
        raise _field_error(f"{where}.encoding", "CSV, JSON or BASE64", encoding, path, line)
    content_type = side.get("observedContentType")
    content_type = content_type if isinstance(content_type, str) else ""
    if kind == "CSV":
        return CapturePayload(kind, content_type, _csv_rows(data))
    if kind == "JSON":
        return CapturePayload(kind, content_type, _json(data, f"{where}.data", path, line))
    try:
        decoded = base64.b64decode(data, validate=True)
    except binascii.Error as error:
        raise DatasetError(
            f"the payload is not valid base64 ({error})",
            path=path,
            line=line,
            column=f"{where}.data",
            found=_snippet(data),
        ) from error
    return CapturePayload(kind, content_type, decoded)


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _json(text: str, where: str, path: str | None, line: int) -> JsonValue:
    try:
        value = load_json(text)
    except UnicodeEncodeError as error:
        raise DatasetError(
            "the payload holds a lone surrogate escape (like \\ud800), not valid Unicode",
            path=path,
            line=line,
            column=where,
            found=_snippet(text),
        ) from error
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"the payload is not valid JSON ({error.msg} at character {error.pos + 1})",
            path=path,
            line=line,
            column=where,
            found=_snippet(text),
        ) from error
    return value


def _timestamp(raw: object, path: str | None, line: int) -> datetime:
    where = "eventMetadata.inferenceTime"
    text = _string(raw, where, path, line)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        expected = "an ISO-8601 time like 2022-04-18T00:21:48Z"
        raise _field_error(where, expected, text, path, line) from error
    # SageMaker writes UTC with a Z; a time without an offset is taken to be UTC as well.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _mapping(
    raw: object, where: str, expected: str, path: str | None, line: int
) -> dict[str, JsonValue]:
    if not isinstance(raw, dict):
        raise _field_error(where or None, expected, raw, path, line)
    return raw


def _string(raw: object, where: str, path: str | None, line: int) -> str:
    if not isinstance(raw, str):
        raise _field_error(where, "a string", raw, path, line)
    return raw


def _field_error(
    where: str | None, expected: str, found: object, path: str | None, line: int
) -> DatasetError:
    problem = "the capture record is not valid" if where is None else f"{where} is not valid"
    return DatasetError(
        problem, path=path, line=line, column=where, expected=expected, found=_describe(found)
    )


def _describe(value: object) -> str:
    if value is None:
        return "nothing (the key is missing or null)"
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    kind = names.get(type(value), "a number")
    if isinstance(value, dict):
        return f"{kind} with keys {_keys(value)}"
    return f"{kind}: {_snippet(json.dumps(value, ensure_ascii=False))}"


def _keys(mapping: dict[str, JsonValue]) -> str:
    return ", ".join(sorted(mapping)) or "no keys"


def _snippet(text: str) -> str:
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


# -- records as rows -----------------------------------------------------------------------------

_Side: TypeAlias = "tuple[list[str] | None, list[list[Cell]]]"  # names (None: positional), rows


def record_rows(record: CaptureRecord, *, path: str | None = None) -> CaptureRows:
    """Lay ``record`` out as rows of text cells: output values first, then input values."""
    out_names, out_rows = _side_rows(record.output, "endpointOutput", record.line, path)
    in_names, in_rows = _side_rows(record.input, "endpointInput", record.line, path)
    out_rows = _align(out_rows, in_rows, out_names is None, record.line, path)
    out_width = len(out_rows[0]) if out_rows else 0
    in_width = len(in_rows[0]) if in_rows else 0
    names = [
        *(out_names or _positions(0, out_width)),
        *(in_names or _positions(out_width, in_width)),
    ]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise DatasetError(
            "the output and the input both hold a value named the same",
            path=path,
            line=record.line,
            column=twice,
            expected="distinct names across output and input",
        )
    if not out_rows:
        rows = in_rows
    elif not in_rows:
        rows = out_rows
    else:
        rows = [out_row + in_row for out_row, in_row in zip(out_rows, in_rows, strict=True)]
    return CaptureRows(
        names, rows, out_width, in_width, named=out_names is not None or in_names is not None
    )


def _positions(start: int, width: int) -> list[str]:
    return [f"_c{index}" for index in range(start, start + width)]


def _align(
    out_rows: list[list[Cell]],
    in_rows: list[list[Cell]],
    positional: bool,
    line: int,
    path: str | None,
) -> list[list[Cell]]:
    if not out_rows or not in_rows or len(out_rows) == len(in_rows):
        return out_rows
    if positional and len(out_rows) == 1 and len(out_rows[0]) == len(in_rows):
        # A batch of n instances answered with n predictions on one line.
        return [[cell] for cell in out_rows[0]]
    raise DatasetError(
        "the output rows do not line up with the input rows",
        path=path,
        line=line,
        expected=f"one output row per input row ({len(in_rows)})",
        found=f"{len(out_rows)} output rows",
    )


def _side_rows(payload: CapturePayload | None, side: str, line: int, path: str | None) -> _Side:
    if payload is None:
        return None, []
    where = f"captureData.{side}.data"
    names, rows = _payload_rows(payload, where, line, path)
    widths = sorted({len(row) for row in rows})
    if names is None and len(widths) > 1:
        raise DatasetError(
            "the rows of the payload have different numbers of values",
            path=path,
            line=line,
            column=where,
            expected="as many values in every row",
            found=" and ".join(str(width) for width in widths) + " values",
        )
    return names, rows


def _payload_rows(payload: CapturePayload, where: str, line: int, path: str | None) -> _Side:
    if payload.encoding == "CSV":
        return None, _csv_cells(cast("list[list[str]]", payload.value))
    if isinstance(payload.value, bytes):
        text, is_csv = _base64_text(payload.value, payload.content_type, where, line, path)
        if is_csv:
            return None, _csv_cells(_csv_rows(text))
        value = _json(text, where, path, line)
    else:
        value = cast("JsonValue", payload.value)
    rows = _json_rows(value)
    if rows is None:
        raise DatasetError(
            "the JSON payload has a shape modelmon cannot lay out as rows",
            path=path,
            line=line,
            column=where,
            expected=(
                "a scalar, a flat array, an object of features, an array of those, "
                'or {"instances"|"inputs"|"predictions"|"outputs": [...]}'
            ),
            found=_snippet(json.dumps(value, ensure_ascii=False)),
        )
    return _named_or_positional(rows, where, line, path)


def _base64_text(
    data: bytes, content_type: str, where: str, line: int, path: str | None
) -> tuple[str, bool]:
    """The text of a BASE64 payload of a CSV or JSON content type, and whether it is CSV."""
    media = content_type.split(";", 1)[0].strip().lower()
    if "csv" in media or "json" in media:
        try:
            return data.decode("utf-8"), "csv" in media
        except UnicodeDecodeError:
            pass
    raise DatasetError(
        "a BASE64 payload cannot be read as columns",
        path=path,
        line=line,
        column=where,
        expected="UTF-8 text of a CSV or JSON content type",
        found=f"content type {content_type!r}" if content_type else "no content type",
    )


def _csv_cells(rows: list[list[str]]) -> list[list[Cell]]:
    # An empty CSV field is a missing value, as in the CSV reader.
    return [[field if field else None for field in row] for row in rows]


_Row: TypeAlias = "list[JsonValue] | dict[str, JsonValue]"


def _json_rows(value: JsonValue) -> list[_Row] | None:
    """The rows of a JSON payload (see the module docstring), or None for an unsupported shape."""
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if key in _WRAPPER_KEYS and isinstance(inner, list):
            return _every([_json_row(item, scalar_ok=True) for item in inner])
    if isinstance(value, list) and value and all(isinstance(item, list | dict) for item in value):
        return _every([_json_row(item, scalar_ok=False) for item in value])
    return _every([_json_row(value, scalar_ok=True)])


def _every(rows: list[_Row | None]) -> list[_Row] | None:
    present = [row for row in rows if row is not None]
    return present if present and len(present) == len(rows) else None


def _json_row(value: JsonValue, *, scalar_ok: bool) -> _Row | None:
    if isinstance(value, dict):
        features = value.get("features")
        if len(value) == 1 and isinstance(features, list) and _all_scalars(features):
            return features
        return value if value else None
    if isinstance(value, list):
        return value if value and _all_scalars(value) else None
    return [value] if scalar_ok else None


def _all_scalars(values: list[JsonValue]) -> bool:
    return not any(isinstance(value, list | dict) for value in values)


def _named_or_positional(rows: list[_Row], where: str, line: int, path: str | None) -> _Side:
    arrays = [row for row in rows if isinstance(row, list)]
    objects = [row for row in rows if isinstance(row, dict)]
    if len(arrays) == len(rows):
        return None, [[_cell(value) for value in row] for row in arrays]
    if len(objects) == len(rows):
        names = list(dict.fromkeys(key for row in objects for key in row))
        return names, [[_cell(row.get(name)) for name in names] for row in objects]
    raise DatasetError(
        "the JSON payload mixes rows of values and rows of named features",
        path=path,
        line=line,
        column=where,
        expected="all rows arrays or all rows objects",
    )


def _cell(value: JsonValue) -> Cell:
    if value is None or isinstance(value, str):
        return value
    # Numbers keep their JSON spelling (1 stays integral, 1.0 fractional); true/false are text.
    return compact_json(value)


# -- records as a table --------------------------------------------------------------------------


class CaptureLayout:
    """The columns of a capture dataset, grown record by record, with width checks.

    Records laid out by position must all have the same number of output and input values, or the
    positional match with a baseline would silently shift; the first such record sets the widths.
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.names: list[str] = []
        self.named = False
        self._known: set[str] = set()
        self._widths: tuple[int, int, str] | None = None  # output, input, where the first was

    def add(self, rows: CaptureRows, line: int) -> None:
        """Take the columns of one record; raise if its widths break the positional layout."""
        self.named = self.named or rows.named
        if not rows.named:
            self._check_widths(rows, line)
        for name in rows.names:
            if name not in self._known:
                self._known.add(name)
                self.names.append(name)

    def _check_widths(self, rows: CaptureRows, line: int) -> None:
        if self._widths is None:
            where = f"line {line}" + ("" if self.path is None else f" of {self.path}")
            self._widths = (rows.output_width, rows.input_width, where)
            return
        out_width, in_width, first = self._widths
        if (rows.output_width, rows.input_width) != (out_width, in_width):
            raise DatasetError(
                "the record has a different number of values than the records before it",
                path=self.path,
                line=line,
                expected=f"{out_width} output + {in_width} input values (as on {first})",
                found=f"{rows.output_width} output + {rows.input_width} input values",
            )


def text_columns(records: Sequence[CaptureRows], names: Sequence[str]) -> list[pa.Array]:
    """One string array per name over the rows of ``records`` (null where a record lacks it)."""
    columns: list[list[Cell]] = [[] for _ in names]
    for record in records:
        index = {name: position for position, name in enumerate(record.names)}
        for column, name in zip(columns, names, strict=True):
            position = index.get(name)
            if position is None:
                column.extend([None] * len(record.rows))
            else:
                column.extend(row[position] for row in record.rows)
    return [pa.array(column, pa.string()) for column in columns]


def capture_to_table(records: Iterable[CaptureRecord], *, path: str | None = None) -> pa.Table:
    """Lay ``records`` out as one typed table: output columns first, then input columns.

    Columns are named as in :class:`CaptureRows` and typed by :func:`infer_text_kind`
    (:mod:`modelmon.formats.text_types`).
    """
    layout = CaptureLayout(path)
    laid_out: list[CaptureRows] = []
    for record in records:
        rows = record_rows(record, path=path)
        layout.add(rows, record.line)
        laid_out.append(rows)
    arrays = text_columns(laid_out, layout.names)
    typed = [convert_text(array, infer_text_kind(array)) for array in arrays]
    return pa.Table.from_arrays(typed, names=layout.names)
