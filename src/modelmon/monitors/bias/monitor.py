"""The bias-drift monitor: baseline Clarify's bias metrics, then judge windows against them.

``BiasMonitor`` is a config object (its constructor only stores parameters); ``baseline`` and
``check`` validate them at one boundary. A baseline directory holds Clarify's ``analysis.json``
(the metric values, which are the constraints) and ``analysis_config.json`` (label, facets,
predictions, group variable: Clarify's analysis-config keys), so a check needs only the data and
the baseline; options given to the check override the saved ones.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from modelmon.errors import ConfigError
from modelmon.formats import clarify
from modelmon.formats.atomic import output_directory
from modelmon.monitors.bias.analysis import BiasSettings, FacetSelection, analyse, resolve_facets
from modelmon.monitors.bias.drift import MetricDrift, compare
from modelmon.monitors.bias.facets import FacetSpec, parse_value_or_threshold
from modelmon.monitors.bias.predictive import (
    predictive_ranges,
    samples_from_config,
    samples_to_json,
)
from modelmon.monitors.bias.reading import read_columns

__all__ = [
    "ANALYSIS",
    "ANALYSIS_CONFIG",
    "DRIFT_REPORT",
    "VIOLATIONS",
    "BiasBaseline",
    "BiasMonitor",
    "BiasResult",
    "load_bias_baseline",
]

ANALYSIS = clarify.ANALYSIS
ANALYSIS_CONFIG = clarify.ANALYSIS_CONFIG
VIOLATIONS = "constraint_violations.json"
DRIFT_REPORT = "bias_drift_report.json"
_OWNER = "BiasMonitor"


@dataclass(frozen=True)
class BiasBaseline:
    analysis: clarify.BiasAnalysis
    config: Mapping[str, Any]

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        analysis = clarify.bias_analysis_to_json(self.analysis)
        return clarify.write_baseline(output_directory(directory), analysis, self.config)


def load_bias_baseline(directory: str | os.PathLike[str]) -> BiasBaseline:
    """Read ``analysis.json`` (and ``analysis_config.json`` if present) from ``directory``."""
    raw, config, path = clarify.read_baseline(
        directory, "modelmon bias baseline --dataset TRAIN ... --output DIR"
    )
    return BiasBaseline(clarify.bias_analysis_from_json(raw, path=path), config)


@dataclass(frozen=True)
class BiasResult:
    analysis: clarify.BiasAnalysis
    drift: tuple[MetricDrift, ...]
    source: str

    @property
    def violations(self) -> tuple[clarify.BiasViolation, ...]:
        return tuple(d.violation() for d in self.drift if d.violated)

    @property
    def has_violations(self) -> bool:
        return any(d.violated for d in self.drift)

    @property
    def insufficient(self) -> tuple[MetricDrift, ...]:
        return tuple(d for d in self.drift if d.value is None)

    def exit_message(self) -> str:
        count = sum(d.violated for d in self.drift)
        if not count:
            return "Completed: Job completed successfully with no violations."
        return f"CompletedWithViolations: Job completed successfully with {count} violations."

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        out = output_directory(directory)
        clarify.write_json(out / ANALYSIS, clarify.bias_analysis_to_json(self.analysis))
        clarify.write_json(out / VIOLATIONS, clarify.bias_violations_to_json(self.violations))
        report = {
            "version": 1,
            "dataset": {"source": self.source},
            "metrics": [d.to_json() for d in self.drift],
        }
        clarify.write_json(out / DRIFT_REPORT, report)
        return [out / ANALYSIS, out / VIOLATIONS, out / DRIFT_REPORT]


class BiasMonitor:
    """Bias drift with SageMaker Clarify's metrics.

    Parameters
    ----------
    label, label_values, label_threshold
        The observed-label column and its positive outcome: values, or (numeric labels) a
        threshold above which a label is positive.
    facets
        The sensitive groups: ``FacetSpec``s, column names, or ``{"name", "values" | "value" |
        "threshold"}`` mappings. A single number for a continuous column is a threshold (Clarify);
        no value makes each distinct value a facet of its own. Several facets are analysed at once.
    predicted_label, probability_attribute, probability_threshold
        Post-training metrics need predictions: a predicted-label column (positive when it holds a
        positive label value), or a score column (positive above ``probability_threshold``, 0.5).
    group_variable
        The column of subgroups for CDDL and CDDPL (left out without it).
    ft_features
        Columns for FT's nearest neighbours; default every numeric column not used otherwise.
    confidence, resamples, seed
        The normal bootstrap interval of a window's value (0.95, 1000 resamples, seed 0).
    correction
        ``"bonferroni"`` (default): ``confidence`` holds for the whole check, so each of the m
        metrics judged gets the level ``1 - (1 - confidence)/m``. Without it, a check of 40
        facet-metrics on a population identical to the baseline's would alarm on most windows
        (each metric alone has a ~2.5% chance of an interval beyond its baseline value). Clarify
        does not document its level; ``"none"`` applies ``confidence`` to each metric.
    min_count
        A metric needs at least this many rows in each count it divides by (10), else it is
        "insufficient data".
    allowed_ranges
        ``{metric: (low, high)}`` instead of "no farther from fair than the baseline".
    """

    def __init__(
        self,
        *,
        label: str | None = None,
        label_values: Sequence[object] = (),
        label_threshold: float | None = None,
        facets: Sequence[FacetSpec | str | Mapping[str, Any]] = (),
        predicted_label: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold: float | None = None,
        group_variable: str | None = None,
        ft_features: Sequence[str] | None = None,
        confidence: float = 0.95,
        correction: str = "bonferroni",
        resamples: int = 1000,
        min_count: int = 10,
        allowed_ranges: Mapping[str, Sequence[float]] | None = None,
        seed: int = 0,
        dataset_format: str | None = None,
        csv_header: bool | None = None,
    ) -> None:
        self.label = label
        self.label_values = label_values
        self.label_threshold = label_threshold
        self.facets = facets
        self.predicted_label = predicted_label
        self.probability_attribute = probability_attribute
        self.probability_threshold = probability_threshold
        self.group_variable = group_variable
        self.ft_features = ft_features
        self.confidence = confidence
        self.correction = correction
        self.resamples = resamples
        self.min_count = min_count
        self.allowed_ranges = allowed_ranges
        self.seed = seed
        self.dataset_format = dataset_format
        self.csv_header = csv_header

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BiasMonitor:
        """A monitor from a schedule's free-form config (the keys are the parameter names;
        ``label_value`` and ``facet`` are accepted for one value or facet)."""
        known = set(inspect.signature(cls).parameters)
        options = dict(config)
        if "label_value" in options:
            options["label_values"] = [options.pop("label_value")]
        if "facet" in options:
            options["facets"] = [options.pop("facet")]
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"The config of {_OWNER} has unknown keys {unknown}; known keys are "
                f"{sorted(known)}."
            )
        return cls(**options)

    # -- the two operations -------------------------------------------------------------------

    def baseline(self, data: Any) -> BiasBaseline:
        """Clarify's bias analysis of ``data`` (a path, DataFrame or Arrow table)."""
        settings = self._settings({})
        if not settings.facets:
            raise ConfigError(f"The 'facets' parameter of {_OWNER} must name at least one facet.")
        table, source = read_columns(
            data,
            None,
            dataset_format=self.dataset_format,
            csv_header=self.csv_header,
            what="column",
        )
        selections = resolve_facets(table, settings.facets, source)
        analysis, samples = analyse(
            table, settings, selections, source=source, intervals=False, baseline=True
        )
        config = _config_json(settings, selections)
        config["modelmon"]["samples"] = samples_to_json(analysis, samples)
        return BiasBaseline(analysis, config)

    def check(self, data: Any, baseline: BiasBaseline | str | os.PathLike[str]) -> BiasResult:
        """Judge ``data`` against ``baseline`` (an object or a directory)."""
        if not isinstance(baseline, BiasBaseline):
            baseline = load_bias_baseline(baseline)
        settings = self._settings(baseline.config)
        table, source = read_columns(
            data, None, dataset_format=self.dataset_format, csv_header=self.csv_header
        )
        selections = _baseline_facets(baseline.analysis, settings.facets)
        if self.correction == "bonferroni":
            judged = _judged_metrics(baseline.analysis, {name for name, _ in selections})
            level = 1.0 - (1.0 - settings.confidence) / max(judged, 1)
            settings = replace(settings, confidence=level)
        window, window_samples = analyse(
            table, settings, selections, source=source, intervals=True, baseline=False
        )
        ranges = {k: (float(v[0]), float(v[1])) for k, v in (self.allowed_ranges or {}).items()}
        rows = next((int(s.counts.sum()) for s in window_samples.values()), 0)
        predicted = predictive_ranges(
            baseline.analysis,
            samples_from_config(baseline.config),
            rows,
            confidence=settings.confidence,
            # A rank test at level 1 - a needs well over 1/a draws to reach a (2/a: k = 2).
            resamples=max(settings.resamples, math.ceil(2.0 / (1.0 - settings.confidence))),
            min_count=settings.min_count,
            rng=np.random.default_rng([settings.seed, 1]),
        )
        drift = compare(baseline.analysis, window, ranges, predicted)
        return BiasResult(window, tuple(drift), source)

    # -- the one validation boundary ------------------------------------------------------------

    def _settings(self, saved: Mapping[str, Any]) -> BiasSettings:
        predictor = saved.get("predictor") if isinstance(saved.get("predictor"), Mapping) else {}
        assert isinstance(predictor, Mapping)
        extra = saved.get("modelmon") if isinstance(saved.get("modelmon"), Mapping) else {}
        assert isinstance(extra, Mapping)
        label = self.label or saved.get("label")
        if not isinstance(label, str) or not label:
            raise ConfigError(
                f"The 'label' parameter of {_OWNER} must name the label column. Got {label!r} "
                "instead."
            )
        values = tuple(str(v) for v in self.label_values)
        threshold = self.label_threshold
        if not values and threshold is None:
            threshold = extra.get("label_threshold")
            saved_values = saved.get("label_values_or_threshold") or ()
            if threshold is None:
                values = tuple(str(v) for v in saved_values)
        if not values and threshold is None:
            raise ConfigError(
                f"The 'label_values' parameter of {_OWNER} must give the positive label value(s) "
                "(or give 'label_threshold'). Got nothing instead."
            )
        if threshold is not None:
            threshold = _number("label_threshold", threshold)
        predicted = self.predicted_label
        probability = self.probability_attribute
        if predicted is None and probability is None:
            predicted = predictor.get("label")
            probability = predictor.get("probability")
        if predicted is not None and probability is not None:
            raise ConfigError(
                f"The 'predicted_label' and 'probability_attribute' parameters of {_OWNER} "
                "exclude each other: give one."
            )
        cutoff = self.probability_threshold
        if cutoff is None:
            cutoff = predictor.get("probability_threshold", 0.5)
        cutoff = _number("probability_threshold", cutoff)
        confidence = _number("confidence", self.confidence)
        if not 0.0 < confidence < 1.0:
            raise ConfigError(
                f"The 'confidence' parameter of {_OWNER} must be a float in (0, 1). "
                f"Got {self.confidence!r} instead."
            )
        if self.correction not in ("bonferroni", "none"):
            raise ConfigError(
                f"The 'correction' parameter of {_OWNER} must be one of 'bonferroni', 'none'. "
                f"Got {self.correction!r} instead."
            )
        for name in ("resamples", "min_count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"The {name!r} parameter of {_OWNER} must be an int >= 1. "
                    f"Got {value!r} instead."
                )
        for metric, bounds in (self.allowed_ranges or {}).items():
            if len(bounds) != 2 or _number("allowed_ranges", bounds[0]) > _number(
                "allowed_ranges", bounds[1]
            ):
                raise ConfigError(
                    f"The 'allowed_ranges' parameter of {_OWNER} must map {metric!r} to "
                    f"(low, high) with low <= high. Got {bounds!r} instead."
                )
        group = self.group_variable or saved.get("group_variable")
        facets = tuple(_facet(f) for f in self.facets) or tuple(
            _facet(f) for f in saved.get("facet", ())
        )
        return BiasSettings(
            label=label,
            label_values=values,
            label_threshold=threshold,
            facets=facets,
            predicted_label=predicted,
            probability_attribute=probability,
            probability_threshold=cutoff,
            group_variable=group,
            ft_features=None if self.ft_features is None else tuple(self.ft_features),
            confidence=confidence,
            resamples=self.resamples,
            min_count=self.min_count,
            seed=int(self.seed),
        )


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"The {name!r} parameter of {_OWNER} must be a number. Got {value!r}.")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(
            f"The {name!r} parameter of {_OWNER} must be a number. Got {value!r} instead."
        ) from None
    if not math.isfinite(number):
        raise ConfigError(f"The {name!r} parameter of {_OWNER} must be finite. Got {value!r}.")
    return number


