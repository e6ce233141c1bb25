"""Model-quality monitoring: SageMaker's metrics once labels arrive, CBPE estimates before.

See :class:`ModelQualityMonitor`. Files: SageMaker's ``statistics.json``, ``constraints.json``
and ``constraint_violations.json``; modelmon's ``calibration.json`` (baseline),
``segments.json`` and ``estimated_performance.json`` (reports).
"""

from __future__ import annotations

from modelmon.monitors.model_quality.estimation import (
    EstimatedMetric,
    EstimatedPerformance,
    ScoreCalibration,
)
from modelmon.monitors.model_quality.monitor import (
    ModelQualityBaseline,
    ModelQualityMonitor,
    ModelQualityResult,
    load_model_quality_baseline,
)
from modelmon.monitors.model_quality.segments import SegmentResult

__all__ = [
    "EstimatedMetric",
    "EstimatedPerformance",
    "ModelQualityBaseline",
    "ModelQualityMonitor",
    "ModelQualityResult",
    "ScoreCalibration",
    "SegmentResult",
    "load_model_quality_baseline",
]
