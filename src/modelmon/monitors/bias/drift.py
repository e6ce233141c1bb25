"""Judge a window's bias metrics against the baseline: Clarify's confidence-interval rule.

For each metric the allowed range A is the user's, or else "no farther from the fair value than
the baseline" (:func:`modelmon.stats.bias.allowed_range`). The window's value comes with a
normal bootstrap interval C; the metric violates only when C and A are disjoint, so a small,
noisy window does not raise a false alarm (sagemaker.md §1.5, §9.10). A metric the window has too
little data for is reported as insufficient data and never violates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelmon.formats.clarify import BiasAnalysis, BiasViolation, FacetBias, bias_drift_description
from modelmon.monitors.bias.facets import parse_value_or_threshold
from modelmon.stats.bias import allowed_range

__all__ = ["MetricDrift", "compare"]


@dataclass(frozen=True)
class MetricDrift:
    stage: str
    facet: str
    facet_value: str
    value_or_threshold: str
    metric: str
    baseline: float
    value: float | None
    interval: tuple[float, float] | None
    allowed: tuple[float, float]
    violated: bool
    reason: str | None = None

    @property
    def point_label(self) -> str:
        """``age>40`` for a threshold facet, ``gender=female`` for values."""
        selector = parse_value_or_threshold(self.value_or_threshold)
        operator = ">" if selector.threshold is not None else "="
        return f"{self.facet}{operator}{self.facet_value}"

    def violation(self) -> BiasViolation:
        assert self.value is not None
        return BiasViolation(
            facet=self.facet,
            facet_value=self.facet_value,
            metric_name=self.metric,
            description=bias_drift_description(self.value),
        )

    def to_json(self) -> dict[str, Any]:
        def number(x: float | None) -> Any:
            return None if x is None or math.isnan(x) else (str(x) if math.isinf(x) else x)

        return {
            "stage": self.stage,
            "facet": self.facet,
            "facet_value": self.facet_value,
            "metric_name": self.metric,
            "baseline_value": number(self.baseline),
            "value": number(self.value),
            "confidence_interval": None
            if self.interval is None
            else [number(v) for v in self.interval],
            "allowed_range": [number(v) for v in self.allowed],
            "violation": self.violated,
            "reason": self.reason,
        }


def compare(
    baseline: BiasAnalysis,
    window: BiasAnalysis,
    allowed_ranges: Mapping[str, tuple[float, float]] | None = None,
) -> list[MetricDrift]:
    """Every metric with a baseline value, judged on ``window``."""
    ranges = allowed_ranges or {}
    current = dict(window.stages())
    out: list[MetricDrift] = []
    for stage_name, stage in baseline.stages():
        live = current.get(stage_name)
        for facet, entries in stage.facets.items():
            live_entries = {} if live is None else _by_key(live.facets.get(facet, ()))
            for entry in entries:
                selector = parse_value_or_threshold(entry.value_or_threshold)
                live_entry = live_entries.get(_key(entry))
                out.extend(_judge(stage_name, facet, selector.display, entry, live_entry, ranges))
    return out


def _key(entry: FacetBias) -> object:
    return parse_value_or_threshold(entry.value_or_threshold).key


def _by_key(entries: tuple[FacetBias, ...]) -> dict[object, FacetBias]:
    return {_key(e): e for e in entries}


def _judge(
    stage: str,
    facet: str,
    display: str,
    entry: FacetBias,
    live: FacetBias | None,
    ranges: Mapping[str, tuple[float, float]],
) -> Iterator[MetricDrift]:
    for metric in entry.metrics:
        if metric.value is None or math.isnan(metric.value):
            continue  # nothing to compare against
        allowed = ranges.get(metric.name) or allowed_range(metric.name, metric.value)
        found = None if live is None else live.metric(metric.name)
        value = None if found is None else found.value
        interval = None
        violated = False
        reason = None
        if found is None or value is None:
            reason = "not computed on the window" if found is None else found.error
        else:
            interval = found.confidence_interval or (value, value)
            violated = interval[1] < allowed[0] or interval[0] > allowed[1]
        yield MetricDrift(
            stage=stage,
            facet=facet,
            facet_value=display,
            value_or_threshold=entry.value_or_threshold,
            metric=metric.name,
            baseline=metric.value,
            value=value,
            interval=interval,
            allowed=allowed,
            violated=violated,
            reason=reason,
        )
