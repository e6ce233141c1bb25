"""Mergeable column and dataset profiles: the unit of computation of every engine.

A profile holds sufficient statistics (counts, moments, sketches) of the values seen so far.
Profiling two halves of a dataset and merging gives the profile of the whole, so engines (the local
one, Spark partitions, hourly windows in the server) only ever produce and merge profiles; the
statistics and drift verdicts are derived from profiles by pure functions elsewhere.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.stats.frequent import FrequentItems
from modelmon.stats.hll import HllSketch
from modelmon.stats.kll import KllSketch

__all__ = [
    "ColumnProfile",
    "DatasetProfile",
    "InferredType",
    "TypeCounts",
    "ValueExample",
    "infer_type",
]

InferredType = Literal["Integral", "Fractional", "String", "Unknown"]

# Deequ classifies string values with regular expressions; these accept what a CSV writer emits
# for numbers ("42", "-3", "+1.5", ".5", "1e-3") and nothing else.
_INTEGRAL_RE = r"^\s*[+-]?\d+\s*$"
_FRACTIONAL_RE = r"^\s*[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?\s*$"

_PROFILE_FORMAT = 1


@dataclass
class TypeCounts:
    """How many present values of a column look like each SageMaker data type."""

    integral: int = 0
    fractional: int = 0
    string: int = 0

    @property
    def total(self) -> int:
        return self.integral + self.fractional + self.string

    def merge(self, other: TypeCounts) -> None:
        self.integral += other.integral
        self.fractional += other.fractional
        self.string += other.string


def infer_type(counts: TypeCounts) -> InferredType:
    """Deequ's rule: any string makes a String column; else any fraction makes it Fractional."""
    if counts.total == 0:
        return "Unknown"
    if counts.string > 0:
        return "String"
    if counts.fractional > 0:
        return "Fractional"
    return "Integral"


@dataclass(frozen=True)
class ValueExample:
    """A value seen in a column and its 0-based row, kept to point a user at their data."""

    value: str
    row: int


