"""Where captured records and labels live on disk, and how a file gets there safely.

::

    DATA_DIR/captures/<model>/<version>/yyyy/mm/dd/hh/<file>.parquet   by inference time (UTC)
    DATA_DIR/labels/<model>/yyyy/mm/dd/hh/<file>.parquet               by label arrival time (UTC)

A file is named ``<yyyymmddThhmmss.ffffff>Z-<pid>-<12 hex of a uuid4>.parquet``, so writers in
several threads or processes never pick the same name. It is written to a hidden temporary file in
the same directory, fsynced, then renamed into place (and the directory fsynced), so a reader sees
a whole file or none, even if the writer is killed. Readers skip names starting with ``.`` or
``_`` (leftover temporary files).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelmon.errors import ConfigError
from modelmon.formats.atomic import atomic_file

__all__ = [
    "HOUR",
    "between",
    "capture_partition",
    "capture_root",
    "check_name",
    "file_name",
    "hour_of",
    "hour_partitions",
    "label_partition",
    "label_root",
    "partition_files",
    "utc",
    "versions",
    "write_atomically",
]

HOUR = timedelta(hours=1)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_DIGITS = {4: re.compile(r"\d{4}"), 2: re.compile(r"\d{2}")}


def check_name(value: object, parameter: str, owner: str) -> str:
    """A model or version name that is safe as one directory name, or a ConfigError."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be 1 to 128 letters, digits, '.', '_', "
            f"'+' or '-', starting with a letter or digit. Got {value!r} instead."
        )
    return value


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC. A naive time is taken as UTC (as SageMaker's files mean it), never as
    local time, so the partition of a record does not depend on the machine's time zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return utc(moment).replace(minute=0, second=0, microsecond=0)


def _hour_path(hour: datetime) -> str:
    return f"{hour.year:04d}/{hour.month:02d}/{hour.day:02d}/{hour.hour:02d}"


def capture_root(data_dir: Path, model: str, version: str) -> Path:
    return data_dir / "captures" / model / version


def capture_partition(data_dir: Path, model: str, version: str, hour: datetime) -> Path:
    return capture_root(data_dir, model, version) / _hour_path(hour)


def label_root(data_dir: Path, model: str) -> Path:
    return data_dir / "labels" / model


def label_partition(data_dir: Path, model: str, hour: datetime) -> Path:
    return label_root(data_dir, model) / _hour_path(hour)


def file_name(now: datetime) -> str:
    """A file name no other writer picks: time, process id and a random suffix."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")
    return f"{stamp}Z-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"


def write_atomically(
    directory: Path, name: str, table: pa.Table, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``table`` as ``directory/name`` (Parquet) all at once; return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    with atomic_file(directory / name) as sink:
        pq.write_table(table, sink, compression="zstd")
    return directory / name


def versions(data_dir: Path, model: str) -> list[str]:
    """The versions of ``model`` that have captures, sorted."""
    root = data_dir / "captures" / model
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))


def hour_partitions(
    root: Path, start: datetime | None = None, end: datetime | None = None
) -> Iterator[tuple[datetime, Path]]:
    """The ``yyyy/mm/dd/hh`` directories under ``root`` whose hour overlaps [start, end), in time
    order, with their hour. Walks only the years, months and days that can overlap."""
    low = hour_of(start) if start is not None else None
    yield from _walk(root, [], low, end)


def _walk(
    directory: Path, parts: list[int], low: datetime | None, end: datetime | None
) -> Iterator[tuple[datetime, Path]]:
    width = 4 if not parts else 2
    try:
        children = sorted(
            child
            for child in directory.iterdir()
            if _DIGITS[width].fullmatch(child.name) and child.is_dir()
        )
    except FileNotFoundError:
        return
    for child in children:
        prefix = [*parts, int(child.name)]
        first, last = _span(prefix)
        if first is None or last is None:
            continue  # not a calendar date (a stray directory such as 2024/13)
        if (low is not None and last < low) or (end is not None and first >= end):
            continue
        if len(prefix) == 4:
            yield first, child
        else:
            yield from _walk(child, prefix, low, end)


def _span(prefix: list[int]) -> tuple[datetime | None, datetime | None]:
    """The first and last hour of a partial ``[year, month, day, hour]`` prefix."""
    try:
        fields: list[Any] = [*prefix, *[1, 1, 0][len(prefix) - 1 :]][:4]
        first = datetime(fields[0], fields[1], fields[2], fields[3], tzinfo=UTC)
        if len(prefix) == 1:
            last = datetime(prefix[0], 12, 31, 23, tzinfo=UTC)
        elif len(prefix) == 2:
            following = datetime(prefix[0] + prefix[1] // 12, prefix[1] % 12 + 1, 1, tzinfo=UTC)
            last = following - HOUR
        elif len(prefix) == 3:
            last = first + timedelta(hours=23)
        else:
            last = first
    except ValueError:
        return None, None
    return first, last


def between(
    table: pa.Table,
    column: str,
    start: datetime | None,
    end: datetime | None,
    *,
    end_inclusive: bool = False,
) -> pa.Table:
    """The rows of ``table`` whose ``column`` (a UTC timestamp) is in [start, end) (or
    [start, end] with ``end_inclusive``); an end that is None is open."""
    times = table[column]
    keep = None
    if start is not None:
        keep = pc.greater_equal(times, pa.scalar(utc(start), times.type))
    if end is not None:
        compare = pc.less_equal if end_inclusive else pc.less
        before = compare(times, pa.scalar(utc(end), times.type))
        keep = before if keep is None else pc.and_(keep, before)
    return table if keep is None else table.filter(keep)


def partition_files(directory: Path) -> list[Path]:
    """The finished Parquet files of one partition, by name (time order within a writer)."""
    try:
        return sorted(
            path
            for path in directory.iterdir()
            if path.suffix == ".parquet" and not path.name.startswith((".", "_"))
        )
    except FileNotFoundError:
        return []
