"""Multivariate drift: changes no single feature shows (a correlation that broke, a new mix).

Three methods over two numeric matrices (rows = records, columns = encoded features, no NaN; the
data-quality monitor encodes tables into them):

* :func:`domain_classifier` (adversarial validation, as in Uber's and MLBox's drift estimators):
  train a classifier to tell the baseline from the current rows; a cross-validated ROC AUC near
  0.5 means it cannot, and permutation importance names the features that separate them.
  Needs scikit-learn.
* :func:`pca_reconstruction` (NannyML's data reconstruction drift): fit a PCA on the baseline
  keeping 65% of the variance; if the current rows reconstruct worse, the structure changed.
* :func:`mmd_test`: maximum mean discrepancy with an RBF kernel (median-heuristic bandwidth) and a
  permutation test on the pooled sample (the null distribution of alibi-detect, not a bootstrap of
  the reference alone, which "detects drift all the time": peers.md, item 16).

Every verdict asks for significance at the sample size (so noise on a small window does not
alarm) and for an effect size (so a negligible change on a huge window does not either); samples
are bounded and seeded, so a result is reproducible and its cost does not grow with the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelmon.stats.honest import z_for_alpha

__all__ = [
    "DomainClassifierResult",
    "MmdResult",
    "PcaResult",
    "auc_null_se",
    "domain_classifier",
    "median_bandwidth",
    "mmd2_unbiased",
    "mmd_test",
    "pca_reconstruction",
    "pca_reconstruction_errors",
    "rbf_kernel",
    "roc_auc",
]

FloatArray = npt.NDArray[np.float64]


def roc_auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """ROC AUC of ``scores`` for binary ``labels`` (1 = positive), ties counted half.

    The Mann-Whitney form: equal to ``sklearn.metrics.roc_auc_score(labels, scores)``.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc needs both classes")
    ranks = _average_ranks(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _average_ranks(values: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # Runs of equal values share the mean of their 1-based ranks.
    starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
    ends = np.r_[starts[1:], ordered.size]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def auc_null_se(n: int, m: int) -> float:
    """Standard error of the AUC of a classifier that cannot tell two samples apart (Mann-Whitney:
    ``sqrt((n + m + 1) / (12 n m))``)."""
    return math.sqrt((n + m + 1) / (12.0 * n * m))


@dataclass(frozen=True)
class DomainClassifierResult:
    """Cross-validated AUC of a baseline-vs-current classifier; ``drift`` when above
    ``threshold`` = max(effect floor, 0.5 + z(alpha) * null standard error)."""

    auc: float
    fold_aucs: tuple[float, ...]
    pvalue: float
    threshold: float
    drift: bool
    top_features: tuple[tuple[str, float], ...]
    n_reference: int
    n_current: int


def domain_classifier(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    groups: Sequence[str],
    *,
    folds: int = 5,
    auc_threshold: float = 0.6,
    alpha: float = 0.003,
    top: int = 5,
    seed: int = 0,
) -> DomainClassifierResult:
    """Adversarial validation of ``current`` against ``reference``.

    ``groups[j]`` names the feature column ``j`` encodes (several one-hot columns share one
    name); importance is the mean drop in held-out AUC when a feature's columns are shuffled
    together. The classifier is scikit-learn's histogram gradient boosting (50 shallow trees).
    The default ``auc_threshold`` 0.6 is what a shift of 0.36 standard deviations in one normal
    feature gives (an L-infinity distance of 0.14).
    """
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    x_ref, x_cur = _matrix(reference, "reference"), _matrix(current, "current")
    _same_width(x_ref, x_cur, groups)
    x = np.vstack([x_ref, x_cur])
    y = np.r_[np.zeros(len(x_ref), dtype=np.int8), np.ones(len(x_cur), dtype=np.int8)]
    names = list(dict.fromkeys(groups))
    columns = {name: [j for j, g in enumerate(groups) if g == name] for name in names}
    rng = np.random.default_rng(seed)
    fold_aucs: list[float] = []
    importance = dict.fromkeys(names, 0.0)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # One OpenMP thread: small fits gain little from more, and lose much when cores are shared.
    with threadpool_limits(limits=1, user_api="openmp"):
        for split in splitter.split(x, y):
            auc, drops = _fold(x, y, split, columns, rng, seed)
            fold_aucs.append(auc)
            for name, drop in drops.items():
                importance[name] += drop / folds
    mean_auc = float(np.mean(fold_aucs))
    se = auc_null_se(len(x_ref), len(x_cur))
    threshold = max(auc_threshold, 0.5 + z_for_alpha(alpha) * se)
    ranked = sorted(importance.items(), key=lambda kv: -kv[1])[:top]
    return DomainClassifierResult(
        auc=mean_auc,
        fold_aucs=tuple(fold_aucs),
        pvalue=_normal_sf((mean_auc - 0.5) / se),
        threshold=threshold,
        drift=mean_auc > threshold,
        top_features=tuple((name, float(v)) for name, v in ranked),
        n_reference=len(x_ref),
        n_current=len(x_cur),
    )


def _fold(
    x: FloatArray,
    y: npt.NDArray[np.int8],
    split: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]],
    columns: dict[str, list[int]],
    rng: np.random.Generator,
    seed: int,
) -> tuple[float, dict[str, float]]:
    """Fit on the split's training rows; the held-out AUC and each feature's drop in it when
    the feature's columns are shuffled (all features' shuffled copies scored in one call)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    train, test = split
    model = HistGradientBoostingClassifier(
        max_iter=50, learning_rate=0.2, max_leaf_nodes=15, early_stopping=False, random_state=seed
    )
    model.fit(x[train], y[train])
    held_out, truth = x[test], y[test]
    auc = roc_auc(model.predict_proba(held_out)[:, 1], truth)
    shuffled = np.tile(held_out, (len(columns), 1))
    for i, cols in enumerate(columns.values()):
        block = slice(i * len(test), (i + 1) * len(test))
        shuffled[block, cols] = held_out[rng.permutation(len(test))][:, cols]
    scores = model.predict_proba(shuffled)[:, 1].reshape(len(columns), len(test))
    drops = {name: auc - roc_auc(row, truth) for name, row in zip(columns, scores, strict=True)}
    return auc, drops


@dataclass(frozen=True)
class PcaResult:
    """Mean reconstruction error of held-out baseline rows and of the current rows.

    ``drift`` when the difference is significant (two-sided, ``alpha``) and the relative change
    exceeds the effect floor ``min_change``."""

    reference_error: float
    current_error: float
    relative_change: float
    pvalue: float
    lower: float
    upper: float
    drift: bool
    components: int
    n_reference: int
    n_current: int


def pca_reconstruction_errors(
    fit: npt.ArrayLike, data: npt.ArrayLike, variance: float = 0.65
) -> tuple[FloatArray, int]:
    """Euclidean reconstruction error of each row of ``data`` under a PCA of ``fit``.

    Both are standardised with ``fit``'s mean and standard deviation; the PCA keeps the fewest
    components explaining at least ``variance`` of ``fit``'s variance (as scikit-learn's
    ``PCA(n_components=variance)``). Returns the errors and the number of components.
    """
    f, x = _matrix(fit, "fit"), _matrix(data, "data")
    mean, std = f.mean(axis=0), f.std(axis=0)
    std[std == 0] = 1.0
    fs, xs = (f - mean) / std, (x - mean) / std
    centre = fs.mean(axis=0)
    _, singular, vt = np.linalg.svd(fs - centre, full_matrices=False)
    explained = singular**2 / max((singular**2).sum(), np.finfo(float).tiny)
    k = int(np.searchsorted(np.cumsum(explained), variance, side="left") + 1)
    k = min(k, vt.shape[0])
    basis = vt[:k]
    centred = xs - centre
    reconstructed = (centred @ basis.T) @ basis
    errors = np.sqrt(((centred - reconstructed) ** 2).sum(axis=1))
    return errors, k


def pca_reconstruction(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    *,
    variance: float = 0.65,
    alpha: float = 0.003,
    min_change: float = 0.1,
    seed: int = 0,
) -> PcaResult:
    """NannyML's reconstruction-error drift with an honest null distribution.

    The PCA is fitted on a random half of the reference and the other half gives the errors of
    unchanged data (fitted rows reconstruct too well), so the bounds are the held-out mean error
    plus or minus ``z(alpha/2)`` standard errors of the difference of two means: the analogue of
    NannyML's three standard deviations of reference chunks, at this window's size.
    """
    x_ref, x_cur = _matrix(reference, "reference"), _matrix(current, "current")
    order = np.random.default_rng(seed).permutation(len(x_ref))
    half = len(x_ref) // 2
    fit, held = x_ref[order[:half]], x_ref[order[half:]]
    held_errors, k = pca_reconstruction_errors(fit, held, variance)
    current_errors, _ = pca_reconstruction_errors(fit, x_cur, variance)
    base, now = float(held_errors.mean()), float(current_errors.mean())
    se = math.sqrt(
        held_errors.var(ddof=1) / len(held_errors) + current_errors.var(ddof=1) / len(x_cur)
    )
    z = z_for_alpha(alpha / 2.0)
    change = (now - base) / base if base > 0 else math.inf if now > base else 0.0
    # With no spread at all, equal errors are identical data and unequal ones certainly differ.
    pvalue = 2.0 * _normal_sf(abs(now - base) / se) if se > 0 else float(now == base)
    return PcaResult(
        reference_error=base,
        current_error=now,
        relative_change=change,
        pvalue=min(pvalue, 1.0),
        lower=base - z * se,
        upper=base + z * se,
        drift=bool(abs(now - base) > z * se and abs(change) > min_change),
        components=k,
        n_reference=len(x_ref),
        n_current=len(x_cur),
    )


@dataclass(frozen=True)
class MmdResult:
    """Unbiased squared MMD and its permutation p-value; ``drift`` when ``pvalue < alpha``."""

    mmd2: float
    pvalue: float
    bandwidth: float
    permutations: int
    alpha: float
    drift: bool
    n_reference: int
    n_current: int


def median_bandwidth(x: npt.ArrayLike) -> float:
    """The median heuristic: the median Euclidean distance between distinct rows of ``x``
    (1 if every distance is 0)."""
    a = _matrix(x, "x")
    d2 = _squared_distances(a, a)
    upper = d2[np.triu_indices(len(a), k=1)]
    median = float(np.median(np.sqrt(upper))) if upper.size else 0.0
    return median if median > 0 else 1.0


def rbf_kernel(x: npt.ArrayLike, y: npt.ArrayLike, bandwidth: float) -> FloatArray:
    """``exp(-||x_i - y_j||^2 / (2 bandwidth^2))`` for every pair of rows."""
    d2 = _squared_distances(_matrix(x, "x"), _matrix(y, "y"))
    kernel: FloatArray = np.exp(-d2 / (2.0 * bandwidth * bandwidth))
    return kernel


def mmd2_unbiased(x: npt.ArrayLike, y: npt.ArrayLike, bandwidth: float) -> float:
    """Gretton et al.'s unbiased estimate of the squared MMD between the rows of ``x`` and ``y``."""
    a, b = _matrix(x, "x"), _matrix(y, "y")
    n, m = len(a), len(b)
    kxx, kyy, kxy = (
        rbf_kernel(a, a, bandwidth),
        rbf_kernel(b, b, bandwidth),
        rbf_kernel(a, b, bandwidth),
    )
    return float(
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2.0 * kxy.mean()
    )


