"""Baseline vs current distribution of one feature, from two ``statistics.json`` features.

A chart needs the same few numbers whichever file they come from: bin edges and the share of each
side in every bin (numeric features, rebuilt from the KLL sketch), or the share of each category
(String features). Both come from summaries, never from raw rows, so a dashboard or a report can
draw any execution's distribution long after its data is gone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality.summaries import feature_distribution

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_NUMERIC_BINS",
    "DistributionComparison",
    "compact_number",
    "compare_features",
    "feature_summary",
]

# Enough bins to see a shape, few enough to read each bar on a phone.
DEFAULT_NUMERIC_BINS = 24
# The most frequent categories (over both sides); the rest are pooled into one bar.
DEFAULT_CATEGORIES = 20


@dataclass(frozen=True)
class DistributionComparison:
    """Shares per bin (numeric: ``edges`` has one more item than the shares) or per category.

    Shares are fractions of each side's own count, so sides of any size compare; a side the
    feature is missing from has no shares (an empty list).
    """

    feature: str
    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...]
    categories: tuple[str, ...]
    baseline: tuple[float, ...]
    current: tuple[float, ...]
    baseline_summary: dict[str, float | str | None]
    current_summary: dict[str, float | str | None]

    @property
    def labels(self) -> list[str]:
        """One short label per bar: the category, or the bin's range."""
        if self.kind == "categorical":
            return list(self.categories)
        return [
            f"{_short(lo)} – {_short(hi)}"
            for lo, hi in zip(self.edges[:-1], self.edges[1:], strict=True)
        ]

    @property
    def axis_labels(self) -> list[str]:
        """Shorter labels for an axis: the category, or the bin's lower edge."""
        if self.kind == "categorical":
            return list(self.categories)
        return [compact_number(lo) for lo in self.edges[:-1]]

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "kind": self.kind,
            "edges": [_finite(e) for e in self.edges],
            "categories": list(self.categories),
            "labels": self.labels,
            "baseline": [_finite(v) for v in self.baseline],
            "current": [_finite(v) for v in self.current],
            "summary": {"baseline": self.baseline_summary, "current": self.current_summary},
        }


def compare_features(
    baseline: sm.FeatureStatistics | None,
    current: sm.FeatureStatistics | None,
    *,
    bins: int = DEFAULT_NUMERIC_BINS,
    max_categories: int = DEFAULT_CATEGORIES,
) -> DistributionComparison:
    """The distributions of one feature on both sides; either side may be absent."""
    present = [f for f in (baseline, current) if f is not None]
    if not present:
        raise ValueError("compare_features needs at least one side")
    name = present[0].name
    numeric = any(f.numerical is not None for f in present)
    summaries = (feature_summary(baseline), feature_summary(current))
    if numeric:
        sides = [
            feature_distribution(f) if f is not None and f.numerical is not None else None
            for f in (baseline, current)
        ]
        edges = _edges([s.values for s in sides if s is not None], bins)
        shares = [() if s is None else _binned(s.values, s.weights, edges) for s in sides]
        return DistributionComparison(
            name, "numeric", tuple(edges), (), shares[0], shares[1], *summaries
        )
    counts = [
        {b.value: float(b.count) for b in f.string.buckets}
        if f is not None and f.string is not None
        else None
        for f in (baseline, current)
    ]
    categories, (base, cur) = _categories(counts[0], counts[1], max_categories)
    return DistributionComparison(name, "categorical", (), categories, base, cur, *summaries)


def feature_summary(feature: sm.FeatureStatistics | None) -> dict[str, float | str | None]:
    """The numbers a reader compares first: counts, and the moments or the distinct count."""
    if feature is None:
        return {}
    if feature.numerical is not None:
        n = feature.numerical
        return {
            "type": feature.inferred_type,
            "present": n.num_present,
            "missing": n.num_missing,
            "mean": _finite(n.mean),
            "std_dev": _finite(n.std_dev),
            "min": _finite(n.min),
            "max": _finite(n.max),
        }
    if feature.string is not None:
        s = feature.string
        return {
            "type": feature.inferred_type,
            "present": s.num_present,
            "missing": s.num_missing,
            "distinct": _finite(s.distinct_count),
        }
    return {"type": feature.inferred_type}


def _edges(samples: list[np.ndarray], bins: int) -> list[float]:
    values = [v for v in samples if v.size]
    if not values:
        return []
    lo = min(float(v.min()) for v in values)
    hi = max(float(v.max()) for v in values)
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:  # a constant feature: one bar around its value
        pad = abs(lo) * 0.05 or 0.5
        return [lo - pad, lo + pad]
    edges: list[float] = np.linspace(lo, hi, bins + 1).tolist()
    return edges


def _binned(values: np.ndarray, weights: np.ndarray, edges: list[float]) -> tuple[float, ...]:
    if len(edges) < 2 or values.size == 0:
        return ()
    counts, _ = np.histogram(values, bins=np.asarray(edges), weights=weights)
    total = float(weights.sum())
    if total <= 0:
        return tuple(0.0 for _ in counts)
    return tuple(float(c) / total for c in counts)


def _categories(
    baseline: dict[str, float] | None, current: dict[str, float] | None, limit: int
) -> tuple[tuple[str, ...], tuple[tuple[float, ...], tuple[float, ...]]]:
    sides = [s for s in (baseline, current) if s is not None]
    totals = [sum(s.values()) or 1.0 for s in sides]
    weight: dict[str, float] = {}
    for side, total in zip(sides, totals, strict=True):
        for value, count in side.items():
            weight[value] = weight.get(value, 0.0) + count / total
    ranked = sorted(weight, key=lambda v: (-weight[v], v))
    shown, rest = ranked[:limit], ranked[limit:]
    labels = [*shown, f"(other {len(rest)})"] if rest else list(shown)

    def shares(side: dict[str, float] | None) -> tuple[float, ...]:
        if side is None:
            return ()
        total = sum(side.values()) or 1.0
        out = [side.get(v, 0.0) / total for v in shown]
        if rest:
            out.append(sum(side.get(v, 0.0) for v in rest) / total)
        return tuple(out)

    return tuple(labels), (shares(baseline), shares(current))


def compact_number(value: float) -> str:
    """1234567 -> "1.23M", 27600 -> "27.6k", 0.0123 -> "0.0123": short enough for an axis."""
    size = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _short(value: float) -> str:
    return f"{value:.4g}"


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
