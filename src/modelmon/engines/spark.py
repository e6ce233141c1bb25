"""The spark engine: the local engine's mergeable profiles, computed per partition by Spark.

Each partition is profiled inside ``mapInArrow`` by :class:`~modelmon.stats.profile.DatasetProfile`
(the same ``update`` the local engine runs) and shipped as its serialised ``to_dict``. Partials are
merged with ``DatasetProfile.merge`` in partition order: first on the executors, in at most
``merge_groups`` contiguous groups, then on the driver. The driver therefore holds a bounded
number of profiles, whatever the number of rows or partitions; no statistic has a Spark version.

Row numbers (of the first text value in a numeric column, for messages) count rows in partition
order, which for one file is file order.

pyspark is imported only inside the functions that need it; importing this module does not.
"""

from __future__ import annotations

import functools
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from modelmon.engines.spark_read import (
    SparkInput,
    is_spark_dataframe,
    read_path,
    spark_reason,
    unreadable,
)
from modelmon.engines.spark_session import (
    DEFAULT_MASTER,
    check_master,
    quiet_pandas_warning,
    require_pyspark,
    start_session,
)
from modelmon.errors import ConfigError, DatasetError
from modelmon.formats.datasets import Dataset, DatasetSource, _check_unique
from modelmon.formats.text_types import ColumnKind, convert_text, infer_text_kind, merge_kinds
from modelmon.stats.profile import DatasetProfile, ValueExample

__all__ = [
    "SparkEngine",
    "is_spark_dataframe",
    "merge_in_order",
    "partition_id",
    "plain_text",
    "profile_frame",
    "profile_with_engine",
    "spark_failure",
    "text_kinds",
]

_PARTIAL_SCHEMA = "pid int, rows long, profile binary"
_KINDS_SCHEMA = "pid int, kinds string"
_NO_ROWS = (
    "Multivariate drift needs a sample of rows on the driver, which the spark engine does not "
    "take yet; run it with the local engine (engine='local', --engine local)."
)


@dataclass
class SparkEngine:
    """Where and how to run Spark.

    Parameters
    ----------
    master
        ``local[N]``, ``local[*]``, ``spark://HOST:PORT``, ``yarn`` or ``k8s://...``; default: the
        active session's, else ``local[*]``.
    session
        An existing SparkSession to use instead of starting one.
    conf
        Extra Spark settings for a session this engine starts (``spark.executor.memory``, ...).
    merge_groups
        Contiguous groups of partitions merged on the executors before the driver merges them.
    """

    master: str | None = None
    session: Any = None
    conf: Mapping[str, str] = field(default_factory=dict)
    merge_groups: int = 16
    _started: bool = field(default=False, init=False, repr=False)

    def spark(self) -> Any:
        """The session: the one given, else the one running in this process, else a new one.

        Spark runs one session per process, so a running session is used (and left running)
        when it has the named master; another master is refused rather than silently ignored.
        """
        if self.session is not None:
            return self.session
        if self.master is not None:
            check_master(self.master)
        require_pyspark()
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is None:
            self.session = start_session(self.master or DEFAULT_MASTER, self.conf)
            self._started = True
            return self.session
        running = str(active.sparkContext.master)
        if self.master is not None and self.master != running:
            raise ConfigError(
                f"A Spark session with master {running!r} is already running in this process "
                f"and Spark allows one; cannot also use {self.master!r}. Stop it first, or pass "
                "no master to use it."
            )
        self.session = active
        return self.session

    def close(self) -> None:
        """Stop the session if this engine started it."""
        if self._started and self.session is not None:
            self.session.stop()
        self.session, self._started = None, False

    def open(
        self, data: Any, *, format: str | None = None, csv_header: bool | None = None
    ) -> SparkInput:
        """``data`` (a Spark DataFrame or a path Spark can read) as a DataFrame to profile."""
        if is_spark_dataframe(data):
            return SparkInput(data, DatasetSource("Spark DataFrame", "spark", True))
        if not isinstance(data, str | os.PathLike):
            raise ConfigError(
                "The spark engine profiles a path or a Spark DataFrame. Got "
                f"{type(data).__module__}.{type(data).__name__} instead; use the local engine "
                "for in-memory tables."
            )
        return read_path(self.spark(), data, format, csv_header)

    def profile(
        self, data: Any, *, format: str | None = None, csv_header: bool | None = None
    ) -> tuple[Dataset, DatasetProfile]:
        """Profile ``data``; the Dataset describes the source (its rows are not read locally)."""
        opened = self.open(data, format=format, csv_header=csv_header)
        profile = profile_frame(opened, merge_groups=self.merge_groups)
        return _described(opened, profile.row_count), profile


def profile_with_engine(
    engine: object,
    data: Any,
    *,
    format: str | None = None,
    csv_header: bool | None = None,
    owner: str = "DataQualityMonitor",
    needs_rows: bool = False,
) -> tuple[Dataset, DatasetProfile]:
    """Profile ``data`` on Spark for a monitor whose ``engine`` is ``"spark"``, a SparkEngine, or
    ``"local"`` with a Spark DataFrame (which is already on Spark).

    ``needs_rows``: the monitor will also read rows on the driver, which the spark engine does
    not do; refuse now rather than after profiling.
    """
    if needs_rows:
        raise ConfigError(_NO_ROWS)
    if isinstance(engine, SparkEngine):
        chosen = engine
    elif engine == "spark":
        chosen = SparkEngine()
    elif engine == "local" and is_spark_dataframe(data):
        chosen = SparkEngine(session=data.sparkSession)
    else:
        raise ConfigError(
            f"The 'engine' parameter of {owner} must be 'local', 'spark' or a SparkEngine. "
            f"Got {engine!r} instead."
        )
    return chosen.profile(data, format=format, csv_header=csv_header)