def mmd_test(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    *,
    permutations: int = 200,
    alpha: float = 0.01,
    max_rows: int = 1000,
    seed: int = 0,
) -> MmdResult:
    """MMD two-sample test: at most ``max_rows`` rows of each side (drawn without replacement),
    bandwidth by the median heuristic on the pooled sample, p-value
    ``(1 + #{permuted >= observed}) / (1 + permutations)``.

    The bounded sample caps the cost (a kernel matrix of ``(2 max_rows)^2``) and is also the
    effect floor: a change too small to show in ``max_rows`` rows does not alarm.
    """
    rng = np.random.default_rng(seed)
    a = _subsample(_matrix(reference, "reference"), max_rows, rng)
    b = _subsample(_matrix(current, "current"), max_rows, rng)
    n, m = len(a), len(b)
    pooled = np.vstack([a, b])
    bandwidth = median_bandwidth(pooled)
    kernel = rbf_kernel(pooled, pooled, bandwidth)
    np.fill_diagonal(kernel, 0.0)
    # Column 0 is the observed split, the others random relabellings of the pooled rows.
    labels = np.zeros((n + m, permutations + 1))
    labels[:n, 0] = 1.0
    for p in range(1, permutations + 1):
        labels[rng.permutation(n + m)[:n], p] = 1.0
    k_labels = kernel @ labels
    row_sums = kernel.sum(axis=1)
    xx = (labels * k_labels).sum(axis=0)
    xy = (labels * (row_sums[:, None] - k_labels)).sum(axis=0)
    yy = kernel.sum() - 2.0 * xy - xx
    stats = xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2.0 * xy / (n * m)
    observed = float(stats[0])
    pvalue = (1.0 + float((stats[1:] >= observed).sum())) / (1.0 + permutations)
    return MmdResult(observed, pvalue, bandwidth, permutations, alpha, pvalue < alpha, n, m)


def _squared_distances(a: FloatArray, b: FloatArray) -> FloatArray:
    d2 = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    clipped: FloatArray = np.maximum(d2, 0.0)
    return clipped


def _subsample(x: FloatArray, rows: int, rng: np.random.Generator) -> FloatArray:
    if len(x) <= rows:
        return x
    return x[np.sort(rng.choice(len(x), rows, replace=False))]


def _matrix(values: Any, name: str) -> FloatArray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"{name} must be a matrix of at least 2 rows and 1 column, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values; impute them first")
    return x


def _same_width(a: FloatArray, b: FloatArray, groups: Sequence[str]) -> None:
    if a.shape[1] != b.shape[1] or a.shape[1] != len(groups):
        raise ValueError(
            f"reference ({a.shape[1]} columns), current ({b.shape[1]}) and groups "
            f"({len(groups)}) must agree"
        )


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))
