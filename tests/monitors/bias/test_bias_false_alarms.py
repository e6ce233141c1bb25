"""The default drift rule is honest: same-population windows rarely alarm at any size, a real
change in a facet's outcome rate is caught, and the rank test behind it keeps its level."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from modelmon.monitors.bias import BiasBaseline, BiasMonitor, FacetSpec
from modelmon.monitors.bias.predictive import samples_from_config
from modelmon.stats import bias

Scored = Callable[..., pa.Table]
FACETS = [FacetSpec("gender", ("female",)), FacetSpec("age", threshold=50.0)]


def _approvals(table: pa.Table, seed: int, drop: float = 0.0) -> pa.Table:
    """``table`` with ``approved`` (1 = predicted no default, the favourable outcome); ``drop``
    lowers women's approval rate by that many percentage points / 100."""
    approved = 1 - np.asarray(table["prediction"], dtype=np.int64)
    if drop:
        female = np.asarray(table["gender"].to_pylist()) == "female"
        chosen = np.flatnonzero(female & (approved == 1))
        count = min(len(chosen), round(drop * int(female.sum())))
        approved[np.random.default_rng(seed).choice(chosen, count, replace=False)] = 0
    return table.append_column("approved", pa.array(approved))


def _monitor(**options: object) -> BiasMonitor:
    return BiasMonitor(
        label="default",
        label_values=[0],
        facets=FACETS,
        predicted_label="approved",
        group_variable="region",
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def approvals_baseline(scored: Scored) -> BiasBaseline:
    return _monitor().baseline(_approvals(scored(20_000, seed=1), seed=1))


@pytest.mark.parametrize("rows", [80, 2_000])
def test_same_population_false_alarm_rate(
    rows: int, credit_baseline: BiasBaseline, scored: Scored
) -> None:
    """The check's 95% holds for the whole check: at most ~5% of 40 same-population windows
    alarm (10% allowed for the Monte Carlo noise of 40 checks)."""
    checks = 40
    alarms = sum(
        BiasMonitor(resamples=100, seed=s)
        .check(scored(rows, seed=300 + s), credit_baseline)
        .has_violations
        for s in range(checks)
    )
    assert alarms <= 0.10 * checks


def test_twenty_point_drop_in_womens_approvals_is_detected(
    approvals_baseline: BiasBaseline, scored: Scored
) -> None:
    detected = 0
    for s in range(10):
        window = _approvals(scored(1_000, seed=600 + s), seed=s, drop=0.2)
        result = _monitor(resamples=100, seed=s).check(window, approvals_baseline)
        violated = {(d.facet, d.metric) for d in result.drift if d.violated}
        detected += ("gender", "DPPL") in violated or ("gender", "DI") in violated
    assert detected >= 9


def test_baseline_keeps_its_counts(credit_baseline: BiasBaseline) -> None:
    samples = samples_from_config(credit_baseline.config)
    assert {name for name, _ in samples} == {"gender", "age"}
    gender = samples[("gender", ("female",))]
    assert gender.counts.sum() == 20_000
    assert gender.flips is not None
    assert sum(gender.flips) == gender.counts[:, 1].sum()


def test_clarify_baseline_without_counts_uses_clarifys_rule(
    credit_baseline: BiasBaseline, scored: Scored
) -> None:
    bare = BiasBaseline(credit_baseline.analysis, {**credit_baseline.config, "modelmon": {}})
    result = BiasMonitor(resamples=200).check(scored(500, seed=4), bare)
    for d in result.drift:
        assert d.allowed == bias.allowed_range(d.metric, d.baseline)


def test_explicit_allowed_range_keeps_the_interval_rule(
    credit_baseline: BiasBaseline, scored: Scored
) -> None:
    window = scored(3_000, seed=7)
    result = BiasMonitor(resamples=200, allowed_ranges={"CI": (0.5, 0.6)}).check(
        window, credit_baseline
    )
    ci = [d for d in result.drift if d.metric == "CI"]
    assert all(d.allowed == (0.5, 0.6) for d in ci)
    gender = next(d for d in ci if d.facet == "gender")
    assert gender.interval is not None
    assert gender.violated == (gender.interval[1] < 0.5 or gender.interval[0] > 0.6)
    assert gender.violated  # about 0.04 women more than men, far from (0.5, 0.6)


def test_predicted_range_is_never_narrower_than_clarifys() -> None:
    for metric, base in (("DPPL", 0.01), ("DI", 0.95)):
        clarify_range = bias.allowed_range(metric, base)
        draws = np.array([base, 1.1 * base, 0.9 * base])
        widened = bias.predictive_range(metric, base, draws, 0.5)
        assert widened[0] <= clarify_range[0]
        assert widened[1] >= clarify_range[1]


def test_rank_test_keeps_its_level() -> None:
    """Windows exchangeable with the draws exceed the k-th largest draw with probability at
    most k / (R + 1)."""
    rng = np.random.default_rng(0)
    trials, resamples, confidence = 4_000, 99, 0.95
    draws = rng.normal(0.1, 0.05, size=(trials, resamples))
    window = rng.normal(0.1, 0.05, size=trials)
    beyond = 0
    for row, value in zip(draws, window, strict=True):
        low, high = bias.predictive_range("DPPL", 0.1, row, confidence)
        beyond += not low <= value <= high
    assert beyond / trials <= 5 / 100 + 0.01


def test_predictive_counts_keep_the_window_size_and_the_proportions() -> None:
    rng = np.random.default_rng(1)
    baseline = np.array([[[[400, 100], [50, 450]], [[300, 200], [100, 400]]]], dtype=np.int64)
    drawn = bias.predictive_counts(baseline, 250, 2_000, rng)
    assert drawn.shape == (2_000, 1, 2, 2, 2)
    assert (drawn.sum(axis=(1, 2, 3, 4)) == 250).all()
    expected = baseline / baseline.sum() * 250
    np.testing.assert_allclose(drawn.mean(axis=0), expected, rtol=0.05)


def test_sufficient_agrees_with_insufficient() -> None:
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 15, size=(50, 2, 2, 2, 2)).astype(np.int64)
    for metric in ("DPPL", "DCAcc", "DCR", "RD", "SD"):
        ok = bias.sufficient(metric, counts, 10)
        assert list(ok) == [bias.insufficient(metric, c, 10) is None for c in counts]
