"""Read captured records back: any time window, with their labels joined, as one Arrow table.

:func:`read_captures` returns the stored columns (see :mod:`modelmon.capture.columns`) of every
record of a model (or one version) whose ``inference_time`` is in ``[start, end)``, sorted by
``inference_time`` (rows of one time in the order they were written), and, with
``with_labels``, two more:

* ``label``: the latest label that arrived for the record's ``inference_id`` (no later than
  ``labels_as_of``, if given), typed like a CSV column (int, float or string); null if none;
* ``label_time``: when that label arrived (timestamp[us, UTC]).

Feature columns that were stored as text are typed over the whole window (int if every value is
an integer, float if every value is a number, else string); columns of different types in
different files are unified (int and float give float, any other mix gives string).
:func:`capture_features` keeps only the feature columns, named as SageMaker's capture layout
names them, which is what the data-quality monitor profiles. ``.to_pandas()`` gives a DataFrame.

Labels are looked for among those that arrived from one hour before ``start`` on: a label cannot
arrive before its prediction, the hour allows for clocks that disagree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelmon.capture.columns import (
    DROPPED_KEY,
    INPUT_PREFIX,
    METADATA_SCHEMA,
    OUTPUT_PREFIX,
    is_position,
    is_text_field,
)
from modelmon.capture.labelstore import read_labels
from modelmon.capture.layout import (
    between,
    capture_root,
    check_name,
    hour_partitions,
    partition_files,
    versions,
)
from modelmon.errors import DatasetError, NotFoundError
from modelmon.formats.text_types import convert_text, infer_text_kind

__all__ = [
    "capture_features",
    "capture_files",
    "dropped_counts",
    "find_captures",
    "join_labels",
    "read_captures",
    "read_parquet_files",
    "type_text",
]

LABEL_CLOCK_SKEW = timedelta(hours=1)


def read_captures(
    data_dir: str | os.PathLike[str],
    model: str,
    *,
    version: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    with_labels: bool = True,
    labels_as_of: datetime | None = None,
) -> pa.Table:
    """The captured records of ``model`` with ``start <= inference_time < end`` (see the module
    docstring). Naive times are UTC. Raises NotFoundError if nothing was ever captured for
    ``model`` (or ``version``); an empty window gives an empty table."""
    root = Path(data_dir)
    check_name(model, "model", "read_captures")
    chosen = _versions(root, model, version)
    tables = read_parquet_files(capture_files(root, model, chosen, start, end))
    table = unify(tables)
    table = between(table, "inference_time", start, end)
    # A stable sort: rows of the same time stay in the order written (a logged batch's order).
    order = pc.sort_indices(table, sort_keys=[("inference_time", "ascending")])
    table = table.take(order)
    if not with_labels:
        return table
    since = None if start is None else start - LABEL_CLOCK_SKEW
    labels = read_labels(root, model, since=since, until=labels_as_of)
    return join_labels(table, labels)


def _versions(root: Path, model: str, version: str | None) -> list[str]:
    known = versions(root, model)
    if version is not None:
        check_name(version, "version", "read_captures")
        if version not in known:
            raise NotFoundError(_nothing_captured(root, model, version, known))
        return [version]
    if not known:
        raise NotFoundError(_nothing_captured(root, model, None, known))
    return known


def _nothing_captured(root: Path, model: str, version: str | None, known: list[str]) -> str:
    what = f"model {model!r}" + ("" if version is None else f" version {version!r}")
    text = f"nothing was captured for {what} under {str(root)!r}"
    if version is not None and known:
        return text + f" (versions with captures: {', '.join(known)})"
    models = sorted(p.name for p in (root / "captures").glob("*") if p.is_dir())
    if models:
        return text + f" (models with captures: {', '.join(models)})"
    return text + "; capture with modelmon.Capture, the proxy, or 'modelmon capture import'"


def capture_files(
    root: Path,
    model: str,
    chosen: Iterable[str],
    start: datetime | None,
    end: datetime | None,
) -> Iterator[Path]:
    """The capture files of ``model`` and the ``chosen`` versions whose hour overlaps the window."""
    for version in chosen:
        for _, directory in hour_partitions(capture_root(root, model, version), start, end):
            yield from partition_files(directory)


def read_parquet_files(
    files: Iterable[Path], columns: Sequence[str] | None = None
) -> list[pa.Table]:
    """Read ``files`` in parallel (Arrow releases the GIL), in order; a broken file is a
    DatasetError naming it."""
    paths = list(files)

    def read(path: Path) -> pa.Table:
        try:
            if columns is None:
                return pq.read_table(path)
            present = [c for c in columns if c in pq.read_schema(path).names]
            return pq.read_table(path, columns=present)
        except (pa.ArrowException, OSError) as error:
            raise DatasetError(f"the capture file cannot be read ({error})", path=path) from error

    if len(paths) < 4:
        return [read(path) for path in paths]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(read, paths))


# -- unifying files ------------------------------------------------------------------------------


def unify(tables: Sequence[pa.Table]) -> pa.Table:
    """Stored tables as one: the metadata columns, then output then input feature columns in the
    order first seen, text columns typed over all rows, other types unified."""
    fields: dict[str, list[pa.Field]] = {}
    for table in tables:
        for field in table.schema:
            if field.name not in METADATA_SCHEMA.names:
                fields.setdefault(field.name, []).append(field)
    names = [n for n in fields if n.startswith(OUTPUT_PREFIX)]
    names += [n for n in fields if n.startswith(INPUT_PREFIX)]
    arrays = [_column(f.name, tables, f.type) for f in METADATA_SCHEMA]
    features = [_unified_column(name, tables, fields[name]) for name in names]
    schema = pa.schema(
        [*METADATA_SCHEMA, *(pa.field(n, a.type) for n, a in zip(names, features, strict=True))]
    )
    return pa.Table.from_arrays([*arrays, *features], schema=schema)


def _column(name: str, tables: Sequence[pa.Table], kind: pa.DataType) -> pa.ChunkedArray:
    """Column ``name`` of every table as ``kind`` (nulls where a table lacks it)."""
    chunks: list[pa.Array] = []
    for table in tables:
        if name not in table.column_names:
            chunks.append(pa.nulls(table.num_rows, kind))
            continue
        column = table[name]
        chunks.extend(column.cast(kind).chunks if column.type != kind else column.chunks)
    return pa.chunked_array(chunks, kind)


def _unified_column(
    name: str, tables: Sequence[pa.Table], fields: list[pa.Field]
) -> pa.ChunkedArray:
    text = any(is_text_field(field) for field in fields)
    kinds = {field.type for field in fields if field.type != pa.null()}
    combined = _column(name, tables, pa.string() if text else _common_type(kinds))
    return type_text(combined) if text else combined


def _common_type(kinds: set[pa.DataType]) -> pa.DataType:
    if not kinds:
        return pa.null()
    if len(kinds) == 1:
        return next(iter(kinds))
    if all(pa.types.is_integer(k) or pa.types.is_floating(k) for k in kinds):
        return pa.float64()
    return pa.string()


def type_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column typed as the CSV reader types one: int, float or string."""
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return pa.chunked_array([convert_text(array, infer_text_kind(array))])


