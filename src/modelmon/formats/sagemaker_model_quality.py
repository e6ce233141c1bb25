"""SageMaker Model Monitor model-quality files: typed models, a tolerant reader, an exact writer.

* ``statistics.json``: ``{"version": 0.0, "dataset": {"item_count", "evaluation_time"},
  "<problem>_metrics": {...}}`` where ``<problem>`` is ``regression``,
  ``binary_classification`` or ``multiclass_classification``. Every scalar metric is
  ``{"value": f, "standard_deviation": f | "NaN"}``; classifiers add ``confusion_matrix``
  (``{actual: {predicted: count}}``), binary ones the ROC and precision-recall curves.
* ``constraints.json``: ``{"version": 0.0, "<problem>_constraints": {metric: {"threshold": f,
  "comparison_operator": op}}}``; ``op`` is one of :data:`COMPARISON_OPERATORS`, and a metric
  violates its constraint when ``value op threshold`` holds (``LessThanThreshold``: the value fell
  below the threshold).
* ``constraint_violations.json``: ``{"violations": [{"constraint_check_type": op,
  "description": "Metric f1 with 0.61 was LessThanThreshold 0.7", "metric_name": "f1"}]}``.

The writer keeps SageMaker's key order (sagemaker.md §4) and writes NaN as Jackson does, the
string ``"NaN"``. The reader accepts NaN as ``"NaN"`` or ``null``, ``"version": 0``, absent
``evaluation_time``, and metrics it does not know (custom containers add their own).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NoReturn, TypeAlias, get_args

from modelmon.errors import BaselineFormatError
from modelmon.formats import sagemaker as sm
from modelmon.formats.json_values import JsonValue

__all__ = [
    "BINARY_METRICS",
    "COMPARISON_OPERATORS",
    "MULTICLASS_METRICS",
    "PROBLEM_TYPES",
    "REGRESSION_METRICS",
    "ComparisonOperator",
    "MetricConstraint",
    "MetricValue",
    "ModelQualityConstraints",
    "ModelQualityStatistics",
    "ModelQualityViolation",
    "ProblemType",
    "constraints_from_json",
    "constraints_to_json",
    "json_number",
    "metrics_key",
    "metrics_to_json",
    "read_constraints",
    "read_statistics",
    "read_violations",
    "statistics_from_json",
    "statistics_to_json",
    "violated",
    "violation_description",
    "violations_from_json",
    "violations_to_json",
    "write_constraints",
    "write_statistics",
    "write_violations",
]

ProblemType = Literal["Regression", "BinaryClassification", "MulticlassClassification"]
ComparisonOperator = Literal[
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
]
PROBLEM_TYPES: tuple[ProblemType, ...] = get_args(ProblemType)
COMPARISON_OPERATORS: tuple[ComparisonOperator, ...] = get_args(ComparisonOperator)

_PREFIX: dict[ProblemType, str] = {
    "Regression": "regression",
    "BinaryClassification": "binary_classification",
    "MulticlassClassification": "multiclass_classification",
}

# SageMaker's keys in SageMaker's order (model-monitor-model-quality-metrics.md).
REGRESSION_METRICS = ("mae", "mse", "rmse", "r2")
BINARY_METRICS = (
    "confusion_matrix",
    "recall",
    "precision",
    "accuracy",
    "recall_best_constant_classifier",
    "precision_best_constant_classifier",
    "accuracy_best_constant_classifier",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
    "receiver_operating_characteristic_curve",
    "precision_recall_curve",
    "auc",
    "f0_5",
    "f1",
    "f2",
    "f0_5_best_constant_classifier",
    "f1_best_constant_classifier",
    "f2_best_constant_classifier",
)
MULTICLASS_METRICS = (
    "confusion_matrix",
    "accuracy",
    "weighted_recall",
    "weighted_precision",
    "weighted_f0_5",
    "weighted_f1",
    "weighted_f2",
    "accuracy_best_constant_classifier",
    "weighted_recall_best_constant_classifier",
    "weighted_precision_best_constant_classifier",
    "weighted_f0_5_best_constant_classifier",
    "weighted_f1_best_constant_classifier",
    "weighted_f2_best_constant_classifier",
)
_ORDER: dict[ProblemType, tuple[str, ...]] = {
    "Regression": REGRESSION_METRICS,
    "BinaryClassification": BINARY_METRICS,
    "MulticlassClassification": MULTICLASS_METRICS,
}
_ROC = "receiver_operating_characteristic_curve"
_PR = "precision_recall_curve"

JsonObject: TypeAlias = dict[str, JsonValue]
ConfusionMatrix: TypeAlias = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class MetricValue:
    """One metric: its value and the std over 5 random 80% subsamples (NaN below 200 rows)."""

    value: float
    standard_deviation: float = math.nan


@dataclass(frozen=True)
class ModelQualityStatistics:
    """A model-quality ``statistics.json``. ``metrics`` holds the scalar metrics; the confusion
    matrix (actual -> predicted -> count) and the curves ((x, y) as SageMaker names them:
    (false positive rates, true positive rates) and (precisions, recalls)) are apart."""

    problem_type: ProblemType
    item_count: int
    metrics: Mapping[str, MetricValue]
    evaluation_time: str | None = None
    confusion_matrix: ConfusionMatrix | None = None
    roc_curve: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    precision_recall_curve: tuple[tuple[float, ...], tuple[float, ...]] | None = None


@dataclass(frozen=True)
class MetricConstraint:
    threshold: float
    comparison_operator: ComparisonOperator


@dataclass(frozen=True)
class ModelQualityConstraints:
    problem_type: ProblemType
    constraints: Mapping[str, MetricConstraint] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelQualityViolation:
    metric_name: str
    constraint_check_type: ComparisonOperator
    description: str


def violated(value: float, constraint: MetricConstraint) -> bool:
    """Whether ``value`` breaks ``constraint`` (``value <op> threshold``); NaN never does."""
    op, threshold = constraint.comparison_operator, constraint.threshold
    if op == "LessThanThreshold":
        return value < threshold
    if op == "LessThanOrEqualToThreshold":
        return value <= threshold
    if op == "GreaterThanThreshold":
        return value > threshold
    return value >= threshold


def violation_description(metric: str, value: float, constraint: MetricConstraint) -> str:
    """SageMaker's wording: "Metric f1 with 0.61 was LessThanThreshold 0.7"."""
    return (
        f"Metric {metric} with {value!r} was {constraint.comparison_operator} "
        f"{constraint.threshold!r}"
    )


