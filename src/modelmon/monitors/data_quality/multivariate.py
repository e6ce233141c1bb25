"""Multivariate drift for the data-quality monitor: row samples, encoding, the three methods.

Per-feature drift runs on mergeable sketches; multivariate drift needs rows. So a baseline made
with ``multivariate=...`` keeps a bounded, seeded random sample of its rows
(``multivariate_reference.parquet`` next to ``statistics.json``), a check draws a sample of the same
size from its window, and both are encoded alike: numeric columns standardised by the baseline
sample (missing values imputed with its mean, plus a missing-indicator column when any is missing),
text columns one-hot over the baseline's most common values plus "other". A column that cannot be
used gets a reason instead (all missing, constant, thousands of levels, an unsupported type), and a
method without enough rows is "not evaluated" with how many it needs, never a meaningless number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.errors import ConfigError
from modelmon.formats import sagemaker as sm
from modelmon.formats.datasets import Dataset
from modelmon.stats import multivariate as mv
from modelmon.stats.honest import minimum_rows_reason

__all__ = [
    "METHODS",
    "MIN_ROWS",
    "REFERENCE_FILE",
    "Encoded",
    "MultivariateDrift",
    "check_methods",
    "encode",
    "multivariate_drift",
    "multivariate_metrics",
    "multivariate_violations",
    "sample_rows",
]

METHODS = ("domain_classifier", "pca", "mmd")
REFERENCE_FILE = "multivariate_reference.parquet"
# Rows each side needs before a method means anything: five folds of a classifier need a few
# dozen rows of each class per fold; PCA and MMD need enough for a mean and a kernel's median.
MIN_ROWS = {"domain_classifier": 100, "pca": 50, "mmd": 30}
# A text column with more distinct values than this is an identifier, not a category.
MAX_LEVELS = 1000
# One-hot columns per text feature: its most common values; the rest share "other".
ONE_HOT_LEVELS = 20


@dataclass(frozen=True)
class MultivariateDrift:
    """One method's verdict; ``drift`` is None when it was not evaluated (``reason`` says why)."""

    method: str
    statistic: float = math.nan
    threshold: float = math.nan
    drift: bool | None = None
    rule: str = "not evaluated"
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "statistic": _finite(self.statistic),
            "threshold": _finite(self.threshold),
            "drift": self.drift,
            "rule": self.rule,
            "reason": self.reason,
            "details": self.details,
        }


def check_methods(owner: str, methods: object) -> tuple[str, ...]:
    """The validated, de-duplicated method names (the monitor's config boundary)."""
    if isinstance(methods, str):
        methods = (methods,)
    if not isinstance(methods, Iterable) or any(m not in METHODS for m in methods):
        options = ", ".join(repr(m) for m in METHODS)
        raise ConfigError(
            f"The 'multivariate' parameter of {owner} must be a sequence of {options}. "
            f"Got {methods!r} instead."
        )
    return tuple(dict.fromkeys(methods))


def sample_rows(dataset: Dataset, rows: int, seed: int) -> pa.Table:
    """A uniform random sample of at most ``rows`` rows of ``dataset``, in file order.

    One streaming pass: the row numbers are drawn up front from the known row count, so memory is
    the sample plus one record batch.
    """
    total = dataset.num_rows
    wanted = (
        np.arange(total)
        if total <= rows
        else np.sort(np.random.default_rng(seed).choice(total, rows, replace=False))
    )
    pieces: list[pa.RecordBatch] = []
    offset = 0
    for batch in dataset.batches():
        lo, hi = np.searchsorted(wanted, [offset, offset + batch.num_rows])
        if hi > lo:
            pieces.append(batch.take(pa.array(wanted[lo:hi] - offset)))
        offset += batch.num_rows
    return pa.Table.from_batches(pieces, schema=dataset.schema)


@dataclass(frozen=True)
class Encoded:
    """Both samples as numeric matrices; ``groups[j]`` is the feature column ``j`` came from."""

    reference: np.ndarray
    current: np.ndarray
    groups: tuple[str, ...]
    skipped: dict[str, str]


def encode(reference: pa.Table, current: pa.Table) -> Encoded:
    """Encode the columns both samples share; see the module docstring for the rules."""
    ref_cols: list[np.ndarray] = []
    cur_cols: list[np.ndarray] = []
    groups: list[str] = []
    skipped: dict[str, str] = {}
    for name in reference.column_names:
        if name not in current.column_names:
            skipped[name] = "missing from the current data"
            continue
        encoded = _encode_column(reference[name], current[name])
        if isinstance(encoded, str):
            skipped[name] = encoded
            continue
        for r, c in encoded:
            ref_cols.append(r)
            cur_cols.append(c)
            groups.append(name)
    width = len(groups)
    ref = np.column_stack(ref_cols) if width else np.empty((reference.num_rows, 0))
    cur = np.column_stack(cur_cols) if width else np.empty((current.num_rows, 0))
    return Encoded(ref, cur, tuple(groups), skipped)


