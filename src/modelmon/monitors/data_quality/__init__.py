"""Data-quality monitoring: baseline statistics and constraints, six checks and a drift report."""

from __future__ import annotations

from modelmon.monitors.data_quality.drift import FeatureDrift
from modelmon.monitors.data_quality.monitor import (
    DataQualityBaseline,
    DataQualityMonitor,
    DataQualityResult,
    load_baseline,
)

__all__ = [
    "DataQualityBaseline",
    "DataQualityMonitor",
    "DataQualityResult",
    "FeatureDrift",
    "load_baseline",
]