def _facet(raw: object) -> FacetSpec:
    """A facet from a FacetSpec, a column name, or a mapping (ours or Clarify's config keys)."""
    if isinstance(raw, FacetSpec):
        return raw
    if isinstance(raw, str) and raw:
        return FacetSpec(raw)
    if isinstance(raw, Mapping):
        name = raw.get("name", raw.get("name_or_index"))
        values = raw.get("values", raw.get("value_or_threshold", raw.get("value", ())))
        if not isinstance(values, list | tuple):
            values = (values,)
        threshold = raw.get("threshold")
        if isinstance(name, str) and name:
            return FacetSpec(
                name,
                tuple(str(v) for v in values),
                None if threshold is None else _number("facets", threshold),
            )
    raise ConfigError(
        f"The 'facets' parameter of {_OWNER} must hold column names or {{'name', 'values' | "
        f"'threshold'}} objects. Got {raw!r} instead."
    )


def _baseline_facets(
    analysis: clarify.BiasAnalysis, wanted: tuple[FacetSpec, ...]
) -> list[FacetSelection]:
    """The facets to check: the baseline's, or those of them that ``wanted`` names."""
    names = {f.name for f in wanted}
    seen: dict[tuple[str, object], FacetSelection] = {}
    for _, stage in analysis.stages():
        for name, entries in stage.facets.items():
            if names and name not in names:
                continue
            for entry in entries:
                selector = parse_value_or_threshold(entry.value_or_threshold)
                seen.setdefault((name, selector.key), (name, selector))
    missing = names - {name for name, _ in seen}
    if missing:
        raise ConfigError(
            f"The baseline has no facet {sorted(missing)[0]!r}; it has "
            f"{sorted({name for name, _ in seen}) or 'none'}. Baseline that facet first."
        )
    return list(seen.values())


