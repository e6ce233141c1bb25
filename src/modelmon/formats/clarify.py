"""SageMaker Clarify's files: bias and explainability ``analysis.json``, their violations.

Shapes (sagemaker.md §5, §6)::

    {"version": "1.0",
     "pre_training_bias_metrics": {"label": "Label", "label_value_or_threshold": "1",
        "facets": {"F1": [{"value_or_threshold": "(0.5, 0.99]",
                           "metrics": [{"name": "CI", "description": "...", "value": -0.08}]}]}},
     "post_training_bias_metrics": {same shape}}

    {"version": "1.0", "explanations": {"kernel_shap": {"label0": {
        "global_shap_values": {"Occupation": 0.0266, ...}, "expected_value": 0.0006}}}}

    {"version": "1.0", "violations": [{"facet": "Age", "facet_value": "40", "metric_name": "CI",
        "constraint_check_type": "bias_drift_check", "description": "Value ... does not meet ..."}]}

Infinite metric values are the strings ``"Infinity"``/``"-Infinity"`` as Clarify writes them; a
metric Clarify could not compute has ``"value": null`` and an ``"error"``. modelmon adds optional
members that Clarify's readers ignore: a metric's ``"confidence_interval"`` ([low, high], on a
monitored window) and a label's ``"aggregates"`` (global SHAP values by every aggregation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from modelmon.errors import BaselineFormatError, NotFoundError
from modelmon.formats.json_values import JsonValue
from modelmon.formats.sagemaker import load_json_file, write_json_atomic

__all__ = [
    "ANALYSIS",
    "ANALYSIS_CONFIG",
    "ATTRIBUTION_CHECK",
    "BIAS_CHECK",
    "AttributionViolation",
    "BiasAnalysis",
    "BiasMetric",
    "BiasStage",
    "BiasViolation",
    "ExplainabilityAnalysis",
    "FacetBias",
    "LabelAttribution",
    "attribution_drift_description",
    "attribution_violations_from_json",
    "attribution_violations_to_json",
    "bias_analysis_from_json",
    "bias_analysis_to_json",
    "bias_drift_description",
    "bias_violations_from_json",
    "bias_violations_to_json",
    "config_mapping",
    "explainability_from_json",
    "explainability_to_json",
    "load_json",
    "read_baseline",
    "read_bias_analysis",
    "read_explainability",
    "write_baseline",
    "write_json",
]

ANALYSIS: Final = "analysis.json"
ANALYSIS_CONFIG: Final = "analysis_config.json"
BIAS_CHECK: Final = "bias_drift_check"
ATTRIBUTION_CHECK: Final = "feature_attribution_drift_check"
_PRE, _POST = "pre_training_bias_metrics", "post_training_bias_metrics"
# The code's name for DCAcc; accepted on reading.
_ALIASES: Final = {"DCA": "DCAcc"}


@dataclass(frozen=True)
class BiasMetric:
    name: str
    description: str
    value: float | None
    error: str | None = None
    confidence_interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class FacetBias:
    value_or_threshold: str
    metrics: tuple[BiasMetric, ...]

    def metric(self, name: str) -> BiasMetric | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass(frozen=True)
class BiasStage:
    label: str
    label_value_or_threshold: str
    facets: Mapping[str, tuple[FacetBias, ...]]


@dataclass(frozen=True)
class BiasAnalysis:
    pre_training: BiasStage | None = None
    post_training: BiasStage | None = None
    version: str = "1.0"

    def stages(self) -> list[tuple[str, BiasStage]]:
        """``("pre_training", stage)`` and ``("post_training", stage)`` for those present."""
        return [
            (name, stage)
            for name, stage in (
                ("pre_training", self.pre_training),
                ("post_training", self.post_training),
            )
            if stage is not None
        ]


@dataclass(frozen=True)
class BiasViolation:
    facet: str
    facet_value: str
    metric_name: str
    description: str
    constraint_check_type: str = BIAS_CHECK


@dataclass(frozen=True)
class LabelAttribution:
    global_shap_values: Mapping[str, float]
    expected_value: float
    aggregates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExplainabilityAnalysis:
    """``explanations[method][label]``; method is ``kernel_shap`` (Clarify's only one) or, for
    exact tree SHAP, ``tree_shap``."""

    explanations: Mapping[str, Mapping[str, LabelAttribution]]
    version: str = "1.0"

    def labels(self) -> dict[str, LabelAttribution]:
        """Every label's attribution, whatever the method."""
        return {
            label: a for by_label in self.explanations.values() for label, a in by_label.items()
        }


@dataclass(frozen=True)
class AttributionViolation:
    label: str
    description: str
    metric_name: str = "shap"
    constraint_check_type: str = ATTRIBUTION_CHECK


def bias_drift_description(value: float) -> str:
    return f"Value {value!r} does not meet the constraint requirement"


def attribution_drift_description(score: float, threshold: float) -> str:
    # Clarify's wording says "exceeds" although the score is below the threshold (§9.9).
    return f"Feature attribution drift {score!r} exceeds threshold {threshold!r}"


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _number(value: float | None) -> JsonValue:
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _metric_json(metric: BiasMetric) -> JsonValue:
    out: dict[str, JsonValue] = {
        "name": metric.name,
        "description": metric.description,
        "value": _number(metric.value),
    }
    if metric.error is not None:
        out["error"] = metric.error
    if metric.confidence_interval is not None:
        out["confidence_interval"] = [_number(v) for v in metric.confidence_interval]
    return out


def _stage_json(stage: BiasStage) -> JsonValue:
    return {
        "label": stage.label,
        "label_value_or_threshold": stage.label_value_or_threshold,
        "facets": {
            name: [
                {
                    "value_or_threshold": facet.value_or_threshold,
                    "metrics": [_metric_json(m) for m in facet.metrics],
                }
                for facet in facets
            ]
            for name, facets in stage.facets.items()
        },
    }


def bias_analysis_to_json(analysis: BiasAnalysis) -> JsonValue:
    out: dict[str, JsonValue] = {"version": analysis.version}
    if analysis.pre_training is not None:
        out[_PRE] = _stage_json(analysis.pre_training)
    if analysis.post_training is not None:
        out[_POST] = _stage_json(analysis.post_training)
    return out


def explainability_to_json(analysis: ExplainabilityAnalysis) -> JsonValue:
    def label_json(attribution: LabelAttribution) -> JsonValue:
        out: dict[str, JsonValue] = {
            "global_shap_values": dict(attribution.global_shap_values),
            "expected_value": attribution.expected_value,
        }
        if attribution.aggregates:
            out["aggregates"] = {k: dict(v) for k, v in attribution.aggregates.items()}
        return out

    return {
        "version": analysis.version,
        "explanations": {
            method: {label: label_json(a) for label, a in by_label.items()}
            for method, by_label in analysis.explanations.items()
        },
    }


def bias_violations_to_json(violations: tuple[BiasViolation, ...]) -> JsonValue:
    return {
        "version": "1.0",
        "violations": [
            {
                "facet": v.facet,
                "facet_value": v.facet_value,
                "metric_name": v.metric_name,
                "constraint_check_type": v.constraint_check_type,
                "description": v.description,
            }
            for v in violations
        ],
    }


def attribution_violations_to_json(violations: tuple[AttributionViolation, ...]) -> JsonValue:
    return {
        "version": "1.0",
        "violations": [
            {
                "label": v.label,
                "metric_name": v.metric_name,
                "constraint_check_type": v.constraint_check_type,
                "description": v.description,
            }
            for v in violations
        ],
    }


def write_baseline(directory: Path, analysis: JsonValue, config: Mapping[str, Any]) -> list[Path]:
    """Write a baseline's ``analysis.json`` and ``analysis_config.json`` into ``directory``."""
    write_json(directory / ANALYSIS, analysis)
    write_json(directory / ANALYSIS_CONFIG, dict(config))
    return [directory / ANALYSIS, directory / ANALYSIS_CONFIG]


def read_baseline(directory: Any, create_with: str) -> tuple[object, Mapping[str, Any], Path]:
    """A baseline directory's decoded ``analysis.json``, its ``analysis_config.json`` (empty if
    absent) and the analysis path; NotFoundError saying ``create_with`` if there is none."""
    base = Path(directory)
    if not base.is_dir():
        raise NotFoundError(
            f"baseline directory {str(base)!r} does not exist; create it with '{create_with}'"
        )
    config: object = {}
    if (base / ANALYSIS_CONFIG).exists():
        config = load_json_file(base / ANALYSIS_CONFIG)
    return (
        load_json_file(base / ANALYSIS),
        config_mapping(config, base / ANALYSIS_CONFIG),
        base / ANALYSIS,
    )


def config_mapping(config: object, path: Any) -> Mapping[str, Any]:
    """``config`` if it is a JSON object; BaselineFormatError naming ``path`` otherwise."""
    if not isinstance(config, Mapping):
        raise BaselineFormatError(
            "not an analysis config",
            path=path,
            expected="a JSON object",
            found=type(config).__name__,
        )
    return config


def write_json(path: Any, obj: Any) -> None:
    """Write ``obj`` atomically (two-space indent, as the SageMaker files)."""
    write_json_atomic(path, cast(JsonValue, obj))


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def load_json(path: Any) -> object:
    """A JSON file decoded; NotFoundError/BaselineFormatError naming the file otherwise."""
    return load_json_file(path)


def read_bias_analysis(path: Any) -> BiasAnalysis:
    return bias_analysis_from_json(load_json_file(path), path=path)


def read_explainability(path: Any) -> ExplainabilityAnalysis:
    return explainability_from_json(load_json_file(path), path=path)


class _Reader:
    def __init__(self, path: Any) -> None:
        self.path = path

    def fail(self, where: str, expected: str, found: object) -> BaselineFormatError:
        shown = "a JSON object" if isinstance(found, Mapping) else repr(found)[:60]
        return BaselineFormatError(
            f"{where or 'the document'} is not valid",
            path=self.path,
            expected=expected,
            found=shown,
        )

    def obj(self, value: object, where: str) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "a JSON object", value)
        return value

    def array(self, value: object, where: str) -> list[object]:
        if not isinstance(value, list):
            raise self.fail(where, "a JSON array", value)
        return value

    def member(self, parent: Mapping[str, object], key: str, where: str) -> object:
        if key not in parent:
            raise BaselineFormatError(
                f"{where or 'the document'} has no {key!r}", path=self.path, expected=repr(key)
            )
        return parent[key]

    def text(self, value: object, where: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self.fail(where, "a string", value)

    def number(self, value: object, where: str, *, nullable: bool = False) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        special = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
        if isinstance(value, str) and value in special:
            return special[value]
        raise self.fail(where, "a number", value)

    def version(self, top: Mapping[str, object]) -> str:
        return self.text(top.get("version", "1.0"), "version")


def _metric(reader: _Reader, raw: object, where: str) -> BiasMetric:
    item = reader.obj(raw, where)
    name = reader.text(reader.member(item, "name", where), f"{where}.name")
    interval = item.get("confidence_interval")
    bounds = None
    if interval is not None:
        values = reader.array(interval, f"{where}.confidence_interval")
        if len(values) != 2:
            raise reader.fail(f"{where}.confidence_interval", "[low, high]", values)
        low, high = (reader.number(v, f"{where}.confidence_interval") for v in values)
        assert low is not None
        assert high is not None
        bounds = (low, high)
    error = item.get("error")
    return BiasMetric(
        name=_ALIASES.get(name, name),
        description=reader.text(item.get("description", ""), f"{where}.description"),
        value=reader.number(item.get("value"), f"{where}.value", nullable=True),
        error=None if error is None else reader.text(error, f"{where}.error"),
        confidence_interval=bounds,
    )


def _stage(reader: _Reader, raw: object, where: str) -> BiasStage:
    stage = reader.obj(raw, where)
    facets_raw = reader.obj(reader.member(stage, "facets", where), f"{where}.facets")
    facets: dict[str, tuple[FacetBias, ...]] = {}
    for name, entries in facets_raw.items():
        path = f"{where}.facets.{name}"
        parsed = []
        for i, entry in enumerate(reader.array(entries, path)):
            at = f"{path}[{i}]"
            item = reader.obj(entry, at)
            metrics = reader.array(reader.member(item, "metrics", at), f"{at}.metrics")
            parsed.append(
                FacetBias(
                    value_or_threshold=reader.text(
                        item.get("value_or_threshold", ""), f"{at}.value_or_threshold"
                    ),
                    metrics=tuple(
                        _metric(reader, m, f"{at}.metrics[{j}]") for j, m in enumerate(metrics)
                    ),
                )
            )
        facets[name] = tuple(parsed)
    return BiasStage(
        label=reader.text(stage.get("label", ""), f"{where}.label"),
        label_value_or_threshold=reader.text(
            stage.get("label_value_or_threshold", ""), f"{where}.label_value_or_threshold"
        ),
        facets=facets,
    )


def bias_analysis_from_json(obj: object, *, path: Any = None) -> BiasAnalysis:
    """A bias ``analysis.json`` decoded; BaselineFormatError naming the JSON path otherwise."""
    reader = _Reader(path)
    top = reader.obj(obj, "")
    if _PRE not in top and _POST not in top:
        raise BaselineFormatError(
            "not a Clarify bias analysis.json",
            path=path,
            expected=f"{_PRE!r} or {_POST!r}",
            found=", ".join(repr(k) for k in list(top)[:5]) or "an empty object",
        )
    return BiasAnalysis(
        pre_training=_stage(reader, top[_PRE], _PRE) if _PRE in top else None,
        post_training=_stage(reader, top[_POST], _POST) if _POST in top else None,
        version=reader.version(top),
    )


def explainability_from_json(obj: object, *, path: Any = None) -> ExplainabilityAnalysis:
    """An explainability ``analysis.json`` decoded; BaselineFormatError otherwise."""
    reader = _Reader(path)
    top = reader.obj(obj, "")
    methods = reader.obj(reader.member(top, "explanations", ""), "explanations")
    explanations: dict[str, dict[str, LabelAttribution]] = {}
    for method, labels in methods.items():
        where = f"explanations.{method}"
        explanations[method] = {}
        for label, raw in reader.obj(labels, where).items():
            at = f"{where}.{label}"
            item = reader.obj(raw, at)
            values = reader.obj(
                reader.member(item, "global_shap_values", at), f"{at}.global_shap_values"
            )
            aggregates = reader.obj(item.get("aggregates", {}), f"{at}.aggregates")
            explanations[method][label] = LabelAttribution(
                global_shap_values=_numbers(reader, values, f"{at}.global_shap_values"),
                expected_value=reader.number(
                    item.get("expected_value", 0.0), f"{at}.expected_value"
                )
                or 0.0,
                aggregates={
                    name: _numbers(reader, reader.obj(v, f"{at}.aggregates.{name}"), at)
                    for name, v in aggregates.items()
                },
            )
    if not any(explanations.values()):
        raise BaselineFormatError(
            "the explainability analysis.json has no explanations",
            path=path,
            expected="explanations.kernel_shap.<label>.global_shap_values",
        )
    return ExplainabilityAnalysis(explanations, version=reader.version(top))


def _numbers(reader: _Reader, values: Mapping[str, object], where: str) -> dict[str, float]:
    out = {}
    for name, value in values.items():
        number = reader.number(value, f"{where}.{name}")
        assert number is not None
        out[name] = number
    return out


def _violations(reader: _Reader, obj: object) -> list[Mapping[str, object]]:
    top = reader.obj(obj, "")
    items = reader.array(reader.member(top, "violations", ""), "violations")
    return [reader.obj(v, f"violations[{i}]") for i, v in enumerate(items)]


def bias_violations_from_json(obj: object, *, path: Any = None) -> tuple[BiasViolation, ...]:
    reader = _Reader(path)
    out = []
    for i, item in enumerate(_violations(reader, obj)):
        at = f"violations[{i}]"
        out.append(
            BiasViolation(
                facet=reader.text(reader.member(item, "facet", at), f"{at}.facet"),
                facet_value=reader.text(item.get("facet_value", ""), f"{at}.facet_value"),
                metric_name=reader.text(reader.member(item, "metric_name", at), at),
                description=reader.text(item.get("description", ""), f"{at}.description"),
                constraint_check_type=reader.text(
                    item.get("constraint_check_type", BIAS_CHECK), at
                ),
            )
        )
    return tuple(out)


def attribution_violations_from_json(
    obj: object, *, path: Any = None
) -> tuple[AttributionViolation, ...]:
    reader = _Reader(path)
    out = []
    for i, item in enumerate(_violations(reader, obj)):
        at = f"violations[{i}]"
        out.append(
            AttributionViolation(
                label=reader.text(reader.member(item, "label", at), f"{at}.label"),
                description=reader.text(item.get("description", ""), f"{at}.description"),
                metric_name=reader.text(item.get("metric_name", "shap"), at),
                constraint_check_type=reader.text(
                    item.get("constraint_check_type", ATTRIBUTION_CHECK), at
                ),
            )
        )
    return tuple(out)
