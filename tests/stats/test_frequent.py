"""FrequentItems: exact counts while small, Misra–Gries guarantees beyond, merging, JSON form."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.errors import ConfigError, InputError
from modelmon.stats.frequent import FrequentItems

# Skewed draws from a small alphabet: a few heavy hitters and a long tail.
alphabet = [f"v{i}" for i in range(40)]
weights = np.array([1.0 / (i + 1) for i in range(40)])
streams = st.lists(
    st.integers(0, 39).map(lambda i: alphabet[i]) | st.sampled_from(alphabet[:3]),
    max_size=400,
)


def summarise(stream: Sequence[str], max_items: int, batches: int = 1) -> FrequentItems:
    """Feed ``stream`` in ``batches`` pre-aggregated chunks, as the column profile does."""
    summary = FrequentItems(max_items)
    for part in np.array_split(np.array(stream, dtype=object), batches):
        counts = Counter(part.tolist())
        summary.update(list(counts), np.array(list(counts.values()), dtype=np.int64))
    return summary


def check_guarantees(summary: FrequentItems, truth: Counter[str]) -> None:
    n = sum(truth.values())
    assert summary.n == n
    assert len(summary.items()) <= summary.max_items
    assert summary.error_bound <= n / (summary.max_items + 1)
    for value, count in truth.items():
        estimate = summary.estimate(value)
        assert count - summary.error_bound <= estimate <= count
        if count > n / (summary.max_items + 1):
            assert estimate > 0, f"{value} ({count} of {n}) is missing"


def sorted_counts(truth: Counter[str]) -> list[tuple[str, int]]:
    return sorted(truth.items(), key=lambda item: (-item[1], item[0]))


@given(streams, st.integers(1, 4))
def test_exact_while_few_distinct(stream: list[str], batches: int) -> None:
    summary = summarise(stream, max_items=40, batches=batches)
    truth = Counter(stream)
    assert summary.is_exact
    assert summary.error_bound == 0
    assert summary.items() == sorted_counts(truth)
    assert all(summary.estimate(value) == count for value, count in truth.items())
    assert summary.estimate("never seen") == 0


@given(streams, st.integers(1, 5), st.integers(1, 8))
def test_misra_gries_guarantees(stream: list[str], max_items: int, batches: int) -> None:
    summary = summarise(stream, max_items=max_items, batches=batches)
    truth = Counter(stream)
    check_guarantees(summary, truth)
    assert summary.is_exact == (summary.error_bound == 0)
    if len(truth) <= max_items:
        assert summary.items() == sorted_counts(truth)


@given(st.lists(streams, min_size=1, max_size=5), st.integers(1, 6), st.randoms())
def test_merge_in_any_order(parts: list[list[str]], max_items: int, rnd: random.Random) -> None:
    truth = Counter(value for part in parts for value in part)
    summaries = [summarise(part, max_items) for part in parts]
    order = list(range(len(parts)))
    rnd.shuffle(order)
    forward = FrequentItems(max_items)
    for i in range(len(parts)):
        forward.merge(summaries[i])
    shuffled = FrequentItems(max_items)
    for i in order:
        shuffled.merge(summaries[i])
    for merged in (forward, shuffled):
        check_guarantees(merged, truth)
    if len(truth) <= max_items:
        assert forward.is_exact
        assert shuffled.is_exact
        assert forward.items() == shuffled.items() == sorted_counts(truth)


def test_heavy_hitters_survive_a_long_tail() -> None:
    rng = np.random.default_rng(1)
    stream = rng.choice(np.array(alphabet, dtype=object), p=weights / weights.sum(), size=20_000)
    tail = [f"rare-{i}" for i in range(5_000)]
    everything = [*stream.tolist(), *tail]
    summary = summarise(everything, max_items=16, batches=10)
    truth = Counter(everything)
    check_guarantees(summary, truth)
    assert not summary.is_exact
    top = [value for value, _ in summary.items()[:3]]
    assert top == ["v0", "v1", "v2"]


def test_merge_leaves_other_unchanged_and_accepts_itself() -> None:
    a = summarise(["x", "y", "y"], 4)
    b = summarise(["y", "z"], 4)
    before = b.to_dict()
    a.merge(b)
    assert b.to_dict() == before
    assert a.items() == [("y", 3), ("x", 1), ("z", 1)]
    a.merge(a)
    assert a.items() == [("y", 6), ("x", 2), ("z", 2)]
    assert a.n == 10


def test_items_order_is_deterministic() -> None:
    summary = FrequentItems()
    summary.update(["b", "a", "c", "d"], np.array([2, 2, 5, 0]))
    assert summary.items() == [("c", 5), ("a", 2), ("b", 2)]
    assert summary.n == 9
    assert len(summary) == 3


def test_repeated_values_in_one_update_add_up() -> None:
    summary = FrequentItems()
    summary.update(["a", "a"], np.array([1, 2], dtype=np.uint32))
    assert summary.estimate("a") == 3


def test_copy_is_independent() -> None:
    summary = summarise(["a", "b", "b"], 8)
    twin = summary.copy()
    twin.update(["a"], np.array([10]))
    assert summary.estimate("a") == 1
    assert twin.estimate("a") == 11


def test_dict_round_trip_is_json() -> None:
    summary = summarise([f"v{i % 30}" for i in range(1000)] + ["é", "日本"], max_items=8)
    data = json.loads(json.dumps(summary.to_dict()))
    again = FrequentItems.from_dict(data)
    assert again.to_dict() == summary.to_dict()
    assert (again.n, again.error_bound, again.max_items) == (1002, summary.error_bound, 8)
    assert again.items() == summary.items()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"version": 2}, "format version"),
        ({"max_items": 0}, "'max_items' parameter"),
        ({"n": -1}, "not valid"),
        ({"n": 1.5}, "not valid"),
        ({"error_bound": None}, "not valid"),
        ({"items": "a"}, "not valid"),
        ({"items": [["a", 0]]}, "bad item"),
        ({"items": [["a", 1], ["a", 1]]}, "bad item"),
        ({"items": [[1, 1]]}, "bad item"),
        ({"items": [["a", True]]}, "bad item"),
        ({"items": [["a", 1, 2]]}, "bad item"),
        ({"items": [["a", 100]]}, "add up to <= n"),
        ({"max_items": 1, "items": [["a", 1], ["b", 1]]}, "at most 1 items"),
    ],
)
def test_from_dict_rejects_bad_data(change: dict[str, object], match: str) -> None:
    data = {"version": 1, "max_items": 4, "n": 10, "error_bound": 0, "items": [["a", 3]]}
    data.update(change)
    with pytest.raises(InputError, match=match):
        FrequentItems.from_dict(data)


def test_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(InputError, match="must be a mapping"):
        FrequentItems.from_dict([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("max_items", [0, -3, True, 2.0, "8"])
def test_bad_max_items(max_items: object) -> None:
    with pytest.raises(ConfigError, match=r"The 'max_items' parameter of FrequentItems"):
        FrequentItems(max_items)  # type: ignore[arg-type]


def test_bad_updates() -> None:
    summary = FrequentItems()
    with pytest.raises(InputError, match="one integer count per value"):
        summary.update(["a", "b"], np.array([1]))
    with pytest.raises(InputError, match="one integer count per value"):
        summary.update(["a"], np.array([1.0]))
    with pytest.raises(InputError, match="counts >= 0"):
        summary.update(["a"], np.array([-1]))
    with pytest.raises(InputError, match="needs strings"):
        summary.update(["a", None], np.array([1, 1]))  # type: ignore[list-item]
    assert summary.n == 0
    assert summary.items() == []
    with pytest.raises(ConfigError, match=r"'other' parameter of FrequentItems\.merge"):
        summary.merge(FrequentItems(3))
    with pytest.raises(InputError, match="needs a FrequentItems"):
        summary.merge({})  # type: ignore[arg-type]
