"""JSON Lines, and SageMaker capture files read as datasets, for
:func:`modelmon.formats.datasets.open_dataset`.

Both are read in blocks of whole lines, twice: once to check every line and settle each column's
type, then to build the batches. Well-formed JSON Lines blocks go through Arrow's parser; anything
it would read wrong (invalid UTF-8, two objects on a line, a key whose type changes) goes through
Python's, which also names the line of an error. Capture records are laid out as rows of text by
:mod:`modelmon.formats.capture_jsonl` and typed like CSV.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.json as pa_json

from modelmon.errors import DatasetError
from modelmon.formats._reading import (
    Opened,
    check_has_data,
    not_utf8,
    open_input,
    sliced,
    snippet,
)
from modelmon.formats.capture_jsonl import (
    CaptureLayout,
    CaptureRows,
    parse_capture_record,
    record_rows,
    text_columns,
)
from modelmon.formats.json_values import JsonValue, compact_json, load_json
from modelmon.formats.text_types import (
    ColumnKind,
    convert_text,
    infer_text_kind,
    kind_type,
    merge_kinds,
)

__all__ = ["JSON_LINES_SUFFIXES", "first_json_object", "is_capture", "open_capture", "open_jsonl"]

_JSON_BLOCK = 4 << 20  # bytes of whole lines per JSON Lines block
_JSON_LINE_MAX = 64 << 20
_PYTHON_ROWS = 16_384  # rows built in Python at a time (capture records)

_Scalar: TypeAlias = "bool | int | float | str | None"
_INT64 = range(-(2**63), 2**63)


@dataclass
class _JsonPlan:
    kinds: dict[str, ColumnKind] = field(default_factory=dict)  # in order of first appearance
    nested: pa.Schema | None = None  # for Arrow's fast path on the second read


def open_jsonl(path: Path, files: list[Path], batch_rows: int) -> Opened:
    """Check the JSON Lines ``files`` (``path`` is what was named) and type their columns."""
    plan = _JsonPlan()
    num_rows = 0
    for file in files:
        for first_line, block in _line_blocks(file):
            rows, kinds = _json_block_kinds(block, first_line, file)
            num_rows += rows
            for name, kind in kinds.items():
                plan.kinds[name] = merge_kinds(plan.kinds.get(name, "null"), kind)
    schema = pa.schema([(name, kind_type(kind)) for name, kind in plan.kinds.items()])
    check_has_data(schema, num_rows, str(path))
    plan.nested = _nested_schema(plan.kinds)
    return Opened(schema, num_rows, lambda: _read_jsonl(files, plan, schema, batch_rows))


def _line_blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """Blocks of whole lines (each ending in a newline), with the number of their first line."""
    with open_input(path) as stream:
        line = 1
        carry = b""
        while True:
            chunk = stream.read(_JSON_BLOCK)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            block, carry = data[:cut], data[cut:]
            if block:
                yield line, block
                line += block.count(b"\n")
            if len(carry) > _JSON_LINE_MAX:  # holding it all would break the memory bound
                raise DatasetError(
                    f"the line is longer than {_JSON_LINE_MAX >> 20} MiB",
                    path=path,
                    line=line,
                    expected="one JSON record per line (JSON Lines)",
                )
        if carry:
            yield line, carry + b"\n"


def _json_block_kinds(
    block: bytes, first_line: int, path: Path
) -> tuple[int, dict[str, ColumnKind]]:
    """Rows and the kind of each column in one block; Arrow's parser when it can, else Python's."""
    table = _arrow_json(block, None)
    if table is not None:
        found = {item.name: _arrow_kind(item.type) for item in table.schema}
        known = {name: kind for name, kind in found.items() if kind is not None}
        if len(known) == len(found):
            return table.num_rows, known
    rows, columns = _python_json(block, first_line, path)
    kinds: dict[str, ColumnKind] = {}
    for name, values in columns.items():
        kind: ColumnKind = "null"
        for value in values:
            kind = merge_kinds(kind, _value_kind(value))
        kinds[name] = kind
    return rows, kinds


def _arrow_json(block: bytes, nested: pa.Schema | None) -> pa.Table | None:
    """The block parsed by Arrow and flattened, or None when only Python can read it right.

    Arrow's reader is lenient where modelmon must not be (invalid UTF-8, two objects on one line,
    blank lines) and strict where modelmon is not (a key whose type changes): all of those go to
    the slower Python reader, which also finds the line of any error.
    """
    try:
        block.decode("utf-8")
        options = pa_json.ParseOptions(
            explicit_schema=nested, unexpected_field_behavior="error" if nested else "infer"
        )
        table = pa_json.read_json(io.BytesIO(block), parse_options=options)
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return None
    if table.num_rows != block.count(b"\n"):
        return None
    while any(pa.types.is_struct(item.type) for item in table.schema):
        table = table.flatten()
    names = table.schema.names
    return table if len(set(names)) == len(names) else None


def _arrow_kind(kind: pa.DataType) -> ColumnKind | None:
    if pa.types.is_null(kind):
        return "null"
    if pa.types.is_boolean(kind):
        return "bool"
    if pa.types.is_int64(kind):
        return "int"
    if pa.types.is_float64(kind):
        return "float"
    if pa.types.is_string(kind) or pa.types.is_temporal(kind):
        return "string"  # Arrow reads ISO-8601 strings as times; to JSON they are strings
    return None  # arrays: Python keeps them as JSON text


def _python_json(block: bytes, first_line: int, path: Path) -> tuple[int, dict[str, list[_Scalar]]]:
    """The block's rows, flattened, as columns of Python values (None where a key is absent)."""
    columns: dict[str, list[_Scalar]] = {}
    rows = 0
    for offset, raw in enumerate(block.split(b"\n")[:-1]):
        if not raw.strip():
            continue
        record = _json_object(raw, first_line + offset, path)
        for name, value in record.items():
            values = columns.get(name)
            if values is None:
                values = columns[name] = [None] * rows
            values.append(value)
        rows += 1
        for values in columns.values():
            if len(values) < rows:
                values.append(None)
    return rows, columns