def profile_frame(opened: SparkInput, *, merge_groups: int = 16) -> DatasetProfile:
    """The profile of every row of ``opened.frame``, computed by Spark."""
    require_pyspark()
    from pyspark.sql import functions as F

    frame, where = opened.frame, opened.source.description
    names = list(frame.columns)
    _check_unique(names, where)
    with quiet_pandas_warning():
        try:
            kinds = text_kinds(frame, names) if opened.text else None
            partials = frame.mapInArrow(
                functools.partial(_profile_partition, names, kinds), _PARTIAL_SCHEMA
            )
            count = frame.rdd.getNumPartitions()
            if count > merge_groups:
                group = F.floor(F.col("pid") * merge_groups / count)
                partials = (
                    partials.withColumn("group", group)
                    .repartition(merge_groups, "group")
                    .sortWithinPartitions("pid")
                    .mapInArrow(functools.partial(_merge_partition, names), _PARTIAL_SCHEMA)
                )
            rows = partials.collect()
        except Exception as error:
            raise spark_failure(error, where) from error
    ordered = sorted(rows, key=lambda row: int(row["pid"]))
    return merge_in_order(names, (bytes(row["profile"]) for row in ordered))


def merge_in_order(names: list[str], partials: Iterable[bytes]) -> DatasetProfile:
    """Merge serialised partial profiles given in row order into one profile."""
    total = DatasetProfile.empty(names)
    for blob in partials:
        part = _decode(blob)
        # A partial counts its rows from 0; after the merge they follow the rows before them.
        for column in part.columns.values():
            if column.first_string is not None:
                example = column.first_string
                column.first_string = ValueExample(example.value, example.row + total.row_count)
        total.merge(part)
    return total


# -- what runs on the executors (module-level, so Spark pickles them by reference) --------------


def _profile_partition(
    names: list[str], kinds: list[ColumnKind] | None, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    profile = DatasetProfile.empty(names)
    for batch in batches:
        if kinds is not None:
            batch = pa.RecordBatch.from_arrays(
                [convert_text(plain_text(c), k) for c, k in zip(batch.columns, kinds, strict=True)],
                names=names,
            )
        profile.update(batch)
    yield _partial(partition_id(), profile)


def text_kinds(frame: Any, names: list[str]) -> list[ColumnKind]:
    """The kind of each text column over all partitions (the local engine's rule, merged)."""
    kinds: list[ColumnKind] = ["null"] * len(names)
    for row in frame.mapInArrow(_partition_kinds, _KINDS_SCHEMA).collect():
        found = json.loads(row["kinds"])
        kinds = [merge_kinds(a, b) for a, b in zip(kinds, found, strict=True)]
    return kinds


def _partition_kinds(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    kinds: list[ColumnKind] | None = None
    for batch in batches:
        if kinds is None:
            kinds = ["null"] * batch.num_columns
        kinds = [
            infer_text_kind(plain_text(c), k) for c, k in zip(batch.columns, kinds, strict=True)
        ]
    yield pa.RecordBatch.from_pydict(
        {"pid": pa.array([partition_id()], pa.int32()), "kinds": [json.dumps(kinds or [])]}
    )


def _merge_partition(
    names: list[str], batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Merge the partials of each group in this (pid-sorted) partition into one per group."""
    groups: dict[int, tuple[int, list[bytes]]] = {}
    for batch in batches:
        for pid, group, blob in zip(
            batch.column("pid").to_pylist(),
            batch.column("group").to_pylist(),
            batch.column("profile").to_pylist(),
            strict=True,
        ):
            first, blobs = groups.setdefault(int(group), (int(pid), []))
            blobs.append(blob)
    for first, blobs in groups.values():
        yield _partial(first, merge_in_order(names, blobs))


def partition_id() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return 0 if context is None else int(context.partitionId())


def plain_text(array: pa.Array) -> pa.Array:
    # Spark may send large or view strings; the text rules work on plain ones.
    return array if array.type == pa.string() else array.cast(pa.string())


def _partial(pid: int, profile: DatasetProfile) -> pa.RecordBatch:
    blob = zlib.compress(json.dumps(profile.to_dict()).encode(), 1)
    return pa.RecordBatch.from_pydict(
        {
            "pid": pa.array([pid], pa.int32()),
            "rows": pa.array([profile.row_count], pa.int64()),
            "profile": pa.array([blob], pa.binary()),
        }
    )


def _decode(blob: bytes) -> DatasetProfile:
    return DatasetProfile.from_dict(json.loads(zlib.decompress(blob)))


# -- on the driver ----------------------------------------------------------------------------


def spark_failure(error: Exception, where: str) -> Exception:
    """Spark's failure as modelmon's: bad data is the user's to fix; a failure of modelmon's own
    code on an executor is a bug and stays one."""
    if isinstance(error, DatasetError | ConfigError):
        return error
    reason = spark_reason(error)
    if type(error).__name__ == "PythonException" or "PythonException" in reason:
        return RuntimeError(f"profiling failed on a Spark executor: {reason}")
    return unreadable(error, where)


def _described(opened: SparkInput, rows: int) -> Dataset:
    def read() -> Iterator[pa.RecordBatch]:
        raise ConfigError(_NO_ROWS)

    return Dataset(opened.source, pa.schema([]), rows, read)
