"""Clarify's bias metrics: a hand-computed table, fairlearn, a per-row reference, the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmon.stats import bias

# A 12-row table, facet d first. d: labels 1 1 0 0 0, predictions 1 1 1 0 0;
# a: labels 1 1 1 0 0 0 0, predictions 1 1 0 1 0 0 0. Groups: d 0 0 1 1 1, a 0 0 0 1 1 1 1.
FACET = np.array([1] * 5 + [0] * 7, dtype=bool)
LABEL = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
PRED = np.array([1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
GROUP = np.array([0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1])


def _value(metric: str) -> float:
    return float(bias.metric_values(metric, bias.cell_counts(FACET, LABEL, PRED, GROUP)))


def _benefit_entropy() -> float:
    benefit = PRED.astype(float) - LABEL.astype(float) + 1.0
    mu = benefit.mean()
    return float(((benefit / mu) ** 2 - 1).sum() / (len(benefit) * 2))


# Worked out by hand from the table above (n_a = 7, n_d = 5).
HAND = {
    "CI": (7 - 5) / 12,
    "DPL": 3 / 7 - 2 / 5,
    "KL": 4 / 7 * math.log((4 / 7) / (3 / 5)) + 3 / 7 * math.log((3 / 7) / (2 / 5)),
    "LP": math.sqrt(2) / 35,
    "TVD": 1 / 35,
    "KS": 1 / 35,
    "CDDL": 1 / 12,
    "DPPL": 3 / 7 - 3 / 5,
    "DI": (3 / 5) / (3 / 7),
    "DCAcc": 3 / 3 - 2 / 3,
    "DCR": 3 / 2 - 4 / 4,
    "RD": 2 / 3 - 2 / 2,
    "SD": 2 / 3 - 3 / 4,
    "DAR": 2 / 3 - 2 / 3,
    "DRR": 2 / 2 - 3 / 4,
    "AD": 5 / 7 - 4 / 5,
    "TE": 0 / 1 - 1 / 1,
    "CDDPL": -4 / 15,
}


@pytest.mark.parametrize("metric", sorted(HAND))
def test_hand_computed_table(metric: str) -> None:
    assert _value(metric) == pytest.approx(HAND[metric], abs=1e-12)


def test_js_and_ge_by_their_formulas() -> None:
    pa, pd = np.array([4 / 7, 3 / 7]), np.array([3 / 5, 2 / 5])
    mean = (pa + pd) / 2
    js = 0.5 * ((pa * np.log(pa / mean)).sum() + (pd * np.log(pd / mean)).sum())
    assert _value("JS") == pytest.approx(js, abs=1e-12)
    assert _value("GE") == pytest.approx(_benefit_entropy(), abs=1e-12)


def test_clarify_division_conventions() -> None:
    # Facet a never predicted positive: DI divides by zero and is +inf (Clarify's divide).
    facet = np.array([1, 1, 0, 0], dtype=bool)
    counts = bias.cell_counts(facet, [1, 0, 1, 0], [1, 0, 0, 0])
    assert bias.metric_values("DI", counts) == math.inf
    # No false positives in either group: both FN/FP are +inf, and TE is 0, not NaN.
    counts = bias.cell_counts(facet, [1, 1, 1, 0], [0, 0, 0, 0])
    assert bias.metric_values("TE", counts) == 0.0
    # Only positives in d and only negatives in a: no common label value, KL is undefined.
    counts = bias.cell_counts(facet, [1, 1, 0, 0])
    assert math.isnan(float(bias.metric_values("KL", counts)))


def test_fairlearn_demographic_parity_and_rates() -> None:
    fairlearn = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(3)
    facet = rng.random(3000) < 0.3
    label = rng.random(3000) < np.where(facet, 0.3, 0.45)
    pred = rng.random(3000) < np.where(label, 0.8, 0.15)
    counts = bias.cell_counts(facet, label, pred)
    sensitive = np.where(facet, "d", "a")
    dppl = float(bias.metric_values("DPPL", counts))
    assert abs(dppl) == pytest.approx(
        fairlearn.demographic_parity_difference(label, pred, sensitive_features=sensitive)
    )
    di = float(bias.metric_values("DI", counts))
    assert min(di, 1 / di) == pytest.approx(
        fairlearn.demographic_parity_ratio(label, pred, sensitive_features=sensitive)
    )
    frame = fairlearn.MetricFrame(
        metrics={
            "tpr": fairlearn.true_positive_rate,
            "tnr": fairlearn.true_negative_rate,
            "count": fairlearn.count,
        },
        y_true=label,
        y_pred=pred,
        sensitive_features=sensitive,
    ).by_group
    assert float(bias.metric_values("RD", counts)) == pytest.approx(
        frame.loc["a", "tpr"] - frame.loc["d", "tpr"]
    )
    assert float(bias.metric_values("SD", counts)) == pytest.approx(
        frame.loc["d", "tnr"] - frame.loc["a", "tnr"]
    )
    n_a, n_d = frame.loc["a", "count"], frame.loc["d", "count"]
    assert float(bias.metric_values("CI", counts)) == pytest.approx((n_a - n_d) / (n_a + n_d))


def _reference(metric: str, f: np.ndarray, y: np.ndarray, p: np.ndarray) -> float:
    """Clarify's row-wise definitions, written directly on boolean rows."""

    def divide(a: float, b: float) -> float:
        return 0.0 if a == 0 and b == 0 else (math.inf if b == 0 else a / b)

    def both(x: float, z: float) -> float:
        return 0.0 if x == z == math.inf else x - z

    a, d = ~f, f
    tp = {g: float((y & p & m).sum()) for g, m in (("a", a), ("d", d))}
    fp = {g: float((~y & p & m).sum()) for g, m in (("a", a), ("d", d))}
    fn = {g: float((y & ~p & m).sum()) for g, m in (("a", a), ("d", d))}
    tn = {g: float((~y & ~p & m).sum()) for g, m in (("a", a), ("d", d))}
    n = {"a": float(a.sum()), "d": float(d.sum())}
    if metric == "DCAcc":
        return both(
            divide(tp["a"] + fn["a"], tp["a"] + fp["a"]),
            divide(tp["d"] + fn["d"], tp["d"] + fp["d"]),
        )
    if metric == "DCR":
        return both(
            divide(tn["d"] + fp["d"], tn["d"] + fn["d"]),
            divide(tn["a"] + fp["a"], tn["a"] + fn["a"]),
        )
    if metric == "DAR":
        return both(divide(tp["a"], tp["a"] + fp["a"]), divide(tp["d"], tp["d"] + fp["d"]))
    if metric == "DRR":
        return both(divide(tn["d"], tn["d"] + fn["d"]), divide(tn["a"], tn["a"] + fn["a"]))
    if metric == "TE":
        return both(divide(fn["d"], fp["d"]), divide(fn["a"], fp["a"]))
    if metric == "AD":
        return divide(tp["a"] + tn["a"], n["a"]) - divide(tp["d"] + tn["d"], n["d"])
    # DPPL
    return divide(tp["a"] + fp["a"], n["a"]) - divide(tp["d"] + fp["d"], n["d"])


