"""Open any tabular input as a stream of Arrow record batches, in bounded memory.

:func:`open_dataset` takes a path (a file, or a directory read recursively in sorted order, skipping
names that start with ``.`` or ``_``), a pyarrow Table or RecordBatch, or a pandas or polars
DataFrame, and returns a :class:`Dataset`: a schema, a description of the source, a row count and
:meth:`Dataset.batches`, which reads the data again on every call, at most ``batch_rows`` rows at a
time.

Formats, from the file name unless ``format`` says otherwise:

* ``csv``: ``.csv``, and ``.tsv`` read tab-separated; also compressed (``.gz``, ``.bz2``, ``.zst``).
* ``parquet``: ``.parquet``, ``.pq``; streamed row group by row group.
* ``jsonl``: ``.jsonl``, ``.ndjson``, ``.json`` (one JSON object per line), also compressed.
* ``sagemaker-capture``: SageMaker data-capture JSON Lines (see ``capture_jsonl``); chosen without
  asking when the first line of a JSON Lines file is a capture record.

Text formats (CSV, JSON Lines, capture) carry no schema, so :func:`open_dataset` reads them through
once to check every line and settle one type per column, then :meth:`Dataset.batches` reads them
again with those types. Every problem therefore surfaces at open time, as a :class:`DatasetError`
naming the file, the line and the column, before a profile is half computed.

Column types:

* CSV and capture values are text, typed per column over all rows (``capture_jsonl.
  infer_text_kind``): ``int64`` if every value is a decimal integer that fits, ``float64`` if every
  value is a decimal number (sign, exponent, nan and inf allowed), ``string`` otherwise (a mixed
  column is text everywhere, so the profiler counts its numeric values; values with spaces around
  them stay text), ``null`` if the column is empty. Only an empty field is missing: "NA" is text.
* JSON Lines keep JSON's types: ``bool``, ``int64``, ``float64``, ``string``, ``null``. Across
  lines, int and float give float64 and any other mix gives string (non-strings as their JSON text).
  Nested objects are flattened into dotted names (``{"a": {"b": 1}}`` is column ``a.b``) at every
  depth; arrays are kept as their JSON text.
* Parquet and in-memory tables keep their types, except that dictionary columns are decoded and
  every string flavour (large, view) becomes ``string``. Parquet files in a directory are unified by
  column name: a column missing from a file is null there; int and float give float64; another mix
  of plain types gives string.

CSV header detection (``csv_header=None``; True/False force it): the first row is a header when its
fields are (1) all non-numeric and non-empty, except that the first may be empty (pandas writes an
unnamed index that way), (2) pairwise distinct, and (3) none of them recurs in its own column in the
next 50 rows. A file with no header gets columns ``_c0, _c1, ...`` and ``has_header=False``: it must
be matched with a baseline by position. Files in a directory all follow the first file's answer.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats.capture_jsonl import (
    CaptureLayout,
    CaptureRows,
    ColumnKind,
    JsonValue,
    convert_text,
    infer_text_kind,
    is_number_text,
    kind_type,
    merge_kinds,
    parse_capture_record,
    record_rows,
    text_columns,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = ["FORMATS", "Dataset", "DatasetFormat", "DatasetSource", "open_dataset"]

DatasetFormat = Literal["csv", "parquet", "jsonl", "sagemaker-capture"]
FORMATS: tuple[DatasetFormat, ...] = get_args(DatasetFormat)

_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}  # of text files, by extension
_SUFFIXES: dict[str, DatasetFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_SNIFF_ROWS = 50
_SNIFF_CHARS = 16 << 20
_CSV_BLOCK = 1 << 20  # bytes Arrow parses at a time (its default); grows for a larger row
_CSV_BLOCK_MAX = 1 << 30
_JSON_BLOCK = 4 << 20  # bytes of whole lines per JSON Lines block
_JSON_LINE_MAX = 64 << 20
_PYTHON_ROWS = 16_384  # rows built in Python at a time (capture records)
_SNIPPET = 80


@dataclass(frozen=True)
class DatasetSource:
    """What was opened, for messages and reports.

    ``has_header`` is False for header-less CSV and for SageMaker capture laid out by position: the
    columns are then named ``_c0, _c1, ...`` and must be matched with a baseline by position.
    """

    description: str
    format: str
    has_header: bool


class Dataset:
    """A tabular dataset read as record batches of at most ``batch_rows`` rows.

    Every batch has exactly :attr:`schema`. Iterating twice reads the source twice.
    """

    def __init__(
        self,
        source: DatasetSource,
        schema: pa.Schema,
        num_rows: int,
        read: Callable[[], Iterator[pa.RecordBatch]],
    ) -> None:
        self.source = source
        self.schema = schema
        self.num_rows = num_rows
        self._read = read

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Read the data from the start, one record batch at a time."""
        return self._read()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.batches()

    def __repr__(self) -> str:
        return (
            f"Dataset({self.source.description!r}, format={self.source.format!r}, "
            f"columns={len(self.schema)}, rows={self.num_rows})"
        )


