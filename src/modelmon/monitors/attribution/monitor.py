"""The feature-attribution drift monitor: global SHAP values now vs. at baseline, by NDCG.

``baseline`` explains the model on the baseline data and writes Clarify's explainability
``analysis.json`` and an ``analysis_config.json`` (Clarify's keys: ``headers``, and under
``methods.shap`` the kernel-SHAP ``baseline`` rows, ``num_samples`` and ``agg_method``), so a
check needs only the data, the model and the baseline directory. ``check`` explains the window the
same way and compares the rankings: a label whose NDCG is below ``ndcg_threshold`` (0.9) violates.

Bounded work (the defaults; each can be set):

* ``max_rows``: rows explained per dataset, sampled without replacement: 2,000 for exact tree
  SHAP, 200 for kernel SHAP;
* ``background_size``: 50 baseline rows as kernel SHAP's background;
* ``nsamples``: 256 coalitions per explained row for kernel SHAP.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modelmon.errors import ConfigError
from modelmon.formats import clarify
from modelmon.formats.atomic import output_directory
from modelmon.models import Model, json_scalar, load_model
from modelmon.monitors.attribution.shap_values import AGGREGATIONS, METHODS, explain, global_values
from modelmon.monitors.bias.reading import read_columns
from modelmon.stats.ndcg import ndcg

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ANALYSIS",
    "ANALYSIS_CONFIG",
    "DEFAULT_BACKGROUND_SIZE",
    "DEFAULT_KERNEL_ROWS",
    "DEFAULT_NSAMPLES",
    "DEFAULT_TREE_ROWS",
    "DRIFT_REPORT",
    "VIOLATIONS",
    "AttributionBaseline",
    "AttributionMonitor",
    "AttributionResult",
    "load_attribution_baseline",
]

ANALYSIS = clarify.ANALYSIS
ANALYSIS_CONFIG = clarify.ANALYSIS_CONFIG
VIOLATIONS = "constraint_violations.json"
DRIFT_REPORT = "attribution_drift_report.json"
DEFAULT_TREE_ROWS = 2_000
DEFAULT_KERNEL_ROWS = 200
DEFAULT_BACKGROUND_SIZE = 50
DEFAULT_NSAMPLES = 256
_OWNER = "AttributionMonitor"


@dataclass(frozen=True)
class AttributionBaseline:
    analysis: clarify.ExplainabilityAnalysis
    config: Mapping[str, Any]

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        analysis = clarify.explainability_to_json(self.analysis)
        return clarify.write_baseline(output_directory(directory), analysis, self.config)


def load_attribution_baseline(directory: str | os.PathLike[str]) -> AttributionBaseline:
    """Read ``analysis.json`` and ``analysis_config.json`` from ``directory``."""
    raw, config, path = clarify.read_baseline(
        directory, "modelmon attribution baseline --dataset TRAIN --model MODEL --output DIR"
    )
    return AttributionBaseline(clarify.explainability_from_json(raw, path=path), config)


@dataclass(frozen=True)
class AttributionResult:
    analysis: clarify.ExplainabilityAnalysis
    scores: Mapping[str, float]
    threshold: float
    rows_explained: int
    source: str
    method: str
    violations: tuple[clarify.AttributionViolation, ...] = field(default=())

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    def exit_message(self) -> str:
        if not self.violations:
            return "Completed: Job completed successfully with no violations."
        return (
            "CompletedWithViolations: Job completed successfully with "
            f"{len(self.violations)} violations."
        )

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        out = output_directory(directory)
        clarify.write_json(out / ANALYSIS, clarify.explainability_to_json(self.analysis))
        clarify.write_json(
            out / VIOLATIONS, clarify.attribution_violations_to_json(self.violations)
        )
        report = {
            "version": 1,
            "dataset": {"source": self.source, "rows_explained": self.rows_explained},
            "method": self.method,
            "threshold": self.threshold,
            "ndcg": dict(self.scores),
        }
        clarify.write_json(out / DRIFT_REPORT, report)
        return [out / ANALYSIS, out / VIOLATIONS, out / DRIFT_REPORT]


@dataclass(frozen=True)
class _Settings:
    model: Model
    features: list[str] | None
    exclude: tuple[str, ...]
    method: str
    agg_method: str
    ndcg_threshold: float
    top_k: int | None
    background_size: int
    nsamples: int
    max_rows: int | None
    label_headers: tuple[str, ...] | None
    seed: int


class AttributionMonitor:
    """Feature-attribution drift: global SHAP rankings compared by NDCG.

    Parameters
    ----------
    model
        A model file (joblib/pickle), ``"module:function"``, an ``http(s)://`` endpoint URL, or a
        loaded ``modelmon.models.Model``.
    features, exclude
        The model's input columns. Default: the model's own ``feature_names_in_``, else every
        column of the baseline dataset not in ``exclude`` (e.g. the label). A check uses the
        baseline's.
    method
        ``"auto"`` (exact tree SHAP for tree models, kernel SHAP otherwise), ``"tree"`` or
        ``"kernel"``.
    agg_method
        The global value ranked: ``"mean_abs"`` (default), ``"median"``, ``"mean_sq"`` (Clarify's).
    ndcg_threshold, top_k
        A label violates when NDCG (over the top ``top_k`` positions, default all) is below 0.9.
    background_size, nsamples, max_rows
        Bounds on the work; see the module docstring for the defaults.
    label_headers
        Names of the model's outputs (default ``label0``, ``label1``...).
    content_type
        ``application/json`` (default) or ``text/csv`` for an endpoint model.
    """

    def __init__(
        self,
        *,
        model: str | Model,
        features: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        method: str | None = None,
        agg_method: str | None = None,
        ndcg_threshold: float | None = None,
        top_k: int | None = None,
        background_size: int | None = None,
        nsamples: int | None = None,
        max_rows: int | None = None,
        label_headers: Sequence[str] | None = None,
        content_type: str = "application/json",
        seed: int = 0,
        dataset_format: str | None = None,
        csv_header: bool | None = None,
    ) -> None:
        self.model = model
        self.features = features
        self.exclude = exclude
        self.method = method
        self.agg_method = agg_method
        self.ndcg_threshold = ndcg_threshold
        self.top_k = top_k
        self.background_size = background_size
        self.nsamples = nsamples
        self.max_rows = max_rows
        self.label_headers = label_headers
        self.content_type = content_type
        self.seed = seed
        self.dataset_format = dataset_format
        self.csv_header = csv_header

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AttributionMonitor:
        """A monitor from a schedule's config (keys: the parameter names; ``model`` required)."""
        known = set(inspect.signature(cls).parameters)
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(
                f"The config of {_OWNER} has unknown keys {unknown}; known keys are "
                f"{sorted(known)}."
            )
        if "model" not in config:
            raise ConfigError(
                f"The 'model' parameter of {_OWNER} must name the model to explain (a model "
                "file, 'module:function' or endpoint URL). Got nothing instead."
            )
        return cls(**config)

    # -- the two operations -------------------------------------------------------------------

    def baseline(self, data: Any) -> AttributionBaseline:
        settings = self._settings({})
        frame, _ = self._frame(data, settings.features, settings)
        rng = np.random.default_rng(settings.seed)
        background = _sample(frame, settings.background_size, rng)
        analysis, _, _ = self._explain(frame, background, settings, rng)
        config = {
            "version": "1.0",
            "headers": list(frame.columns),
            "methods": {
                "shap": {
                    "baseline": [
                        [json_scalar(v) for v in row] for row in background.itertuples(index=False)
                    ],
                    "num_samples": settings.nsamples,
                    "agg_method": settings.agg_method,
                    "use_logit": False,
                    "save_local_shap_values": False,
                    "seed": settings.seed,
                }
            },
            "predictor": {"label_headers": _labels(analysis)},
            "modelmon": {
                "method": settings.method,
                "max_rows": settings.max_rows,
                "ndcg_threshold": settings.ndcg_threshold,
                "top_k": settings.top_k,
            },
        }
        return AttributionBaseline(analysis, config)

    def check(
        self, data: Any, baseline: AttributionBaseline | str | os.PathLike[str]
    ) -> AttributionResult:
        if not isinstance(baseline, AttributionBaseline):
            baseline = load_attribution_baseline(baseline)
        settings = self._settings(baseline.config)
        frame, source = self._frame(data, settings.features, settings)
        background = _background(baseline.config, frame)
        rng = np.random.default_rng(settings.seed)
        analysis, method, explained = self._explain(frame, background, settings, rng)
        expected = baseline.analysis.labels()
        scores: dict[str, float] = {}
        violations = []
        for label, live in analysis.labels().items():
            reference = expected.get(label)
            if reference is None:
                continue
            score = ndcg(
                {k: abs(v) for k, v in _ranked(reference, settings.agg_method).items()},
                {k: abs(v) for k, v in _ranked(live, settings.agg_method).items()},
                top_k=settings.top_k,
            )
            scores[label] = score
            if score < settings.ndcg_threshold:
                violations.append(
                    clarify.AttributionViolation(
                        label=label,
                        description=clarify.attribution_drift_description(
                            score, settings.ndcg_threshold
                        ),
                    )
                )
        if not scores:
            raise ConfigError(
                f"The model's outputs {sorted(analysis.labels())} match none of the baseline's "
                f"labels {sorted(expected)}; baseline the same model again."
            )
        return AttributionResult(
            analysis=analysis,
            scores=scores,
            threshold=settings.ndcg_threshold,
            rows_explained=explained,
            source=source,
            method=method,
            violations=tuple(violations),
        )

    # -- internals --------------------------------------------------------------------------------

    def _frame(
        self, data: Any, features: list[str] | None, settings: _Settings
    ) -> tuple[pd.DataFrame, str]:
        if features is None and settings.model.feature_names is not None:
            features = list(settings.model.feature_names)
        table, source = read_columns(
            data,
            features,
            dataset_format=self.dataset_format,
            csv_header=self.csv_header,
            what="model feature",
        )
        if features is None:
            table = table.drop_columns([n for n in settings.exclude if n in table.column_names])
        if table.num_rows == 0 or table.num_columns == 0:
            raise ConfigError(f"{source}: no rows or no feature columns to explain")
        return table.to_pandas(), source

    def _explain(
        self,
        frame: pd.DataFrame,
        background: pd.DataFrame,
        settings: _Settings,
        rng: np.random.Generator,
    ) -> tuple[clarify.ExplainabilityAnalysis, str, int]:
        tree = settings.method != "kernel" and settings.model.tree_model is not None
        limit = settings.max_rows or (DEFAULT_TREE_ROWS if tree else DEFAULT_KERNEL_ROWS)
        rows = _sample(frame, limit, rng)
        explanation = explain(
            settings.model,
            rows,
            background,
            method=settings.method,
            nsamples=settings.nsamples,
            seed=settings.seed,
        )
        per_output = global_values(explanation, list(frame.columns))
        names = list(settings.label_headers or ())
        labels = names + [f"label{i}" for i in range(len(names), len(per_output))]
        attributions = {
            labels[k]: clarify.LabelAttribution(
                global_shap_values=aggregates[settings.agg_method],
                expected_value=float(explanation.expected[k]),
                aggregates=aggregates,
            )
            for k, aggregates in enumerate(per_output)
        }
        analysis = clarify.ExplainabilityAnalysis({explanation.method: attributions})
        return analysis, explanation.method, len(rows)

    def _settings(self, saved: Mapping[str, Any]) -> _Settings:
        shap_saved = saved.get("methods", {}).get("shap", {}) if isinstance(saved, Mapping) else {}
        extra = saved.get("modelmon", {}) if isinstance(saved, Mapping) else {}

        def pick(name: str, mine: Any, theirs: Any, default: Any) -> Any:
            return mine if mine is not None else theirs if theirs is not None else default

        method = pick("method", self.method, extra.get("method"), "auto")
        agg = pick("agg_method", self.agg_method, shap_saved.get("agg_method"), "mean_abs")
        _choice("method", method, METHODS)
        _choice("agg_method", agg, AGGREGATIONS)
        threshold = pick("ndcg_threshold", self.ndcg_threshold, extra.get("ndcg_threshold"), 0.9)
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not (0.0 <= float(threshold) <= 1.0)
        ):
            raise ConfigError(
                f"The 'ndcg_threshold' parameter of {_OWNER} must be a float in [0, 1]. "
                f"Got {threshold!r} instead."
            )
        counts = {
            "background_size": pick("", self.background_size, None, DEFAULT_BACKGROUND_SIZE),
            "nsamples": pick("", self.nsamples, shap_saved.get("num_samples"), DEFAULT_NSAMPLES),
            "max_rows": pick("", self.max_rows, extra.get("max_rows"), None),
            "top_k": pick("", self.top_k, extra.get("top_k"), None),
        }
        for name, value in counts.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(
                    f"The {name!r} parameter of {_OWNER} must be an int >= 1. "
                    f"Got {value!r} instead."
                )
        headers = saved.get("headers") if isinstance(saved, Mapping) else None
        features = list(self.features) if self.features is not None else None
        if features is None and isinstance(headers, list) and headers:
            features = [str(h) for h in headers]
        label_headers = self.label_headers
        if label_headers is None:
            saved_labels = saved.get("predictor", {}).get("label_headers")
            label_headers = saved_labels if isinstance(saved_labels, list) else None
        return _Settings(
            model=load_model(self.model, content_type=self.content_type),
            features=features,
            exclude=tuple(self.exclude),
            method=method,
            agg_method=agg,
            ndcg_threshold=float(threshold),
            top_k=counts["top_k"],
            background_size=counts["background_size"],
            nsamples=counts["nsamples"],
            max_rows=counts["max_rows"],
            label_headers=None if label_headers is None else tuple(str(x) for x in label_headers),
            seed=int(self.seed),
        )


def _choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(
            f"The {name!r} parameter of {_OWNER} must be one of "
            f"{', '.join(repr(c) for c in choices)}. Got {value!r} instead."
        )


def _ranked(attribution: clarify.LabelAttribution, agg: str) -> Mapping[str, float]:
    return attribution.aggregates.get(agg) or attribution.global_shap_values


def _labels(analysis: clarify.ExplainabilityAnalysis) -> list[str]:
    return list(analysis.labels())


def _sample(frame: pd.DataFrame, limit: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame
    chosen = np.sort(rng.choice(len(frame), limit, replace=False))
    return frame.iloc[chosen].reset_index(drop=True)


def _background(config: Mapping[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """The kernel-SHAP background saved with the baseline, typed like the window's columns
    (no rows if none was saved: only exact tree SHAP can do without)."""
    import pandas as pd

    rows = config.get("methods", {}).get("shap", {}).get("baseline")
    if not isinstance(rows, list) or not rows:
        return frame.iloc[:0]
    background = pd.DataFrame(rows, columns=list(frame.columns))
    return background.astype(frame.dtypes.to_dict(), errors="ignore")
