"""SageMaker Clarify's bias metrics as pure functions over a table of counts.

Every pre- and post-training metric except FT depends on the data only through the counts of
rows per (group, facet, observed label, predicted label) cell, so the data is reduced once to a
count tensor ``c[..., g, f, y, p]`` (``f``: 0 = the rest ``a``, 1 = the facet ``d``; ``y``/``p``:
0 = negative, 1 = positive; ``g``: a ``group_variable`` subgroup, a single group if none). Any
leading axes are batch axes, so the metrics of a thousand bootstrap resamples come out of one
vectorised call (:func:`bootstrap_counts`, :func:`normal_interval`).

Definitions follow Clarify's code (smclarify ``bias/metrics``), including its quirks:

* a ratio with zero denominator is ``0`` when the numerator is 0 too, else ``±inf``;
  ``inf - inf`` (both groups' ratio infinite) is ``0`` for DCAcc, DCR, DAR, DRR and TE;
* KL, JS, LP, TVD and KS compare the label distributions of ``a`` and ``d`` over the label values
  with non-zero probability in *both* groups (``pdfs_aligned_nonzero``), natural logarithms, LP
  with p = 2; no common value gives NaN (Clarify raises);
* CI is ``(n_a - n_d)/n``; TE is ``FN_d/FP_d - FN_a/FP_a`` (the code, not the doc prose);
* CDDL/CDDPL weight each subgroup's demographic disparity by its size; a subgroup without
  positives (negatives) counts its acceptance (rejection) share as 0;
* GE is the generalised entropy index with alpha = 2 over benefits ``ŷ - y + 1``;
* FT (:func:`flip_test`) fits a k-NN classifier (k = 5, or 1 with at most 9 rows) on facet ``a``'s
  features and model predictions, predicts facet ``d``, and counts flips.

A metric is *insufficient* (:func:`insufficient`) when one of the counts it divides by is below
``min_count``: then it is reported as "insufficient data", never as a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DESCRIPTIONS",
    "FAIR_VALUES",
    "POST_TRAINING",
    "PRE_TRAINING",
    "PUBLISHED_INFINITY",
    "allowed_range",
    "bootstrap_counts",
    "cell_counts",
    "distance_from_fair",
    "flip_draws",
    "flip_test",
    "insufficient",
    "metric_values",
    "normal_interval",
    "predictive_counts",
    "predictive_range",
    "range_at_distance",
    "sufficient",
]

Counts = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

PRE_TRAINING: Final = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")
POST_TRAINING: Final = (
    "DPPL",
    "DI",
    "DCAcc",
    "DCR",
    "RD",
    "SD",
    "DAR",
    "DRR",
    "AD",
    "TE",
    "CDDPL",
    "FT",
    "GE",
)
DESCRIPTIONS: Final[Mapping[str, str]] = {
    "CI": "Class Imbalance (CI)",
    "DPL": "Difference in Positive Proportions in Labels (DPL)",
    "KL": "Kullback-Liebler Divergence (KL)",
    "JS": "Jensen-Shannon Divergence (JS)",
    "LP": "L-p Norm (LP)",
    "TVD": "Total Variation Distance (TVD)",
    "KS": "Kolmogorov-Smirnov Distance (KS)",
    "CDDL": "Conditional Demographic Disparity in Labels (CDDL)",
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
    "DI": "Disparate Impact (DI)",
    "DCAcc": "Difference in Conditional Acceptance (DCAcc)",
    "DCR": "Difference in Conditional Rejection (DCR)",
    "RD": "Recall Difference (RD)",
    "SD": "Specificity Difference (SD)",
    "DAR": "Difference in Acceptance Rates (DAR)",
    "DRR": "Difference in Rejection Rates (DRR)",
    "AD": "Accuracy Difference (AD)",
    "TE": "Treatment Equality (TE)",
    "CDDPL": "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
    "FT": "Flip Test (FT)",
    "GE": "Generalized Entropy (GE)",
}
# The value of a perfectly fair model: 1 for the ratio DI, 0 for every other metric.
FAIR_VALUES: Final[Mapping[str, float]] = {
    name: 1.0 if name == "DI" else 0.0 for name in DESCRIPTIONS
}
# Clarify publishes +-inf to CloudWatch as this number (sagemaker.md §5).
PUBLISHED_INFINITY: Final = 2.348543e108

_A, _D = 0, 1
_WHERE = ((_D, "in facet d"), (_A, "outside facet d"))


def cell_counts(
    facet: npt.ArrayLike,
    label: npt.ArrayLike,
    predicted: npt.ArrayLike | None = None,
    group: npt.ArrayLike | None = None,
) -> Counts:
    """The count tensor ``(G, 2, 2, 2)`` of boolean ``facet`` (True = facet d), ``label`` and
    ``predicted`` (True = positive; all False if None) and integer ``group`` codes 0..G-1."""
    f = np.asarray(facet, dtype=bool)
    y = np.asarray(label, dtype=bool)
    p = np.zeros_like(y) if predicted is None else np.asarray(predicted, dtype=bool)
    g = np.zeros(len(f), dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    if not len(f) == len(y) == len(p) == len(g):
        raise ValueError("facet, label, predicted and group must have the same length")
    groups = int(g.max()) + 1 if len(g) else 1
    flat = ((g * 2 + f) * 2 + y) * 2 + p
    counts = np.bincount(flat, minlength=groups * 8).astype(np.int64)
    return counts.reshape(groups, 2, 2, 2)


def bootstrap_counts(counts: Counts, resamples: int, rng: np.random.Generator) -> Counts:
    """``resamples`` bootstrap resamples of the rows behind ``counts``: resampling n rows with
    replacement is one multinomial draw over the cells, so no row is touched."""
    total = int(counts.sum())
    shape = counts.shape
    drawn = rng.multinomial(total, counts.ravel() / max(total, 1), size=resamples)
    return drawn.reshape(resamples, *shape).astype(np.int64)


def normal_interval(
    point: float, replicates: npt.ArrayLike, confidence: float
) -> tuple[float, float]:
    """Clarify's normal bootstrap interval ``point ± z·sd(replicates)``.

    Undefined (NaN) replicates are dropped; if any replicate is infinite the standard deviation
    means nothing, so the percentile interval of the replicates is returned instead."""
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[~np.isnan(reps)]
    if len(reps) < 2:
        return point, point
    if not np.isfinite(reps).all() or not np.isfinite(point):
        tail = (1.0 - confidence) / 2.0
        low, high = np.quantile(reps, [tail, 1.0 - tail], method="inverted_cdf")
        return float(min(low, point)), float(max(high, point))
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    spread = z * float(reps.std(ddof=1))
    return point - spread, point + spread


def distance_from_fair(metric: str, values: npt.ArrayLike) -> Floats:
    """How far each value is from the fair value: ``|v - fair|``, for DI (a ratio) ``|log v|``
    (0 and +inf are infinitely far). NaN stays NaN."""
    v = np.asarray(values, dtype=np.float64)
    if metric == "DI":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.abs(np.log(np.where(v < 0, np.nan, v)))
        return np.asarray(out, dtype=np.float64)
    return np.asarray(np.abs(v - FAIR_VALUES.get(metric, 0.0)), dtype=np.float64)


def range_at_distance(metric: str, distance: float) -> tuple[float, float]:
    """The values no farther than ``distance`` from the fair value (see
    :func:`distance_from_fair`)."""
    if metric == "DI":
        if not distance < float("inf"):
            return (0.0, float("inf"))
        return (float(np.exp(-distance)), float(np.exp(distance)))
    fair = FAIR_VALUES.get(metric, 0.0)
    return (fair - distance, fair + distance)


def allowed_range(metric: str, baseline: float) -> tuple[float, float]:
    """The range a window's value may take: no farther from the fair value than the baseline
    (sagemaker.md §1.5). For DI, a ratio, "farther" is in ratio terms: [min(b, 1/b),
    max(b, 1/b)]."""
    if metric == "DI":
        if baseline <= 0.0 or not np.isfinite(baseline):
            return (0.0, float("inf"))
        return (min(baseline, 1.0 / baseline), max(baseline, 1.0 / baseline))
    return range_at_distance(metric, float(distance_from_fair(metric, baseline)))


def predictive_counts(
    baseline: Counts, rows: int, resamples: int, rng: np.random.Generator
) -> Counts:
    """``resamples`` count tensors of windows of ``rows`` rows drawn from the baseline's
    population. The baseline is a finite sample too, so each window is drawn from a bootstrap
    resample of it (a parametric double bootstrap): the spread of the metrics over these windows
    holds both the baseline's and the window's sampling noise, small-window bias and the
    skewness of ratios included."""
    total = int(baseline.sum())
    shape = baseline.shape
    if total == 0 or rows <= 0:
        return np.zeros((resamples, *shape), dtype=np.int64)
    proportions = bootstrap_counts(baseline, resamples, rng).reshape(resamples, -1) / total
    drawn = rng.multinomial(rows, proportions)
    return np.asarray(drawn, dtype=np.int64).reshape(resamples, *shape)


def flip_draws(flips: npt.ArrayLike, rows: npt.ArrayLike, rng: np.random.Generator) -> Floats:
    """FT (the mean flip) of windows with ``rows`` rows of facet d each, the flips drawn from a
    bootstrap resample of the baseline's tallies ``flips`` of -1, 0 and +1."""
    tallies = np.asarray(flips, dtype=np.int64)
    sizes = np.asarray(rows, dtype=np.int64)
    total = int(tallies.sum())
    if total == 0:
        return np.full(len(sizes), np.nan)
    resampled = rng.multinomial(total, tallies / total, size=len(sizes)) / total
    drawn = rng.multinomial(sizes, resampled)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = (drawn * np.array([-1.0, 0.0, 1.0])).sum(axis=1) / sizes
    return np.asarray(np.where(sizes > 0, means, np.nan), dtype=np.float64)