def _encode_column(
    ref: pa.ChunkedArray, cur: pa.ChunkedArray
) -> list[tuple[np.ndarray, np.ndarray]] | str:
    kind = ref.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return _numeric(ref, cur)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return _categorical(ref, cur)
    return f"type {kind} is not supported by multivariate drift"


def _numeric(
    ref: pa.ChunkedArray, cur: pa.ChunkedArray
) -> list[tuple[np.ndarray, np.ndarray]] | str:
    r, c = _floats(ref), _floats(cur)
    if r is None or c is None:
        return "the current data has a non-numeric type where the baseline is numeric"
    r_ok, c_ok = np.isfinite(r), np.isfinite(c)
    if not r_ok.any():
        return "every value is missing in the baseline sample"
    if not c_ok.any():
        return "every value is missing in the current sample"
    mean, std = float(r[r_ok].mean()), float(r[r_ok].std())
    if std == 0.0:
        return (
            "constant in the baseline sample, so there is no spread to scale by; the per-feature "
            "drift check still compares it"
        )
    columns = [(np.where(r_ok, (r - mean) / std, 0.0), np.where(c_ok, (c - mean) / std, 0.0))]
    if not r_ok.all() or not c_ok.all():
        columns.append(((~r_ok).astype(np.float64), (~c_ok).astype(np.float64)))
    return columns


def _floats(column: pa.ChunkedArray) -> np.ndarray | None:
    if pa.types.is_null(column.type):  # a column with no value at all has no type either
        return np.full(len(column), np.nan)
    if not (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_boolean(column.type)
    ):
        return None
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _categorical(
    ref: pa.ChunkedArray, cur: pa.ChunkedArray
) -> list[tuple[np.ndarray, np.ndarray]] | str:
    r = np.asarray(pc.cast(ref, pa.string()).to_pylist(), dtype=object)
    c = np.asarray(pc.cast(cur, pa.string()).to_pylist(), dtype=object)
    present = r[r != None]  # noqa: E711 - elementwise comparison with None
    if present.size == 0:
        return "every value is missing in the baseline sample"
    if (c != None).sum() == 0:  # noqa: E711
        return "every value is missing in the current sample"
    values, counts = np.unique(present.astype(str), return_counts=True)
    if values.size > MAX_LEVELS:
        return (
            f"{values.size} distinct values in the baseline sample (more than {MAX_LEVELS}): "
            "an identifier, not a category"
        )
    missing_r, missing_c = (r == None).astype(np.float64), (c == None).astype(np.float64)  # noqa: E711
    constant = values.size == 1 and not missing_r.any() and not missing_c.any()
    if constant and set(c.astype(str)) == set(values):
        return "constant: a single value in both samples"
    top = values[np.argsort(-counts, kind="stable")[:ONE_HOT_LEVELS]]
    columns = [((r == v).astype(np.float64), (c == v).astype(np.float64)) for v in top.tolist()]
    known = set(top.tolist()) | {None}
    other_r = np.array([v not in known for v in r], dtype=np.float64)
    other_c = np.array([v not in known for v in c], dtype=np.float64)
    if other_r.any() or other_c.any():
        columns.append((other_r, other_c))
    if missing_r.any() or missing_c.any():
        columns.append((missing_r, missing_c))
    return columns


def multivariate_drift(
    methods: Sequence[str],
    reference: pa.Table | None,
    current: pa.Table,
    *,
    seed: int = 0,
) -> tuple[MultivariateDrift, ...]:
    """Run each method on the two samples; a method that cannot run says why."""
    if not methods:
        return ()
    if reference is None:
        missing = (
            "the baseline has no row sample; create the baseline with the multivariate option "
            f"so it stores {REFERENCE_FILE}"
        )
        return tuple(MultivariateDrift(m, reason=missing) for m in methods)
    encoded = encode(reference, current)
    details: dict[str, Any] = {"skipped_columns": encoded.skipped}
    results = []
    for method in methods:
        reason = _cannot_run(method, encoded)
        if reason is not None:
            results.append(MultivariateDrift(method, reason=reason, details=details))
        else:
            results.append(_RUN[method](encoded, seed, details))
    return tuple(results)


