"""The allowed range of a window drawn from the baseline's own population.

Clarify's rule sets the allowed range at the baseline's point value, but the baseline is a
finite sample too: on an unchanged population a window is farther from fair than the baseline
about half the time, and small windows are biased away from fair (CDDPL, DI of a handful of
positives). So without explicit ``allowed_ranges`` the range is widened to where windows of the
checked size, drawn from the baseline's counts, fall (:func:`modelmon.stats.bias.predictive_range`).
The baseline keeps its counts (and FT's flip tallies) in ``analysis_config.json`` under
``modelmon.samples``; a baseline without them (Clarify's own) is judged by Clarify's rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from modelmon.errors import ConfigError
from modelmon.formats.clarify import BiasAnalysis
from modelmon.monitors.bias.analysis import FT_MAX_ROWS, FacetSample
from modelmon.monitors.bias.facets import parse_value_or_threshold
from modelmon.stats import bias

__all__ = ["RangeKey", "predictive_ranges", "samples_from_config", "samples_to_json"]

# (facet name, selector key, metric name): metric names differ between stages.
RangeKey = tuple[str, object, str]
SampleKey = tuple[str, object]


def samples_to_json(
    analysis: BiasAnalysis, samples: Mapping[SampleKey, FacetSample]
) -> list[dict[str, Any]]:
    """The ``modelmon.samples`` member of ``analysis_config.json``."""
    out: list[dict[str, Any]] = []
    seen: set[SampleKey] = set()
    for _, stage in analysis.stages():
        for name, entries in stage.facets.items():
            for entry in entries:
                key = (name, parse_value_or_threshold(entry.value_or_threshold).key)
                sample = samples.get(key)
                if sample is None or key in seen:
                    continue
                seen.add(key)
                out.append(
                    {
                        "facet": name,
                        "value_or_threshold": entry.value_or_threshold,
                        "counts": sample.counts.tolist(),
                        "flips": None if sample.flips is None else list(sample.flips),
                    }
                )
    return out


def samples_from_config(config: Mapping[str, Any]) -> dict[SampleKey, FacetSample]:
    """The baseline's samples from ``analysis_config.json`` (none if it has no
    ``modelmon.samples``)."""
    extra = config.get("modelmon")
    raw = extra.get("samples") if isinstance(extra, Mapping) else None
    if raw is None:
        return {}
    out: dict[SampleKey, FacetSample] = {}
    for index, item in enumerate(raw if isinstance(raw, list) else [raw]):
        where = f"analysis_config.json modelmon.samples[{index}]"
        try:
            counts = np.asarray(item["counts"], dtype=np.int64)
            flips = item.get("flips")
            tallies = None if flips is None else tuple(int(v) for v in flips)
            key = (str(item["facet"]), parse_value_or_threshold(item["value_or_threshold"]).key)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(
                f"{where} must be {{'facet', 'value_or_threshold', 'counts', 'flips'}}; got "
                f"{item!r:.200}. Baseline again with 'modelmon bias baseline'."
            ) from None
        if counts.ndim != 4 or counts.shape[1:] != (2, 2, 2) or (counts < 0).any():
            raise ConfigError(
                f"{where}.counts must be non-negative counts of shape (groups, 2, 2, 2); got "
                f"shape {counts.shape}. Baseline again with 'modelmon bias baseline'."
            )
        if tallies is not None and (len(tallies) != 3 or min(tallies) < 0):
            raise ConfigError(
                f"{where}.flips must be 3 non-negative counts (-1, 0, +1); got {tallies!r}."
            )
        out[key] = FacetSample(
            counts, None if tallies is None else (tallies[0], tallies[1], tallies[2])
        )
    return out


def predictive_ranges(
    baseline: BiasAnalysis,
    samples: Mapping[SampleKey, FacetSample],
    rows: int,
    *,
    confidence: float,
    resamples: int,
    min_count: int,
    rng: np.random.Generator,
) -> dict[RangeKey, tuple[float, float]]:
    """The allowed range of every baseline metric with a sample, for windows of ``rows`` rows.

    Drawn windows with too little data for a metric (fewer than ``min_count`` in a count it
    divides by) are left out, as such a window is never judged."""
    draws: dict[SampleKey, bias.Counts] = {}
    out: dict[RangeKey, tuple[float, float]] = {}
    for _, stage in baseline.stages():
        for name, entries in stage.facets.items():
            for entry in entries:
                key = (name, parse_value_or_threshold(entry.value_or_threshold).key)
                sample = samples.get(key)
                if sample is None:
                    continue
                if key not in draws:
                    draws[key] = bias.predictive_counts(sample.counts, rows, resamples, rng)
                drawn = draws[key]
                for metric in entry.metrics:
                    if metric.value is None or math.isnan(metric.value):
                        continue
                    values = _values(metric.name, drawn, sample, rng)
                    if values is None:
                        continue
                    values = np.where(
                        bias.sufficient(metric.name, drawn, min_count), values, np.nan
                    )
                    out[(name, key[1], metric.name)] = bias.predictive_range(
                        metric.name, metric.value, values, confidence
                    )
    return out


def _values(
    metric: str, drawn: bias.Counts, sample: FacetSample, rng: np.random.Generator
) -> bias.Floats | None:
    if metric != "FT":
        return bias.metric_values(metric, drawn)
    if sample.flips is None:
        return None
    facet_rows = drawn[..., 1, :, :].sum(axis=(-3, -2, -1))  # (R, G, y, p) of facet d
    return bias.flip_draws(sample.flips, np.minimum(facet_rows, FT_MAX_ROWS), rng)
