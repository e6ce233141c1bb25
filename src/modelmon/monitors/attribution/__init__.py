"""Feature-attribution drift: global SHAP values per feature, rankings compared by NDCG."""

from __future__ import annotations

from modelmon.monitors.attribution.monitor import (
    AttributionBaseline,
    AttributionMonitor,
    AttributionResult,
    load_attribution_baseline,
)
from modelmon.monitors.attribution.shap_values import Explanation, explain, global_values

__all__ = [
    "AttributionBaseline",
    "AttributionMonitor",
    "AttributionResult",
    "Explanation",
    "explain",
    "global_values",
    "load_attribution_baseline",
]
