"""SageMaker's six data-quality checks of a current profile against a baseline.

``data_type_check``, ``completeness_check``, ``baseline_drift_check``, ``categorical_values_check``
per feature, then ``missing_column_check`` and ``extra_column_check``. Features are matched by name
when the current data has a header, else by position (SageMaker's convention).

Beyond SageMaker, under ``comparison_method: Robust`` the proportion checks (type match,
completeness, domain content) are sample-size aware too: a share counts as broken only when it falls
more than three binomial standard errors below the required share. A required share of 1.0 has no
margin, so a single new null, type or category still breaks it, as in SageMaker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality.drift import (
    FeatureDrift,
    control_fdr,
    feature_drift,
    not_evaluated,
)
from modelmon.monitors.data_quality.summaries import column_distribution, feature_distribution
from modelmon.stats.profile import ColumnProfile, DatasetProfile

__all__ = ["MAX_CATEGORIES", "ColumnMatch", "Evaluation", "evaluate", "match_columns"]

# Three standard errors: a false alarm rate of about 0.13% per check on an unchanged population.
_ROBUST_Z = 3.0
# Beyond this many distinct values a text column is an identifier: its drift is not evaluated.
MAX_CATEGORIES = 1000


@dataclass(frozen=True)
class ColumnMatch:
    """A baseline feature and the current column it was matched with (None: missing)."""

    feature: sm.FeatureConstraints
    column: ColumnProfile | None


@dataclass(frozen=True)
class Evaluation:
    violations: tuple[sm.Violation, ...]
    drift: tuple[FeatureDrift, ...]


def match_columns(
    constraints: sm.Constraints, profile: DatasetProfile, *, by_position: bool
) -> tuple[list[ColumnMatch], list[ColumnProfile]]:
    """Pair baseline features with current columns; also return the current columns left over."""
    columns = list(profile.columns.values())
    if by_position:
        matches = [
            ColumnMatch(f, columns[i] if i < len(columns) else None)
            for i, f in enumerate(constraints.features)
        ]
        return matches, columns[len(constraints.features) :]
    names = {f.name for f in constraints.features}
    matches = [ColumnMatch(f, profile.columns.get(f.name)) for f in constraints.features]
    return matches, [c for c in columns if c.name not in names]


def evaluate(
    constraints: sm.Constraints,
    statistics: sm.Statistics,
    profile: DatasetProfile,
    *,
    by_position: bool,
    fdr: float | None = None,
) -> Evaluation:
    """Run the checks. With ``fdr`` (a false-discovery rate such as 0.05), drift verdicts are
    controlled across the features of this execution (see :func:`control_fdr`)."""
    matches, extras = match_columns(constraints, profile, by_position=by_position)
    baseline_features = {f.name: f for f in statistics.features}
    violations: list[sm.Violation] = []
    judged: list[tuple[ColumnMatch, sm.MonitoringConfig, FeatureDrift | None]] = []
    for match in matches:
        if match.column is None:
            continue
        config = constraints.monitoring_config.overridden_by(match.feature.overrides)
        judged.append(
            (match, config, _drift(match, baseline_features.get(match.feature.name), config))
        )
    if fdr is not None:
        controlled = iter(control_fdr([d for _, _, d in judged if d is not None], fdr))
        judged = [(m, c, None if d is None else next(controlled)) for m, c, d in judged]
    drifts = [d for _, _, d in judged if d is not None]
    for match, config, drift in judged:
        assert match.column is not None
        if config.evaluate_constraints:
            violations.extend(_feature_violations(match.feature, match.column, config, drift))
    if constraints.monitoring_config.evaluate_constraints:
        violations.extend(_column_count_violations(matches, extras, len(profile.columns)))
    return Evaluation(tuple(violations), tuple(drifts))


def _drift(
    match: ColumnMatch, baseline: sm.FeatureStatistics | None, config: sm.MonitoringConfig
) -> FeatureDrift | None:
    feature, column = match.feature, match.column
    if baseline is None or column is None or feature.inferred_type == "Unknown":
        return None
    levels = baseline.string.distinct_count if baseline.string is not None else 0.0
    if feature.inferred_type == "String" and levels > MAX_CATEGORIES:
        return not_evaluated(
            feature.name,
            "categorical",
            round(baseline.string.num_present) if baseline.string is not None else 0,
            column.num_present,
            f"{levels:.0f} distinct values in the baseline (more than {MAX_CATEGORIES}): an "
            "identifier-like column, where category shares mean nothing; its domain is checked "
            "by categorical_values_check",
        )
    return feature_drift(
        feature.name,
        feature.inferred_type,
        feature_distribution(baseline),
        column_distribution(column),
        config.distribution_constraints,
    )


def _feature_violations(
    feature: sm.FeatureConstraints,
    column: ColumnProfile,
    config: sm.MonitoringConfig,
    drift: FeatureDrift | None,
) -> list[sm.Violation]:
    name = feature.name
    robust = config.distribution_constraints.comparison_method == "Robust"
    found: list[sm.Violation] = []
    share = _type_match_share(feature.inferred_type, column)
    threshold = config.datatype_check_threshold
    if share is not None and share < _floor(threshold, column.num_present, robust):
        text = sm.data_type_description(feature.inferred_type, threshold, share)
        found.append(sm.Violation(name, "data_type_check", text))
    if feature.completeness is not None and column.count:
        observed = column.completeness
        if observed < _floor(feature.completeness, column.count, robust):
            found.append(
                sm.Violation(name, "completeness_check", sm.completeness_description(observed))
            )
    if config.distribution_constraints.perform_comparison and drift is not None and drift.drift:
        found.append(sm.Violation(name, "baseline_drift_check", _drift_description(drift)))
    if feature.domains is not None and column.categories.n:
        in_domain = sum(column.categories.estimate(v) for v in feature.domains)
        share = in_domain / column.categories.n
        required = config.domain_content_threshold
        if share < _floor(required, column.categories.n, robust):
            text = sm.categorical_values_description(share)
            found.append(sm.Violation(name, "categorical_values_check", text))
    return found


def _column_count_violations(
    matches: list[ColumnMatch], extras: list[ColumnProfile], current_columns: int
) -> list[sm.Violation]:
    baseline_columns = len(matches)
    missing = [
        sm.Violation(
            m.feature.name,
            "missing_column_check",
            sm.missing_column_description(current_columns, baseline_columns),
        )
        for m in matches
        if m.column is None
    ]
    extra = [
        sm.Violation(
            c.name,
            "extra_column_check",
            sm.extra_column_description(current_columns, baseline_columns),
        )
        for c in extras
    ]
    return missing + extra


def _type_match_share(expected: str, column: ColumnProfile) -> float | None:
    """Share of present values of the expected type; an integer is a valid fraction."""
    types = column.types
    if types.total == 0 or expected == "Unknown":
        return None
    matching = {
        "Integral": types.integral,
        "Fractional": types.integral + types.fractional,
        "String": types.total,
    }[expected]
    return matching / types.total


def _floor(required: float, n: int, robust: bool) -> float:
    if not robust or n == 0 or not 0.0 < required < 1.0:
        return required
    return required - _ROBUST_Z * math.sqrt(required * (1.0 - required) / n)


def _drift_description(drift: FeatureDrift) -> str:
    if drift.method == "ChiSquared":
        return (
            f"Baseline drift chi-squared p-value: {drift.statistic!r} "
            f"is below threshold: {drift.threshold!r}"
        )
    description = sm.baseline_drift_description(drift.statistic, drift.threshold)
    if drift.method == "FDR L-infinity":
        return f"{description} ({drift.rule})"
    return description
