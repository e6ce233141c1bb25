"""The capture writer: take inference events without ever blocking, write them in the background.

``submit`` only appends to a bounded in-memory queue (a lock held for a few instructions); when
the queue is full the record is dropped and counted, so a slow disk never slows the model. A
background thread wakes every ``flush_interval`` seconds, or as soon as ``max_batch`` records are
waiting, decodes the bodies into columns (see :mod:`modelmon.capture.columns`) and writes one
Parquet file per partition touched (see :mod:`modelmon.capture.layout`).

The queue is bounded in records: an event counts one, a logged batch counts its rows. A batch is
let in whole when it fits, or when the queue is empty (so a batch larger than the queue is not
refused for ever), else dropped whole.

Each file carries, in its Parquet key-value metadata, ``modelmon.capture.schema`` (the schema
version) and ``modelmon.capture.dropped``: how many records of that partition this writer dropped
since its previous file there, so drops survive the process and ``modelmon capture stats`` can
show them. A partition whose records were all dropped gets a file with no rows.

Shutdown: :meth:`CaptureWriter.close` (also on context exit, interpreter exit and SIGTERM, see
:mod:`modelmon.capture.lifecycle`) writes everything queued. A write that fails (a full disk)
loses that flush's records for the partition; they are counted in ``failed`` and logged on the
``modelmon.capture`` logger, and the writer carries on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.capture import lifecycle
from modelmon.capture.columns import (
    CAPTURE_SCHEMA_VERSION,
    DROPPED_KEY,
    SCHEMA_KEY,
    LoggedInference,
    TableBuilder,
)
from modelmon.capture.layout import (
    capture_partition,
    check_name,
    file_name,
    hour_of,
    write_atomically,
)
from modelmon.capture.records import InferenceEvent
from modelmon.capture.sampling import Sampler, check_rate
from modelmon.errors import ConfigError

__all__ = ["CaptureStats", "CaptureWriter", "LoggedBatch"]

_log = logging.getLogger("modelmon.capture")


@dataclass(frozen=True, slots=True)
class LoggedBatch:
    """Many inferences of one model version logged at once (the SDK's DataFrame path): ``table``
    has the capture schema's metadata columns and ``input.``/``output.`` feature columns."""

    model: str
    version: str
    table: pa.Table


_Item: TypeAlias = InferenceEvent | LoggedInference | LoggedBatch
_Partition: TypeAlias = tuple[str, str, datetime]  # model, version, hour


@dataclass(frozen=True, slots=True)
class CaptureStats:
    """Counters of one writer since it started (records, except ``files_written``).

    ``submitted`` counts every record offered to :meth:`CaptureWriter.submit`, kept or dropped;
    ``dropped`` those refused because the queue was full or the writer closed; ``sampled_out``
    the inference ids :meth:`CaptureWriter.should_sample` turned down; ``written`` the records
    on disk; ``failed`` those lost to a failed write; ``undecodable_bodies`` bodies kept only raw.
    """

    submitted: int
    written: int
    dropped: int
    sampled_out: int
    undecodable_bodies: int
    files_written: int
    last_flush_time: datetime | None
    failed: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


class CaptureWriter:
    """Buffers inference events and writes them under ``data_dir/captures`` in the background.

    ``sampling`` is the share of inferences :meth:`should_sample` keeps: per inference id
    (``deterministic_sampling``, see :mod:`modelmon.capture.sampling`) or at random. ``submit``
    itself does not sample: callers ask :meth:`should_sample` first, before doing any work.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        sampling: float = 1.0,
        deterministic_sampling: bool = True,
        queue_size: int = 10_000,
        flush_interval: float = 1.0,
        max_batch: int = 5_000,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        owner = "CaptureWriter"
        self.data_dir = Path(data_dir)
        self._sampler = Sampler(
            check_rate(sampling, owner), deterministic=bool(deterministic_sampling)
        )
        self._queue_size = _positive_int(queue_size, "queue_size", owner)
        self._max_batch = _positive_int(max_batch, "max_batch", owner)
        number = isinstance(flush_interval, int | float) and not isinstance(flush_interval, bool)
        if not number or not 0 < flush_interval < float("inf"):
            raise ConfigError(
                f"The 'flush_interval' parameter of {owner} must be a number of seconds > 0. "
                f"Got {flush_interval!r} instead."
            )
        self._flush_interval = float(flush_interval)
        self._clock = clock
        self._reset()
        lifecycle.track(self)

    def _reset(self) -> None:
        """Fresh state: at construction, and in a forked child (whose parent owns the queue)."""
        # Reentrant: a SIGTERM handler that closes the writer runs on the main thread, possibly
        # while that thread is inside submit() holding this lock.
        self._lock = threading.RLock()
        self._done = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._pending: list[_Item] = []
        self._pending_records = 0
        self._accepted = 0  # records ever let into the queue
        self._processed = 0  # of those, written or failed
        self._drops: Counter[_Partition] = Counter()  # not yet reported in a file
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False
        self._submitted = 0
        self._written = 0
        self._dropped = 0
        self._sampled_out = 0
        self._undecodable = 0
        self._files = 0
        self._failed = 0
        self._last_flush: datetime | None = None

    def _after_fork_in_child(self) -> None:
        self._reset()

    # -- the hot path ------------------------------------------------------------------------

    def should_sample(self, inference_id: str) -> bool:
        """Whether to capture the inference ``inference_id``; a False is counted."""
        if self._sampler.keep(inference_id):
            return True
        with self._lock:
            self._sampled_out += 1
        return False

    def submit(self, event: InferenceEvent) -> bool:
        """Queue ``event`` for writing; never blocks. False if it was dropped (queue full or
        writer closed), which is counted. Thread-safe; fine to call from asyncio code."""
        return self._enqueue(event, 1)

    def submit_logged(self, item: LoggedInference | LoggedBatch) -> bool:
        """Queue a record or batch logged by the SDK (same contract as :meth:`submit`)."""
        records = item.table.num_rows if isinstance(item, LoggedBatch) else 1
        return self._enqueue(item, records)

    def _enqueue(self, item: _Item, records: int) -> bool:
        with self._lock:
            self._submitted += records
            pending = self._pending_records
            if self._closed or (pending and pending + records > self._queue_size):
                self._dropped += records
                self._count_drop(item, records)
                return False
            self._pending.append(item)
            self._pending_records = pending + records
            self._accepted += records
            if self._thread is None:
                self._start()
        if pending + records >= self._max_batch:
            self._wake.set()
        return True

    def _count_drop(self, item: _Item, records: int) -> None:
        if isinstance(item, LoggedBatch):
            for partition, count in _batch_partitions(item):
                self._drops[partition] += count
        else:
            self._drops[(item.model, item.version, hour_of(item.time))] += records

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="modelmon-capture", daemon=True)
        self._thread.start()

    # -- flushing ------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every record submitted so far is on disk (or failed), at most ``timeout``
        seconds (None: as long as it takes). A timeout is logged, not raised."""
        with self._done:
            target = self._accepted
            if self._processed >= target or self._thread is None:
                return
            self._wake.set()
            if not self._done.wait_for(lambda: self._processed >= target, timeout):
                _log.warning("capture flush timed out after %s s", timeout)

    def close(self) -> None:
        """Write everything queued and stop the thread; idempotent."""
        with self._done:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._stopping = True
                self._wake.set()
                self._done.wait_for(lambda: not thread.is_alive() or self._thread is None)
        if thread is not None:
            thread.join()
        lifecycle.untrack(self)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> CaptureStats:
        with self._lock:
            return CaptureStats(
                submitted=self._submitted,
                written=self._written,
                dropped=self._dropped,
                sampled_out=self._sampled_out,
                undecodable_bodies=self._undecodable,
                files_written=self._files,
                last_flush_time=self._last_flush,
                failed=self._failed,
            )

    # -- the background thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            with self._lock:
                items, self._pending = self._pending, []
                self._pending_records = 0
                through = self._accepted
                drops, self._drops = self._drops, Counter()
                stopping = self._stopping
            try:
                self._write(items, drops)
            except Exception:  # never let the thread die: capture would stop without a word
                _log.exception("the capture writer failed to write a flush")
            with self._done:
                self._processed = through
                self._last_flush = self._clock()
                if stopping:
                    self._thread = None
                self._done.notify_all()
            if stopping:
                return

    def _write(self, items: list[_Item], drops: Counter[_Partition]) -> None:
        events: dict[_Partition, list[InferenceEvent | LoggedInference]] = {}
        batches: dict[_Partition, list[pa.Table]] = {}
        for item in items:
            if isinstance(item, LoggedBatch):
                for partition, part in _split_batch(item):
                    batches.setdefault(partition, []).append(part)
            else:
                key = (item.model, item.version, hour_of(item.time))
                events.setdefault(key, []).append(item)
        tables = [(key, table) for key, parts in batches.items() for table in _concatenated(parts)]
        for partition, group in events.items():
            builder = TableBuilder()
            for item in group:
                try:
                    if isinstance(item, InferenceEvent):
                        builder.add_event(item)
                    else:
                        builder.add_logged(item)
                except Exception:  # one odd record (say, an object whose tolist() raises)
                    _log.exception("could not lay out captured record %s", item.inference_id)
                    with self._lock:
                        self._failed += 1
            with self._lock:
                self._undecodable += builder.undecodable
            tables.append((partition, builder.table()))
        for partition, table in tables:
            self._write_file(partition, table, drops.pop(partition, 0), _records(table))
        for partition, count in drops.items():
            # Every record of this partition was dropped: a file with no rows keeps the count.
            empty = TableBuilder().table()
            self._write_file(partition, empty, count, 0)

    def _write_file(
        self, partition: _Partition, table: pa.Table, dropped: int, records: int
    ) -> None:
        model, version, hour = partition
        try:
            check_name(model, "model", "InferenceEvent")
            check_name(version, "version", "InferenceEvent")
            directory = capture_partition(self.data_dir, model, version, hour)
            metadata = {SCHEMA_KEY: CAPTURE_SCHEMA_VERSION, DROPPED_KEY: str(dropped)}
            write_atomically(directory, file_name(self._clock()), table, metadata)
        except (OSError, ConfigError, pa.ArrowException) as error:
            _log.error(
                "could not write %d captured records of %s/%s at %s: %s",
                records,
                model,
                version,
                hour.isoformat(),
                error,
            )
            with self._lock:
                self._failed += records
            return
        with self._lock:
            self._written += records
            self._files += 1


def _records(table: pa.Table) -> int:
    """Records (inferences) in a stored table: its rows that start an inference."""
    if table.num_rows == 0:
        return 0
    return int(pc.sum(pc.equal(table["row_index"], 0)).as_py() or 0)


def _concatenated(tables: list[pa.Table]) -> list[pa.Table]:
    """Logged batches of one partition as one table (one file, not one per batch), unless their
    columns' types cannot be reconciled; then each is written as it is."""
    if len(tables) == 1:
        return tables
    try:
        return [pa.concat_tables(tables, promote_options="permissive")]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return tables


def _batch_partitions(batch: LoggedBatch) -> list[tuple[_Partition, int]]:
    return [(partition, table.num_rows) for partition, table in _split_batch(batch)]


def _split_batch(batch: LoggedBatch) -> list[tuple[_Partition, pa.Table]]:
    """A logged batch cut into its hourly partitions."""
    hours = pc.floor_temporal(batch.table["inference_time"], unit="hour")
    parts = []
    for hour in pc.unique(hours).to_pylist():
        if hour is None:
            continue
        rows = batch.table.filter(pc.equal(hours, hour))
        parts.append(((batch.model, batch.version, hour_of(hour)), rows))
    return parts


def _positive_int(value: object, parameter: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be an int >= 1. Got {value!r} instead."
        )
    return value
