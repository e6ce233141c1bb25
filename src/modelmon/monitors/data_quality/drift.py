"""Per-feature drift between a baseline and a current window, with the verdict and its rule.

SageMaker's verdict (``baseline_drift_check``) uses one distance: L-infinity between the CDFs for
numeric features (Simple, or Robust = sample-size corrected) and, for String features, L-infinity
between category frequencies or a chi-squared test. The report adds the distances other tools use
(PSI, Jensen-Shannon, Hellinger, normalised Wasserstein, KS p-value) so a user can compare, but the
verdict always names the one rule that produced it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality.summaries import Distribution
from modelmon.stats import distances as d
from modelmon.stats.honest import benjamini_hochberg

__all__ = ["DEFAULT_BINS", "FeatureDrift", "control_fdr", "feature_drift", "not_evaluated"]

# Decile bins of the baseline: the usual PSI convention, and stable at small windows.
DEFAULT_BINS = 10


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature: every distance, the verdict and the rule that produced it.

    ``drift`` is None when the feature was not evaluated; ``reason`` then says why.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    baseline_count: int
    current_count: int
    metrics: dict[str, float] = field(default_factory=dict)
    method: str = ""
    statistic: float = math.nan
    threshold: float = math.nan
    drift: bool | None = None
    rule: str = ""
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "baseline_count": self.baseline_count,
            "current_count": self.current_count,
            "metrics": {k: _finite(v) for k, v in self.metrics.items()},
            "method": self.method,
            "statistic": _finite(self.statistic),
            "threshold": _finite(self.threshold),
            "drift": self.drift,
            "rule": self.rule,
            "reason": self.reason,
        }


def feature_drift(
    name: str,
    inferred_type: str,
    baseline: Distribution,
    current: Distribution,
    config: sm.DistributionConstraints,
) -> FeatureDrift:
    """Compare ``current`` with ``baseline`` under a feature's distribution constraints."""
    if inferred_type in ("Integral", "Fractional"):
        return _numeric(name, baseline, current, config)
    return _categorical(name, baseline, current, config)


def _numeric(
    name: str, baseline: Distribution, current: Distribution, config: sm.DistributionConstraints
) -> FeatureDrift:
    n, m = baseline.numeric_count, current.numeric_count
    result = FeatureDrift(name, "numeric", n, m, threshold=config.comparison_threshold)
    if n == 0 or baseline.values.size == 0:
        return _skip(result, "the baseline has no numeric values for this feature")
    if m == 0:
        return _skip(result, "the current data has no numeric values for this feature")
    a, aw, b, bw = baseline.values, baseline.weights, current.values, current.weights
    simple = d.linf_distance(a, aw, b, bw)
    robust = d.linf_robust(simple, n, m)
    edges = d.quantile_bin_edges(a, aw, DEFAULT_BINS)
    p, q = d.bin_probabilities(a, aw, edges), d.bin_probabilities(b, bw, edges)
    metrics = {
        "linf_simple": simple,
        "linf_robust": robust,
        "ks_pvalue": d.ks_pvalue(simple, n, m),
        "psi": d.psi(p, q),
        "jensen_shannon": d.jensen_shannon_distance(p, q),
        "hellinger": d.hellinger_distance(p, q),
        "wasserstein_normed": _finite_wasserstein(a, aw, b, bw),
    }
    statistic = robust if config.comparison_method == "Robust" else simple
    method = f"{config.comparison_method} L-infinity"
    return _verdict(result, metrics, method, statistic)


def _categorical(
    name: str, baseline: Distribution, current: Distribution, config: sm.DistributionConstraints
) -> FeatureDrift:
    n, m = round(baseline.category_count), round(current.category_count)
    threshold = config.effective_categorical_threshold
    result = FeatureDrift(name, "categorical", n, m, threshold=threshold)
    if n == 0:
        return _skip(result, "the baseline has no category counts for this feature")
    if m == 0:
        return _skip(result, "the current data has no text values for this feature")
    simple = d.categorical_linf(baseline.categories, current.categories)
    robust = d.linf_robust(simple, n, m)
    _, p, q = d.category_probabilities(baseline.categories, current.categories)
    metrics = {
        "linf_simple": simple,
        "linf_robust": robust,
        "psi": d.psi(p, q),
        "jensen_shannon": d.jensen_shannon_distance(p, q),
    }
    chi = d.categorical_chi_squared(baseline.categories, current.categories)
    if chi is not None:
        metrics["chi_squared"] = chi.statistic
        metrics["chi_squared_pvalue"] = chi.pvalue
    if config.categorical_drift_method == "ChiSquared":
        result = replace(result, metrics=metrics, method="ChiSquared")
        if chi is None:
            return _skip(result, "too few categories for a chi-squared test after regrouping")
        drift = chi.pvalue < threshold
        rule = (
            f"ChiSquared p-value {chi.pvalue:.6g} {'<' if drift else '>='} threshold {threshold:g}"
        )
        return replace(result, statistic=chi.pvalue, drift=drift, rule=rule)
    statistic = robust if config.comparison_method == "Robust" else simple
    method = f"{config.comparison_method} L-infinity"
    return _verdict(result, metrics, method, statistic)