def metrics_key(problem_type: ProblemType) -> str:
    """The key of the metrics object of ``problem_type``, e.g. ``binary_classification_metrics``."""
    return f"{_PREFIX[problem_type]}_metrics"


# -- writing -------------------------------------------------------------------------------------


def json_number(value: float) -> JsonValue:
    # Jackson writes NaN as the string "NaN"; SageMaker's std below 200 rows is exactly that.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def metrics_to_json(statistics: ModelQualityStatistics) -> JsonObject:
    """The ``<problem>_metrics`` object, in SageMaker's key order (unknown metrics last)."""
    parts: JsonObject = {}
    if statistics.confusion_matrix is not None:
        parts["confusion_matrix"] = {
            actual: {predicted: int(n) for predicted, n in row.items()}
            for actual, row in statistics.confusion_matrix.items()
        }
    if statistics.roc_curve is not None:
        fpr, tpr = statistics.roc_curve
        parts[_ROC] = {
            "false_positive_rates": [json_number(v) for v in fpr],
            "true_positive_rates": [json_number(v) for v in tpr],
        }
    if statistics.precision_recall_curve is not None:
        precisions, recalls = statistics.precision_recall_curve
        parts[_PR] = {
            "precisions": [json_number(v) for v in precisions],
            "recalls": [json_number(v) for v in recalls],
        }
    for name, metric in statistics.metrics.items():
        parts[name] = {
            "value": json_number(metric.value),
            "standard_deviation": json_number(metric.standard_deviation),
        }
    order = _ORDER[statistics.problem_type]
    known = [k for k in order if k in parts]
    return {k: parts[k] for k in [*known, *(k for k in parts if k not in order)]}


