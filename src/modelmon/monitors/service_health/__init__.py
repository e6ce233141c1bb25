"""Service health: latency percentiles, throughput, error rate vs a benchmark and history."""

from __future__ import annotations

from modelmon.monitors.service_health.monitor import (
    BASELINE_FILE,
    REPORT_FILE,
    HealthBaseline,
    ServiceHealthMonitor,
    ServiceHealthResult,
    load_health_baseline,
)
from modelmon.monitors.service_health.summary import PERCENTILES, HealthSummary, summarize

__all__ = [
    "BASELINE_FILE",
    "PERCENTILES",
    "REPORT_FILE",
    "HealthBaseline",
    "HealthSummary",
    "ServiceHealthMonitor",
    "ServiceHealthResult",
    "load_health_baseline",
    "summarize",
]
