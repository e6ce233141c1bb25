"""KLL quantile sketch, vectorised, compatible with Deequ's and SageMaker's ``sketch.data``.

A KLL sketch (Karnin, Lang and Liberty, 2016) keeps a stack of *levels*: an item at level ``h``
stands for ``2**h`` input values. When the sketch holds more items than its capacity, the lowest
level that is at or over its own capacity is *compacted*: sorted, every other item (from an offset
of 0 or 1, chosen at random) moves up one level with twice the weight, and the level empties.

SageMaker's statistics.json stores exactly this stack (Deequ's ``QuantileNonSample``):
``{"parameters": {"c": 0.64, "k": 2048.0}, "data": [[level 0 items], [level 1 items], ...]}``;
:meth:`KllSketch.from_levels` reads it and :attr:`KllSketch.levels` writes it.

Capacities follow KLL: the top level holds ``k`` items and each level below ``c`` times as many as
the one above it, at least 2; in total about ``k / (1 - c)`` items, whatever the number of values.
(Deequ itself gives the *bottom* level the largest capacity, ``2 * (ceil(k * c**h / 2) + 1)``;
only the layout of ``data`` matters for exchanging sketches, and both read the other's.)

Speed comes from never touching one value at a time. Every level is kept sorted. An incoming chunk
is sorted once, merged into level 0 and compacted in bulk: compacting a sorted run is the slice
``run[offset::2]``, whose result is sorted too, and merging two sorted runs is linear. Compacting a
buffer of any length at once keeps KLL's guarantee and lowers the error: for a query ``x``, one
compaction at level ``h`` changes the estimated rank of ``x`` by 0 or ``+/- 2**h`` (the parity of
the number of buffer items ``<= x`` decides, the offset decides the sign), whatever the buffer's
length. A larger buffer therefore removes more items for the same error, and the sketch needs
fewer compactions in total.

Offsets come from a splitmix64 hash of the sketch's own compaction counter and item count, so the
same values in the same order always give the same sketch, and no global random state is used.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from modelmon.errors import ConfigError, InputError

__all__ = ["KllSketch"]

FloatArray = npt.NDArray[np.float64]

_MASK64: Final = (1 << 64) - 1
_MAGIC: Final = b"MMKL"
_VERSION: Final = 1
# magic, version, k, c, n, min, max, compaction counter, number of levels
_HEADER: Final = struct.Struct("<4sBIdQddQH")
_MAX_K: Final = 65536
_MAX_LEVELS: Final = 64
# Two-sided 99% confidence for normalized_rank_error: sqrt(2 * ln(2 / 0.01)).
_Z99: Final = math.sqrt(2.0 * math.log(2.0 / 0.01))


def _mix64(z: int) -> int:
    """Return the splitmix64 finaliser of ``z``: a well-spread 64-bit hash of a counter."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _capacities(k: int, c: float, num_levels: int) -> list[int]:
    """Return the capacity of each level, level 0 first: ``ceil(k * c**depth)``, at least 2."""
    caps = [0] * num_levels
    # Repeated multiplication rather than c ** depth: IEEE products are the same on every
    # platform, libm's pow need not be, and capacities decide the sketch's exact content.
    scale = float(k)
    for depth in range(num_levels):
        caps[num_levels - 1 - depth] = max(2, math.ceil(scale))
        scale *= c
    return caps


def _merge_sorted(a: FloatArray, b: FloatArray) -> FloatArray:
    """Return the sorted union of two sorted arrays, as a new array."""
    if a.size == 0:
        return b.copy()
    if b.size == 0:
        return a.copy()
    if a.size < b.size:
        a, b = b, a
    # Linear in len(a): binary search for the few, one pass of copies for the many.
    return np.insert(a, np.searchsorted(a, b, side="right"), b)


def _frozen(a: FloatArray) -> FloatArray:
    """Mark an array read-only: levels are shared between copies, so nobody may write them."""
    a.flags.writeable = False
    return a


_EMPTY: Final[FloatArray] = _frozen(np.empty(0, dtype=np.float64))


