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

* CSV and capture values are text, typed per column over all rows (``text_types.
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

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import pyarrow as pa

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats._reading import (
    COMPRESSIONS,
    check_has_data,
    format_suffix,
    no_such_file,
    plain_schema,
)
from modelmon.formats.csv_reader import open_csv
from modelmon.formats.jsonl_reader import (
    JSON_LINES_SUFFIXES,
    first_json_object,
    is_capture,
    open_capture,
    open_jsonl,
)
from modelmon.formats.parquet_reader import open_parquet

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = [
    "FORMATS",
    "JSON_LINES_SUFFIXES",
    "Dataset",
    "DatasetFormat",
    "DatasetSource",
    "first_json_object",
    "open_dataset",
]

DatasetFormat = Literal["csv", "parquet", "jsonl", "sagemaker-capture"]
FORMATS: tuple[DatasetFormat, ...] = get_args(DatasetFormat)

_SUFFIXES: dict[str, DatasetFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


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
    schema = plain_schema(table.schema)
    check_has_data(schema, table.num_rows, description)
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


# -- paths and formats -----------------------------------------------------------------------------


def _open_path(
    path: Path, format: DatasetFormat | None, csv_header: bool | None, batch_rows: int
) -> Dataset:
    files, chosen = _resolve(path, format)
    if chosen == "parquet":
        opened = open_parquet(path, files, batch_rows)
    elif chosen == "csv":
        opened = open_csv(path, files, csv_header, batch_rows)
    elif chosen == "jsonl":
        opened = open_jsonl(path, files, batch_rows)
    else:
        opened = open_capture(path, files, batch_rows)
    source = DatasetSource(str(path), chosen, opened.has_header)
    return Dataset(source, opened.schema, opened.num_rows, opened.read)


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
        raise no_such_file(path)
    if format is None and chosen == "jsonl" and is_capture(files[0]):
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
    suffix, compression = format_suffix(path)
    found = _SUFFIXES.get(suffix)
    if found == "parquet" and compression is not None:
        return None  # Parquet compresses inside the file; a .parquet.gz is not readable as is
    return found


def _suffix_list(format: str | None = None) -> str:
    suffixes = [suffix for suffix, found in _SUFFIXES.items() if format in (None, found)]
    text = ", ".join(suffixes)
    compressed = ", ".join(COMPRESSIONS)
    return text if format == "parquet" else f"{text} (optionally {compressed})"