def statistics_to_json(statistics: ModelQualityStatistics) -> JsonObject:
    dataset: JsonObject = {"item_count": statistics.item_count}
    if statistics.evaluation_time is not None:
        dataset["evaluation_time"] = statistics.evaluation_time
    return {
        "version": 0.0,
        "dataset": dataset,
        metrics_key(statistics.problem_type): metrics_to_json(statistics),
    }


def constraints_to_json(constraints: ModelQualityConstraints) -> JsonObject:
    return {
        "version": 0.0,
        f"{_PREFIX[constraints.problem_type]}_constraints": {
            name: {
                "threshold": json_number(c.threshold),
                "comparison_operator": c.comparison_operator,
            }
            for name, c in constraints.constraints.items()
        },
    }


def violations_to_json(violations: tuple[ModelQualityViolation, ...]) -> JsonObject:
    return {
        "violations": [
            {
                "constraint_check_type": v.constraint_check_type,
                "description": v.description,
                "metric_name": v.metric_name,
            }
            for v in violations
        ]
    }


def write_statistics(path: sm.StrPath, statistics: ModelQualityStatistics) -> None:
    sm.write_json_atomic(path, statistics_to_json(statistics))


def write_constraints(path: sm.StrPath, constraints: ModelQualityConstraints) -> None:
    sm.write_json_atomic(path, constraints_to_json(constraints))


def write_violations(path: sm.StrPath, violations: tuple[ModelQualityViolation, ...]) -> None:
    sm.write_json_atomic(path, violations_to_json(violations))


# -- reading -------------------------------------------------------------------------------------


def read_statistics(path: sm.StrPath) -> ModelQualityStatistics:
    return statistics_from_json(sm.load_json_file(path), path=path)


def read_constraints(path: sm.StrPath) -> ModelQualityConstraints:
    return constraints_from_json(sm.load_json_file(path), path=path)


def read_violations(path: sm.StrPath) -> tuple[ModelQualityViolation, ...]:
    return violations_from_json(sm.load_json_file(path), path=path)


