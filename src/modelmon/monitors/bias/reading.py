"""Read the columns a monitor needs from any dataset, naming what is missing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from modelmon.errors import DatasetError
from modelmon.formats.datasets import DatasetFormat, open_dataset

__all__ = ["read_columns", "require_column"]


def read_columns(
    data: Any,
    columns: Sequence[str] | None,
    *,
    dataset_format: str | None = None,
    csv_header: bool | None = None,
    what: str = "column",
) -> tuple[pa.Table, str]:
    """The ``columns`` of ``data`` (every column if None) as one table, and the source's
    description. Only those columns are kept from each batch, so memory follows them alone."""
    fmt: DatasetFormat | None = dataset_format  # type: ignore[assignment]
    dataset = open_dataset(data, format=fmt, csv_header=csv_header)
    source = dataset.source.description
    names = dataset.schema.names
    wanted = list(names) if columns is None else list(dict.fromkeys(columns))
    for name in wanted:
        if name not in names:
            raise DatasetError(
                f"the {what} {name!r} is not in the dataset",
                path=source,
                column=name,
                expected=f"a column named {name!r}",
                found="columns " + ", ".join(repr(n) for n in names[:20]),
            )
    batches = [batch.select(wanted) for batch in dataset.batches()]
    schema = pa.schema([dataset.schema.field(n) for n in wanted])
    return pa.Table.from_batches(batches, schema=schema), source


def require_column(table: pa.Table, name: str, what: str, source: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise DatasetError(
            f"the {what} {name!r} is not in the dataset",
            path=source,
            column=name,
            expected=f"a column named {name!r}",
            found="columns " + ", ".join(repr(n) for n in table.column_names[:20]),
        )
    return table[name]