rows = st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=2, max_size=40)


@settings(max_examples=60, deadline=None)
@given(rows=rows, metric=st.sampled_from(["DCAcc", "DCR", "DAR", "DRR", "TE", "AD", "DPPL"]))
def test_counts_agree_with_row_definitions(
    rows: list[tuple[bool, bool, bool]], metric: str
) -> None:
    f, y, p = (np.array(column, dtype=bool) for column in zip(*rows, strict=True))
    if f.all() or not f.any():
        return
    expected = _reference(metric, f, y, p)
    got = float(bias.metric_values(metric, bias.cell_counts(f, y, p)))
    assert got == pytest.approx(expected) or (math.isinf(expected) and got == expected)


def test_metrics_are_vectorised_over_resamples() -> None:
    counts = bias.cell_counts(FACET, LABEL, PRED, GROUP)
    boot = bias.bootstrap_counts(counts, 50, np.random.default_rng(0))
    assert boot.shape == (50, *counts.shape)
    assert (boot.sum(axis=(1, 2, 3, 4)) == 12).all()
    values = bias.metric_values("CDDPL", boot)
    one = [float(bias.metric_values("CDDPL", b)) for b in boot]
    np.testing.assert_allclose(values, one)


def test_bootstrap_interval_matches_the_standard_error() -> None:
    rng = np.random.default_rng(1)
    facet = rng.random(4000) < 0.4
    label = rng.random(4000) < 0.3
    counts = bias.cell_counts(facet, label)
    point = float(bias.metric_values("DPL", counts))
    reps = bias.metric_values("DPL", bias.bootstrap_counts(counts, 2000, rng))
    low, high = bias.normal_interval(point, reps, 0.95)
    n_a, n_d = (~facet).sum(), facet.sum()
    se = math.sqrt(0.3 * 0.7 / n_a + 0.3 * 0.7 / n_d)
    assert (high - low) / 2 == pytest.approx(1.96 * se, rel=0.1)
    assert low < point < high


def test_interval_with_infinite_replicates_uses_percentiles() -> None:
    low, high = bias.normal_interval(1.0, [0.5, 1.0, 1.5, math.inf, math.nan], 0.9)
    assert low == 0.5
    assert high == math.inf


def test_insufficient_names_the_short_count() -> None:
    counts = bias.cell_counts(FACET, LABEL, PRED)
    assert bias.insufficient("DPPL", counts, 5) is None
    reason = bias.insufficient("DPPL", counts, 6)
    assert reason == "insufficient data: 5 rows in facet d, at least 6 needed"
    assert "observed positives in facet d" in str(bias.insufficient("RD", counts, 3))


def test_allowed_range_is_symmetric_about_fair() -> None:
    assert bias.allowed_range("DPPL", 0.2) == (-0.2, 0.2)
    assert bias.allowed_range("DPPL", -0.3) == (-0.3, 0.3)
    assert bias.allowed_range("DI", 0.8) == (0.8, 1.25)
    assert bias.allowed_range("DI", 1.25) == (0.8, 1.25)


def test_flip_test_counts_flips_of_facet_d() -> None:
    # Facet a: the model accepts x > 0. Facet d: accepted at x > 1, so d rows in (0, 1] flip.
    x = np.concatenate([np.linspace(-2, 2, 40), np.linspace(-2, 2, 20)])[:, None]
    facet = np.array([False] * 40 + [True] * 20)
    pred = np.where(facet, x[:, 0] > 1, x[:, 0] > 0)
    flips = bias.flip_test(x, facet, pred)
    in_gap = ((x[facet, 0] > 0) & (x[facet, 0] <= 1)).sum()
    assert flips.sum() == -in_gap  # the k-NN of a accepts them, the model rejects: -1 each
    assert set(np.unique(flips)) <= {-1, 0}