def _judged_metrics(analysis: clarify.BiasAnalysis, facets: set[str]) -> int:
    """How many metrics a check judges: those with a baseline value, over the checked facets."""
    return sum(
        1
        for _, stage in analysis.stages()
        for name, entries in stage.facets.items()
        if name in facets
        for entry in entries
        for metric in entry.metrics
        if metric.value is not None and not math.isnan(metric.value)
    )


def _config_json(settings: BiasSettings, selections: list[FacetSelection]) -> dict[str, Any]:
    """Clarify's analysis-config keys for what was analysed (plus modelmon's own)."""
    facets: dict[str, list[Any]] = {}
    for name, selector in selections:
        value: Any = (
            [selector.threshold] if selector.threshold is not None else list(selector.values)
        )
        facets.setdefault(name, []).append(value)
    config: dict[str, Any] = {
        "version": "1.0",
        "label": settings.label,
        "label_values_or_threshold": [settings.label_threshold]
        if settings.label_threshold is not None
        else list(settings.label_values),
        "facet": [
            {"name_or_index": name, "value_or_threshold": value}
            for name, values in facets.items()
            for value in values
        ],
        "methods": {
            "pre_training_bias": {"methods": "all"},
            "post_training_bias": {"methods": "all"},
        },
        "modelmon": {
            "label_threshold": settings.label_threshold,
            "confidence": settings.confidence,
            "resamples": settings.resamples,
            "min_count": settings.min_count,
        },
    }
    if settings.group_variable is not None:
        config["group_variable"] = settings.group_variable
    if settings.has_predictions:
        predictor: dict[str, Any] = {"probability_threshold": settings.probability_threshold}
        if settings.predicted_label is not None:
            predictor["label"] = settings.predicted_label
        if settings.probability_attribute is not None:
            predictor["probability"] = settings.probability_attribute
        config["predictor"] = predictor
    return config
