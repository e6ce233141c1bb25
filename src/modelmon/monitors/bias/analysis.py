"""Turn a table into Clarify's bias analysis: every metric per facet, with bootstrap intervals.

Rows without a label (or, post-training, without a prediction) are left out: every metric but CI
and the prediction-only ones needs both, and one row set keeps the metrics comparable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.errors import DatasetError
from modelmon.formats.clarify import BiasAnalysis, BiasMetric, BiasStage, FacetBias
from modelmon.monitors.bias.facets import FacetSpec, Selector, resolve_facet, selector_for
from modelmon.monitors.bias.reading import require_column
from modelmon.stats import bias

__all__ = [
    "FT_MAX_ROWS",
    "BiasSettings",
    "FacetSample",
    "FacetSelection",
    "analyse",
    "resolve_facets",
]

# FT fits a k-NN on facet a and queries facet d: both are capped (sampled) to bound the work.
FT_MAX_ROWS = 10_000
FacetSelection = tuple[str, Selector]


@dataclass(frozen=True)
class BiasSettings:
    """Validated settings (see ``BiasMonitor`` for what each means)."""

    label: str
    label_values: tuple[str, ...]
    label_threshold: float | None
    facets: tuple[FacetSpec, ...]
    predicted_label: str | None
    probability_attribute: str | None
    probability_threshold: float
    group_variable: str | None
    ft_features: tuple[str, ...] | None
    confidence: float
    resamples: int
    min_count: int
    seed: int

    @property
    def has_predictions(self) -> bool:
        return self.predicted_label is not None or self.probability_attribute is not None

    def used_columns(self) -> list[str]:
        names = [self.label, *(f.name for f in self.facets)]
        for extra in (self.predicted_label, self.probability_attribute, self.group_variable):
            if extra is not None:
                names.append(extra)
        return names


@dataclass(frozen=True)
class FacetSample:
    """What a facet's metrics were computed from: the count tensor (see
    :func:`modelmon.stats.bias.cell_counts`) and FT's tallies of flips -1, 0, +1 (None without
    FT). A baseline keeps these so that a check can draw same-population windows from it."""

    counts: bias.Counts
    flips: tuple[int, int, int] | None


@dataclass(frozen=True)
class _Rows:
    label: npt.NDArray[np.bool_]
    predicted: npt.NDArray[np.bool_] | None
    group: npt.NDArray[np.int64] | None
    features: npt.NDArray[np.float64] | None
    table: pa.Table
    label_text: str


def resolve_facets(
    table: pa.Table, specs: Sequence[FacetSpec], source: str
) -> list[FacetSelection]:
    """The facets of ``specs`` over the baseline ``table``; a value that never occurs is bad
    input (the user meant something else)."""
    selections = []
    for spec in specs:
        column = require_column(table, spec.name, "facet column", source)
        for selector in resolve_facet(spec, column):
            try:
                chosen = int(selector.mask(column).sum())
            except TypeError:
                raise DatasetError(
                    "a facet threshold needs a numeric column",
                    path=source,
                    column=spec.name,
                    expected="numbers",
                    found=str(column.type),
                ) from None
            if chosen == 0:
                raise DatasetError(
                    f"the facet value {selector.display!r} never occurs",
                    path=source,
                    column=spec.name,
                    expected="values "
                    + ("above the threshold" if selector.threshold is not None else "equal to it"),
                    found=_examples(column),
                )
            selections.append((spec.name, selector))
    return selections


def _examples(column: pa.ChunkedArray) -> str:
    values = pc.unique(pc.drop_null(column)).to_pylist()[:5]
    return "values like " + ", ".join(repr(v) for v in values) if values else "only nulls"


def _prepare(table: pa.Table, settings: BiasSettings, source: str, *, baseline: bool) -> _Rows:
    label_column = require_column(table, settings.label, "label column", source)
    keep = pc.is_valid(label_column)
    prediction_column = None
    if settings.predicted_label is not None:
        prediction_column = require_column(
            table, settings.predicted_label, "predicted label column", source
        )
    elif settings.probability_attribute is not None:
        prediction_column = require_column(
            table, settings.probability_attribute, "probability column", source
        )
    if prediction_column is not None:
        keep = pc.and_(keep, pc.is_valid(prediction_column))
    table = table.filter(keep)
    label_column = table[settings.label]
    selector = selector_for(label_column, settings.label_values, settings.label_threshold)
    try:
        label = selector.mask(label_column)
    except TypeError:
        raise DatasetError(
            "a label threshold needs a numeric label column",
            path=source,
            column=settings.label,
            expected="numbers",
            found=str(label_column.type),
        ) from None
    if baseline and len(label) and not label.any():
        raise DatasetError(
            f"the label value {selector.display!r} never occurs",
            path=source,
            column=settings.label,
            expected=f"rows whose label is {selector.display!r}",
            found=_examples(label_column),
        )
    predicted = None
    if settings.predicted_label is not None:
        predicted = (
            selector.mask(table[settings.predicted_label])
            if selector.threshold is None
            else (
                _predicted_threshold(
                    table[settings.predicted_label], selector, source, settings.predicted_label
                )
            )
        )
    elif settings.probability_attribute is not None:
        scores = _float_column(
            table[settings.probability_attribute], source, settings.probability_attribute
        )
        # Clarify: a score above the threshold is the positive label.
        predicted = scores > settings.probability_threshold
    group = None
    if settings.group_variable is not None:
        column = require_column(table, settings.group_variable, "group variable column", source)
        encoded = pc.dictionary_encode(pc.fill_null(pc.cast(column, pa.string()), "\0null"))
        group = np.asarray(
            pa.chunked_array(encoded).combine_chunks().indices.to_numpy(zero_copy_only=False),
            dtype=np.int64,
        )
    features = _ft_features(table, settings) if predicted is not None else None
    return _Rows(
        label=label,
        predicted=predicted,
        group=group,
        features=features,
        table=table,
        label_text=selector.value_or_threshold(label_column),
    )


def _predicted_threshold(
    column: pa.ChunkedArray, selector: Selector, source: str, name: str
) -> npt.NDArray[np.bool_]:
    _float_column(column, source, name)
    return selector.mask(column)


def _float_column(column: pa.ChunkedArray, source: str, name: str) -> npt.NDArray[np.float64]:
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise DatasetError(
            "the column must hold numbers",
            path=source,
            column=name,
            expected="numbers",
            found=str(column.type),
        )
    return np.asarray(
        pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )


def _ft_features(table: pa.Table, settings: BiasSettings) -> npt.NDArray[np.float64] | None:
    """FT's features: those configured, else every numeric column not used otherwise (Clarify's
    FlipTest refuses non-numeric columns). Missing values become the column mean."""
    if settings.ft_features is not None:
        names = [n for n in settings.ft_features if n in table.column_names]
    else:
        used = set(settings.used_columns())
        names = [
            f.name
            for f in table.schema
            if f.name not in used and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
        ]
    if not names:
        return None
    columns = []
    for name in names:
        values = np.array(
            pc.fill_null(pc.cast(table[name], pa.float64()), math.nan).to_numpy(
                zero_copy_only=False
            ),
            dtype=np.float64,
        )
        finite = np.isfinite(values)
        values[~finite] = values[finite].mean() if finite.any() else 0.0
        columns.append(values)
    return np.column_stack(columns)


def analyse(
    table: pa.Table,
    settings: BiasSettings,
    facets: Sequence[FacetSelection],
    *,
    source: str,
    intervals: bool,
    baseline: bool,
) -> tuple[BiasAnalysis, dict[tuple[str, object], FacetSample]]:
    """Clarify's analysis of ``table`` for ``facets``; with ``intervals``, every metric carries
    a normal bootstrap interval at ``settings.confidence``. Also each facet's sample, by
    ``(facet name, selector key)``."""
    rows = _prepare(table, settings, source, baseline=baseline)
    rng = np.random.default_rng(settings.seed)
    pre: dict[str, list[FacetBias]] = {}
    post: dict[str, list[FacetBias]] = {}
    samples: dict[tuple[str, object], FacetSample] = {}
    for name, selector in facets:
        column = require_column(rows.table, name, "facet column", source)
        facet = selector.mask(column)
        counts = bias.cell_counts(facet, rows.label, rows.predicted, rows.group)
        boot = bias.bootstrap_counts(counts, settings.resamples, rng) if intervals else None
        text = selector.value_or_threshold(column)
        pre_names = [m for m in bias.PRE_TRAINING if m != "CDDL" or rows.group is not None]
        pre.setdefault(name, []).append(
            FacetBias(text, tuple(_metric(m, counts, boot, settings) for m in pre_names))
        )
        samples[(name, selector.key)] = FacetSample(counts, None)
        if rows.predicted is None:
            continue
        post_names = [
            m
            for m in bias.POST_TRAINING
            if (m != "CDDPL" or rows.group is not None) and (m != "FT" or rows.features is not None)
        ]
        metrics = []
        for m in post_names:
            if m == "FT":
                metric, flips = _flip_test(facet, rows, counts, settings, rng, intervals)
                samples[(name, selector.key)] = FacetSample(counts, flips)
                metrics.append(metric)
            else:
                metrics.append(_metric(m, counts, boot, settings))
        post.setdefault(name, []).append(FacetBias(text, tuple(metrics)))
    analysis = BiasAnalysis(
        pre_training=BiasStage(
            settings.label, rows.label_text, {k: tuple(v) for k, v in pre.items()}
        ),
        post_training=BiasStage(
            settings.label, rows.label_text, {k: tuple(v) for k, v in post.items()}
        )
        if rows.predicted is not None
        else None,
    )
    return analysis, samples


def _metric(
    name: str,
    counts: bias.Counts,
    boot: bias.Counts | None,
    settings: BiasSettings,
) -> BiasMetric:
    description = bias.DESCRIPTIONS[name]
    reason = bias.insufficient(name, counts, settings.min_count)
    if reason is not None:
        return BiasMetric(name, description, None, error=reason)
    value = float(bias.metric_values(name, counts))
    if math.isnan(value):
        return BiasMetric(name, description, None, error=_undefined(name))
    interval = None
    if boot is not None:
        interval = bias.normal_interval(value, bias.metric_values(name, boot), settings.confidence)
    return BiasMetric(name, description, value, confidence_interval=interval)


def _undefined(name: str) -> str:
    if name in ("KL", "JS", "LP", "TVD", "KS"):
        return "undefined: no label value occurs in both facet groups"
    if name in ("CDDL", "CDDPL"):
        return "undefined: the labels are all positive or all negative"
    return "undefined: every prediction is a false negative"


def _flip_test(
    facet: npt.NDArray[np.bool_],
    rows: _Rows,
    counts: bias.Counts,
    settings: BiasSettings,
    rng: np.random.Generator,
    intervals: bool,
) -> tuple[BiasMetric, tuple[int, int, int] | None]:
    description = bias.DESCRIPTIONS["FT"]
    reason = bias.insufficient("FT", counts, settings.min_count)
    if reason is not None or rows.features is None or rows.predicted is None:
        return BiasMetric("FT", description, None, error=reason or "no numeric features"), None
    chosen = _capped(facet, rng) | _capped(~facet, rng)
    flips = bias.flip_test(rows.features[chosen], facet[chosen], rows.predicted[chosen])
    value = float(flips.mean())
    interval = None
    tallies = np.array([(flips == v).sum() for v in (-1, 0, 1)], dtype=np.int64)
    if intervals:
        # The k-NN stays fixed; the flips of facet d are resampled (multinomial over -1, 0, 1).
        drawn = rng.multinomial(len(flips), tallies / len(flips), size=settings.resamples)
        means = (drawn * np.array([-1.0, 0.0, 1.0])).sum(axis=1) / len(flips)
        interval = bias.normal_interval(value, means, settings.confidence)
    metric = BiasMetric("FT", description, value, confidence_interval=interval)
    return metric, (int(tallies[0]), int(tallies[1]), int(tallies[2]))


def _capped(members: npt.NDArray[np.bool_], rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    index = np.flatnonzero(members)
    if len(index) <= FT_MAX_ROWS:
        return members
    out = np.zeros_like(members)
    out[rng.choice(index, FT_MAX_ROWS, replace=False)] = True
    return out