class _Reader:
    """Walks a decoded document; every error names the file and the JSON path."""

    def __init__(self, path: sm.StrPath | None) -> None:
        self.path = path

    def fail(self, where: str, problem: str, expected: str, found: object) -> NoReturn:
        shown = "a JSON object" if isinstance(found, Mapping) else repr(found)
        raise BaselineFormatError(
            problem, path=self.path, column=where or None, expected=expected, found=shown
        )

    def mapping(self, value: object, where: str) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            self.fail(where, "wrong type", "a JSON object", value)
        return value

    def number(self, value: object, where: str) -> float:
        if value is None or value == "NaN":
            return math.nan
        if value in ("Infinity", "-Infinity"):
            return math.inf if value == "Infinity" else -math.inf
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, "wrong type", 'a number (or "NaN")', value)
        return float(value)

    def numbers(self, value: object, where: str) -> tuple[float, ...]:
        if not isinstance(value, list):
            self.fail(where, "wrong type", "a JSON array of numbers", value)
        return tuple(self.number(v, f"{where}[{i}]") for i, v in enumerate(value))

    def count(self, value: object, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(where, "not a count", "a whole number >= 0", value)
        if isinstance(value, float) and not value.is_integer():
            self.fail(where, "not a count", "a whole number >= 0", value)
        return int(value)

    def section(self, top: Mapping[str, object], suffix: str) -> tuple[ProblemType, str]:
        found = [p for p, prefix in _PREFIX.items() if f"{prefix}_{suffix}" in top]
        if len(found) != 1:
            keys = " or ".join(f'"{prefix}_{suffix}"' for prefix in _PREFIX.values())
            self.fail(
                "",
                f"expected exactly one {suffix} section",
                keys,
                ", ".join(str(k) for k in top) or "no keys",
            )
        return found[0], f"{_PREFIX[found[0]]}_{suffix}"

    def statistics(self, value: object) -> ModelQualityStatistics:
        top = self.mapping(value, "")
        problem, key = self.section(top, "metrics")
        dataset = self.mapping(top.get("dataset"), "dataset")
        if "item_count" not in dataset:
            self.fail("dataset.item_count", "required key is missing", "a count", None)
        item_count = self.count(dataset["item_count"], "dataset.item_count")
        evaluation_time = dataset.get("evaluation_time")
        if evaluation_time is not None and not isinstance(evaluation_time, str):
            self.fail(
                "dataset.evaluation_time", "wrong type", "an ISO-8601 string", evaluation_time
            )
        body = self.mapping(top[key], key)
        metrics: dict[str, MetricValue] = {}
        matrix = roc = pr = None
        for name, item in body.items():
            where = f"{key}.{name}"
            obj = self.mapping(item, where)
            if name == "confusion_matrix":
                matrix = {
                    str(actual): {
                        str(p): self.count(n, f"{where}.{actual}.{p}")
                        for p, n in self.mapping(row, f"{where}.{actual}").items()
                    }
                    for actual, row in obj.items()
                }
            elif name == _ROC:
                roc = self.curve(obj, where, "false_positive_rates", "true_positive_rates")
            elif name == _PR:
                pr = self.curve(obj, where, "precisions", "recalls")
            elif "value" in obj:
                metrics[name] = MetricValue(
                    self.number(obj["value"], f"{where}.value"),
                    self.number(obj.get("standard_deviation"), f"{where}.standard_deviation"),
                )
        return ModelQualityStatistics(
            problem, item_count, metrics, evaluation_time, matrix, roc, pr
        )

    def curve(
        self, obj: Mapping[str, object], where: str, x: str, y: str
    ) -> tuple[tuple[float, ...], tuple[float, ...]]:
        xs = self.numbers(obj.get(x), f"{where}.{x}")
        ys = self.numbers(obj.get(y), f"{where}.{y}")
        if len(xs) != len(ys):
            self.fail(where, "the two arrays differ in length", f"{len(xs)} values", len(ys))
        return xs, ys

    def operator(self, value: object, where: str) -> ComparisonOperator:
        for op in COMPARISON_OPERATORS:
            if value == op:
                return op
        self.fail(where, "unsupported value", f"one of {', '.join(COMPARISON_OPERATORS)}", value)

    def constraints(self, value: object) -> ModelQualityConstraints:
        top = self.mapping(value, "")
        problem, key = self.section(top, "constraints")
        body = self.mapping(top[key], key)
        parsed = {}
        for name, item in body.items():
            where = f"{key}.{name}"
            obj = self.mapping(item, where)
            for required in ("threshold", "comparison_operator"):
                if required not in obj:
                    self.fail(f"{where}.{required}", "required key is missing", required, None)
            threshold = self.number(obj["threshold"], f"{where}.threshold")
            if math.isnan(threshold):
                self.fail(f"{where}.threshold", "not a number", "a finite threshold", "NaN")
            op = self.operator(obj["comparison_operator"], f"{where}.comparison_operator")
            parsed[name] = MetricConstraint(threshold, op)
        return ModelQualityConstraints(problem, parsed)

    def violations(self, value: object) -> tuple[ModelQualityViolation, ...]:
        top = self.mapping(value, "")
        items = top.get("violations")
        if not isinstance(items, list):
            self.fail("violations", "wrong type", "a JSON array", items)
        out = []
        for i, item in enumerate(items):
            where = f"violations[{i}]"
            obj = self.mapping(item, where)
            name, description = obj.get("metric_name"), obj.get("description")
            if not isinstance(name, str):
                self.fail(f"{where}.metric_name", "wrong type", "a string", name)
            if not isinstance(description, str):
                self.fail(f"{where}.description", "wrong type", "a string", description)
            op = self.operator(obj.get("constraint_check_type"), f"{where}.constraint_check_type")
            out.append(ModelQualityViolation(name, op, description))
        return tuple(out)


def statistics_from_json(obj: object, *, path: sm.StrPath | None = None) -> ModelQualityStatistics:
    return _Reader(path).statistics(obj)


def constraints_from_json(
    obj: object, *, path: sm.StrPath | None = None
) -> ModelQualityConstraints:
    return _Reader(path).constraints(obj)


def violations_from_json(
    obj: object, *, path: sm.StrPath | None = None
) -> tuple[ModelQualityViolation, ...]:
    return _Reader(path).violations(obj)