def _verdict(
    result: FeatureDrift, metrics: dict[str, float], method: str, statistic: float
) -> FeatureDrift:
    """``result`` judged by ``statistic > result.threshold``, with the rule spelled out."""
    drift = statistic > result.threshold
    rule = f"{method} {statistic:.6g} {'>' if drift else '<='} threshold {result.threshold:g}"
    return replace(
        result, metrics=metrics, method=method, statistic=statistic, drift=drift, rule=rule
    )


def _skip(result: FeatureDrift, reason: str) -> FeatureDrift:
    return replace(result, rule="not evaluated", reason=reason)


def not_evaluated(
    name: str, kind: Literal["numeric", "categorical"], baseline: int, current: int, reason: str
) -> FeatureDrift:
    """A feature whose drift was not evaluated, and why."""
    return _skip(FeatureDrift(name, kind, baseline, current), reason)


def control_fdr(drifts: Sequence[FeatureDrift], q: float) -> list[FeatureDrift]:
    """Re-judge drift verdicts with the false-discovery rate across features held at ``q``.

    Each evaluated feature's p-value (KS for numeric, chi-squared for categorical) is adjusted by
    Benjamini-Hochberg over all of them; a feature drifts when its adjusted p-value is at most
    ``q`` and its Simple L-infinity distance still exceeds the threshold (for the ChiSquared
    method, whose threshold is a p-value, ``q`` replaces it). The distance requirement keeps a
    huge window from alarming on a shift too small to matter, which a p-value alone would do.
    A feature without a p-value keeps its verdict and says so.
    """
    pvalues = [_pvalue(f) for f in drifts]
    adjusted = benjamini_hochberg(np.array(pvalues, dtype=np.float64))
    out = []
    for drift, p in zip(drifts, adjusted, strict=True):
        if drift.drift is None:
            out.append(drift)
        elif math.isnan(p):
            out.append(replace(drift, rule=f"{drift.rule} (no p-value: outside FDR control)"))
        else:
            out.append(_fdr_verdict(drift, float(p), q))
    return out


def _pvalue(drift: FeatureDrift) -> float:
    if drift.drift is None:
        return math.nan
    key = "ks_pvalue" if drift.kind == "numeric" else "chi_squared_pvalue"
    value = drift.metrics.get(key, math.nan)
    return value if math.isfinite(value) else math.nan


def _fdr_verdict(drift: FeatureDrift, adjusted: float, q: float) -> FeatureDrift:
    metrics = {**drift.metrics, "pvalue_bh_adjusted": adjusted}
    test = "KS" if drift.kind == "numeric" else "chi-squared"
    significant = adjusted <= q
    judged = f"BH-adjusted {test} p-value {adjusted:.6g} {'<=' if significant else '>'} q {q:g}"
    if drift.method == "ChiSquared":
        return replace(
            drift, metrics=metrics, statistic=adjusted, threshold=q, drift=significant, rule=judged
        )
    distance = drift.metrics["linf_simple"]
    relevant = distance > drift.threshold
    rule = (
        f"{judged} and Simple L-infinity {distance:.6g} "
        f"{'>' if relevant else '<='} threshold {drift.threshold:g}"
    )
    return replace(
        drift,
        metrics=metrics,
        method="FDR L-infinity",
        statistic=distance,
        drift=significant and relevant,
        rule=rule,
    )


def _finite_wasserstein(a: np.ndarray, aw: np.ndarray, b: np.ndarray, bw: np.ndarray) -> float:
    """Normalised Wasserstein over the finite values: an infinity has no transport cost."""
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not fa.any() or not fb.any():
        return math.nan
    return d.normalized_wasserstein(a[fa], aw[fa], b[fb], bw[fb])


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
