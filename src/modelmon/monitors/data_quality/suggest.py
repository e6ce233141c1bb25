"""Suggest ``constraints.json`` from a baseline profile, with Deequ's rules (as SageMaker does)."""

from __future__ import annotations

from modelmon.formats import sagemaker as sm
from modelmon.stats.profile import ColumnProfile, DatasetProfile

__all__ = ["MAX_DOMAIN_SIZE", "MAX_UNIQUE_SHARE", "suggest_constraints"]

# Deequ's CategoricalRangeRule: a domain only for a column with a histogram (at most 120 distinct
# values) in which at most 10% of the distinct values occur exactly once.
MAX_DOMAIN_SIZE = 120
MAX_UNIQUE_SHARE = 0.1


def suggest_constraints(profile: DatasetProfile, config: sm.MonitoringConfig) -> sm.Constraints:
    features = tuple(_feature(column) for column in profile.columns.values())
    return sm.Constraints(features=features, monitoring_config=config)


def _feature(column: ColumnProfile) -> sm.FeatureConstraints:
    kind = column.inferred_type
    numeric = kind in ("Integral", "Fractional")
    return sm.FeatureConstraints(
        name=column.name,
        inferred_type=kind,
        completeness=column.completeness,
        is_non_negative=bool(column.min >= 0) if numeric else None,
        domains=_domain(column) if kind == "String" else None,
        overrides=sm.MonitoringConfigOverrides(),
    )


def _domain(column: ColumnProfile) -> tuple[str, ...] | None:
    categories = column.categories
    if not categories.is_exact:
        return None
    items = categories.items()
    if not items or len(items) > MAX_DOMAIN_SIZE:
        return None
    singletons = sum(1 for _, count in items if count == 1)
    if singletons > MAX_UNIQUE_SHARE * len(items):
        return None
    return tuple(sorted(value for value, _ in items))