# -- labels --------------------------------------------------------------------------------------


def join_labels(table: pa.Table, labels: pa.Table) -> pa.Table:
    """``table`` with ``label`` and ``label_time`` of the latest label of each inference id."""
    latest = _latest(labels)
    keys = pa.table(
        {
            "inference_id": table["inference_id"],
            "__row": pa.array(range(table.num_rows), pa.int64()),
        }
    )
    joined = keys.join(latest, "inference_id", join_type="left outer").sort_by("__row")
    label = type_text(joined["label"].cast(pa.string()))
    return table.append_column("label", label).append_column(
        pa.field("label_time", pa.timestamp("us", tz="UTC")), joined["label_time"]
    )


def _latest(labels: pa.Table) -> pa.Table:
    """One row per inference id: its most recent label."""
    if labels.num_rows == 0:
        return labels.select(["inference_id", "label", "label_time"])
    ordered = labels.sort_by([("inference_id", "ascending"), ("label_time", "ascending")])
    ids = ordered["inference_id"].combine_chunks()
    last = pc.not_equal(ids[:-1], ids[1:])
    mask = pa.concat_arrays([last, pa.array([True])])
    return ordered.filter(mask).select(["inference_id", "label", "label_time"])


def find_captures(
    root: Path, model: str, ids: pa.Array, *, until: datetime | None = None
) -> pa.Table:
    """The ``inference_id``, ``inference_time`` and ``version`` of every captured row of
    ``model`` whose id is in ``ids`` and whose hour starts before ``until``; reads only those
    columns, a file at a time, so memory follows the number of matches."""
    found = []
    columns = ["inference_id", "inference_time"]
    for version in versions(root, model):
        files = list(capture_files(root, model, [version], None, until))
        for table in read_parquet_files(files, columns):
            hit = table.filter(pc.is_in(table["inference_id"], value_set=ids))
            if hit.num_rows:
                found.append(hit.append_column("version", pa.array([version] * hit.num_rows)))
    if not found:
        return pa.table(
            {
                "inference_id": pa.array([], pa.string()),
                "inference_time": pa.array([], pa.timestamp("us", tz="UTC")),
                "version": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(found)


def dropped_counts(
    data_dir: str | os.PathLike[str],
    model: str,
    *,
    version: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[tuple[str, datetime], int]:
    """Records the writers dropped (queue full), by (version, hour), from the files' metadata."""
    root = Path(data_dir)
    counts: dict[tuple[str, datetime], int] = {}
    for chosen in _versions(root, model, version):
        for hour, directory in hour_partitions(capture_root(root, model, chosen), start, end):
            total = 0
            for path in partition_files(directory):
                metadata = pq.read_metadata(path).metadata or {}
                total += int(metadata.get(DROPPED_KEY.encode(), b"0"))
            if total:
                counts[(chosen, hour)] = total
    return counts


def capture_features(table: pa.Table) -> pa.Table:
    """The feature columns of a :func:`read_captures` table, as the data-quality monitor profiles
    them: outputs first, then inputs (SageMaker's layout), ``input.``/``output.`` taken off, and
    values given by position numbered ``_c0, _c1, ...`` across both sides, as in SageMaker's
    capture files. If taking the prefixes off would give two columns one name, they stay on."""
    outputs = [n for n in table.column_names if n.startswith(OUTPUT_PREFIX)]
    inputs = [n for n in table.column_names if n.startswith(INPUT_PREFIX)]
    names: list[str] = []
    position = 0
    for name in [*outputs, *inputs]:
        bare = name.split(".", 1)[1]
        if is_position(bare):
            bare = f"_c{position}"
            position += 1
        names.append(bare)
    if len(set(names)) != len(names):
        names = [*outputs, *inputs]
    return pa.Table.from_arrays([table[n] for n in [*outputs, *inputs]], names=names)
