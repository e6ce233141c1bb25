"""Parquet for :func:`modelmon.formats.datasets.open_dataset`: files unified by column name, read
row group by row group.

A column missing from a file is null there; int and float give float64; another mix of plain types
gives string.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modelmon.errors import DatasetError
from modelmon.formats._reading import (
    Opened,
    check_has_data,
    error_reason,
    no_such_file,
    plain_schema,
)

__all__ = ["open_parquet"]


def open_parquet(path: Path, files: list[Path], batch_rows: int) -> Opened:
    """Check the Parquet ``files`` (``path`` is what was named) and settle their unified schema."""
    schema: pa.Schema | None = None
    origin: dict[str, Path] = {}
    num_rows = 0
    for file in files:
        with _parquet(file) as parquet:
            file_schema = plain_schema(parquet.schema_arrow)
            num_rows += parquet.metadata.num_rows
        schema = (
            file_schema if schema is None else _unify_parquet(schema, file_schema, file, origin)
        )
        for name in file_schema.names:
            origin.setdefault(name, file)
    assert schema is not None
    check_has_data(schema, num_rows, str(path))
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
                        f"the Parquet file is damaged ({error_reason(error)})", path=file
                    ) from error

    return Opened(schema, num_rows, read)


@contextmanager
def _parquet(file: Path) -> Iterator[Any]:
    try:
        # pre_buffer would read ahead every row group of the file: 1.9 GB of RSS at 10M rows.
        parquet = pq.ParquetFile(str(file), pre_buffer=False)
    except FileNotFoundError as error:
        raise no_such_file(file) from error
    except OSError as error:
        raise DatasetError(f"cannot open the file ({error_reason(error)})", path=file) from error
    except pa.ArrowException as error:
        empty = file.stat().st_size == 0
        raise DatasetError(
            "the file is empty" if empty else "not a Parquet file",
            path=file,
            expected="a Parquet file (it ends with the magic bytes PAR1)",
            found="0 bytes" if empty else error_reason(error),
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
