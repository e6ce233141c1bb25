"""CSV and TSV for :func:`modelmon.formats.datasets.open_dataset`, optionally compressed.

Arrow parses every column as text, twice: once to check every row and settle each column's type
(:func:`modelmon.formats.text_types.infer_text_kind`), then to convert the batches. Arrow's errors
do not say where; Python's csv module then finds the bad line. The header rule is in the docstring
of :mod:`modelmon.formats.datasets`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from modelmon.errors import DatasetError
from modelmon.formats._reading import (
    Opened,
    error_reason,
    format_suffix,
    not_utf8,
    open_input,
    sliced,
    snippet,
)
from modelmon.formats.text_types import (
    ColumnKind,
    convert_text,
    infer_text_kind,
    is_number_text,
    kind_type,
)

__all__ = ["open_csv"]

_SNIFF_ROWS = 50
_SNIFF_CHARS = 16 << 20
_CSV_BLOCK = 1 << 20  # bytes Arrow parses at a time (its default); grows for a larger row
_CSV_BLOCK_MAX = 1 << 30


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


def open_csv(path: Path, files: list[Path], csv_header: bool | None, batch_rows: int) -> Opened:
    """Check the CSV ``files`` (``path`` is what was named) and type their columns."""
    plan: _CsvPlan | None = None
    for file in files:
        delimiter = "\t" if format_suffix(file)[0] == ".tsv" else ","
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
    return Opened(schema, num_rows, lambda: _read_csv(final, schema, batch_rows), plan.has_header)


def _no_rows(files: list[Path], what: str) -> str:
    return f"the file {what}" if len(files) == 1 else f"each of the {len(files)} files {what}"


@contextmanager
def _text_file(path: Path) -> Iterator[io.TextIOWrapper]:
    """The file as text for Python's csv module: undecodable bytes kept as surrogates."""
    # The csv module refuses fields over 128 KiB (a process-wide limit); Arrow reads them.
    limit = csv.field_size_limit(_CSV_BLOCK_MAX)
    try:
        with open_input(path) as stream:
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
            raise not_utf8(file, sniff.first_line, bad, f"in {snippet(name)}", f"_c{position}")
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
    """The header rule of the docstring of :mod:`modelmon.formats.datasets`."""
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
    # Every column is read as text and typed by modelmon's rules (text_types.infer_text_kind):
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
            with open_input(file.path) as stream:
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
    return DatasetError(f"cannot read the CSV file ({error_reason(error)})", path=file.path)


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
                        return not_utf8(file.path, line, bad, f"in {snippet(value)}", name)
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
        found=f"{len(row)} fields: {snippet(file.delimiter.join(row))}",
    )


_SURROGATES = re.compile("[\udc80-\udcff]+")


def _undecodable(text: str) -> bytes | None:
    """The first run of bytes that were not UTF-8 (kept as surrogates when decoding), if any."""
    match = _SURROGATES.search(text)
    return None if match is None else match.group().encode("utf-8", "surrogateescape")


def _read_csv(plan: _CsvPlan, schema: pa.Schema, batch_rows: int) -> Iterator[pa.RecordBatch]:
    for file in plan.files:
        try:
            with open_input(file.path) as stream:
                for batch in _csv_reader(_QuoteCounter(stream), plan, file):
                    columns = zip(batch.columns, plan.kinds, strict=True)
                    arrays = [convert_text(column, kind) for column, kind in columns]
                    typed = pa.RecordBatch.from_arrays(arrays, schema=schema)
                    yield from sliced(typed, batch_rows)
        except pa.ArrowException as error:
            # It was read without error when opened: it changed since.
            raise DatasetError(
                f"cannot read the file any more ({error_reason(error)}); did it change?",
                path=file.path,
            ) from error
