"""Agreement statistics against scipy, and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modelmon.stats.agreement import (
    disagreement_rate,
    label_agreement,
    rank_correlation,
    score_agreement,
    segment_codes,
    wilson_interval,
)

scores = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)), min_size=2, max_size=60
)


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_rank_correlation_is_scipy_spearman(data: st.DataObject) -> None:
    a = data.draw(scores)
    b = data.draw(st.lists(st.sampled_from(a), min_size=len(a), max_size=len(a)))
    rho = rank_correlation(a, b)
    if len(set(a)) == 1 or len(set(b)) == 1:
        assert rho is None
    else:
        assert rho == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-9)


@given(scores, scores)
@settings(max_examples=100, deadline=None)
def test_ks_statistic_is_scipy_ks_2samp(a: list[float], b: list[float]) -> None:
    n = min(len(a), len(b))
    result = score_agreement(a[:n], b[:n])
    expected = stats.ks_2samp(a[:n], b[:n], method="asymp").statistic
    assert result.ks_statistic == pytest.approx(expected, abs=1e-12)
    diff = np.abs(np.array(a[:n]) - np.array(b[:n]))
    assert result.mean_abs_diff == pytest.approx(diff.mean())
    assert result.max_abs_diff == diff.max()


@given(st.integers(1, 5000), st.data())
def test_wilson_interval_is_scipy_wilson(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n)
    expected = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)
    assert low <= k / n <= high


def test_label_disagreement_counts_pairs_that_differ() -> None:
    a = ["yes", "no", "no", "yes", "maybe"]
    b = ["yes", "yes", "no", "no", "maybe"]
    assert disagreement_rate(a, b) == 0.4
    found = label_agreement(a, b)
    assert (found.n, found.disagreements, found.rate) == (5, 2, 0.4)
    assert found.low < 0.4 < found.high


def test_identical_scores_agree_completely() -> None:
    x = np.linspace(0, 1, 101)
    found = score_agreement(x, x.copy())
    assert (found.mean_abs_diff, found.max_abs_diff, found.ks_statistic) == (0.0, 0.0, 0.0)
    assert found.rank_correlation == pytest.approx(1.0)
    assert rank_correlation(x, -x) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("a", "b", "problem"),
    [
        ([], [], "empty"),
        ([1.0, 2.0], [1.0], "same length"),
        ([1.0, float("nan")], [1.0, 2.0], "NaN"),
        ([[1.0]], [[1.0]], "one-dimensional"),
    ],
)
def test_misuse_names_the_problem(a: list[float], b: list[float], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        score_agreement(a, b)


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(3, 2)


def test_segments_are_ordered_largest_first_with_nulls_named() -> None:
    names, codes = segment_codes(["b", "a", None, "b", "a", "b"])
    assert names == ["b", "a", "null"]
    assert codes.tolist() == [0, 1, 2, 0, 1, 0]
    names, codes = segment_codes([])
    assert (names, codes.size) == ([], 0)
