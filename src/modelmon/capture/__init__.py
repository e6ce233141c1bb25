"""Capture inferences, import them, join late ground truth, and read them back.

* Capture: :class:`Capture` (the Python SDK), :class:`CaptureMiddleware` (ASGI apps), or
  :class:`CaptureWriter` fed :class:`InferenceEvent` objects (what the middleware and the
  proxy, :mod:`modelmon.capture.proxy`, use).
* Import: :func:`import_captures` (SageMaker data capture, batch-inference output) and
  :func:`import_labels` (ground truth), each returning an :class:`ImportReport`.
* Read: :func:`read_captures` (a time window, labels joined, as an Arrow table),
  :func:`capture_features` (the columns the data-quality monitor profiles),
  :func:`label_coverage` and :func:`windows_needing_reevaluation`.

Storage: Parquet under ``DATA_DIR/captures/<model>/<version>/yyyy/mm/dd/hh/`` and
``DATA_DIR/labels/<model>/yyyy/mm/dd/hh/``; the columns are described in
:mod:`modelmon.capture.columns` and :mod:`modelmon.capture.labelstore`.
"""

from __future__ import annotations

from modelmon.capture.asgi import CaptureMiddleware
from modelmon.capture.coverage import LabelCoverage, label_coverage, windows_needing_reevaluation
from modelmon.capture.importers import import_captures
from modelmon.capture.labels import import_labels
from modelmon.capture.reader import capture_features, read_captures
from modelmon.capture.records import InferenceEvent, Payload, new_inference_id
from modelmon.capture.report import ImportReport
from modelmon.capture.sdk import Capture
from modelmon.capture.writer import CaptureStats, CaptureWriter

__all__ = [
    "Capture",
    "CaptureMiddleware",
    "CaptureStats",
    "CaptureWriter",
    "ImportReport",
    "InferenceEvent",
    "LabelCoverage",
    "Payload",
    "capture_features",
    "import_captures",
    "import_labels",
    "label_coverage",
    "new_inference_id",
    "read_captures",
    "windows_needing_reevaluation",
]