def _cannot_run(method: str, encoded: Encoded) -> str | None:
    if not encoded.groups:
        return "no column can be used: " + (
            "; ".join(f"{k}: {v}" for k, v in encoded.skipped.items()) or "the data has none"
        )
    return minimum_rows_reason(
        _LABELS[method],
        MIN_ROWS[method],
        baseline=len(encoded.reference),
        current=len(encoded.current),
    )


_LABELS = {"domain_classifier": "the domain classifier", "pca": "PCA reconstruction", "mmd": "MMD"}


def _domain_classifier(encoded: Encoded, seed: int, common: dict[str, Any]) -> MultivariateDrift:
    r = mv.domain_classifier(encoded.reference, encoded.current, encoded.groups, seed=seed)
    top = ", ".join(f"{name} ({value:.3f})" for name, value in r.top_features)
    rule = (
        f"domain classifier cross-validated AUC {r.auc:.4f} "
        f"{'>' if r.drift else '<='} threshold {r.threshold:.4f}"
    )
    details = {
        **common,
        "fold_aucs": list(r.fold_aucs),
        "pvalue": r.pvalue,
        "top_features": [{"feature": n, "importance": v} for n, v in r.top_features],
        "top_features_text": top,
        "baseline_rows": r.n_reference,
        "current_rows": r.n_current,
    }
    return MultivariateDrift("domain_classifier", r.auc, r.threshold, r.drift, rule, None, details)


def _pca(encoded: Encoded, seed: int, common: dict[str, Any]) -> MultivariateDrift:
    r = mv.pca_reconstruction(encoded.reference, encoded.current, seed=seed)
    rule = (
        f"PCA reconstruction error {r.current_error:.4f} vs baseline {r.reference_error:.4f} "
        f"(bounds {r.lower:.4f}..{r.upper:.4f}, change {100 * r.relative_change:+.1f}%): "
        + ("drift" if r.drift else "no drift")
    )
    details = {
        **common,
        "reference_error": r.reference_error,
        "relative_change": r.relative_change,
        "lower": r.lower,
        "upper": r.upper,
        "pvalue": r.pvalue,
        "components": r.components,
        "baseline_rows": r.n_reference,
        "current_rows": r.n_current,
    }
    return MultivariateDrift("pca", r.current_error, r.upper, r.drift, rule, None, details)


def _mmd(encoded: Encoded, seed: int, common: dict[str, Any]) -> MultivariateDrift:
    r = mv.mmd_test(encoded.reference, encoded.current, seed=seed)
    rule = (
        f"MMD permutation p-value {r.pvalue:.4g} {'<' if r.drift else '>='} alpha {r.alpha:g} "
        f"(MMD^2 {r.mmd2:.4g}, {r.permutations} permutations)"
    )
    details = {
        **common,
        "mmd2": r.mmd2,
        "bandwidth": r.bandwidth,
        "permutations": r.permutations,
        "baseline_rows": r.n_reference,
        "current_rows": r.n_current,
    }
    return MultivariateDrift("mmd", r.pvalue, r.alpha, r.drift, rule, None, details)


_RUN = {"domain_classifier": _domain_classifier, "pca": _pca, "mmd": _mmd}


def multivariate_violations(results: Iterable[MultivariateDrift]) -> list[sm.Violation]:
    """One ``baseline_drift_check`` violation per drifted method, on a feature named
    ``multivariate.<method>``: SageMaker's readers know no other check type."""
    return [
        sm.Violation(
            f"multivariate.{r.method}",
            "baseline_drift_check",
            f"Multivariate drift ({r.method}): {r.rule}"
            + (
                f"; features separating most: {r.details['top_features_text']}"
                if r.details.get("top_features_text")
                else ""
            ),
        )
        for r in results
        if r.drift
    ]


def multivariate_metrics(results: Iterable[MultivariateDrift]) -> dict[str, float]:
    """The numbers worth a time series, by metric name (evaluated methods only)."""
    out: dict[str, float] = {}
    for r in results:
        if r.drift is None:
            continue
        if r.method == "domain_classifier":
            out["multivariate_domain_classifier_auc"] = r.statistic
        elif r.method == "pca":
            out["multivariate_pca_reconstruction_error"] = r.statistic
            out["multivariate_pca_relative_change"] = float(r.details["relative_change"])
        else:
            out["multivariate_mmd2"] = float(r.details["mmd2"])
            out["multivariate_mmd_pvalue"] = r.statistic
    return out


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
