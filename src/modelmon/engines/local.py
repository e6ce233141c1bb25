"""The local engine: stream a dataset in record batches and profile it on this machine's cores.

Memory is bounded by the batch size (the reader streams) plus the sketches. Columns of one batch are
profiled in parallel threads: numpy's sort and Arrow's kernels release the GIL, so two cores pay.
The next batch is decoded in the background while the current one is profiled.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from modelmon.formats.datasets import Dataset
from modelmon.stats.profile import DatasetProfile

__all__ = ["default_workers", "profile_dataset"]

_DONE = object()


def default_workers() -> int:
    """Threads to profile with: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not every platform has sched_getaffinity
        return max(1, os.cpu_count() or 1)


def profile_dataset(dataset: Dataset, *, workers: int | None = None) -> DatasetProfile:
    """Profile every column of ``dataset``; the result is mergeable with other profiles."""
    workers = workers or default_workers()
    profile = DatasetProfile.empty(dataset.schema.names)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="modelmon-profile") as pool:
        for batch in _prefetch(dataset.batches()):
            profile.update(batch, pool.map)
    return profile


def _prefetch(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Read one batch ahead in a thread, so decoding overlaps profiling."""
    slot: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: object) -> bool:
        # Give up when the consumer has gone (it failed), so this thread and its file end too.
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
        except BaseException as error:  # re-raised in the consumer, where the caller can see it
            put(error)
            return
        put(_DONE)

    reader = threading.Thread(target=produce, name="modelmon-read", daemon=True)
    reader.start()
    try:
        while True:
            item = slot.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, pa.RecordBatch)
            yield item
    finally:
        stop.set()
        reader.join()
