"""What the readers behind :func:`modelmon.formats.datasets.open_dataset` share.

A reader checks its files once and returns an :class:`Opened`, which ``open_dataset`` wraps as a
``Dataset``. The readers also share how files are opened (decompressed by extension), how errors are
worded and how schemas are made plain.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from modelmon.errors import DatasetError

__all__ = [
    "COMPRESSIONS",
    "Opened",
    "check_has_data",
    "error_reason",
    "format_suffix",
    "no_such_file",
    "not_utf8",
    "open_input",
    "plain_schema",
    "sliced",
    "snippet",
]

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}  # of text files, by extension
_SNIPPET = 80


@dataclass(frozen=True)
class Opened:
    """What a reader found when it checked its files: the schema every batch has, the row count,
    whether the columns are named (False: ``_c0, _c1, ...``, matched with a baseline by position)
    and how to read the batches, from the start, on every call."""

    schema: pa.Schema
    num_rows: int
    read: Callable[[], Iterator[pa.RecordBatch]]
    has_header: bool = True


def format_suffix(path: Path) -> tuple[str, str | None]:
    """The format suffix of ``path`` (lower case) and its compression codec, if any."""
    stem, suffix = os.path.splitext(path.name.lower())
    compression = COMPRESSIONS.get(suffix)
    if compression is not None:
        suffix = os.path.splitext(stem)[1]
    return suffix, compression


def no_such_file(path: Path) -> DatasetError:
    parent = path.absolute().parent
    if not parent.is_dir():
        return DatasetError(f"no such file, nor its directory {parent}", path=path)
    close = difflib.get_close_matches(path.name, [item.name for item in parent.iterdir()], n=3)
    hint = f"; did you mean {' or '.join(repr(name) for name in close)}?" if close else ""
    return DatasetError(f"no such file in the directory {parent}{hint}", path=path)


@contextmanager
def open_input(path: Path) -> Iterator[Any]:
    """A binary stream of the file, decompressed by extension; OS errors while opening or reading
    it (a bad gzip stream, a vanished disk) become DatasetErrors."""
    try:
        stream = pa.input_stream(str(path), compression=format_suffix(path)[1])
    except OSError as error:
        raise DatasetError(f"cannot open the file ({error_reason(error)})", path=path) from error
    with stream:
        try:
            yield stream
        except OSError as error:
            raise DatasetError(
                f"cannot read the file ({error_reason(error)})", path=path
            ) from error


def not_utf8(
    path: Path, line: int, bad: bytes, where: str, column: str | None = None
) -> DatasetError:
    """The error for bytes that are not UTF-8: ``bad``, found ``where`` ("at byte 12", "in ...")."""
    return DatasetError(
        "the file is not valid UTF-8; re-save it as UTF-8",
        path=path,
        line=line,
        column=column,
        expected="UTF-8 text",
        found=f"the bytes {bad!r} {where}",
    )


def error_reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def snippet(text: str) -> str:
    """``text`` (maybe holding undecodable bytes as surrogates) safe to print, shortened."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


def sliced(batch: pa.RecordBatch, batch_rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, batch_rows):
        yield batch.slice(start, batch_rows)


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` without metadata, dictionaries decoded and every string flavour as string."""
    return pa.schema([pa.field(item.name, _plain_type(item.type)) for item in schema])


def _plain_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(kind):
        return _plain_type(kind.value_type)
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def check_has_data(schema: pa.Schema, num_rows: int, where: str) -> None:
    if num_rows == 0:
        raise DatasetError("the dataset has no rows", path=where)
    if len(schema) == 0:
        raise DatasetError("the dataset has no columns", path=where)
