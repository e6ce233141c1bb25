"""Bias drift: SageMaker Clarify's pre- and post-training bias metrics, judged per window."""

from __future__ import annotations

from modelmon.monitors.bias.drift import MetricDrift
from modelmon.monitors.bias.facets import FacetSpec
from modelmon.monitors.bias.monitor import (
    BiasBaseline,
    BiasMonitor,
    BiasResult,
    load_bias_baseline,
)

__all__ = [
    "BiasBaseline",
    "BiasMonitor",
    "BiasResult",
    "FacetSpec",
    "MetricDrift",
    "load_bias_baseline",
]
