"""Prediction drift between versions: disagreement and score distance on the same inputs."""

from __future__ import annotations

from modelmon.monitors.prediction_drift.join import join_predictions
from modelmon.monitors.prediction_drift.monitor import (
    REPORT_FILE,
    GroupAgreement,
    PredictionDriftMonitor,
    PredictionDriftResult,
)
from modelmon.monitors.prediction_drift.reporting import Violation

__all__ = [
    "REPORT_FILE",
    "GroupAgreement",
    "PredictionDriftMonitor",
    "PredictionDriftResult",
    "Violation",
    "join_predictions",
]
