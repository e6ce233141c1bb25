"""Streaming drift detection on captured records as they arrive, checkpointed across restarts.

A :class:`StreamingMonitor` holds one detector per stream of a model version:

* each numeric feature of the data-quality baseline, standardised by the baseline's mean and
  standard deviation (so one threshold fits every feature): ADWIN by default, or Page-Hinkley or
  KSWIN;
* each of the baseline's most common values of a text feature, plus "any other value", as a 0/1
  stream of "this record has it" (ADWIN): a change in the mix of categories;
* the service error stream (1 when a record has an ``error`` or an HTTP status of 500 or more) and,
  when configured, a model error column (1 = the prediction was wrong, from joined labels):
  ADWIN by default, DDM or EDDM on request (they raise more false alarms on a steady error rate:
  see benchmarks/detection_quality.py).

``process(table)`` feeds a batch of captured records (the capture layout of
:mod:`modelmon.capture.columns`, or plain feature columns) and returns the detections as metric
points and ``(feature, check type, description)`` violation triples, the shapes the executor
records for batch monitors, so alert rules treat them alike; :meth:`Detections.outcome` wraps them
in a runner :class:`~modelmon.services.runners.context.Outcome`. After every batch the detectors'
state is written atomically to ``<state_dir>/<model>/<version>.json``; a new monitor over the same
directory resumes from it, and refuses (then starts afresh) a state made for another baseline.

To run it live, call ``process`` with each table the capture writer flushes (or poll
:meth:`catch_up`, which reads the capture files written since the last call, in order).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelmon.capture import capture_features
from modelmon.capture.layout import capture_root, hour_partitions, partition_files
from modelmon.capture.reader import type_text
from modelmon.errors import ConfigError
from modelmon.formats import sagemaker as sm
from modelmon.formats.atomic import atomic_file
from modelmon.services.runners.context import Outcome
from modelmon.stats.streaming import (
    Adwin,
    Ddm,
    Detector,
    Eddm,
    Kswin,
    PageHinkley,
    detector_from_state,
)
from modelmon.store import Point

__all__ = ["Detection", "Detections", "StreamingMonitor"]

STATE_VERSION = 1
MONITOR_LABEL = "streaming"
FEATURE_DETECTORS = ("adwin", "page_hinkley", "kswin")
ERROR_DETECTORS = ("adwin", "ddm", "eddm")
SERVICE_ERRORS = "service_errors"
_CATEGORY_OTHER = "(other)"


@dataclass(frozen=True)
class Detection:
    """One change a detector found: which stream, at which record, with what detector."""

    stream: str
    feature: str
    detector: str
    record: int
    timestamp: datetime
    description: str


@dataclass(frozen=True)
class Detections:
    """What one ``process`` call found, as the executor records a batch monitor's results."""

    detections: tuple[Detection, ...]
    points: tuple[Point, ...]
    violations: tuple[tuple[str, str, str], ...]
    records: int

    def outcome(self) -> Outcome:
        """The detections as a runner outcome (a streaming "execution" per batch that found any)."""
        count = len(self.violations)
        message = (
            f"CompletedWithViolations: streaming detectors found {count} changes."
            if count
            else "Completed: streaming detectors found no change."
        )
        return Outcome(bool(count), message, {}, self.violations, self.points)


@dataclass
class _Stream:
    name: str
    feature: str
    detector: Detector
    detections: int = 0


@dataclass
class _Feature:
    name: str
    numeric: bool
    mean: float = 0.0
    std: float = 1.0
    categories: tuple[str, ...] = ()
    streams: list[str] = field(default_factory=list)


