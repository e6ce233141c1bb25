"""Default rules for a new monitor, from its baseline's constraints: sensible alerts without
writing any.

For a ModelQuality schedule: each metric constraint (SageMaker's threshold and operator) on the
overall point. For a DataQuality schedule: each feature's drift distance above the constraints'
comparison threshold (the categorical threshold for String features, per-feature overrides
honoured), and each feature's completeness below its constraint. Features sharing a threshold
share one rule (a ``feature`` matcher lists them), so a 300-feature model gets a handful of rules.
Defaults ask for 2 breaching datapoints of the last 3, so one noisy window does not page anyone,
and notify every channel (``*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from modelmon.alerting.rules import ConditionSpec, EvaluationSpec, RuleSpec
from modelmon.formats import sagemaker as sm
from modelmon.formats import sagemaker_model_quality as mq
from modelmon.services.executor import VIOLATIONS_METRIC
from modelmon.store import MonitorType, Schedule

__all__ = ["DEFAULT_EVALUATION", "default_rules_for"]

DEFAULT_EVALUATION = EvaluationSpec(m=2, n=3, missing="keep")
_NAME_LIMIT = 128


def _constraints(files: Mapping[str, Any]) -> sm.Constraints | None:
    content = files.get("constraints.json")
    if content is None:
        return None
    if isinstance(content, str):
        return sm.read_constraints(content)
    return sm.constraints_from_json(content, path="constraints.json")


def _by_threshold(pairs: Iterable[tuple[str, float]]) -> dict[float, list[str]]:
    groups: dict[float, list[str]] = {}
    for feature, threshold in pairs:
        groups.setdefault(threshold, []).append(feature)
    return groups


def _rules(
    schedule: Schedule,
    groups: dict[float, list[str]],
    every_feature: int,
    *,
    kind: str,
    metric: str,
    condition: str,
    description: str,
) -> list[RuleSpec]:
    base = {
        "model": f"={schedule.model}",
        "version": f"={schedule.version}",
        "schedule": f"={schedule.name}",
    }
    rules = []
    for index, (threshold, features) in enumerate(sorted(groups.items())):
        matchers = dict(base)
        if len(groups) > 1 or len(features) < every_feature:
            matchers["feature"] = "=~" + "|".join(re.escape(f) for f in sorted(features))
        suffix = f".{kind}" if len(groups) == 1 else f".{kind}-{index + 1}"
        rules.append(
            RuleSpec(
                name=schedule.name[: _NAME_LIMIT - len(suffix)] + suffix,
                metric=metric,
                matchers=matchers,
                condition=ConditionSpec.model_validate({"type": condition, "threshold": threshold}),
                evaluation=DEFAULT_EVALUATION,
                severity="warning",
                description=description,
                channels=["*"],
                # Created before the first run, when no point exists yet.
                allow_unknown_metric=True,
            )
        )
    return rules


def _model_quality_rules(schedule: Schedule, files: Mapping[str, Any]) -> list[RuleSpec]:
    """One rule per metric constraint of a ModelQuality baseline, on the overall (unsegmented)
    point: below the threshold for LessThan* operators, above it for GreaterThan*."""
    content = files.get("constraints.json")
    if content is None:
        return []
    constraints = (
        mq.read_constraints(content)
        if isinstance(content, str)
        else mq.constraints_from_json(content, path="constraints.json")
    )
    rules = []
    for metric, constraint in sorted(constraints.constraints.items()):
        below = constraint.comparison_operator.startswith("LessThan")
        suffix = f".{metric}"
        rules.append(
            RuleSpec(
                name=schedule.name[: _NAME_LIMIT - len(suffix)] + suffix,
                metric=f"model_quality_{metric}",
                matchers={
                    "model": f"={schedule.model}",
                    "version": f"={schedule.version}",
                    "schedule": f"={schedule.name}",
                    "segment": "=",
                },
                condition=ConditionSpec.model_validate(
                    {"type": "below" if below else "above", "threshold": constraint.threshold}
                ),
                evaluation=DEFAULT_EVALUATION,
                severity="warning",
                description=f"Model quality {metric} is $value ($condition).",
                channels=["*"],
                allow_unknown_metric=True,
            )
        )
    return rules


def _violations_rule(schedule: Schedule) -> RuleSpec:
    """Any violation the monitor reports: its own verdict already weighs sample size and noise
    (Robust thresholds, intervals, history), so one such execution is enough."""
    suffix = ".violations"
    return RuleSpec(
        name=schedule.name[: _NAME_LIMIT - len(suffix)] + suffix,
        metric=VIOLATIONS_METRIC,
        matchers={
            "model": f"={schedule.model}",
            "version": f"={schedule.version}",
            "schedule": f"={schedule.name}",
        },
        condition=ConditionSpec.model_validate({"type": "above", "threshold": 0}),
        evaluation=EvaluationSpec(m=1, n=1, missing="keep"),
        severity="warning",
        description=(
            f"The {schedule.monitor_type.value} monitor {schedule.name} found $value violation(s)."
        ),
        channels=["*"],
        allow_unknown_metric=True,
    )


def default_rules_for(schedule: Schedule, baseline_files: Mapping[str, Any]) -> list[RuleSpec]:
    """The rules a new monitor gets: per feature for DataQuality, per metric constraint for
    ModelQuality, and "any violation" for the other monitor types."""
    if schedule.monitor_type == MonitorType.MODEL_QUALITY:
        return _model_quality_rules(schedule, baseline_files)
    if schedule.monitor_type != MonitorType.DATA_QUALITY:
        return [_violations_rule(schedule)]
    constraints = _constraints(baseline_files)
    if constraints is None or not constraints.monitoring_config.evaluate_constraints:
        return []
    drift, completeness = [], []
    for feature in constraints.features:
        config = constraints.monitoring_config.overridden_by(feature.overrides)
        if not config.evaluate_constraints:
            continue
        distribution = config.distribution_constraints
        if distribution.perform_comparison and feature.inferred_type != "Unknown":
            threshold = (
                distribution.effective_categorical_threshold
                if feature.inferred_type == "String"
                else distribution.comparison_threshold
            )
            drift.append((feature.name, threshold))
        if feature.completeness is not None:
            completeness.append((feature.name, feature.completeness))
    count = len(constraints.features)
    return _rules(
        schedule,
        _by_threshold(drift),
        count,
        kind="drift",
        metric="feature_baseline_drift_*",
        condition="above",
        description="Feature $feature drifted from the baseline: distance $value ($condition).",
    ) + _rules(
        schedule,
        _by_threshold(completeness),
        count,
        kind="completeness",
        metric="feature_non_null_*",
        condition="below",
        description="Feature $feature is only $value complete ($condition).",
    )
