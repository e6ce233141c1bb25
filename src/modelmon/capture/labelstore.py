"""Ground-truth labels on disk: written by arrival hour, read back by arrival time.

Each file under ``DATA_DIR/labels/<model>/yyyy/mm/dd/hh/`` (the UTC hour the labels *arrived*,
as SageMaker partitions ground truth) has the columns:

==============  =====================  =================================================
inference_id    string, not null       the prediction the label belongs to
label           string                 the label as text (typed when read, like CSV)
label_time      timestamp[us, UTC]     when the label arrived
label_source    string                 where it came from (the imported file)
==============  =====================  =================================================

A label for an inference id that already has one does not replace it on disk; readers take the
one that arrived last.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelmon.capture.layout import (
    between,
    file_name,
    hour_of,
    hour_partitions,
    label_partition,
    label_root,
    partition_files,
    utc,
    write_atomically,
)
from modelmon.errors import DatasetError

__all__ = ["LABEL_SCHEMA", "LABEL_SCHEMA_VERSION", "read_labels", "write_labels"]

LABEL_SCHEMA_VERSION = "1"
LABEL_SCHEMA = pa.schema(
    [
        pa.field("inference_id", pa.string(), nullable=False),
        pa.field("label", pa.string()),
        pa.field("label_time", pa.timestamp("us", tz="UTC")),
        pa.field("label_source", pa.string()),
    ]
)


def write_labels(root: Path, model: str, labels: pa.Table, now: datetime) -> list[Path]:
    """Write ``labels`` (with :data:`LABEL_SCHEMA`) into the partitions of their arrival hours."""
    labels = labels.cast(LABEL_SCHEMA)
    hours = pc.floor_temporal(labels["label_time"], unit="hour")
    written = []
    for hour in sorted(pc.unique(hours).to_pylist()):
        part = labels.filter(pc.equal(hours, pa.scalar(hour, hours.type)))
        directory = label_partition(root, model, hour_of(hour))
        metadata = {"modelmon.labels.schema": LABEL_SCHEMA_VERSION}
        written.append(write_atomically(directory, file_name(now), part, metadata))
    return written


def read_labels(
    root: Path, model: str, *, since: datetime | None = None, until: datetime | None = None
) -> pa.Table:
    """The labels of ``model`` that arrived in ``[since, until]`` (either end open if None)."""
    tables = []
    end = None if until is None else utc(until) + timedelta(microseconds=1)
    for _, directory in hour_partitions(label_root(root, model), since, end):
        for path in partition_files(directory):
            try:
                tables.append(pq.read_table(path, schema=LABEL_SCHEMA))
            except (pa.ArrowException, OSError) as error:
                raise DatasetError(f"the label file cannot be read ({error})", path=path) from error
    labels = pa.concat_tables(tables) if tables else LABEL_SCHEMA.empty_table()
    return between(labels, "label_time", since, until, end_inclusive=True)
