"""KllSketch: exactness, rank error, merging, Deequ/SageMaker layout, serialisation, speed."""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from datasketches import kll_doubles_sketch
from hypothesis import given
from hypothesis import strategies as st

from modelmon.errors import ConfigError, InputError
from modelmon.stats.kll import KllSketch

FloatArray = npt.NDArray[np.float64]

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
# Few distinct values, so ties are common.
tied = st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 3.0, 1e9])
values_lists = st.lists(st.one_of(finite, tied), max_size=300)


def exact_cdf(data: FloatArray, x: FloatArray) -> FloatArray:
    """Share of ``data`` at or below each ``x``."""
    ranks: FloatArray = np.searchsorted(np.sort(data), x, side="right") / data.size
    return ranks


def max_rank_error(sketch: KllSketch, data: FloatArray) -> float:
    """Largest |estimated - exact| CDF over data quantiles and a sample of the data."""
    ordered = np.sort(data)
    probes = np.unique(
        np.concatenate(
            [np.quantile(ordered, np.linspace(0, 1, 1001)), ordered[:: max(1, data.size // 4000)]]
        )
    )
    return float(np.abs(sketch.cdf(probes) - exact_cdf(data, probes)).max())


def sketch_of(data: FloatArray, chunk: int = 100_000, k: int = 2048) -> KllSketch:
    sketch = KllSketch(k)
    for start in range(0, data.size, chunk):
        sketch.update(data[start : start + chunk])
    return sketch


def deequ_levels(values: list[float], k: int, c: float) -> list[list[float]]:
    """Deequ's QuantileNonSample, transcribed: what SageMaker writes as ``sketch.data``.

    Level capacity 2 * (ceil(k * c**h / 2) + 1), largest at the bottom; the lowest full level
    is compacted when the sketch is over capacity; offsets alternate 0, 1, 1, 0, 0, 1, ...
    """

    def capacity(h: int) -> int:
        return 2 * (math.ceil(k * c**h / 2) + 1)

    levels: list[list[float]] = [[]]
    compactions = [0]
    offsets = [0]
    size = 0
    for value in values:
        levels[0].append(value)
        size += 1
        if size <= sum(capacity(h) for h in range(len(levels))):
            continue
        h = next(h for h, level in enumerate(levels) if len(level) >= capacity(h))
        if h + 1 == len(levels):
            levels.append([])
            compactions.append(0)
            offsets.append(0)
        buffer = levels[h]
        even = len(buffer) - len(buffer) % 2
        if compactions[h] % 2 == 1:
            offsets[h] = 1 - offsets[h]
        levels[h + 1].extend(sorted(buffer[:even])[offsets[h] : even : 2])
        levels[h] = buffer[even:]
        compactions[h] += 1
        size = sum(len(level) for level in levels)
    return levels


# -- exactness while small ------------------------------------------------------------------


@given(values_lists, st.lists(st.floats(0.0, 1.0), max_size=20))
def test_small_sketch_is_exact(values: list[float], qs: list[float]) -> None:
    data = np.array(values, dtype=np.float64)
    sketch = KllSketch()
    sketch.update(data)
    assert sketch.n == data.size
    if data.size == 0:
        return
    probes = np.concatenate([data, data + 0.5, [-np.inf, np.inf]])
    np.testing.assert_array_equal(sketch.cdf(probes), exact_cdf(data, probes))
    q = np.concatenate([np.linspace(0, 1, 41), qs])
    np.testing.assert_array_equal(sketch.quantile(q), np.quantile(data, q, method="inverted_cdf"))
    assert sketch.min_value == data.min()
    assert sketch.max_value == data.max()
    assert sketch.normalized_rank_error() == 0.0


def test_exact_up_to_k_then_compacts() -> None:
    data = np.random.default_rng(1).normal(size=2049)
    sketch = KllSketch()
    sketch.update(data[:2048])
    assert sketch.num_retained == 2048
    assert len(sketch.levels) == 1
    sketch.update(data[2048:])
    assert sketch.n == 2049
    assert sketch.num_retained < 2049
    assert sketch.normalized_rank_error() > 0.0


def test_many_small_updates_equal_one_update_while_exact() -> None:
    data = np.random.default_rng(2).normal(size=1500)
    one = KllSketch()
    one.update(data)
    many = KllSketch()
    for value in data:
        many.update(np.array([value]))
    assert one.to_bytes() == many.to_bytes()


# -- rank error -----------------------------------------------------------------------------


def _distributions() -> dict[str, FloatArray]:
    rng = np.random.default_rng(7)
    return {
        "normal_2e6": rng.normal(size=2_000_000),
        "lognormal_1e6": rng.lognormal(sigma=2.0, size=1_000_000),
        "integers_with_ties_1e6": rng.integers(0, 40, size=1_000_000).astype(np.float64),
        "constant_1e5": np.full(100_000, 7.25),
        "sorted_1e6": np.arange(1_000_000, dtype=np.float64),
    }


@pytest.mark.parametrize("name", list(_distributions()))
def test_rank_error_within_bound(name: str) -> None:
    data = _distributions()[name]
    sketch = sketch_of(data)
    assert sketch.n == data.size
    assert sketch.min_value == data.min()
    assert sketch.max_value == data.max()
    error = max_rank_error(sketch, data)
    bound = sketch.normalized_rank_error()
    assert bound < 0.005
    assert error <= bound
    # Quantiles: the exact rank of each answer brackets q within the bound.
    q = np.linspace(0.0, 1.0, 201)
    answers = sketch.quantile(q)
    ordered = np.sort(data)
    below = np.searchsorted(ordered, answers, side="left") / data.size
    at_or_below = np.searchsorted(ordered, answers, side="right") / data.size
    assert np.all(below <= q + bound)
    assert np.all(at_or_below >= q - bound)
    assert answers[0] == data.min()
    assert answers[-1] == data.max()


def test_error_of_the_same_order_as_datasketches() -> None:
    data = np.random.default_rng(11).standard_t(df=3, size=1_000_000)
    ours = sketch_of(data, chunk=65_536)
    reference = kll_doubles_sketch(2048)
    reference.update(data)
    assert reference.n == ours.n
    ours_error = max_rank_error(ours, data)
    probes = np.quantile(data, np.linspace(0.001, 0.999, 999))
    reference_error = float(
        np.max(
            np.abs(
                np.array([reference.get_rank(float(p), True) for p in probes])
                - exact_cdf(data, probes)
            )
        )
    )
    reference_bound = reference.normalized_rank_error(False)
    assert ours_error <= 2 * reference_bound
    assert reference_error <= 2 * reference_bound
    # Memory of the same order too.
    assert ours.num_retained <= 1.5 * reference.num_retained


def test_memory_is_bounded() -> None:
    rng = np.random.default_rng(3)
    sketch = KllSketch()
    for _ in range(400):
        sketch.update(rng.normal(size=5000))
    assert sketch.n == 2_000_000
    assert sketch.num_retained <= sketch.k / (1 - sketch.c) + 2 * len(sketch.levels)
    for h, level in enumerate(sketch.levels):
        assert np.all(np.diff(level) >= 0), f"level {h} is not sorted"


def test_cdf_and_quantile_are_inverse() -> None:
    sketch = sketch_of(np.random.default_rng(4).exponential(size=300_000))
    q = np.sort(np.random.default_rng(5).uniform(size=500))
    answers = sketch.quantile(q)
    assert np.all(np.diff(answers) >= 0)
    assert np.all(sketch.cdf(answers) >= q)
    # Just below each answer, the CDF has not reached q yet.
    assert np.all(sketch.cdf(np.nextafter(answers, -np.inf)) < q)


# -- merging --------------------------------------------------------------------------------


@given(values_lists, values_lists)
def test_merge_of_small_halves_is_exact(left: list[float], right: list[float]) -> None:
    a, b, whole = KllSketch(), KllSketch(), KllSketch()
    a.update(np.array(left, dtype=np.float64))
    b.update(np.array(right, dtype=np.float64))
    whole.update(np.array(left + right, dtype=np.float64))
    before = b.to_bytes()
    a.merge(b)
    assert b.to_bytes() == before
    assert a.n == whole.n
    np.testing.assert_array_equal(a.sorted_view()[0], whole.sorted_view()[0])
    np.testing.assert_array_equal(a.quantile([0, 0.3, 0.5, 1]), whole.quantile([0, 0.3, 0.5, 1]))
    if a.n:
        assert (a.min_value, a.max_value) == (whole.min_value, whole.max_value)


def test_merge_of_large_parts_is_within_error() -> None:
    data = np.random.default_rng(6).gamma(2.0, size=1_600_000)
    parts = [sketch_of(part) for part in np.array_split(data, 8)]
    forward = parts[0].copy()
    for part in parts[1:]:
        forward.merge(part)
    backward = parts[-1].copy()
    for part in reversed(parts[:-1]):
        backward.merge(part)
    for merged in (forward, backward):
        assert merged.n == data.size
        assert (merged.min_value, merged.max_value) == (data.min(), data.max())
        assert max_rank_error(merged, data) <= merged.normalized_rank_error()
        assert merged.num_retained <= merged.k / (1 - merged.c) + 2 * len(merged.levels)


def test_merge_with_itself_and_with_empty() -> None:
    sketch = sketch_of(np.random.default_rng(8).normal(size=10_000))
    alone = sketch.to_bytes()
    sketch.merge(KllSketch())
    assert sketch.to_bytes() == alone
    empty = KllSketch()
    empty.merge(sketch)
    assert empty.n == sketch.n
    assert (empty.min_value, empty.max_value) == (sketch.min_value, sketch.max_value)
    sketch.merge(sketch)
    assert sketch.n == 20_000


def test_merge_rejects_other_parameters() -> None:
    with pytest.raises(ConfigError, match=r"'other' parameter of KllSketch\.merge"):
        KllSketch(2048).merge(KllSketch(200))
    with pytest.raises(InputError, match="needs a KllSketch"):
        KllSketch().merge("sketch")  # type: ignore[arg-type]


# -- SageMaker / Deequ layout ---------------------------------------------------------------


def test_from_levels_weights_levels_by_powers_of_two() -> None:
    # SageMaker writes level 0 raw and unsorted.
    sketch = KllSketch.from_levels([[119.0, 100.0, 111.0, 181.0], [7.0, 5.0]], k=2048, c=0.64)
    assert sketch.n == 4 + 2 * 2
    np.testing.assert_array_equal(sketch.levels[0], [100.0, 111.0, 119.0, 181.0])
    assert sketch.cdf(7.0) == 0.5
    assert sketch.quantile(0.5) == 7.0
    assert (sketch.min_value, sketch.max_value) == (5.0, 181.0)
    items, weights = sketch.sorted_view()
    np.testing.assert_array_equal(items, [5.0, 7.0, 100.0, 111.0, 119.0, 181.0])
    np.testing.assert_array_equal(weights, [2.0, 2.0, 1.0, 1.0, 1.0, 1.0])


def test_from_levels_keeps_exact_extremes() -> None:
    sketch = KllSketch.from_levels([[], [2.0, 3.0]], min_value=1.0, max_value=4.0)
    assert (sketch.min_value, sketch.max_value) == (1.0, 4.0)
    assert sketch.quantile(0.0) == 1.0
    assert sketch.quantile(1.0) == 4.0
    # A rounded min or max from a file is widened to cover the items.
    widened = KllSketch.from_levels([[2.5, 3.5]], min_value=2.6, max_value=3.4)
    assert (widened.min_value, widened.max_value) == (2.5, 3.5)
    unknown = KllSketch.from_levels([[2.5, 3.5]], min_value=math.nan, max_value=None)
    assert (unknown.min_value, unknown.max_value) == (2.5, 3.5)


def test_levels_round_trip() -> None:
    data = np.random.default_rng(9).lognormal(size=500_000)
    sketch = sketch_of(data)
    as_json = [level.tolist() for level in sketch.levels]
    again = KllSketch.from_levels(
        as_json, sketch.k, sketch.c, min_value=sketch.min_value, max_value=sketch.max_value
    )
    assert again.n == sketch.n
    assert [a.size for a in again.levels] == [a.size for a in sketch.levels]
    probes = np.quantile(data, np.linspace(0, 1, 101))
    np.testing.assert_array_equal(again.cdf(probes), sketch.cdf(probes))
    np.testing.assert_array_equal(
        again.quantile(np.linspace(0, 1, 101)), sketch.quantile(np.linspace(0, 1, 101))
    )


def test_reads_a_deequ_sketch() -> None:
    data = np.random.default_rng(10).normal(size=60_000)
    levels = deequ_levels(data.tolist(), k=2048, c=0.64)
    assert len(levels) > 2
    sketch = KllSketch.from_levels(levels, 2048, 0.64, min_value=data.min(), max_value=data.max())
    assert sketch.n == data.size
    assert max_rank_error(sketch, data) < 0.005
    # And keeps working as a sketch of ours.
    sketch.update(data)
    assert sketch.n == 2 * data.size
    assert max_rank_error(sketch, np.concatenate([data, data])) < 0.005


def test_empty_levels() -> None:
    empties: list[list[list[float]]] = [[], [[]], [[], []]]
    for levels in empties:
        sketch = KllSketch.from_levels(levels)
        assert sketch.n == 0
        assert math.isnan(sketch.min_value)


@pytest.mark.parametrize(
    ("levels", "match"),
    [
        ([[1.0, float("nan")]], "contains NaN"),
        ([["a", "b"]], "not a list of numbers"),
        ([[[1.0], [2.0]]], "not a flat list"),
        ([1.0], "not a flat list"),
        ([[1.0]] * 65, "too many levels"),
    ],
)
def test_from_levels_rejects_bad_data(levels: list[object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        KllSketch.from_levels(levels)  # type: ignore[arg-type]


# -- input handling -------------------------------------------------------------------------


def test_read_only_and_arrow_input() -> None:
    data = np.random.default_rng(12).normal(size=10_000)
    data.flags.writeable = False
    sketch = KllSketch()
    sketch.update(data)
    arrow = pa.array(np.random.default_rng(12).normal(size=10_000)).to_numpy(zero_copy_only=True)
    assert not arrow.flags.writeable
    sketch.update(arrow)
    assert sketch.n == 20_000
    sketch.update(data[::3])  # strided views too
    assert sketch.n == 20_000 + data[::3].size


def test_input_is_not_modified() -> None:
    data = np.random.default_rng(13).normal(size=100_000)
    before = data.copy()
    sketch_of(data, chunk=30_000)
    np.testing.assert_array_equal(data, before)


def test_nan_is_ignored() -> None:
    sketch = KllSketch()
    sketch.update(np.array([1.0, np.nan, 2.0, 3.0]))
    assert sketch.n == 3
    assert sketch.quantile(1.0) == 3.0
    sketch.update(np.array([np.nan, np.nan]))
    assert sketch.n == 3
    data = np.random.default_rng(14).normal(size=200_000)
    data[::7] = np.nan
    big = sketch_of(data)
    clean = data[~np.isnan(data)]
    assert big.n == clean.size
    assert big.max_value == clean.max()
    assert max_rank_error(big, clean) <= big.normalized_rank_error()


def test_integers_and_other_dtypes() -> None:
    sketch = KllSketch()
    sketch.update(np.array([3, 1, 2], dtype=np.int64))
    sketch.update(np.array([4.5], dtype=np.float32))
    sketch.update(np.array([True]))
    sketch.update([7, 8])
    assert sketch.n == 7
    np.testing.assert_array_equal(sketch.sorted_view()[0], [1.0, 1.0, 2.0, 3.0, 4.5, 7.0, 8.0])


def test_infinities_are_values() -> None:
    sketch = KllSketch()
    sketch.update(np.array([-np.inf, 0.0, np.inf]))
    assert (sketch.min_value, sketch.max_value) == (-np.inf, np.inf)
    assert sketch.cdf(0.0) == pytest.approx(2 / 3)


def test_empty_sketch() -> None:
    sketch = KllSketch()
    assert sketch.n == 0
    assert math.isnan(sketch.min_value)
    assert math.isnan(sketch.max_value)
    assert np.isnan(sketch.cdf([0.0, 1.0])).all()
    assert np.isnan(sketch.quantile(0.5))
    assert sketch.cdf([0.0, 1.0]).shape == (2,)
    assert sketch.normalized_rank_error() == 0.0
    items, weights = sketch.sorted_view()
    assert items.size == weights.size == 0
    sketch.update(np.array([], dtype=np.float64))
    assert sketch.n == 0
    assert [a.size for a in sketch.levels] == [0]


def test_query_shapes_and_nan_queries() -> None:
    sketch = KllSketch()
    sketch.update(np.arange(10.0))
    assert sketch.cdf(4.0).shape == ()
    assert sketch.quantile([[0.1, 0.2], [0.3, 1.0]]).shape == (2, 2)
    assert np.isnan(sketch.cdf([np.nan, 1.0])[0])


def test_sorted_view_is_read_only_and_sums_to_n() -> None:
    sketch = sketch_of(np.random.default_rng(15).normal(size=50_000))
    items, weights = sketch.sorted_view()
    assert np.all(np.diff(items) >= 0)
    assert weights.dtype == np.float64
    assert weights.sum() == sketch.n
    with pytest.raises(ValueError, match="read-only"):
        items[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        sketch.levels[-1][0] = 1.0


def test_copy_is_independent() -> None:
    sketch = sketch_of(np.random.default_rng(16).normal(size=20_000))
    before = sketch.to_bytes()
    twin = sketch.copy()
    twin.update(np.arange(5000.0))
    assert sketch.to_bytes() == before
    assert twin.n == sketch.n + 5000


def test_same_input_same_sketch() -> None:
    data = np.random.default_rng(17).normal(size=300_000)
    assert sketch_of(data, chunk=7_000).to_bytes() == sketch_of(data, chunk=7_000).to_bytes()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 3}, r"The 'k' parameter of KllSketch must be an int in \[8, 65536\]. Got 3 instead"),
        ({"k": 2048.0}, "'k' parameter"),
        ({"k": True}, "'k' parameter"),
        ({"c": 0.5}, r"The 'c' parameter of KllSketch must be a float in \(0.5, 1\)"),
        ({"c": 1.0}, "'c' parameter"),
        ({"c": "0.64"}, "'c' parameter"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        KllSketch(**kwargs)  # type: ignore[arg-type]


def test_bad_input() -> None:
    sketch = KllSketch()
    with pytest.raises(InputError, match="1-D array"):
        sketch.update(np.zeros((2, 2)))
    with pytest.raises(InputError, match="needs numbers"):
        sketch.update(np.array(["a", "b"]))
    sketch.update(np.arange(3.0))
    with pytest.raises(ConfigError, match=r"'q' parameter of KllSketch\.quantile"):
        sketch.quantile(1.5)
    with pytest.raises(ConfigError, match="'q' parameter"):
        sketch.quantile([0.5, np.nan])


# -- serialisation --------------------------------------------------------------------------


def test_bytes_round_trip() -> None:
    data = np.random.default_rng(18).normal(size=400_000)
    sketch = sketch_of(data)
    blob = sketch.to_bytes()
    assert len(blob) < 64 * 1024
    again = KllSketch.from_bytes(blob)
    assert again.to_bytes() == blob
    assert (again.n, again.min_value, again.max_value) == (
        sketch.n,
        sketch.min_value,
        sketch.max_value,
    )
    # The compaction counter travels along: continuing either gives the same sketch.
    more = np.random.default_rng(19).normal(size=100_000)
    sketch.update(more)
    again.update(more)
    assert again.to_bytes() == sketch.to_bytes()
    empty = KllSketch.from_bytes(KllSketch(200).to_bytes())
    assert (empty.n, empty.k) == (0, 200)


def test_from_bytes_rejects_garbage() -> None:
    blob = sketch_of(np.random.default_rng(20).normal(size=5_000)).to_bytes()
    bad = [
        b"",
        b"MMKL",
        b"not a sketch at all, sorry",
        blob[:-8],
        blob + b"\x00",
        b"XXKL" + blob[4:],
        blob[:4] + b"\x02" + blob[5:],
        # n that does not match the levels
        blob[:17] + (12345).to_bytes(8, "little") + blob[25:],
        # an item that breaks a level's order
        blob[:-16] + np.array([1e300, -1e300]).tobytes(),
    ]
    for data in bad:
        with pytest.raises(InputError, match="KllSketch"):
            KllSketch.from_bytes(data)
    with pytest.raises(InputError, match="must be bytes"):
        KllSketch.from_bytes("MMKL")  # type: ignore[arg-type]


# -- speed ----------------------------------------------------------------------------------


def best_of(repeats: int, func: object) -> float:
    assert callable(func)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def test_update_costs_about_one_sort() -> None:
    data = np.random.default_rng(21).normal(size=1_000_000)
    sort_time = best_of(5, lambda: np.sort(data))
    update_time = best_of(5, lambda: KllSketch().update(data))
    print(f"\nKLL update of 1M: {update_time * 1e3:.1f} ms; np.sort: {sort_time * 1e3:.1f} ms")
    # The target is 1.3x; the margin absorbs a noisy machine.
    assert update_time <= 2.0 * sort_time
