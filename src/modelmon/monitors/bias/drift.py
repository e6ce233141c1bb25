"""Judge a window's bias metrics against the baseline.

With an allowed range A the user gave, Clarify's confidence-interval rule: the window's value
comes with a normal bootstrap interval C and the metric violates only when C and A are disjoint
(sagemaker.md §1.5, §9.10). Otherwise A is "no farther from the fair value than the baseline",
widened to where windows of this size drawn from the baseline's population fall
(:mod:`modelmon.monitors.bias.predictive`); that range already holds the window's sampling noise,
so the metric violates when its value lies outside it. A baseline without samples (Clarify's own)
falls back to Clarify's rule with A at the baseline's value
(:func:`modelmon.stats.bias.allowed_range`). A metric the window has too little data for is
reported as insufficient data and never violates.
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
    predicted: Mapping[tuple[str, object, str], tuple[float, float]] | None = None,
) -> list[MetricDrift]:
    """Every metric with a baseline value, judged on ``window``; ``predicted`` holds the
    same-population ranges by (facet, selector key, metric)."""
    ranges = allowed_ranges or {}
    widened = predicted or {}
    current = dict(window.stages())
    out: list[MetricDrift] = []
    for stage_name, stage in baseline.stages():
        live = current.get(stage_name)
        for facet, entries in stage.facets.items():
            live_entries = {} if live is None else _by_key(live.facets.get(facet, ()))
            for entry in entries:
                selector = parse_value_or_threshold(entry.value_or_threshold)
                live_entry = live_entries.get(_key(entry))
                own = {m: r for (f, k, m), r in widened.items() if f == facet and k == selector.key}
                out.extend(
                    _judge(stage_name, facet, selector.display, entry, live_entry, ranges, own)
                )
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
    widened: Mapping[str, tuple[float, float]],
) -> Iterator[MetricDrift]:
    for metric in entry.metrics:
        if metric.value is None or math.isnan(metric.value):
            continue  # nothing to compare against
        given = ranges.get(metric.name)
        predicted = None if given else widened.get(metric.name)
        allowed = given or predicted or allowed_range(metric.name, metric.value)
        found = None if live is None else live.metric(metric.name)
        value = None if found is None else found.value
        interval = None
        violated = False
        reason = None
        if found is None or value is None:
            reason = "not computed on the window" if found is None else found.error
        else:
            interval = found.confidence_interval or (value, value)
            # The predicted range holds the window's noise already: judge the value itself.
            judged = (value, value) if predicted else interval
            violated = judged[1] < allowed[0] or judged[0] > allowed[1]
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
