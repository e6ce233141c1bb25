"""Profiles are mergeable: profiling two halves and merging gives the profile of the whole."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmon.stats.profile import ColumnProfile, DatasetProfile, TypeCounts, infer_type

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
cell = st.one_of(st.none(), finite, st.integers(-1000, 1000).map(str), st.sampled_from("abc"))


def _profile(values: list[object]) -> ColumnProfile:
    column = ColumnProfile("x")
    column.update(_array(values))
    return column


def _array(values: list[object]) -> pa.Array:
    if all(v is None or isinstance(v, float) for v in values):
        return pa.array(values, pa.float64())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _assert_same(merged: ColumnProfile, whole: ColumnProfile) -> None:
    assert merged.num_present == whole.num_present
    assert merged.num_missing == whole.num_missing
    assert merged.types == whole.types
    assert merged.numeric_count == whole.numeric_count
    for a, b in [
        (merged.mean, whole.mean),
        (merged.std_dev, whole.std_dev),
        (merged.sum, whole.sum),
    ]:
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-6)
    assert merged.kll.n == whole.kll.n
    assert merged.category_counts() == whole.category_counts()
    assert merged.distinct_count() == pytest.approx(whole.distinct_count())


@settings(max_examples=150, deadline=None)
@given(st.lists(finite | st.none(), max_size=60), st.lists(finite | st.none(), max_size=60))
def test_numeric_merge_equals_whole(a: list[float | None], b: list[float | None]) -> None:
    merged = _profile(list(a))
    merged.merge(_profile(list(b)))
    _assert_same(merged, _profile(list(a) + list(b)))


@settings(max_examples=150, deadline=None)
@given(st.lists(cell, max_size=40), st.lists(cell, max_size=40))
def test_text_merge_equals_whole(a: list[object], b: list[object]) -> None:
    text = [None if v is None else str(v) for v in [*a, *b]]
    left, right = ColumnProfile("x"), ColumnProfile("x")
    left.update(pa.array(text[: len(a)], pa.string()))
    right.update(pa.array(text[len(a) :], pa.string()))
    left.merge(right)
    whole = ColumnProfile("x")
    whole.update(pa.array(text, pa.string()))
    _assert_same(left, whole)


def test_moments_match_numpy_on_large_chunks() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(3, 1, 300_000)
    column = ColumnProfile("x")
    for chunk in np.array_split(values, 7):
        column.update(pa.array(chunk))
    assert column.mean == pytest.approx(values.mean(), rel=1e-12)
    assert column.std_dev == pytest.approx(values.std(), rel=1e-10)
    assert column.min == values.min()
    assert column.max == values.max()
    quantiles = column.kll.quantile(np.array([0.01, 0.5, 0.99]))
    ranks = np.searchsorted(np.sort(values), quantiles) / values.size
    assert np.abs(ranks - [0.01, 0.5, 0.99]).max() < 0.01


def test_string_values_are_classified_like_deequ() -> None:
    column = ColumnProfile("x")
    column.update(pa.array(["1", " 2 ", "-3", "4.5", ".5", "1e3", "abc", "", None, "1.2.3"]))
    # "" is a present empty string here; CSV readers turn empty fields into nulls before this.
    assert column.types == TypeCounts(integral=3, fractional=3, string=3)
    assert column.num_missing == 1
    assert column.numeric_count == 6
    assert column.inferred_type == "String"
    assert column.min == -3.0
    assert column.max == 1000.0


def test_infer_type_rules() -> None:
    assert infer_type(TypeCounts()) == "Unknown"
    assert infer_type(TypeCounts(integral=5)) == "Integral"
    assert infer_type(TypeCounts(integral=5, fractional=1)) == "Fractional"
    assert infer_type(TypeCounts(integral=5, string=1)) == "String"


def test_dataset_profile_round_trips_and_pads_new_columns() -> None:
    first = DatasetProfile()
    first.update(pa.table({"a": [1, 2], "b": ["x", "y"]}))
    second = DatasetProfile()
    second.update(pa.table({"a": [3], "c": [1.5]}))
    first.merge(second)
    assert first.row_count == 3
    assert (first.columns["b"].num_present, first.columns["b"].num_missing) == (2, 1)
    assert (first.columns["c"].num_present, first.columns["c"].num_missing) == (1, 2)
    copy = DatasetProfile.from_dict(first.to_dict())
    assert copy.row_count == 3
    for name in first.names:
        _assert_same(copy.columns[name], first.columns[name])
    with pytest.raises(ValueError, match="unsupported profile format"):
        DatasetProfile.from_dict({"format": 99})


def test_booleans_and_dates_are_categories() -> None:
    column = ColumnProfile("flag")
    column.update(pa.array([True, False, True, None]))
    assert column.inferred_type == "String"
    assert column.category_counts() == {"true": 2, "false": 1}