def _check_k_c(k: object, c: object) -> tuple[int, float]:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 8 <= k <= _MAX_K:
        raise ConfigError(
            f"The 'k' parameter of KllSketch must be an int in [8, {_MAX_K}]. Got {k!r} instead."
        )
    if (
        isinstance(c, bool)
        or not isinstance(c, int | float | np.floating)
        or not 0.5 < float(c) < 1.0
    ):
        raise ConfigError(
            f"The 'c' parameter of KllSketch must be a float in (0.5, 1). Got {c!r} instead."
        )
    return int(k), float(c)


class KllSketch:
    """A mergeable quantile sketch of float64 values (KLL), with Deequ's level layout.

    Parameters
    ----------
    k : int, default 2048
        Capacity of the top level; the rank error shrinks about as ``1 / k``.
        2048 is Deequ's and SageMaker's default.
    c : float, default 0.64
        Ratio between the capacities of adjacent levels, in (0.5, 1); Deequ's default.

    Notes
    -----
    While no compaction has happened (at most ``k`` values with the defaults) the sketch holds
    every value and :meth:`cdf` and :meth:`quantile` are exact. Integers beyond 2**53 lose
    precision when converted to float64.
    """

    __slots__ = ("_c", "_compactions", "_k", "_levels", "_max", "_min", "_n", "_view")

    def __init__(self, k: int = 2048, c: float = 0.64) -> None:
        self._k, self._c = _check_k_c(k, c)
        self._levels: list[FloatArray] = [_EMPTY]
        self._n = 0
        self._min = math.nan
        self._max = math.nan
        self._compactions = 0
        self._view: tuple[FloatArray, FloatArray, FloatArray] | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_levels(
        cls,
        levels: Sequence[Sequence[float]],
        k: int = 2048,
        c: float = 0.64,
        *,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> KllSketch:
        """Rebuild a sketch from its levels, e.g. SageMaker's ``sketch.data``.

        Items at level ``h`` weigh ``2**h``; levels need not be sorted. ``min_value`` and
        ``max_value`` (statistics.json's ``min`` and ``max``) restore the exact extremes,
        which compaction may have dropped; they are widened to cover every item, because
        a writer may have rounded them.
        """
        k, c = _check_k_c(k, c)
        if len(levels) > _MAX_LEVELS:
            raise InputError(
                "A KLL sketch has too many levels",
                expected=f"at most {_MAX_LEVELS}",
                found=str(len(levels)),
            )
        sketch = cls(k, c)
        arrays: list[FloatArray] = []
        for h, level in enumerate(levels):
            try:
                arr = np.array(level, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"Level {h} of a KLL sketch is not a list of numbers",
                    found=type(level).__name__,
                ) from exc
            if arr.ndim != 1:
                raise InputError(
                    f"Level {h} of a KLL sketch is not a flat list of numbers",
                    found=f"{arr.ndim}-dimensional data",
                )
            if np.isnan(arr).any():
                raise InputError(f"Level {h} of a KLL sketch contains NaN")
            arr.sort()
            arrays.append(_frozen(arr))
        while len(arrays) > 1 and arrays[-1].size == 0:
            arrays.pop()
        if arrays:
            sketch._levels = arrays
        sketch._n = sum(a.size << h for h, a in enumerate(arrays))
        if sketch._n:
            # A missing or NaN extreme falls back to the items' own.
            lows = [float(a[0]) for a in arrays if a.size]
            highs = [float(a[-1]) for a in arrays if a.size]
            if min_value is not None and not math.isnan(min_value):
                lows.append(float(min_value))
            if max_value is not None and not math.isnan(max_value):
                highs.append(float(max_value))
            sketch._min, sketch._max = min(lows), max(highs)
        sketch._compress()
        return sketch

    def copy(self) -> KllSketch:
        """Return an independent copy (levels are read-only, so they are shared)."""
        other = KllSketch.__new__(KllSketch)
        other._k, other._c = self._k, self._c
        other._levels = list(self._levels)
        other._n, other._min, other._max = self._n, self._min, self._max
        other._compactions = self._compactions
        other._view = self._view
        return other

    # -- properties ---------------------------------------------------------------------------

    @property
    def k(self) -> int:
        """Capacity of the top level."""
        return self._k

    @property
    def c(self) -> float:
        """Ratio between the capacities of adjacent levels."""
        return self._c

    @property
    def n(self) -> int:
        """Number of values seen (NaN excluded)."""
        return self._n

    @property
    def min_value(self) -> float:
        """Smallest value seen, exactly; NaN when empty."""
        return self._min

    @property
    def max_value(self) -> float:
        """Largest value seen, exactly; NaN when empty."""
        return self._max

    @property
    def levels(self) -> list[FloatArray]:
        """Items per level, level 0 first, each sorted and read-only (SageMaker's ``data``)."""
        return list(self._levels)

    @property
    def num_retained(self) -> int:
        """Number of items the sketch holds."""
        return sum(a.size for a in self._levels)

    # -- updating -----------------------------------------------------------------------------

    def update(self, values: npt.ArrayLike) -> None:
        """Add a 1-D array of numbers; NaN is ignored. The input is never modified."""
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise InputError(
                "KllSketch.update needs a 1-D array",
                found=f"an array of shape {arr.shape}",
            )
        if arr.dtype.kind not in "biuf":
            raise InputError(
                "KllSketch.update needs numbers", found=f"an array of dtype {arr.dtype}"
            )
        if arr.dtype == np.float64:
            run = np.sort(arr)
        else:
            run = arr.astype(np.float64)
            run.sort()
        # NaN sorts last and searchsorted agrees, so this finds the first NaN in O(log n).
        run = run[: int(np.searchsorted(run, np.nan))]
        if run.size == 0:
            return
        lo, hi = float(run[0]), float(run[-1])
        if self._n == 0:
            self._min, self._max = lo, hi
        else:
            self._min, self._max = min(self._min, lo), max(self._max, hi)
        self._n += run.size
        self._absorb(run)
        self._compress()

    def merge(self, other: KllSketch) -> None:
        """Add every value ``other`` has seen; ``other`` is left unchanged."""
        if not isinstance(other, KllSketch):
            raise InputError("KllSketch.merge needs a KllSketch", found=type(other).__name__)
        if (other._k, other._c) != (self._k, self._c):
            raise ConfigError(
                f"The 'other' parameter of KllSketch.merge must have k={self._k} and "
                f"c={self._c}. Got k={other._k} and c={other._c} instead."
            )
        if other._n == 0:
            return
        theirs = list(other._levels)
        while len(self._levels) < len(theirs):
            self._levels.append(_EMPTY)
        for h, level in enumerate(theirs):
            if level.size:
                self._levels[h] = _frozen(_merge_sorted(self._levels[h], level))
        if self._n == 0:
            self._min, self._max = other._min, other._max
        else:
            self._min, self._max = min(self._min, other._min), max(self._max, other._max)
        self._n += other._n
        self._compactions += other._compactions
        self._compress()

    def _absorb(self, run: FloatArray) -> None:
        """Add a sorted run at level 0, compacting the run on its own while it is large.

        Halving the run before merging it is the same compaction KLL would do on the level
        (the level's few old items simply wait for the next one), and it costs only strided
        views of the run: no copy until the run, by then small, is merged into a level.
        """
        levels = self._levels
        caps = _capacities(self._k, self._c, len(levels))
        size = sum(a.size for a in levels)
        h = 0
        while size + run.size > sum(caps) and run.size >= caps[h]:
            if h + 1 == len(levels):
                levels.append(_EMPTY)
                caps = _capacities(self._k, self._c, len(levels))
            even = run.size & ~1
            if even < run.size:
                levels[h] = _frozen(_merge_sorted(levels[h], run[even:]))
                size += 1
            self._compactions += 1
            run = run[self._next_offset() : even : 2]
            h += 1
        levels[h] = _frozen(_merge_sorted(levels[h], run))

    def _next_offset(self) -> int:
        """Return the offset, 0 or 1, of the compaction about to be counted."""
        return _mix64(_mix64(self._n) ^ self._compactions) >> 63

    def _compress(self) -> None:
        """Compact levels until the sketch holds no more items than its capacity."""
        levels = self._levels
        caps = _capacities(self._k, self._c, len(levels))
        size = sum(a.size for a in levels)
        limit = sum(caps)
        while size > limit:
            # Some level is at or over its capacity, since the total is over theirs.
            h = 0
            while levels[h].size < caps[h]:
                h += 1
            if h + 1 == len(levels):
                levels.append(_EMPTY)
                caps = _capacities(self._k, self._c, len(levels))
                limit = sum(caps)
            buf = levels[h]
            even = buf.size & ~1
            self._compactions += 1
            promoted = buf[self._next_offset() : even : 2]
            # An odd item out stays behind, so weights stay powers of two and n stays exact.
            levels[h] = _frozen(buf[even:].copy())
            levels[h + 1] = _frozen(_merge_sorted(levels[h + 1], promoted))
            size -= promoted.size
        self._view = None

    # -- queries ------------------------------------------------------------------------------

    def _sorted(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Items ascending, their weights, and cumulative weights with a leading 0 (cached)."""
        if self._view is None:
            items = np.concatenate(self._levels)
            weights = np.concatenate(
                [np.full(a.size, float(1 << h)) for h, a in enumerate(self._levels)]
            )
            order = np.argsort(items, kind="stable")
            items, weights = items[order], weights[order]
            cum = np.concatenate(([0.0], np.cumsum(weights)))
            self._view = (_frozen(items), _frozen(weights), _frozen(cum))
        return self._view

    def sorted_view(self) -> tuple[FloatArray, FloatArray]:
        """Return the items in ascending order and their weights (float64), read-only."""
        items, weights, _ = self._sorted()
        return items, weights

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        """Return the share of weight at values ``<= x`` (right-continuous), NaN when empty.

        The result has the shape of ``x``; a NaN in ``x`` gives NaN.
        """
        xs = np.asarray(x, dtype=np.float64)
        if self._n == 0:
            return np.full(xs.shape, np.nan)
        items, _, cum = self._sorted()
        out: FloatArray = cum[np.searchsorted(items, xs, side="right")] / self._n
        return np.where(np.isnan(xs), np.nan, out)

    def quantile(self, q: npt.ArrayLike) -> FloatArray:
        """Return the smallest item whose :meth:`cdf` is at least ``q``, NaN when empty.

        The inverse of :meth:`cdf`, so numpy's ``method="inverted_cdf"`` while the sketch is
        exact; ``q = 0`` gives the exact minimum and ``q = 1`` the exact maximum.
        """
        qs = np.asarray(q, dtype=np.float64)
        if not np.all((qs >= 0.0) & (qs <= 1.0)):
            raise ConfigError(
                "The 'q' parameter of KllSketch.quantile must be in [0, 1]. "
                f"Got {np.asarray(q).tolist()!r} instead."
            )
        if self._n == 0:
            return np.full(qs.shape, np.nan)
        items, _, cum = self._sorted()
        # cum[1:][i] is the weight of items[: i + 1]: find the first that reaches q * n. The
        # clip only matters beyond 2**53 values, where the float total may round below n.
        idx = np.minimum(np.searchsorted(cum[1:], qs * self._n, side="left"), items.size - 1)
        out: FloatArray = items[idx]
        out = np.where(qs == 0.0, self._min, out)
        return np.where(qs == 1.0, self._max, out)

    def normalized_rank_error(self) -> float:
        """Return a bound on ``|estimated rank - true rank| / n`` for one query, at 99%.

        Each compaction at level ``h`` adds an independent, zero-mean error of 0 or
        ``+/- 2**h`` to a query's rank, so by Hoeffding's inequality the error exceeds
        ``sqrt(2 ln(2/0.01) * V)`` with probability at most 1%, where ``V`` is the sum of
        ``4**h`` over compactions. ``V`` is bounded from the layout alone: all weight now above
        level ``h`` left it in compactions of at least ``capacity(h)`` items, and capacities
        only shrink as the sketch grows, so level ``h`` saw at most
        ``weight_above(h) / (2**(h+1) * floor(capacity(h) / 2))`` compactions. The bound is
        therefore a priori (it does not look at values), is 0 while the sketch is exact, and
        holds for any sketch built by this class, merged or not; for sketches read from
        another writer it assumes that writer compacted no more often.
        """
        if self._n == 0:
            return 0.0
        caps = _capacities(self._k, self._c, len(self._levels))
        above = 0
        variance = 0.0
        for h in range(len(self._levels) - 1, 0, -1):
            above += self._levels[h].size << h
            below = h - 1
            variance += above * 2.0 ** (below - 1) / (caps[below] // 2)
        return min(1.0, _Z99 * math.sqrt(variance) / self._n)

    # -- serialisation ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Return a compact, versioned binary form (little-endian float64 items)."""
        sizes = [a.size for a in self._levels]
        header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            self._k,
            self._c,
            self._n,
            self._min,
            self._max,
            self._compactions,
            len(sizes),
        )
        body = np.concatenate(self._levels).astype("<f8", copy=False).tobytes()
        return header + struct.pack(f"<{len(sizes)}I", *sizes) + body

    @classmethod
    def from_bytes(cls, data: bytes) -> KllSketch:
        """Rebuild a sketch from :meth:`to_bytes`; raise InputError on anything else."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InputError("A serialised KllSketch must be bytes", found=type(data).__name__)
        data = bytes(data)
        if len(data) < _HEADER.size or data[:4] != _MAGIC:
            raise InputError("Not a serialised KllSketch", expected="bytes starting with MMKL")
        _, version, k, c, n, lo, hi, compactions, num_levels = _HEADER.unpack_from(data)
        if version != _VERSION:
            raise InputError(
                "Unsupported KllSketch serialisation version",
                expected=str(_VERSION),
                found=str(version),
            )
        try:
            k, c = _check_k_c(k, c)
        except ConfigError as exc:
            raise InputError(f"A serialised KllSketch is corrupt: {exc}") from exc
        if not 1 <= num_levels <= _MAX_LEVELS:
            raise InputError("A serialised KllSketch is corrupt: bad number of levels")
        sizes_end = _HEADER.size + 4 * num_levels
        if len(data) < sizes_end:
            raise InputError("A serialised KllSketch is truncated")
        sizes = struct.unpack_from(f"<{num_levels}I", data, _HEADER.size)
        if len(data) != sizes_end + 8 * sum(sizes):
            raise InputError(
                "A serialised KllSketch has the wrong length",
                expected=f"{sizes_end + 8 * sum(sizes)} bytes",
                found=f"{len(data)} bytes",
            )
        items = np.frombuffer(data, dtype="<f8", offset=sizes_end).astype(np.float64)
        bounds = np.cumsum((0, *sizes))
        levels = [items[bounds[h] : bounds[h + 1]] for h in range(num_levels)]
        weight = sum(s << h for h, s in enumerate(sizes))
        consistent = (
            weight == n
            and not np.isnan(items).any()
            and all(bool(np.all(a[1:] >= a[:-1])) for a in levels)
            and (
                (n == 0 and math.isnan(lo) and math.isnan(hi))
                or (n > 0 and lo <= float(items.min()) and hi >= float(items.max()))
            )
        )
        if not consistent:
            raise InputError("A serialised KllSketch is corrupt: inconsistent content")
        sketch = cls(k, c)
        sketch._levels = [_frozen(a) for a in levels]
        sketch._n, sketch._min, sketch._max = n, lo, hi
        sketch._compactions = compactions
        return sketch

    def __repr__(self) -> str:
        return (
            f"KllSketch(k={self._k}, c={self._c}, n={self._n}, "
            f"levels={len(self._levels)}, retained={self.num_retained})"
        )