@dataclass
class _Moments:
    """Count, mean, sum of squared deviations, sum, min and max, merged with Chan's formula."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def update(self, values: np.ndarray) -> None:
        n = int(values.size)
        if n == 0:
            return
        # An infinite value makes the mean infinite and the spread undefined (NaN), quietly.
        with np.errstate(invalid="ignore", over="ignore"):
            total = float(values.sum())
            mean = total / n
            centred = values - mean
            # Not np.dot: a BLAS call costs far more than this on these vectors here.
            m2 = float((centred * centred).sum())
        self.merge(_Moments(n, mean, m2, total, float(values.min()), float(values.max())))

    def merge(self, other: _Moments) -> None:
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = other.count, other.mean, other.m2
            self.total, self.minimum, self.maximum = other.total, other.minimum, other.maximum
            return
        n = self.count + other.count
        delta = other.mean - self.mean
        self.m2 += other.m2 + delta * delta * self.count * other.count / n
        self.mean += delta * other.count / n
        self.count = n
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    @property
    def population_std(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count else math.nan


@dataclass
class ColumnProfile:
    """Sufficient statistics of one column.

    Numeric values (from numeric columns, or numeric-looking strings) feed the moments and the KLL
    sketch; string values feed the category frequencies. Every present value feeds the distinct
    count. NaN counts as missing, like null.
    """

    name: str
    num_present: int = 0
    num_missing: int = 0
    types: TypeCounts = field(default_factory=TypeCounts)
    moments: _Moments = field(default_factory=_Moments)
    kll: KllSketch = field(default_factory=KllSketch)
    distinct: HllSketch = field(default_factory=HllSketch)
    categories: FrequentItems = field(default_factory=FrequentItems)
    first_string: ValueExample | None = None

    # -- updating -------------------------------------------------------------------------------

    def update(self, array: pa.Array | pa.ChunkedArray, row_offset: int = 0) -> None:
        """Add the values of ``array``; ``row_offset`` is the row number of its first value."""
        if isinstance(array, pa.ChunkedArray):
            for chunk in array.chunks:
                self.update(chunk, row_offset)
                row_offset += len(chunk)
            return
        kind = array.type
        if pa.types.is_dictionary(kind):
            array = array.cast(kind.value_type)
            kind = array.type
        if pa.types.is_null(kind):
            self.num_missing += len(array)
        elif pa.types.is_integer(kind):
            self._update_numbers(array, row_offset, fractional=False)
        elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            self._update_numbers(array, row_offset, fractional=True)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            self._update_strings(array, row_offset)
        else:
            # Booleans, dates, timestamps and nested values are categories to SageMaker (it reads
            # them as text); their text form keeps them comparable between files.
            self._update_strings(_as_text(array), row_offset)

    def _update_numbers(self, array: pa.Array, row_offset: int, *, fractional: bool) -> None:
        values = _to_float64(array)
        present = ~np.isnan(values)
        count = int(present.sum())
        self.num_missing += len(array) - count
        if count == 0:
            return
        if count < values.size:
            values = values[present]
        self.num_present += count
        # A float holding a whole number is Integral, as "42" is in a CSV: pandas turns integer
        # columns with a missing value into floats, which must not read as a change of type.
        whole = count if not fractional else int(np.count_nonzero(np.floor(values) == values))
        self.types.integral += whole
        self.types.fractional += count - whole
        self._add_numeric(values)

    def _add_numeric(self, values: np.ndarray, *, update_distinct: bool = True) -> None:
        self.moments.update(values)
        self.kll.update(values)
        if update_distinct:
            self.distinct.update_floats(values)

    def _update_strings(self, array: pa.Array, row_offset: int) -> None:
        count = len(array) - array.null_count
        self.num_missing += array.null_count
        if count == 0:
            return
        self.num_present += count
        # Classify and convert each distinct value once, then weigh it by its count: columns
        # of text repeat their values, so this is far cheaper than a regex over every row.
        distinct = pc.value_counts(array.drop_null())
        values, counts = distinct.field("values"), distinct.field("counts")
        integral = pc.match_substring_regex(values, _INTEGRAL_RE)
        fractional = pc.and_(pc.match_substring_regex(values, _FRACTIONAL_RE), pc.invert(integral))
        numeric = pc.or_(integral, fractional)
        n_integral = int(pc.sum(pc.filter(counts, integral)).as_py() or 0)
        n_fractional = int(pc.sum(pc.filter(counts, fractional)).as_py() or 0)
        self.types.integral += n_integral
        self.types.fractional += n_fractional
        self.types.string += count - n_integral - n_fractional
        if n_integral + n_fractional:
            numbers = _to_float64(
                pc.cast(pc.utf8_trim_whitespace(pc.filter(values, numeric)), pa.float64())
            )
            repeats = pc.filter(counts, numeric).to_numpy()
            self._add_numeric(np.repeat(numbers, repeats), update_distinct=False)
        if self.first_string is None and count > n_integral + n_fractional:
            text = pc.filter(values, pc.invert(numeric))
            row = int(pc.index(pc.is_in(array, value_set=text), True).as_py())
            self.first_string = ValueExample(str(array[row].as_py()), row_offset + row)
        distinct_values = values.to_pylist()
        self.categories.update(distinct_values, counts.to_numpy())
        self.distinct.update_strings(distinct_values)

    def merge(self, other: ColumnProfile) -> None:
        """Fold ``other`` (a profile of more rows of the same column) into this one."""
        self.num_present += other.num_present
        self.num_missing += other.num_missing
        self.types.merge(other.types)
        self.moments.merge(other.moments)
        self.kll.merge(other.kll)
        self.distinct.merge(other.distinct)
        self.categories.merge(other.categories)
        self.first_string = _earliest(self.first_string, other.first_string)

    # -- reading --------------------------------------------------------------------------------

    @property
    def inferred_type(self) -> InferredType:
        return infer_type(self.types)

    @property
    def count(self) -> int:
        return self.num_present + self.num_missing

    @property
    def completeness(self) -> float:
        return self.num_present / self.count if self.count else math.nan

    @property
    def numeric_count(self) -> int:
        return self.moments.count

    @property
    def mean(self) -> float:
        return self.moments.mean if self.moments.count else math.nan

    @property
    def sum(self) -> float:
        return self.moments.total

    @property
    def std_dev(self) -> float:
        """Population standard deviation (ddof=0), as SageMaker reports it."""
        return self.moments.population_std

    @property
    def min(self) -> float:
        return self.moments.minimum if self.moments.count else math.nan

    @property
    def max(self) -> float:
        return self.moments.maximum if self.moments.count else math.nan

    def distinct_count(self) -> float:
        """Distinct values: exact while every category is tracked, else the HLL estimate."""
        if self.types.total == self.categories.n and self.categories.is_exact:
            return float(len(self.categories))
        return self.distinct.estimate()

    def category_counts(self) -> dict[str, int]:
        return dict(self.categories.items())

    def equal_width_buckets(self, n_buckets: int = 10) -> list[tuple[float, float, float]]:
        """SageMaker's KLL buckets: ``n_buckets`` equal-width bins over [min, max] with counts.

        Counts come from the sketch (exact while it has not compacted, within its rank error
        after). Like Deequ (and numpy's histogram), bins are [b_i, b_i+1), the last one closed.
        """
        if self.moments.count == 0:
            return []
        values, weights = self.kll.sorted_view()
        lo, hi = self.min, self.max
        if not (math.isfinite(lo) and math.isfinite(hi)):
            # Infinite values fall into the outer buckets, which span the finite range.
            finite = values[np.isfinite(values)]
            lo, hi = (float(finite[0]), float(finite[-1])) if finite.size else (0.0, 0.0)
        edges = lo + (hi - lo) * np.arange(n_buckets + 1) / n_buckets
        edges[-1] = hi
        # Weight strictly below each edge: whole numbers, exact until the sketch compacts.
        cumulative = np.concatenate([[0.0], np.cumsum(weights)])
        at_edges = cumulative[np.searchsorted(values, edges, side="left")]
        at_edges[-1] = cumulative[-1]
        counts = np.diff(at_edges)
        return [(float(edges[i]), float(edges[i + 1]), float(counts[i])) for i in range(n_buckets)]

    # -- serialisation (for storing hourly profiles and shipping Spark partials) ----------------

    def to_dict(self) -> dict[str, Any]:
        m = self.moments
        return {
            "name": self.name,
            "num_present": self.num_present,
            "num_missing": self.num_missing,
            "types": [self.types.integral, self.types.fractional, self.types.string],
            "moments": [m.count, m.mean, m.m2, m.total, m.minimum, m.maximum],
            "kll": base64.b64encode(self.kll.to_bytes()).decode("ascii"),
            "distinct": base64.b64encode(self.distinct.to_bytes()).decode("ascii"),
            "categories": self.categories.to_dict(),
            "first_string": _example_to_list(self.first_string),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        count, mean, m2, total, minimum, maximum = data["moments"]
        return cls(
            name=str(data["name"]),
            num_present=int(data["num_present"]),
            num_missing=int(data["num_missing"]),
            types=TypeCounts(*(int(v) for v in data["types"])),
            moments=_Moments(int(count), mean, m2, total, minimum, maximum),
            kll=KllSketch.from_bytes(base64.b64decode(data["kll"])),
            distinct=HllSketch.from_bytes(base64.b64decode(data["distinct"])),
            categories=FrequentItems.from_dict(data["categories"]),
            first_string=_example_from_list(data.get("first_string")),
        )


@dataclass
class DatasetProfile:
    """Profiles of every column of a dataset, in column order, plus the row count."""

    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    row_count: int = 0

    @classmethod
    def empty(cls, names: Iterable[str]) -> DatasetProfile:
        return cls({name: ColumnProfile(name) for name in names})

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def update(
        self, batch: pa.RecordBatch | pa.Table, mapper: Callable[..., Iterable[None]] = map
    ) -> None:
        """Add one batch of rows (columns matched by name; new columns start at this row).

        ``mapper`` runs the per-column updates: ``map`` in this thread, or an executor's ``map``
        to profile the columns in parallel (they share nothing).
        """
        offset = self.row_count
        columns = [self.column(name) for name in batch.schema.names]
        for _ in mapper(lambda c, a: c.update(a, offset), columns, batch.columns):
            pass  # draining the results re-raises a failed column's error here
        self.row_count += batch.num_rows

    def column(self, name: str) -> ColumnProfile:
        profile = self.columns.get(name)
        if profile is None:
            # A column first seen now was missing from the rows before this one.
            profile = ColumnProfile(name, num_missing=self.row_count)
            self.columns[name] = profile
        return profile

    def merge(self, other: DatasetProfile) -> None:
        """Fold a profile of further rows into this one."""
        for name in self.columns.keys() - other.columns.keys():
            self.columns[name].num_missing += other.row_count
        for name, column in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(column)
            else:
                padded = ColumnProfile(name, num_missing=self.row_count)
                padded.merge(column)
                self.columns[name] = padded
        self.row_count += other.row_count

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _PROFILE_FORMAT,
            "row_count": self.row_count,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        if data.get("format") != _PROFILE_FORMAT:
            raise ValueError(f"unsupported profile format {data.get('format')!r}")
        columns = [ColumnProfile.from_dict(c) for c in data["columns"]]
        return cls({c.name: c for c in columns}, int(data["row_count"]))


def _to_float64(array: pa.Array) -> np.ndarray:
    """Values as float64 with null -> NaN (a copy only where Arrow cannot share the buffer)."""
    if not pa.types.is_float64(array.type):
        array = pc.cast(array, pa.float64())
    if array.null_count:
        array = pc.fill_null(array, math.nan)
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false")
    try:
        return pc.cast(array, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())


def _earliest(a: ValueExample | None, b: ValueExample | None) -> ValueExample | None:
    # Merges happen in row order (later rows are merged in), so the first one wins.
    return a if a is not None else b


def _example_to_list(example: ValueExample | None) -> list[Any] | None:
    return None if example is None else [example.value, example.row]


def _example_from_list(data: Sequence[Any] | None) -> ValueExample | None:
    return None if data is None else ValueExample(str(data[0]), int(data[1]))
