"""Mergeable frequent-items summary of category counts (Misra–Gries).

Counts are exact while a column has at most ``max_items`` distinct values. Beyond that the summary
follows Agarwal et al., "Mergeable summaries" (PODS 2012): add the counters, and if more than
``max_items`` remain, subtract the ``(max_items + 1)``-th largest count from every counter and drop
those that reach zero. Each such step lowers any item's counter by at most the amount subtracted,
so the running sum of those amounts (:attr:`FrequentItems.error_bound`) bounds every undercount:
``true - error_bound <= estimate <= true``. Each step also removes at least ``max_items + 1``
times its amount from the total, so ``error_bound <= n / (max_items + 1)``, and every item
more frequent than that is still listed.

An update with pre-aggregated counts is a merge with an exact summary, so both obey one rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from modelmon.errors import ConfigError, InputError

__all__ = ["FrequentItems"]

_FORMAT_VERSION: Final = 1


def _check_max_items(max_items: object) -> int:
    if (
        isinstance(max_items, bool)
        or not isinstance(max_items, int | np.integer)
        or not 1 <= max_items <= 1 << 24
    ):
        raise ConfigError(
            "The 'max_items' parameter of FrequentItems must be an int in [1, 16777216]. "
            f"Got {max_items!r} instead."
        )
    return int(max_items)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class FrequentItems:
    """Counts of string values: exact up to ``max_items`` distinct values, bounded beyond.

    Parameters
    ----------
    max_items : int, default 1024
        Most counters kept; the undercount of any value stays below ``n / (max_items + 1)``.
    """

    __slots__ = ("_counts", "_error", "_max_items", "_n")

    def __init__(self, max_items: int = 1024) -> None:
        self._max_items = _check_max_items(max_items)
        self._counts: dict[str, int] = {}
        self._n = 0
        self._error = 0

    @property
    def max_items(self) -> int:
        """Most counters kept."""
        return self._max_items

    @property
    def n(self) -> int:
        """Total count of all values seen."""
        return self._n

    @property
    def error_bound(self) -> int:
        """Largest possible undercount of any value (0 while exact)."""
        return self._error

    @property
    def is_exact(self) -> bool:
        """True while every count is exact (never more than ``max_items`` distinct values)."""
        return self._error == 0

    def __len__(self) -> int:
        return len(self._counts)

    def copy(self) -> FrequentItems:
        """Return an independent copy."""
        other = FrequentItems(self._max_items)
        other._counts = dict(self._counts)
        other._n, other._error = self._n, self._error
        return other

    # -- updating -----------------------------------------------------------------------------

    def update(self, values: Sequence[str], counts: npt.ArrayLike) -> None:
        """Add pre-aggregated counts: ``counts[i]`` occurrences of ``values[i]``.

        Values are normally distinct; a repeated value adds up. Zero counts are skipped.
        """
        arr = np.asarray(counts)
        if arr.ndim != 1 or arr.dtype.kind not in "iu" or len(values) != arr.size:
            raise InputError(
                "FrequentItems.update needs one integer count per value",
                expected=f"{len(values)} integer counts",
                found=f"an array of dtype {arr.dtype} and shape {arr.shape}",
            )
        if arr.size and int(arr.min()) < 0:
            raise InputError("FrequentItems.update needs counts >= 0", found=str(int(arr.min())))
        # Checked before counting, so that a bad value leaves the summary as it was.
        for value in values:
            if not isinstance(value, str):
                raise InputError("FrequentItems.update needs strings", found=type(value).__name__)
        table = self._counts
        count_list: list[int] = arr.tolist()
        for value, count in zip(values, count_list, strict=True):
            if count:
                table[value] = table.get(value, 0) + count
        self._n += sum(count_list)
        self._prune()

    def merge(self, other: FrequentItems) -> None:
        """Add every count of ``other``; ``other`` is left unchanged."""
        if not isinstance(other, FrequentItems):
            raise InputError(
                "FrequentItems.merge needs a FrequentItems", found=type(other).__name__
            )
        if other._max_items != self._max_items:
            raise ConfigError(
                f"The 'other' parameter of FrequentItems.merge must have "
                f"max_items={self._max_items}. Got max_items={other._max_items} instead."
            )
        table = self._counts
        for value, count in list(other._counts.items()):
            table[value] = table.get(value, 0) + count
        self._n += other._n
        self._error += other._error
        self._prune()

    def _prune(self) -> None:
        """Keep at most ``max_items`` counters, subtracting the next largest count from all."""
        if len(self._counts) <= self._max_items:
            return
        counts = np.fromiter(self._counts.values(), dtype=np.int64, count=len(self._counts))
        # The (max_items + 1)-th largest count: only counters strictly above it survive, and at
        # most max_items counters can be strictly above it.
        cut = int(np.partition(counts, -(self._max_items + 1))[-(self._max_items + 1)])
        self._counts = {v: c - cut for v, c in self._counts.items() if c > cut}
        self._error += cut

    # -- reading ------------------------------------------------------------------------------

    def items(self) -> list[tuple[str, int]]:
        """Return ``(value, count)`` pairs, largest count first, then by value."""
        return sorted(self._counts.items(), key=lambda item: (-item[1], item[0]))

    def estimate(self, value: str) -> int:
        """Return the count of ``value``: exact when :attr:`is_exact`, else a lower bound.

        The true count is at most ``estimate(value) + error_bound``.
        """
        return self._counts.get(value, 0)

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict; :meth:`from_dict` reads it back."""
        return {
            "version": _FORMAT_VERSION,
            "max_items": self._max_items,
            "n": self._n,
            "error_bound": self._error,
            "items": [[value, count] for value, count in self.items()],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrequentItems:
        """Rebuild a summary from :meth:`to_dict`; raise InputError on anything else."""
        if not isinstance(d, Mapping):
            raise InputError("A FrequentItems summary must be a mapping", found=type(d).__name__)
        if d.get("version") != _FORMAT_VERSION:
            raise InputError(
                "Unsupported FrequentItems format version",
                expected=str(_FORMAT_VERSION),
                found=repr(d.get("version")),
            )
        max_items: Any = d.get("max_items")
        try:
            summary = cls(max_items)
        except ConfigError as exc:
            raise InputError(f"A FrequentItems summary is not valid: {exc}") from exc
        n: Any = d.get("n")
        error: Any = d.get("error_bound")
        items: Any = d.get("items")
        if not (_is_count(n) and _is_count(error) and isinstance(items, list)):
            raise InputError(
                "A FrequentItems summary is not valid",
                expected="'n' and 'error_bound' as ints >= 0 and 'items' as a list",
            )
        counts: dict[str, int] = {}
        for item in items:
            if not (
                isinstance(item, list | tuple)
                and len(item) == 2
                and isinstance(item[0], str)
                and _is_count(item[1])
                and item[1] > 0
                and item[0] not in counts
            ):
                raise InputError(
                    "A FrequentItems summary has a bad item",
                    expected="distinct [value, count] pairs with a string and an int > 0",
                    found=repr(item)[:80],
                )
            counts[item[0]] = item[1]
        if len(counts) > summary._max_items or sum(counts.values()) > n:
            raise InputError(
                "A FrequentItems summary is not valid",
                expected=f"at most {summary._max_items} items whose counts add up to <= n",
            )
        summary._counts, summary._n, summary._error = counts, n, error
        return summary

    def __repr__(self) -> str:
        return (
            f"FrequentItems(max_items={self._max_items}, n={self._n}, items={len(self._counts)}, "
            f"error_bound={self._error})"
        )