def _json_value(raw: bytes, line: int, path: Path) -> JsonValue:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.end]
        raise not_utf8(path, line, bad, f"at byte {error.start + 1}") from error
    try:
        value = load_json(text)
    except UnicodeEncodeError as error:
        raise DatasetError(
            "the line holds a lone surrogate escape (like \\ud800), which is not valid Unicode",
            path=path,
            line=line,
            found=snippet(text.strip()),
        ) from error
    except json.JSONDecodeError as error:
        stripped = text.strip()
        hint = ""
        if line == 1 and (stripped.startswith("[") or stripped == "{"):
            hint = "; the file looks like one JSON document, but JSON Lines has one object per line"
        raise DatasetError(
            f"the line is not valid JSON ({error.msg} at character {error.pos + 1}){hint}",
            path=path,
            line=line,
            expected="one JSON object per line",
            found=snippet(stripped),
        ) from error
    return value


def _json_object(raw: bytes, line: int, path: Path) -> dict[str, _Scalar]:
    value = _json_value(raw, line, path)
    if not isinstance(value, dict):
        hint = " (write one object per line, not an array)" if isinstance(value, list) else ""
        raise DatasetError(
            f"the line is not a JSON object{hint}",
            path=path,
            line=line,
            expected="one JSON object per line",
            found=snippet(raw.decode("utf-8").strip()),
        )
    flat: dict[str, _Scalar] = {}
    _flatten(value, "", flat)
    return flat


def _flatten(value: dict[str, JsonValue], prefix: str, flat: dict[str, _Scalar]) -> None:
    for key, item in value.items():
        if isinstance(item, dict):
            _flatten(item, f"{prefix}{key}.", flat)
        elif isinstance(item, list):
            flat[prefix + key] = compact_json(item)
        else:
            flat[prefix + key] = item


def _value_kind(value: _Scalar) -> ColumnKind:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if value in _INT64 else "float"
    if isinstance(value, float):
        return "float"
    return "string"


def _nested_schema(kinds: dict[str, ColumnKind]) -> pa.Schema | None:
    """The nested schema whose flattening gives ``kinds``; None if the dotted names clash."""
    tree: dict[str, Any] = {}
    for name, kind in kinds.items():
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return None
        if leaf in node:
            return None
        node[leaf] = kind_type(kind)

    def fields(node: dict[str, Any]) -> list[pa.Field]:
        return [
            pa.field(key, pa.struct(fields(value)) if isinstance(value, dict) else value)
            for key, value in node.items()
        ]

    return pa.schema(fields(tree))