class StreamingMonitor:
    """Per-stream change detectors for one model version, checkpointed in ``state_dir``.

    Parameters
    ----------
    model, version
        What the records belong to; they label every point.
    statistics
        The data-quality baseline's ``statistics.json`` model: which features to watch, their
        types, means and standard deviations, and their most common values.
    state_dir
        Directory of the checkpoint files.
    detector
        ``"adwin"`` (default), ``"page_hinkley"`` or ``"kswin"`` for numeric features.
    detector_options
        Keyword arguments for that detector (e.g. ``{"delta": 0.0002}``).
    error_detector
        ``"adwin"`` (default), ``"ddm"`` or ``"eddm"`` for the error streams.
    error_column
        A 0/1 column of the records, 1 = the model was wrong (from joined labels); optional.
    categories
        How many of a text feature's most common baseline values get their own stream.
    clock
        Stamps points of records without an ``inference_time``.
    """

    def __init__(
        self,
        model: str,
        version: str,
        statistics: sm.Statistics,
        state_dir: str | os.PathLike[str],
        *,
        detector: str = "adwin",
        detector_options: Mapping[str, Any] | None = None,
        error_detector: str = "adwin",
        error_column: str | None = None,
        categories: int = 5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        _choice("detector", detector, FEATURE_DETECTORS)
        _choice("error_detector", error_detector, ERROR_DETECTORS)
        if not isinstance(categories, int) or isinstance(categories, bool) or categories < 1:
            raise ConfigError(
                "The 'categories' parameter of StreamingMonitor must be an int >= 1. "
                f"Got {categories!r} instead."
            )
        self.model, self.version = model, version
        self.detector, self.error_detector = detector, error_detector
        self.detector_options = dict(detector_options or {})
        self.error_column = error_column
        self.clock = clock
        self.path = Path(state_dir) / model / f"{version}.json"
        self.features = _features(statistics, categories)
        self.fingerprint = self._fingerprint()
        self.records = 0
        self.files_done: list[str] = []
        self.streams: dict[str, _Stream] = {}
        self._build()
        self.restored = self._restore()

    # -- setup ------------------------------------------------------------------------------------

    def _new_feature_detector(self) -> Detector:
        try:
            kind = {"adwin": Adwin, "page_hinkley": PageHinkley, "kswin": Kswin}[self.detector]
            made: Detector = kind(**self.detector_options)
        except TypeError as error:
            raise ConfigError(
                f"The 'detector_options' of StreamingMonitor do not fit {self.detector}: {error}"
            ) from error
        return made

    def _new_error_detector(self) -> Detector:
        kind = {"adwin": Adwin, "ddm": Ddm, "eddm": Eddm}[self.error_detector]
        made: Detector = kind()
        return made

    def _build(self) -> None:
        for feature in self.features.values():
            for stream in feature.streams:
                detector = self._new_feature_detector() if feature.numeric else Adwin()
                self.streams[stream] = _Stream(stream, feature.name, detector)
        self.streams[SERVICE_ERRORS] = _Stream(SERVICE_ERRORS, "", self._new_error_detector())
        if self.error_column:
            self.streams[self.error_column] = _Stream(
                self.error_column, self.error_column, self._new_error_detector()
            )

    def _fingerprint(self) -> str:
        """What the state depends on: a state made for other settings is not resumed."""
        described = {
            "features": [
                [f.name, f.numeric, f.mean, f.std, list(f.categories)]
                for f in self.features.values()
            ],
            "detector": self.detector,
            "options": self.detector_options,
            "error_detector": self.error_detector,
            "error_column": self.error_column,
        }
        text = json.dumps(described, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _restore(self) -> bool:
        try:
            state = json.loads(self.path.read_text())
        except FileNotFoundError:
            return False
        except (OSError, ValueError):
            return False  # a torn or foreign file: start afresh rather than refuse to run
        if state.get("version") != STATE_VERSION or state.get("fingerprint") != self.fingerprint:
            return False
        for name, saved in state["streams"].items():
            if name in self.streams:
                self.streams[name].detector = detector_from_state(saved["detector"])
                self.streams[name].detections = int(saved["detections"])
        self.records = int(state["records"])
        self.files_done = list(state.get("files_done", []))
        return True

    def checkpoint(self) -> Path:
        """Write every detector's state atomically; returns the file."""
        state = {
            "version": STATE_VERSION,
            "model": self.model,
            "model_version": self.version,
            "fingerprint": self.fingerprint,
            "records": self.records,
            "files_done": self.files_done,
            "streams": {
                name: {"detector": s.detector.state(), "detections": s.detections}
                for name, s in self.streams.items()
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(self.path) as sink:
            sink.write(json.dumps(state).encode())
        return self.path

    # -- feeding ----------------------------------------------------------------------------------

    def process(self, records: pa.Table | pa.RecordBatch, *, checkpoint: bool = True) -> Detections:
        """Feed a batch of captured records, in order; return what changed, then checkpoint."""
        table = pa.Table.from_batches([records]) if isinstance(records, pa.RecordBatch) else records
        times = _times(table)
        found: list[Detection] = []
        features = _feature_table(table)
        for feature in self.features.values():
            if feature.name in features.column_names:
                found.extend(self._feed_feature(feature, features[feature.name], times))
        found.extend(self._feed_errors(SERVICE_ERRORS, _service_errors(table), times))
        if self.error_column and self.error_column in table.column_names:
            column = pc.cast(table[self.error_column], pa.float64()).to_numpy(zero_copy_only=False)
            found.extend(self._feed_errors(self.error_column, column, times))
        self.records += table.num_rows
        if checkpoint:
            self.checkpoint()
        return self._report(found, table.num_rows)

    def catch_up(self, data_dir: str | os.PathLike[str]) -> Detections:
        """Process the capture files of this model version not processed yet, oldest first."""
        root = capture_root(Path(data_dir), self.model, self.version)
        done = set(self.files_done)
        found: list[Detection] = []
        points: list[Point] = []
        violations: list[tuple[str, str, str]] = []
        records = 0
        for _, directory in hour_partitions(root):
            for path in partition_files(directory):
                key = str(path.relative_to(root))
                if key in done:
                    continue
                result = self.process(pq.read_table(path), checkpoint=False)
                self.files_done.append(key)
                found.extend(result.detections)
                points.extend(result.points)
                violations.extend(result.violations)
                records += result.records
                self.checkpoint()  # after each file: a restart redoes at most one
        return Detections(tuple(found), tuple(points), tuple(violations), records)

    def _feed_feature(
        self, feature: _Feature, column: pa.ChunkedArray, times: np.ndarray | None
    ) -> Iterator[Detection]:
        if feature.numeric:
            values = _numbers(column)
            z = (values - feature.mean) / feature.std
            yield from self._feed(feature.streams[0], z, times, feature.std, feature.mean)
            return
        text = np.asarray(pc.cast(column, pa.string()).to_pylist(), dtype=object)
        present = text != None  # noqa: E711 - elementwise
        known = set(feature.categories)
        for stream, category in zip(feature.streams, [*feature.categories, None], strict=True):
            if category is None:
                flags = np.array([v is not None and v not in known for v in text], dtype=float)
            else:
                flags = (text == category).astype(float)
            flags[~present] = np.nan
            yield from self._feed(stream, flags, times)

    def _feed_errors(
        self, stream: str, flags: np.ndarray | None, times: np.ndarray | None
    ) -> Iterator[Detection]:
        if flags is not None:
            yield from self._feed(stream, flags, times)

    def _feed(
        self,
        name: str,
        values: np.ndarray,
        times: np.ndarray | None,
        scale: float = 1.0,
        offset: float = 0.0,
    ) -> Iterator[Detection]:
        stream = self.streams[name]
        detector = stream.detector
        for i, value in enumerate(values.tolist()):
            if value != value:  # NaN: a missing value is the completeness check's business
                continue
            if detector.update(value):
                stream.detections += 1
                yield self._detection(stream, i, times, scale, offset)

    def _detection(
        self, stream: _Stream, i: int, times: np.ndarray | None, scale: float, offset: float
    ) -> Detection:
        record = self.records + i
        when = (
            datetime.fromtimestamp(float(times[i]) / 1e6, UTC)
            if times is not None and not math.isnan(times[i])
            else self.clock()
        )
        detector = stream.detector
        what = f"feature {stream.feature!r}" if stream.feature else "the service error rate"
        if stream.name != stream.feature and stream.feature:
            what = f"the share of {stream.name.split('=', 1)[1]} in feature {stream.feature!r}"
        if stream.name == self.error_column:
            what = f"the model error rate ({stream.name})"
        text = f"Streaming drift ({detector.kind}) in {what} at record {record}"
        if isinstance(detector, Adwin) and detector.width:
            level = detector.estimation * scale + offset
            text += f": recent mean {level:.6g} over the last {detector.width} records"
        return Detection(stream.name, stream.feature, detector.kind, record, when, text)

    def _report(self, found: list[Detection], records: int) -> Detections:
        points = []
        violations = []
        for d in found:
            labels = {
                "model": self.model,
                "version": self.version,
                "monitor": MONITOR_LABEL,
                "detector": d.detector,
                "stream": d.stream,
            }
            if d.feature:
                labels["feature"] = d.feature
            points.append(Point("streaming_drift_detected", labels, 1.0, d.timestamp))
            check = "baseline_drift_check" if d.feature else "service_error_check"
            violations.append((d.feature or d.stream, check, d.description))
        return Detections(tuple(found), tuple(points), tuple(violations), records)


def _choice(parameter: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"The {parameter!r} parameter of StreamingMonitor must be one of "
            f"{', '.join(repr(c) for c in choices)}. Got {value!r} instead."
        )


def _features(statistics: sm.Statistics, categories: int) -> dict[str, _Feature]:
    out: dict[str, _Feature] = {}
    for f in statistics.features:
        if f.numerical is not None and f.inferred_type in ("Integral", "Fractional"):
            std = f.numerical.std_dev
            if not math.isfinite(std) or std <= 0 or not math.isfinite(f.numerical.mean):
                std = 1.0  # a constant baseline: any change shows in raw units
            out[f.name] = _Feature(f.name, True, f.numerical.mean, std, streams=[f.name])
        elif f.string is not None and f.inferred_type == "String":
            ranked = sorted(f.string.buckets, key=lambda b: -b.count)[:categories]
            top = tuple(b.value for b in ranked)
            if not top:
                continue
            streams = [f"{f.name}={v}" for v in top] + [f"{f.name}={_CATEGORY_OTHER}"]
            out[f.name] = _Feature(f.name, False, categories=top, streams=streams)
    return out


def _feature_table(table: pa.Table) -> pa.Table:
    prefixed = any(n.startswith(("input.", "output.")) for n in table.column_names)
    return capture_features(table) if prefixed else table


def _numbers(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = type_text(column)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    if pa.types.is_boolean(column.type):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
    return np.full(len(column), np.nan)  # not numbers at all: the type check reports it


def _service_errors(table: pa.Table) -> np.ndarray | None:
    names = table.column_names
    if "error" not in names and "status" not in names:
        return None
    failed = np.zeros(table.num_rows, dtype=bool)
    if "error" in names:
        failed |= np.asarray(pc.is_valid(table["error"]).to_numpy(zero_copy_only=False))
    if "status" in names:
        status = pc.fill_null(pc.cast(table["status"], pa.int64()), 0)
        failed |= np.asarray(status.to_numpy(zero_copy_only=False)) >= 500
    if "row_index" in names:  # one flag per inference, not per instance of a batch request
        first = np.asarray(pc.equal(pc.fill_null(table["row_index"], 0), 0).to_numpy(False))
        return np.where(first, failed.astype(float), np.nan)
    return failed.astype(float)


def _times(table: pa.Table) -> np.ndarray | None:
    if "inference_time" not in table.column_names:
        return None
    column = pc.cast(table["inference_time"], pa.timestamp("us", "UTC"))
    micros = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(micros, dtype=np.float64)
