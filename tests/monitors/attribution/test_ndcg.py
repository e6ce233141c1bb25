"""NDCG of attribution rankings: Clarify's worked example and scikit-learn's ndcg_score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from modelmon.stats.ndcg import ndcg


def test_clarify_worked_example() -> None:
    training = {"SAT": 0.70, "GPA": 0.50, "rank": 0.05}
    live = {"SAT": 0.10, "GPA": 0.20, "rank": 0.70}
    assert round(ndcg(training, live), 2) == 0.69
    assert ndcg(training, live) == pytest.approx(0.7155 / 1.0405, abs=1e-4)


def test_same_ranking_is_one() -> None:
    assert ndcg({"a": 3.0, "b": 1.0}, {"a": 30.0, "b": 0.1}) == 1.0


@settings(max_examples=100, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.floats(0, 10, allow_nan=False),
            st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]),  # few values: ties happen
        ),
        min_size=2,
        max_size=12,
    ),
    k=st.one_of(st.none(), st.integers(1, 12)),
)
def test_agrees_with_sklearn(pairs: list[tuple[float, float]], k: int | None) -> None:
    gains = np.array([g for g, _ in pairs])
    scores = np.array([s for _, s in pairs])
    if gains.sum() == 0:
        return
    names = [f"f{i}" for i in range(len(pairs))]
    ours = ndcg(
        dict(zip(names, gains, strict=True)), dict(zip(names, scores, strict=True)), top_k=k
    )
    assert ours == pytest.approx(ndcg_score([gains], [scores], k=k), abs=1e-9)


def test_missing_live_feature_ranks_last() -> None:
    assert ndcg({"a": 1.0, "b": 2.0}, {"a": 5.0}) == ndcg({"a": 1.0, "b": 2.0}, {"a": 5.0, "b": 0})


@pytest.mark.parametrize(
    ("baseline", "top_k", "message"),
    [({}, None, "no features"), ({"a": -1.0}, None, "non-negative"), ({"a": 1.0}, 0, "top_k")],
)
def test_bad_arguments(baseline: dict[str, float], top_k: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ndcg(baseline, {"a": 1.0}, top_k=top_k)