def _read_jsonl(
    files: list[Path], plan: _JsonPlan, schema: pa.Schema, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    for file in files:
        for first_line, block in _line_blocks(file):
            for batch in _json_batches(block, first_line, file, plan, schema):
                yield from sliced(batch, batch_rows)


def _json_batches(
    block: bytes, first_line: int, path: Path, plan: _JsonPlan, schema: pa.Schema
) -> list[pa.RecordBatch]:
    if plan.nested is not None:
        table = _arrow_json(block, plan.nested)
        if table is not None and set(table.schema.names) == set(schema.names):
            table = table.select(schema.names)
            if table.schema.equals(schema):
                return table.to_batches()  # type: ignore[no-any-return]
    rows, columns = _python_json(block, first_line, path)
    arrays = [_json_array(columns.get(name), plan.kinds[name], rows) for name in schema.names]
    return [pa.RecordBatch.from_arrays(arrays, schema=schema)]


def _json_array(values: list[_Scalar] | None, kind: ColumnKind, rows: int) -> pa.Array:
    if values is None:
        return pa.nulls(rows, kind_type(kind))
    if kind == "string":
        values = [v if v is None or isinstance(v, str) else compact_json(v) for v in values]
    elif kind == "float":
        values = [None if v is None else float(v) for v in values]
    return pa.array(values, kind_type(kind))


# -- SageMaker capture ---------------------------------------------------------------------------


def open_capture(path: Path, files: list[Path], batch_rows: int) -> Opened:
    """Check the SageMaker capture ``files`` (``path`` is what was named), lay their records out
    as rows of text (:func:`modelmon.formats.capture_jsonl.record_rows`) and type the columns."""
    layout = CaptureLayout()
    kinds: dict[str, ColumnKind] = {}
    num_rows = 0
    for file in files:
        layout.path = str(file)
        for chunk in _capture_chunks(file, layout):
            num_rows += sum(len(rows.rows) for rows in chunk)
            for name, array in zip(layout.names, text_columns(chunk, layout.names), strict=True):
                kinds[name] = infer_text_kind(array, kinds.get(name, "null"))
    schema = pa.schema([(name, kind_type(kinds[name])) for name in layout.names])
    check_has_data(schema, num_rows, str(path))

    def read() -> Iterator[pa.RecordBatch]:
        for file in files:
            for chunk in _capture_chunks(file, None):
                arrays = text_columns(chunk, schema.names)
                columns = zip(arrays, schema.names, strict=True)
                typed = [convert_text(array, kinds[name]) for array, name in columns]
                yield from sliced(pa.RecordBatch.from_arrays(typed, schema=schema), batch_rows)

    return Opened(schema, num_rows, read, layout.named)


def _capture_chunks(path: Path, layout: CaptureLayout | None) -> Iterator[list[CaptureRows]]:
    """Records of ``path`` laid out as rows, a few thousand rows at a time; ``layout`` checks
    and collects the columns on the first read."""
    chunk: list[CaptureRows] = []
    pending = 0
    for first_line, block in _line_blocks(path):
        for offset, raw in enumerate(block.split(b"\n")[:-1]):
            if not raw.strip():
                continue
            line = first_line + offset
            record = parse_capture_record(_json_value(raw, line, path), line, path=str(path))
            rows = record_rows(record, path=str(path))
            if layout is not None:
                layout.add(rows, line)
            chunk.append(rows)
            pending += len(rows.rows)
            if pending >= _PYTHON_ROWS:
                yield chunk
                chunk, pending = [], 0
    if chunk:
        yield chunk


JSON_LINES_SUFFIXES = (".jsonl", ".json", ".ndjson")


def first_json_object(path: Path) -> dict[str, JsonValue] | None:
    """The first non-blank line of a JSON Lines file, if it is an object; else None.

    Raises ValueError when that line is not JSON (or not UTF-8): each caller decides whether a
    broken first line means "not this kind of file" or "read it and report the line".
    """
    with open_input(path) as stream:
        head: bytes = stream.read(1 << 20)
    first = next((line for line in head.split(b"\n") if line.strip()), b"")
    value = json.loads(first)
    return value if isinstance(value, dict) else None


def is_capture(path: Path) -> bool:
    """Whether the first line of a JSON Lines file is a SageMaker capture record."""
    try:
        first = first_json_object(path)
    except ValueError:
        return False
    return first is not None and "captureData" in first