def open_dataset(
    data: str | os.PathLike[str] | pa.Table | pa.RecordBatch | pd.DataFrame | pl.DataFrame,
    *,
    format: DatasetFormat | None = None,
    csv_header: bool | None = None,
    batch_rows: int = 262_144,
) -> Dataset:
    """Open ``data`` for streaming; see the module docstring for formats, types and headers.

    ``format`` overrides the file extension (it is ignored for in-memory data); ``csv_header``
    forces whether CSV files start with a header (None: detect). Raises :class:`DatasetError` when
    the data cannot be read and :class:`ConfigError` for a wrong argument.
    """
    _check_arguments(format, csv_header, batch_rows)
    if isinstance(data, str | os.PathLike):
        return _open_path(Path(data), format, csv_header, batch_rows)
    table, description, kind = _arrow_table(data)
    return _in_memory(table, description, kind, batch_rows)


def _check_arguments(format: object, csv_header: object, batch_rows: object) -> None:
    if format is not None and format not in FORMATS:
        choices = ", ".join(repr(name) for name in FORMATS)
        raise ConfigError(
            f"The 'format' parameter of open_dataset must be one of {choices} or None. "
            f"Got {format!r} instead."
        )
    if csv_header is not None and not isinstance(csv_header, bool):
        raise ConfigError(
            "The 'csv_header' parameter of open_dataset must be True, False or None. "
            f"Got {csv_header!r} instead."
        )
    if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:
        raise ConfigError(
            "The 'batch_rows' parameter of open_dataset must be an int >= 1. "
            f"Got {batch_rows!r} instead."
        )


# -- in-memory tables ----------------------------------------------------------------------------


def _arrow_table(data: object) -> tuple[pa.Table, str, str]:
    """The data as an Arrow table, its description and its format name."""
    if isinstance(data, pa.Table):
        return data, "pyarrow Table", "arrow"
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]), "pyarrow RecordBatch", "arrow"
    # pandas and polars are optional: recognise their frames by class, without importing them.
    if _is_frame(data, "pandas"):
        return _from_pandas(data), "pandas DataFrame", "pandas"
    if _is_frame(data, "polars"):
        return _from_polars(data), "polars DataFrame", "polars"
    raise ConfigError(
        "The 'data' parameter of open_dataset must be a path, a pyarrow Table or RecordBatch, "
        f"or a pandas or polars DataFrame. Got {type(data).__module__}.{type(data).__name__} "
        "instead."
    )


def _is_frame(data: object, package: str) -> bool:
    return any(
        kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] == package
        for kind in type(data).__mro__
    )


def _from_pandas(frame: Any) -> pa.Table:
    names = [str(name) for name in frame.columns]
    _check_unique(names, "pandas DataFrame")
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    # An object column mixing types (say ints and strings) has no Arrow type: keep it as text,
    # as a mixed CSV column is, so the profiler can count its numeric values.
    arrays = []
    for position in range(len(names)):
        series = frame.iloc[:, position]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            missing = series.isna()
            text = [
                None if gone else str(value) for value, gone in zip(series, missing, strict=True)
            ]
            arrays.append(pa.array(text, pa.string()))
    return pa.Table.from_arrays(arrays, names=names)


