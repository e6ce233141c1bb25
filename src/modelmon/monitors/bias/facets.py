"""Selecting rows as Clarify does: listed values, or values above a numeric threshold.

A :class:`Selector` picks the positive label values, or the members of a facet. Clarify's
``value_or_threshold`` strings round-trip: listed values are joined by commas (``"female"``,
``"1,2"``); a threshold is a lower bound written as the interval it selects, ``"(40, 90.0]"``
(up to the largest value seen). A single numeric value given for a *continuous* column (floats,
or integers with at least 5% distinct values: Clarify's rule) is a threshold, so
``--facet age --facet-value 40`` means "older than 40", as in Clarify.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FacetSpec", "Selector", "parse_value_or_threshold", "resolve_facet", "selector_for"]

Mask = npt.NDArray[np.bool_]
_INTERVAL = re.compile(r"^\(\s*([^,\s]+)\s*,\s*[^\]]*\]$")
# Clarify: an integer column with at least this share of distinct values is continuous.
_UNIQUENESS = 0.05


@dataclass(frozen=True)
class Selector:
    values: tuple[str, ...] = ()
    threshold: float | None = None

    @property
    def display(self) -> str:
        """The value as a user wrote it: ``40`` or ``female`` or ``a,b``."""
        if self.threshold is not None:
            return _number_text(self.threshold)
        return ",".join(self.values)

    @property
    def key(self) -> tuple[str, ...] | float:
        return self.threshold if self.threshold is not None else self.values

    def mask(self, column: pa.ChunkedArray) -> Mask:
        """True where the row is selected; nulls are never selected."""
        valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)
        if self.threshold is not None:
            numbers = _numbers(column)
            with np.errstate(invalid="ignore"):
                return valid & (numbers > self.threshold)
        return valid & _matches(column, self.values)

    def value_or_threshold(self, column: pa.ChunkedArray) -> str:
        """Clarify's string for this selector over ``column``."""
        if self.threshold is None:
            return ",".join(self.values)
        top = pc.max(column).as_py()
        upper = self.threshold if top is None else max(float(top), self.threshold)
        return f"({_number_text(self.threshold)}, {_number_text(upper)}]"


@dataclass(frozen=True)
class FacetSpec:
    """A facet as configured: a column, and values or a threshold (neither: every value)."""

    name: str
    values: tuple[str, ...] = ()
    threshold: float | None = None


def parse_value_or_threshold(text: str) -> Selector:
    """The selector a Clarify ``value_or_threshold`` string describes."""
    match = _INTERVAL.match(text.strip())
    if match:
        try:
            return Selector(threshold=float(match.group(1)))
        except ValueError:
            pass
    return Selector(values=tuple(v.strip() for v in text.split(",")))


def selector_for(
    column: pa.ChunkedArray, values: tuple[str, ...], threshold: float | None
) -> Selector:
    """Clarify's reading of configured values: one number for a continuous column is a
    threshold; anything else is a list of values."""
    if threshold is not None:
        return Selector(threshold=float(threshold))
    if len(values) == 1 and _is_continuous(column):
        try:
            number = float(values[0])
        except ValueError:
            return Selector(values=values)
        if math.isfinite(number):
            return Selector(threshold=number)
    return Selector(values=values)


def resolve_facet(spec: FacetSpec, column: pa.ChunkedArray) -> list[Selector]:
    """The selectors of ``spec`` over ``column``: one, or one per distinct value if no value
    or threshold was given (Clarify's "each unique value becomes its own group")."""
    if spec.values or spec.threshold is not None:
        return [selector_for(column, spec.values, spec.threshold)]
    distinct = pc.unique(pc.drop_null(column)).to_pylist()
    return [Selector(values=(_value_text(v),)) for v in sorted(distinct, key=_value_text)]


def _is_continuous(column: pa.ChunkedArray) -> bool:
    kind = column.type
    if pa.types.is_floating(kind):
        return True
    if pa.types.is_integer(kind):
        present = len(column) - column.null_count
        return present > 0 and bool(len(pc.unique(pc.drop_null(column))) / present >= _UNIQUENESS)
    return False


def _numbers(column: pa.ChunkedArray) -> npt.NDArray[np.float64]:
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise TypeError("a threshold needs a numeric column")
    return np.asarray(
        pc.fill_null(pc.cast(column, pa.float64()), math.nan).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )


def _matches(column: pa.ChunkedArray, values: tuple[str, ...]) -> Mask:
    kind = column.type
    if pa.types.is_boolean(kind):
        wanted = {v.strip().lower() for v in values}
        chosen = [
            b for b, names in ((True, {"true", "1"}), (False, {"false", "0"})) if wanted & names
        ]
        return np.asarray(
            pc.is_in(column, pa.array(chosen, pa.bool_())).to_numpy(zero_copy_only=False)
        )
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        numbers = []
        for value in values:
            try:
                numbers.append(float(value))
            except ValueError:
                continue
        if not numbers:
            return np.zeros(len(column), dtype=bool)
        return np.isin(_numbers(column), np.asarray(numbers))
    text = pc.cast(column, pa.string())
    return np.asarray(
        pc.fill_null(pc.is_in(text, pa.array(list(values), pa.string())), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )


def _value_text(value: object) -> str:
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)
