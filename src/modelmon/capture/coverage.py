"""How much ground truth has arrived, how late, and which windows it changes.

* :class:`LabelCoverage` (from :func:`coverage_of`, pure): the share of predictions that have a
  label, and the label delay (arrival minus inference time) at p50, p90 and max, in seconds.
* :func:`label_coverage` computes it for a window of captured predictions.
* :func:`windows_needing_reevaluation`: the (version, window start) of every window that gained a
  label after it had ended, among labels that arrived since a time. A scheduler that evaluated
  those windows before must evaluate them again; windows still open will be evaluated anyway.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.capture.labelstore import read_labels
from modelmon.capture.layout import HOUR, check_name, utc
from modelmon.capture.reader import find_captures, read_captures
from modelmon.errors import ConfigError

__all__ = [
    "LabelCoverage",
    "coverage_of",
    "label_coverage",
    "table_coverage",
    "windows_needing_reevaluation",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LabelCoverage:
    """Label coverage of a set of predictions; delays are NaN when no prediction has a label,
    coverage is NaN when there are no predictions."""

    predictions: int
    labeled: int
    coverage: float
    delay_p50_s: float
    delay_p90_s: float
    delay_max_s: float


def coverage_of(
    inference_us: np.ndarray, label_us: np.ndarray, labeled: np.ndarray
) -> LabelCoverage:
    """Coverage of predictions made at ``inference_us`` (microseconds since the epoch) whose
    labels arrived at ``label_us``, where ``labeled`` is True (other ``label_us`` are ignored)."""
    predictions = int(inference_us.size)
    count = int(np.count_nonzero(labeled))
    coverage = count / predictions if predictions else math.nan
    if count == 0:
        return LabelCoverage(predictions, 0, coverage, math.nan, math.nan, math.nan)
    delays = (label_us[labeled] - inference_us[labeled]) / 1e6
    p50, p90 = np.quantile(delays, [0.5, 0.9])
    return LabelCoverage(predictions, count, coverage, float(p50), float(p90), float(delays.max()))


def label_coverage(
    data_dir: str | os.PathLike[str],
    model: str,
    *,
    version: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
) -> LabelCoverage:
    """Label coverage of the predictions of ``model`` made in ``[start, end)``, counting the
    labels that arrived by ``as_of`` (default: all)."""
    table = read_captures(
        data_dir, model, version=version, start=start, end=end, labels_as_of=as_of
    )
    return table_coverage(table)


def table_coverage(table: pa.Table) -> LabelCoverage:
    """Label coverage of a :func:`~modelmon.capture.reader.read_captures` table."""
    inference = _micros(table["inference_time"])
    arrival = table["label_time"]
    labeled = pc.is_valid(arrival).to_numpy(zero_copy_only=False)
    return coverage_of(inference, _micros(pc.fill_null(arrival, 0)), labeled)


def _micros(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def windows_needing_reevaluation(
    data_dir: str | os.PathLike[str],
    model: str,
    since: datetime,
    *,
    until: datetime | None = None,
    window: timedelta = HOUR,
) -> set[tuple[str, datetime]]:
    """The (version, window start) of the windows of ``model`` (``window`` long, aligned on the
    epoch, UTC: hours, days) that gained a label arriving in ``[since, until]`` after the window
    had ended."""
    check_name(model, "model", "windows_needing_reevaluation")
    if window <= timedelta(0):
        raise ConfigError(
            "The 'window' parameter of windows_needing_reevaluation must be a positive "
            f"duration. Got {window!r} instead."
        )
    root = Path(data_dir)
    labels = read_labels(root, model, since=utc(since), until=until)
    if labels.num_rows == 0:
        return set()
    last_arrival = pc.max(labels["label_time"]).as_py()
    ids = pc.unique(labels["inference_id"])
    found = find_captures(root, model, ids, until=last_arrival + HOUR)
    pairs = found.join(labels.select(["inference_id", "label_time"]), "inference_id")
    if pairs.num_rows == 0:
        return set()
    width = window // timedelta(microseconds=1)
    inference = _micros(pairs["inference_time"])
    starts = inference - inference % width
    late = _micros(pairs["label_time"]) >= starts + width
    versions = pairs["version"].to_pylist()
    return {
        (versions[i], _EPOCH + timedelta(microseconds=int(starts[i]))) for i in np.flatnonzero(late)
    }