def _from_polars(frame: Any) -> pa.Table:
    try:
        return frame.to_arrow()
    except Exception as error:  # polars raises its own exception types for unconvertible dtypes
        raise DatasetError(
            f"the polars DataFrame cannot be converted to Arrow ({error})", path="polars DataFrame"
        ) from error


def _check_unique(names: Sequence[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DatasetError(
                "two columns have the same name",
                path=where,
                column=name,
                expected="distinct column names",
            )
        seen.add(name)


def _in_memory(table: pa.Table, description: str, kind: str, batch_rows: int) -> Dataset:
    schema = _plain_schema(table.schema)
    _check_has_data(schema, table.num_rows, description)
    if schema != table.schema:
        table = pa.Table.from_arrays(
            [
                column.cast(target.type)
                for column, target in zip(table.columns, schema, strict=True)
            ],
            schema=schema,
        )

    def read() -> Iterator[pa.RecordBatch]:
        for batch in table.to_batches(max_chunksize=batch_rows):
            if batch.num_rows:
                yield batch

    return Dataset(DatasetSource(description, kind, True), schema, table.num_rows, read)


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` without metadata, dictionaries decoded and every string flavour as string."""
    return pa.schema([pa.field(item.name, _plain_type(item.type)) for item in schema])


def _plain_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(kind):
        return _plain_type(kind.value_type)
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def _check_has_data(schema: pa.Schema, num_rows: int, where: str) -> None:
    if num_rows == 0:
        raise DatasetError("the dataset has no rows", path=where)
    if len(schema) == 0:
        raise DatasetError("the dataset has no columns", path=where)


# -- paths ---------------------------------------------------------------------------------------


def _open_path(
    path: Path, format: DatasetFormat | None, csv_header: bool | None, batch_rows: int
) -> Dataset:
    files, chosen = _resolve(path, format)
    if chosen == "parquet":
        return _open_parquet(path, files, batch_rows)
    if chosen == "csv":
        return _open_csv(path, files, csv_header, batch_rows)
    if chosen == "jsonl":
        return _open_jsonl(path, files, batch_rows)
    return _open_capture(path, files, batch_rows)


def _resolve(path: Path, format: DatasetFormat | None) -> tuple[list[Path], DatasetFormat]:
    """The files to read, in order, and their format."""
    if path.is_dir():
        files, chosen = _directory_files(path, format)
    elif path.exists():
        files, named = [path], format or _format_of(path)
        if named is None:
            raise DatasetError(
                "cannot tell the format from the file name",
                path=path,
                expected=f"a name ending in {_suffix_list()}, or --dataset-format "
                f"({'|'.join(FORMATS)})",
                found=f"{''.join(path.suffixes) or 'no extension'!r}",
            )
        chosen = named
    else:
        raise _missing(path)
    if format is None and chosen == "jsonl" and _is_capture(files[0]):
        chosen = "sagemaker-capture"
    return files, chosen


def _directory_files(
    directory: Path, format: DatasetFormat | None
) -> tuple[list[Path], DatasetFormat]:
    candidates = sorted(
        item
        for item in directory.rglob("*")
        if item.is_file()
        and not any(part.startswith((".", "_")) for part in item.relative_to(directory).parts)
    )
    formats = sorted({found for item in candidates if (found := _format_of(item)) is not None})
    if format is None and len(formats) > 1:
        raise DatasetError(
            "the directory holds files of several formats",
            path=directory,
            expected="files of one format, or --dataset-format to pick one",
            found=", ".join(formats),
        )
    chosen = format or (formats[0] if formats else None)
    wanted = "jsonl" if chosen == "sagemaker-capture" else chosen
    files = [item for item in candidates if wanted and _format_of(item) == wanted]
    if chosen is None or not files:
        others = ", ".join(repr(item.name) for item in candidates[:3]) or "no files at all"
        raise DatasetError(
            "the directory holds no data files" + (f" of format {chosen}" if chosen else ""),
            path=directory,
            expected=f"files ending in {_suffix_list(wanted)} (searched recursively)",
            found=others + (f" and {len(candidates) - 3} more" if len(candidates) > 3 else ""),
        )
    return files, chosen


def _format_of(path: Path) -> DatasetFormat | None:
    suffix, compression = _suffixes(path)
    found = _SUFFIXES.get(suffix)
    if found == "parquet" and compression is not None:
        return None  # Parquet compresses inside the file; a .parquet.gz is not readable as is
    return found


def _suffixes(path: Path) -> tuple[str, str | None]:
    """The format suffix of ``path`` (lower case) and its compression codec, if any."""
    stem, suffix = os.path.splitext(path.name.lower())
    compression = _COMPRESSIONS.get(suffix)
    if compression is not None:
        suffix = os.path.splitext(stem)[1]
    return suffix, compression


def _suffix_list(format: str | None = None) -> str:
    suffixes = [suffix for suffix, found in _SUFFIXES.items() if format in (None, found)]
    text = ", ".join(suffixes)
    compressed = ", ".join(_COMPRESSIONS)
    return text if format == "parquet" else f"{text} (optionally {compressed})"


def _missing(path: Path) -> DatasetError:
    parent = path.absolute().parent
    if not parent.is_dir():
        return DatasetError(f"no such file, nor its directory {parent}", path=path)
    close = difflib.get_close_matches(path.name, [item.name for item in parent.iterdir()], n=3)
    hint = f"; did you mean {' or '.join(repr(name) for name in close)}?" if close else ""
    return DatasetError(f"no such file in the directory {parent}{hint}", path=path)


@contextmanager
def _input(path: Path) -> Iterator[Any]:
    """A binary stream of the file, decompressed by extension; OS errors while opening or reading
    it (a bad gzip stream, a vanished disk) become DatasetErrors."""
    try:
        stream = pa.input_stream(str(path), compression=_suffixes(path)[1])
    except OSError as error:
        raise DatasetError(f"cannot open the file ({_reason(error)})", path=path) from error
    with stream:
        try:
            yield stream
        except OSError as error:
            raise DatasetError(f"cannot read the file ({_reason(error)})", path=path) from error


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _readable(text: str) -> str:
    """``text`` (maybe holding undecodable bytes as surrogates) safe to print, shortened."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


def _sliced(batch: pa.RecordBatch, batch_rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, batch_rows):
        yield batch.slice(start, batch_rows)


# -- Parquet ---------------------------------------------------------------------------------------


def _open_parquet(path: Path, files: list[Path], batch_rows: int) -> Dataset:
    schema: pa.Schema | None = None
    origin: dict[str, Path] = {}
    num_rows = 0
    for file in files:
        with _parquet(file) as parquet:
            file_schema = _plain_schema(parquet.schema_arrow)
            num_rows += parquet.metadata.num_rows
        schema = (
            file_schema if schema is None else _unify_parquet(schema, file_schema, file, origin)
        )
        for name in file_schema.names:
            origin.setdefault(name, file)
    assert schema is not None
    _check_has_data(schema, num_rows, str(path))
    final = schema

    def read() -> Iterator[pa.RecordBatch]:
        for file in files:
            with _parquet(file) as parquet:
                try:
                    for batch in parquet.iter_batches(batch_size=batch_rows):
                        if batch.num_rows:
                            yield _conform(batch, final)
                except (OSError, pa.ArrowException) as error:
                    raise DatasetError(
                        f"the Parquet file is damaged ({_reason(error)})", path=file
                    ) from error

    return Dataset(DatasetSource(str(path), "parquet", True), schema, num_rows, read)


@contextmanager
def _parquet(file: Path) -> Iterator[Any]:
    try:
        # pre_buffer would read ahead every row group of the file: 1.9 GB of RSS at 10M rows.
        parquet = pq.ParquetFile(str(file), pre_buffer=False)
    except FileNotFoundError as error:
        raise _missing(file) from error
    except OSError as error:
        raise DatasetError(f"cannot open the file ({_reason(error)})", path=file) from error
    except pa.ArrowException as error:
        empty = file.stat().st_size == 0
        raise DatasetError(
            "the file is empty" if empty else "not a Parquet file",
            path=file,
            expected="a Parquet file (it ends with the magic bytes PAR1)",
            found="0 bytes" if empty else _reason(error),
        ) from error
    with parquet:
        yield parquet


def _unify_parquet(
    schema: pa.Schema, other: pa.Schema, file: Path, origin: dict[str, Path]
) -> pa.Schema:
    fields = {item.name: item.type for item in schema}
    for item in other:
        known = fields.get(item.name)
        if known is None:
            fields[item.name] = item.type
            continue
        unified = _common_type(known, item.type)
        if unified is None:
            raise DatasetError(
                "the column has another type than in an earlier file",
                path=file,
                column=item.name,
                expected=f"{known} (as in {origin[item.name]})",
                found=str(item.type),
            )
        fields[item.name] = unified
    return pa.schema(list(fields.items()))


def _common_type(first: pa.DataType, second: pa.DataType) -> pa.DataType | None:
    if first == second or pa.types.is_null(second):
        return first
    if pa.types.is_null(first):
        return second
    if pa.types.is_integer(first) and pa.types.is_integer(second):
        return pa.int64()
    if _is_number(first) and _is_number(second):
        return pa.float64()
    if _is_plain(first) and _is_plain(second):
        return pa.string()
    return None


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _is_plain(kind: pa.DataType) -> bool:
    return bool(
        _is_number(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_temporal(kind)
        or pa.types.is_decimal(kind)
    )


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly ``schema``: columns cast, reordered, missing ones null."""
    if batch.schema == schema:
        return batch
    names = batch.schema.names
    arrays = []
    for target in schema:
        if target.name in names:
            array = batch.column(names.index(target.name))
            arrays.append(array if array.type == target.type else array.cast(target.type))
        else:
            arrays.append(pa.nulls(batch.num_rows, target.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# -- CSV -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CsvFile:
    path: Path
    delimiter: str
    header_lines: int  # physical lines up to the end of the header (0: no header)


@dataclass
class _CsvPlan:
    names: list[str]
    has_header: bool
    header_line: int  # where the first file's header (or first row) is, for messages
    files: list[_CsvFile] = field(default_factory=list)
    kinds: list[ColumnKind] = field(default_factory=list)
    block_size: int = _CSV_BLOCK


@dataclass(frozen=True)
class _Sniff:
    first: list[str]
    rest: list[list[str]]
    first_line: int  # line the first row starts on
    header_lines: int  # line the first row ends on


def _open_csv(path: Path, files: list[Path], csv_header: bool | None, batch_rows: int) -> Dataset:
    plan: _CsvPlan | None = None
    for file in files:
        delimiter = "\t" if _suffixes(file)[0] == ".tsv" else ","
        sniff = _sniff_csv(file, delimiter)
        if sniff is None:  # an empty file adds no rows
            continue
        if plan is None:
            plan = _csv_plan(file, sniff, csv_header)
        else:
            _check_same_header(plan, file, sniff)
        plan.files.append(_CsvFile(file, delimiter, sniff.header_lines if plan.has_header else 0))
    if plan is None:
        raise DatasetError("the dataset has no rows: " + _no_rows(files, "is empty"), path=path)
    num_rows = sum(_scan_csv(plan, file) for file in plan.files)
    if num_rows == 0:
        detail = _no_rows(files, f"holds only a header line (line {plan.header_line})")
        raise DatasetError(
            f"the dataset has no rows: {detail}; if that line is data, pass csv_header=False "
            "(--no-csv-header)",
            path=path,
        )
    final = plan
    schema = pa.schema(
        [(name, kind_type(kind)) for name, kind in zip(plan.names, plan.kinds, strict=True)]
    )
    source = DatasetSource(str(path), "csv", plan.has_header)
    return Dataset(source, schema, num_rows, lambda: _read_csv(final, schema, batch_rows))


def _no_rows(files: list[Path], what: str) -> str:
    return f"the file {what}" if len(files) == 1 else f"each of the {len(files)} files {what}"


@contextmanager
def _text_file(path: Path) -> Iterator[io.TextIOWrapper]:
    """The file as text for Python's csv module: undecodable bytes kept as surrogates."""
    # The csv module refuses fields over 128 KiB (a process-wide limit); Arrow reads them.
    limit = csv.field_size_limit(_CSV_BLOCK_MAX)
    try:
        with _input(path) as stream:
            yield io.TextIOWrapper(
                stream, encoding="utf-8-sig", errors="surrogateescape", newline=""
            )
    finally:
        csv.field_size_limit(limit)


def _sniff_csv(path: Path, delimiter: str) -> _Sniff | None:
    """The first row and up to 50 more, as Python's csv module reads them; None if no rows."""
    with _text_file(path) as text:
        reader = csv.reader(_head_lines(text, _SNIFF_CHARS), delimiter=delimiter)
        rows: list[list[str]] = []
        first_line = header_lines = 0
        start = 1
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if not row:
                    continue
                if not rows:
                    first_line, header_lines = line, reader.line_num
                rows.append(row)
                if len(rows) > _SNIFF_ROWS:
                    break
        except csv.Error as error:
            raise DatasetError(
                f"malformed CSV ({error})", path=path, line=reader.line_num
            ) from error
    if not rows:
        return None
    return _Sniff(rows[0], rows[1:], first_line, header_lines)


def _head_lines(text: io.TextIOWrapper, limit: int) -> Iterator[str]:
    """The lines of ``text`` up to ``limit`` characters: an unclosed quote on line 2 of a huge
    file must not make the sniffer read all of it."""
    while limit > 0:
        line = text.readline(limit)
        if not line:
            return
        limit -= len(line)
        yield line


def _csv_plan(file: Path, sniff: _Sniff, csv_header: bool | None) -> _CsvPlan:
    has_header = _is_header(sniff.first, sniff.rest) if csv_header is None else csv_header
    if not has_header:
        names = [f"_c{index}" for index in range(len(sniff.first))]
        return _CsvPlan(names, False, sniff.first_line, kinds=["null"] * len(names))
    for position, name in enumerate(sniff.first):
        bad = _undecodable(name)
        if bad is not None:
            raise _utf8_error(file, sniff.first_line, f"_c{position}", bad, name)
    names = [name or f"_c{position}" for position, name in enumerate(sniff.first)]
    for position, name in enumerate(names):
        if name in names[:position]:
            raise DatasetError(
                "the header names two columns the same",
                path=file,
                line=sniff.first_line,
                column=name,
                expected="distinct column names",
                found=f"{name!r} as columns {names.index(name) + 1} and {position + 1}",
            )
    return _CsvPlan(names, True, sniff.first_line, kinds=["null"] * len(names))


def _is_header(first: list[str], rest: list[list[str]]) -> bool:
    """The header rule of the module docstring."""
    if any(not name for name in first[1:]) or any(is_number_text(name) for name in first):
        return False
    if len(set(first)) != len(first):
        return False
    return not any(
        position < len(row) and row[position] == name
        for row in rest
        for position, name in enumerate(first)
        if name
    )


def _check_same_header(plan: _CsvPlan, file: Path, sniff: _Sniff) -> None:
    if not plan.has_header:
        return  # Arrow checks the number of fields of every row
    names = [name or f"_c{position}" for position, name in enumerate(sniff.first)]
    if names != plan.names:
        raise DatasetError(
            "the header differs from the first file's",
            path=file,
            line=sniff.first_line,
            expected=f"{', '.join(plan.names)} (as in {plan.files[0].path})",
            found=", ".join(names),
        )


def _csv_reader(source: Any, plan: _CsvPlan, file: _CsvFile) -> Any:
    # Every column is read as text and typed by modelmon's rules (capture_jsonl.infer_text_kind):
    # Arrow would otherwise fix each type from the first block and fail on a later one.
    return pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(
            column_names=plan.names, skip_rows=file.header_lines, block_size=plan.block_size
        ),
        parse_options=pa_csv.ParseOptions(delimiter=file.delimiter, newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in plan.names},
            null_values=[""],
            strings_can_be_null=True,
        ),
    )


class _QuoteCounter:
    """A read-only Python stream that counts the double quotes passing through.

    Arrow reads an unterminated quote as a value running to the end of the file, without error; an
    odd number of quotes in the file is the cheap sign that sends us looking for one. Arrow also
    reads a Python stream block by block (a peak near 10 MB), where it reads far ahead of a native
    file (45 MB and more), at the same speed: both reads of a CSV file go through this class.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.quotes = 0
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self.quotes += data.count(b'"')
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _scan_csv(plan: _CsvPlan, file: _CsvFile) -> int:
    """Read ``file`` once as text: check it and widen ``plan.kinds``; the number of rows."""
    while True:
        try:
            with _input(file.path) as stream:
                counter = _QuoteCounter(stream)
                num_rows = 0
                for batch in _csv_reader(counter, plan, file):
                    plan.kinds = [
                        infer_text_kind(column, kind)
                        for column, kind in zip(batch.columns, plan.kinds, strict=True)
                    ]
                    num_rows += batch.num_rows
        except pa.ArrowInvalid as error:
            if "straddling" in str(error) and plan.block_size < _CSV_BLOCK_MAX:
                plan.block_size *= 4  # one row is larger than a block: read again, larger
                continue
            raise _csv_problem(plan, file, error) from error
        if counter.quotes % 2:
            problem = _locate_csv_problem(plan, file, report_quoting=False)
            if problem is not None:
                raise problem
        return num_rows


def _csv_problem(plan: _CsvPlan, file: _CsvFile, error: pa.ArrowInvalid) -> DatasetError:
    found = _locate_csv_problem(plan, file, report_quoting=True)
    if found is not None:
        return found
    return DatasetError(f"cannot read the CSV file ({_reason(error)})", path=file.path)


def _locate_csv_problem(
    plan: _CsvPlan, file: _CsvFile, *, report_quoting: bool
) -> DatasetError | None:
    """The first bad line of ``file``, found by reading it with Python's csv module.

    Arrow's errors do not say where; this runs only once Arrow has failed (or quotes are odd).
    ``report_quoting`` also reports quoting Arrow tolerates, like text after a closing quote.
    """
    expected = len(plan.names)
    with _text_file(file.path) as text:
        reader = csv.reader(text, delimiter=file.delimiter, strict=True)
        start = 1
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if not row or reader.line_num <= file.header_lines:
                    continue
                for position, value in enumerate(row):
                    bad = _undecodable(value)
                    if bad is not None:
                        name = plan.names[position] if position < expected else None
                        return _utf8_error(file.path, line, name, bad, value)
                if len(row) != expected:
                    return _width_error(plan, file, line, row)
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                return DatasetError(
                    "a quoted field is never closed",
                    path=file.path,
                    line=start,
                    expected='a closing " before the end of the file',
                    found="the field opened here runs to the end of the file",
                )
            if report_quoting:
                return DatasetError(f"malformed CSV ({error})", path=file.path, line=start)
    return None


def _width_error(plan: _CsvPlan, file: _CsvFile, line: int, row: list[str]) -> DatasetError:
    where = "in the header" if plan.has_header else f"on line {plan.header_line}"
    if file.path != plan.files[0].path:
        where += f" of {plan.files[0].path}"
    return DatasetError(
        "the row has the wrong number of fields",
        path=file.path,
        line=line,
        expected=f"{len(plan.names)} fields, as {where}",
        found=f"{len(row)} fields: {_readable(file.delimiter.join(row))}",
    )


_SURROGATES = re.compile("[\udc80-\udcff]+")


def _undecodable(text: str) -> bytes | None:
    """The first run of bytes that were not UTF-8 (kept as surrogates when decoding), if any."""
    match = _SURROGATES.search(text)
    return None if match is None else match.group().encode("utf-8", "surrogateescape")


def _utf8_error(path: Path, line: int, column: str | None, bad: bytes, value: str) -> DatasetError:
    return DatasetError(
        "the file is not valid UTF-8; re-save it as UTF-8",
        path=path,
        line=line,
        column=column,
        expected="UTF-8 text",
        found=f"the bytes {bad!r} in {_readable(value)}",
    )


def _read_csv(plan: _CsvPlan, schema: pa.Schema, batch_rows: int) -> Iterator[pa.RecordBatch]:
    for file in plan.files:
        try:
            with _input(file.path) as stream:
                for batch in _csv_reader(_QuoteCounter(stream), plan, file):
                    columns = zip(batch.columns, plan.kinds, strict=True)
                    arrays = [convert_text(column, kind) for column, kind in columns]
                    typed = pa.RecordBatch.from_arrays(arrays, schema=schema)
                    yield from _sliced(typed, batch_rows)
        except pa.ArrowException as error:
            # It was read without error when opened: it changed since.
            raise DatasetError(
                f"cannot read the file any more ({_reason(error)}); did it change?", path=file.path
            ) from error


# -- JSON Lines ----------------------------------------------------------------------------------

_Scalar: TypeAlias = "bool | int | float | str | None"
_INT64 = range(-(2**63), 2**63)


@dataclass
class _JsonPlan:
    kinds: dict[str, ColumnKind] = field(default_factory=dict)  # in order of first appearance
    nested: pa.Schema | None = None  # for Arrow's fast path on the second read


def _open_jsonl(path: Path, files: list[Path], batch_rows: int) -> Dataset:
    plan = _JsonPlan()
    num_rows = 0
    for file in files:
        for first_line, block in _line_blocks(file):
            rows, kinds = _json_block_kinds(block, first_line, file)
            num_rows += rows
            for name, kind in kinds.items():
                plan.kinds[name] = merge_kinds(plan.kinds.get(name, "null"), kind)
    schema = pa.schema([(name, kind_type(kind)) for name, kind in plan.kinds.items()])
    _check_has_data(schema, num_rows, str(path))
    plan.nested = _nested_schema(plan.kinds)
    source = DatasetSource(str(path), "jsonl", True)
    return Dataset(source, schema, num_rows, lambda: _read_jsonl(files, plan, schema, batch_rows))


def _line_blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """Blocks of whole lines (each ending in a newline), with the number of their first line."""
    with _input(path) as stream:
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
        raise DatasetError(
            "the file is not valid UTF-8; re-save it as UTF-8",
            path=path,
            line=line,
            expected="UTF-8 text",
            found=f"the bytes {raw[error.start : error.end]!r} at byte {error.start + 1}",
        ) from error
    try:
        value: JsonValue = json.loads(text)
        if "\\u" in text:  # an escape may spell a lone surrogate, which Arrow cannot store
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise DatasetError(
            "the line holds a lone surrogate escape (like \\ud800), which is not valid Unicode",
            path=path,
            line=line,
            found=_readable(text.strip()),
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
            found=_readable(stripped),
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
            found=_readable(raw.decode("utf-8").strip()),
        )
    flat: dict[str, _Scalar] = {}
    _flatten(value, "", flat)
    return flat


def _flatten(value: dict[str, JsonValue], prefix: str, flat: dict[str, _Scalar]) -> None:
    for key, item in value.items():
        if isinstance(item, dict):
            _flatten(item, f"{prefix}{key}.", flat)
        elif isinstance(item, list):
            flat[prefix + key] = _json_text(item)
        else:
            flat[prefix + key] = item


def _json_text(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
                yield from _sliced(batch, batch_rows)


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
        values = [v if v is None or isinstance(v, str) else _json_text(v) for v in values]
    elif kind == "float":
        values = [None if v is None else float(v) for v in values]
    return pa.array(values, kind_type(kind))


# -- SageMaker capture ---------------------------------------------------------------------------


def _open_capture(path: Path, files: list[Path], batch_rows: int) -> Dataset:
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
    _check_has_data(schema, num_rows, str(path))
    source = DatasetSource(str(path), "sagemaker-capture", layout.named)

    def read() -> Iterator[pa.RecordBatch]:
        for file in files:
            for chunk in _capture_chunks(file, None):
                arrays = text_columns(chunk, schema.names)
                columns = zip(arrays, schema.names, strict=True)
                typed = [convert_text(array, kinds[name]) for array, name in columns]
                yield from _sliced(pa.RecordBatch.from_arrays(typed, schema=schema), batch_rows)

    return Dataset(source, schema, num_rows, read)


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


def _is_capture(path: Path) -> bool:
    """Whether the first line of a JSON Lines file is a SageMaker capture record."""
    with _input(path) as stream:
        head: bytes = stream.read(1 << 20)
    first = next((line for line in head.split(b"\n") if line.strip()), b"")
    try:
        value = json.loads(first)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(value, dict) and "captureData" in value