def predictive_range(
    metric: str, baseline: float, draws: npt.ArrayLike, confidence: float
) -> tuple[float, float]:
    """The range a same-population window stays in with probability ``confidence``: no farther
    from fair than the baseline, widened to the ``confidence`` quantile of the distance from fair
    over ``draws`` (the metric on windows drawn by :func:`predictive_counts`).

    The quantile is the k-th largest distance with k = max(1, floor(R (1 - confidence))) of the
    R defined draws, and a window violates only beyond it, so under no change a window's chance
    of violating is at most k / (R + 1) (a Monte Carlo rank test; the window is one more draw).
    No defined draw leaves the range unbounded: nothing is known to judge by."""
    distances = distance_from_fair(metric, draws)
    distances = np.sort(distances[~np.isnan(distances)])
    own = float(distance_from_fair(metric, baseline))
    if not len(distances):
        return range_at_distance(metric, float("inf"))
    k = max(1, int(len(distances) * (1.0 - confidence)))
    widest = float(distances[len(distances) - k])
    return range_at_distance(metric, widest if np.isnan(own) else max(own, widest))


# ---------------------------------------------------------------------------------------------
# Metrics over counts
# ---------------------------------------------------------------------------------------------


def _divide(numerator: Floats, denominator: Floats) -> Floats:
    """Clarify's ``divide``: 0/0 is 0 and x/0 is ±inf."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out = np.where(den == 0, np.where(num == 0, 0.0, np.copysign(np.inf, num)), out)
    return np.asarray(out, dtype=np.float64)


def _difference(first: Floats, second: Floats) -> Floats:
    """``first - second``, but 0 when both are +inf (Clarify's special case)."""
    both = np.isposinf(first) & np.isposinf(second)
    with np.errstate(invalid="ignore"):
        return np.where(both, 0.0, first - second)


class _Cells:
    """Marginal counts of a count tensor, each with the batch axes in front."""

    def __init__(self, counts: Counts) -> None:
        c = np.asarray(counts, dtype=np.float64)
        self.groups: Floats = c  # (..., G, f, y, p)
        self.fyp: Floats = c.sum(axis=-4)  # (..., f, y, p)
        self.fy: Floats = self.fyp.sum(axis=-1)  # (..., f, y): observed labels
        self.fp: Floats = self.fyp.sum(axis=-2)  # (..., f, p): predicted labels
        self.f: Floats = self.fy.sum(axis=-1)  # (..., f)

    def n(self, facet: int) -> Floats:
        return np.asarray(self.f[..., facet], dtype=np.float64)

    def observed(self, facet: int, label: int) -> Floats:
        return np.asarray(self.fy[..., facet, label], dtype=np.float64)

    def predicted(self, facet: int, label: int) -> Floats:
        return np.asarray(self.fp[..., facet, label], dtype=np.float64)

    def cell(self, facet: int, label: int, predicted: int) -> Floats:
        return np.asarray(self.fyp[..., facet, label, predicted], dtype=np.float64)


def _proportion_difference(cells: _Cells, positives: Callable[[int], Floats]) -> Floats:
    return _divide(positives(_A), cells.n(_A)) - _divide(positives(_D), cells.n(_D))


def _label_distributions(cells: _Cells) -> tuple[Floats, Floats, npt.NDArray[np.bool_]]:
    pa = _divide(cells.fy[..., _A, :], cells.n(_A)[..., None])
    pd = _divide(cells.fy[..., _D, :], cells.n(_D)[..., None])
    common = (pa > 0) & (pd > 0)
    return pa, pd, common


def _no_common_support(value: Floats, common: npt.NDArray[np.bool_]) -> Floats:
    return np.where(common.any(axis=-1), value, np.nan)


def _kl(cells: _Cells) -> Floats:
    pa, pd, common = _label_distributions(cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(common, pa * np.log(pa / pd), 0.0)
    return _no_common_support(terms.sum(axis=-1), common)


def _js(cells: _Cells) -> Floats:
    pa, pd, common = _label_distributions(cells)
    mean = (pa + pd) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = np.where(common, pa * np.log(pa / mean), 0.0)
        td = np.where(common, pd * np.log(pd / mean), 0.0)
    return _no_common_support(0.5 * (ta.sum(axis=-1) + td.sum(axis=-1)), common)


def _norm(cells: _Cells, order: float) -> Floats:
    pa, pd, common = _label_distributions(cells)
    gaps = np.where(common, np.abs(pa - pd), 0.0)
    value = gaps.max(axis=-1) if order == np.inf else (gaps**order).sum(axis=-1) ** (1.0 / order)
    return _no_common_support(np.asarray(value, dtype=np.float64), common)


def _cdd(cells: _Cells, axis: int) -> Floats:
    """Conditional demographic disparity; ``axis`` is summed away: -1 (predictions) for CDDL,
    -2 (observed labels) for CDDPL."""
    per_group = cells.groups.sum(axis=axis)  # (..., G, f, label)
    positives = per_group[..., 1].sum(axis=-1)
    negatives = per_group[..., 0].sum(axis=-1)
    accepted = _divide(per_group[..., _D, 1], positives)
    rejected = _divide(per_group[..., _D, 0], negatives)
    sizes = positives + negatives
    disparity = rejected - accepted
    total = sizes.sum(axis=-1)
    value = _divide((sizes * disparity).sum(axis=-1), total)
    # Clarify refuses a set without positives or without negatives at all.
    return np.where((positives.sum(axis=-1) > 0) & (negatives.sum(axis=-1) > 0), value, np.nan)


def _confusion(cells: _Cells, facet: int) -> tuple[Floats, Floats, Floats, Floats]:
    """TP, FP, FN, TN of one facet group."""
    return (
        cells.cell(facet, 1, 1),
        cells.cell(facet, 0, 1),
        cells.cell(facet, 1, 0),
        cells.cell(facet, 0, 0),
    )


def _conditional(cells: _Cells, outcome: int) -> Floats:
    """DCAcc (outcome 1: c_a - c_d) and DCR (outcome 0: r_d - r_a); c = n(1)/n̂(1)."""
    ratio_a = _divide(cells.observed(_A, outcome), cells.predicted(_A, outcome))
    ratio_d = _divide(cells.observed(_D, outcome), cells.predicted(_D, outcome))
    return _difference(ratio_a, ratio_d) if outcome == 1 else _difference(ratio_d, ratio_a)


def _rates(cells: _Cells, metric: str) -> Floats:
    tp_a, fp_a, fn_a, tn_a = _confusion(cells, _A)
    tp_d, fp_d, fn_d, tn_d = _confusion(cells, _D)
    if metric == "RD":
        return _difference(_divide(tp_a, tp_a + fn_a), _divide(tp_d, tp_d + fn_d))
    if metric == "SD":
        return _difference(_divide(tn_d, tn_d + fp_d), _divide(tn_a, tn_a + fp_a))
    if metric == "DAR":
        return _difference(_divide(tp_a, tp_a + fp_a), _divide(tp_d, tp_d + fp_d))
    if metric == "DRR":
        return _difference(_divide(tn_d, tn_d + fn_d), _divide(tn_a, tn_a + fn_a))
    if metric == "AD":
        return _divide(tp_a + tn_a, cells.n(_A)) - _divide(tp_d + tn_d, cells.n(_D))
    # TE
    return _difference(_divide(fn_d, fp_d), _divide(fn_a, fp_a))


def _generalized_entropy(cells: _Cells) -> Floats:
    fn = cells.fyp[..., 1, 0].sum(axis=-1)  # benefit 0
    fp = cells.fyp[..., 0, 1].sum(axis=-1)  # benefit 2
    total = cells.f.sum(axis=-1)
    same = total - fn - fp  # benefit 1
    mean = _divide(same + 2.0 * fp, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        squares = same / mean**2 + fp * (2.0 / mean) ** 2
        value = (squares - total) / (2.0 * total)
    # Every prediction a false negative: the mean benefit is 0 and GE undefined (Clarify raises).
    return np.where(mean > 0, value, np.nan)


_METRICS: Final[Mapping[str, Callable[[_Cells], Floats]]] = {
    "CI": lambda c: _divide(c.n(_A) - c.n(_D), c.n(_A) + c.n(_D)),
    "DPL": lambda c: _proportion_difference(c, lambda f: c.observed(f, 1)),
    "KL": _kl,
    "JS": _js,
    "LP": lambda c: _norm(c, 2.0),
    "TVD": lambda c: 0.5 * _norm(c, 1.0),
    "KS": lambda c: _norm(c, np.inf),
    "CDDL": lambda c: _cdd(c, -1),
    "DPPL": lambda c: _proportion_difference(c, lambda f: c.predicted(f, 1)),
    "DI": lambda c: _divide(
        _divide(c.predicted(_D, 1), c.n(_D)), _divide(c.predicted(_A, 1), c.n(_A))
    ),
    "DCAcc": lambda c: _conditional(c, 1),
    "DCR": lambda c: _conditional(c, 0),
    "RD": lambda c: _rates(c, "RD"),
    "SD": lambda c: _rates(c, "SD"),
    "DAR": lambda c: _rates(c, "DAR"),
    "DRR": lambda c: _rates(c, "DRR"),
    "AD": lambda c: _rates(c, "AD"),
    "TE": lambda c: _rates(c, "TE"),
    "CDDPL": lambda c: _cdd(c, -2),
    "GE": _generalized_entropy,
}


def metric_values(metric: str, counts: Counts) -> Floats:
    """The value of ``metric`` (a Clarify short name other than FT) for each count tensor in
    ``counts`` (shape ``(..., G, 2, 2, 2)``); NaN where Clarify raises (no common support,
    no positives or negatives for CDD, zero mean benefit for GE)."""
    try:
        compute = _METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown bias metric {metric!r} for counts") from None
    return np.asarray(compute(_Cells(counts)), dtype=np.float64)


def _denominators(metric: str, cells: _Cells) -> list[tuple[str, Floats]]:
    """The counts ``metric`` divides by, named for the message."""
    if metric in ("DCAcc", "DAR"):
        return [(f"predicted positives {w}", cells.predicted(f, 1)) for f, w in _WHERE]
    if metric in ("DCR", "DRR"):
        return [(f"predicted negatives {w}", cells.predicted(f, 0)) for f, w in _WHERE]
    if metric == "RD":
        return [(f"observed positives {w}", cells.observed(f, 1)) for f, w in _WHERE]
    if metric == "SD":
        return [(f"observed negatives {w}", cells.observed(f, 0)) for f, w in _WHERE]
    return [("rows in facet d", cells.n(_D)), ("rows outside facet d", cells.n(_A))]


def sufficient(metric: str, counts: Counts, min_count: int) -> npt.NDArray[np.bool_]:
    """For each count tensor in ``counts`` (batch axes in front), whether ``metric`` has enough
    data (the vectorised :func:`insufficient`)."""
    cells = _Cells(counts)
    ok = np.ones(np.shape(cells.f)[:-1], dtype=bool)
    for _, value in _denominators(metric, cells):
        ok &= value >= min_count
    return ok


def insufficient(metric: str, counts: Counts, min_count: int) -> str | None:
    """Why the window behind ``counts`` is too small for ``metric``, or None if it is not.

    A metric needs at least ``min_count`` rows in each count it divides by: both facet groups
    for most metrics, the observed or predicted positives/negatives of each group for the
    conditional rates (DCAcc, DCR, RD, SD, DAR, DRR)."""
    cells = _Cells(counts)
    for name, value in _denominators(metric, cells):
        if float(value) < min_count:
            return f"insufficient data: {int(value)} {name}, at least {min_count} needed"
    return None


# ---------------------------------------------------------------------------------------------
# FT: the counterfactual flip test
# ---------------------------------------------------------------------------------------------

FT_NEIGHBOURS: Final = 5
FT_SMALL_NEIGHBOURS: Final = 1
FT_SMALL_SAMPLE: Final = 9


def flip_test(
    features: npt.ArrayLike, facet: npt.ArrayLike, predicted: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Clarify's FlipTest, one flip per row of facet d: +1 if the model accepts the row but the
    k-NN trained on facet a's predictions rejects it, -1 the other way round, 0 if they agree.

    FT is the mean of the result. ``features`` are numeric (rows x columns), unscaled as in
    Clarify; k = 5, or 1 when facet a has at most 9 rows."""
    from sklearn.neighbors import KNeighborsClassifier

    x = np.asarray(features, dtype=np.float64)
    f = np.asarray(facet, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    if f.all() or not f.any():
        raise ValueError("FT needs rows in facet d and outside it")
    x_a, p_a = x[~f], p[~f]
    k = FT_NEIGHBOURS if len(x_a) > FT_SMALL_SAMPLE else FT_SMALL_NEIGHBOURS
    if len(np.unique(p_a)) == 1:
        as_if_a = np.full(int(f.sum()), bool(p_a[0]))
    else:
        knn: Any = KNeighborsClassifier(n_neighbors=k)
        knn.fit(x_a, p_a)
        as_if_a = np.asarray(knn.predict(x[f]), dtype=bool)
    model = p[f]
    return np.asarray(model.astype(np.int64) - as_if_a.astype(np.int64), dtype=np.int64)
