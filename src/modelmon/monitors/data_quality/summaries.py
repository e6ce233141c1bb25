"""Between profiles and SageMaker files: profile -> statistics.json, and either -> distributions.

A drift comparison needs the same two things from a baseline file and from a live profile: a
weighted sample of the numeric values (a KLL sketch's items) and the category counts. Reading both
through these functions is what makes a SageMaker baseline and a modelmon one interchangeable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from modelmon.formats import sagemaker as sm
from modelmon.stats.kll import KllSketch
from modelmon.stats.profile import ColumnProfile, DatasetProfile

__all__ = [
    "Distribution",
    "column_distribution",
    "feature_distribution",
    "feature_statistics",
    "profile_statistics",
]


@dataclass(frozen=True)
class Distribution:
    """What drift is measured on: numeric items with weights, and category counts."""

    values: np.ndarray
    weights: np.ndarray
    numeric_count: int
    categories: dict[str, float]

    @property
    def category_count(self) -> float:
        return float(sum(self.categories.values()))


def profile_statistics(profile: DatasetProfile) -> sm.Statistics:
    """A dataset profile as SageMaker's ``statistics.json`` model."""
    features = tuple(feature_statistics(column) for column in profile.columns.values())
    return sm.Statistics(item_count=profile.row_count, features=features)


def feature_statistics(column: ColumnProfile) -> sm.FeatureStatistics:
    kind = column.inferred_type
    if kind in ("Integral", "Fractional"):
        buckets = tuple(sm.KllBucket(lo, hi, n) for lo, hi, n in column.equal_width_buckets())
        sketch = sm.KllSketch(
            data=tuple(tuple(float(v) for v in level) for level in column.kll.levels),
            k=float(column.kll.k),
            c=float(column.kll.c),
        )
        numerical = sm.NumericalStatistics(
            num_present=column.num_present,
            num_missing=column.num_missing,
            mean=column.mean,
            sum=column.sum,
            std_dev=column.std_dev,
            min=column.min,
            max=column.max,
            buckets=buckets,
            sketch=sketch,
        )
        return sm.FeatureStatistics(column.name, kind, numerical=numerical)
    # String, and Unknown (no value at all): the counts still show the completeness.
    string = sm.StringStatistics(
        num_present=column.num_present,
        num_missing=column.num_missing,
        distinct_count=float(round(column.distinct_count())) if column.num_present else 0.0,
        buckets=tuple(sm.CategoricalBucket(v, n) for v, n in column.categories.items()),
    )
    return sm.FeatureStatistics(column.name, kind, string=string)


def column_distribution(column: ColumnProfile) -> Distribution:
    values, weights = column.kll.sorted_view()
    return Distribution(
        values=values,
        weights=weights,
        numeric_count=column.numeric_count,
        categories={v: float(n) for v, n in column.categories.items()},
    )


def feature_distribution(feature: sm.FeatureStatistics) -> Distribution:
    """The distribution a ``statistics.json`` feature describes.

    Numeric features are rebuilt from the KLL sketch data; a file without a sketch (a custom
    container) falls back to its 10 buckets, each standing at its upper bound.
    """
    empty = np.empty(0)
    if feature.numerical is not None:
        stats = feature.numerical
        if stats.sketch is not None and any(stats.sketch.data):
            sketch = KllSketch.from_levels(
                stats.sketch.data,
                k=int(stats.sketch.k),
                c=stats.sketch.c,
                min_value=None if math.isnan(stats.min) else stats.min,
                max_value=None if math.isnan(stats.max) else stats.max,
            )
            values, weights = sketch.sorted_view()
        else:
            kept = [b for b in stats.buckets if b.count > 0]
            values = np.array([b.upper_bound for b in kept], dtype=np.float64)
            weights = np.array([b.count for b in kept], dtype=np.float64)
        return Distribution(values, weights, stats.num_present, {})
    if feature.string is not None:
        categories = {b.value: float(b.count) for b in feature.string.buckets}
        return Distribution(empty, empty, 0, categories)
    return Distribution(empty, empty, 0, {})
