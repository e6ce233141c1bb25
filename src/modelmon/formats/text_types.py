"""Typing columns of text: one kind per column, settled over all of its values, and conversion.

CSV files and SageMaker capture records hold every value as text: :func:`infer_text_kind` gives
such a column ``int64``, ``float64``, ``string`` or ``null`` by one rule, so a capture and the CSV
it came from profile alike, and :func:`convert_text` converts it. :func:`merge_kinds` is the order
in which kinds widen, also for JSON Lines columns (which carry JSON's own types, ``bool`` among
them).
"""

from __future__ import annotations

import re
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ColumnKind",
    "convert_text",
    "infer_text_kind",
    "is_number_text",
    "kind_type",
    "merge_kinds",
]

ColumnKind = Literal["null", "bool", "int", "float", "string"]

# What Arrow's float64 cast accepts, for single values in Python (the header test).
_NUMBER = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
    re.IGNORECASE,
)

_KIND_TYPES: dict[ColumnKind, pa.DataType] = {
    "null": pa.null(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
}


def kind_type(kind: ColumnKind) -> pa.DataType:
    """The Arrow type a column of ``kind`` is read as."""
    return _KIND_TYPES[kind]


def merge_kinds(first: ColumnKind, second: ColumnKind) -> ColumnKind:
    """The narrowest kind holding both: null < int < float; any other mix is text."""
    if first == second or second == "null":
        return first
    if first == "null":
        return second
    if {first, second} == {"int", "float"}:
        return "float"
    return "string"


def infer_text_kind(array: pa.Array, at_least: ColumnKind = "null") -> ColumnKind:
    """The kind of a string array: null if it holds no value; int if every value is a decimal
    integer that fits in int64 ("-12", "007"); float if every value is a decimal number ("1.5",
    "+2", "1e-3", ".5") or nan/inf in any case; else string. Values with spaces around them stay
    text (the profiler still counts them as numbers).

    ``at_least`` is the kind of the batches before, so a column only widens and checks that
    already failed are not run again. Arrow's casts do the parsing (fast, and the same casts
    convert the column afterwards); the one thing they accept that we do not is hex ("0x1F").
    """
    values = array.drop_null()
    if at_least == "string" or len(values) == 0:
        return at_least
    return merge_kinds(at_least, _own_text_kind(values, int_possible=at_least in ("null", "int")))


def _own_text_kind(values: pa.Array, *, int_possible: bool) -> ColumnKind:
    if int_possible and _casts(values, pa.int64()):
        return "string" if _hexadecimal(values) else "int"
    return "float" if _casts(values, pa.float64()) else "string"


def _hexadecimal(values: pa.Array) -> bool:
    data = values.buffers()[2]
    raw = b"" if data is None else data.to_pybytes()
    if b"x" not in raw and b"X" not in raw:
        return False  # the usual answer, from a byte scan far faster than a string kernel
    return bool(pc.any(pc.match_substring(values, "x", ignore_case=True)).as_py())


def _casts(values: pa.Array, kind: pa.DataType) -> bool:
    try:
        pc.cast(values, kind)
    except pa.ArrowInvalid:
        return False
    return True


def is_number_text(text: str) -> bool:
    """Whether ``text`` reads as a number under the rules of :func:`infer_text_kind`."""
    return _NUMBER.fullmatch(text) is not None


def convert_text(array: pa.Array, kind: ColumnKind) -> pa.Array:
    """A string array as ``kind`` (as found by :func:`infer_text_kind` over all of its values)."""
    assert kind != "bool", "text is never typed bool"
    if kind == "string":
        return array
    if kind == "null":
        return pa.nulls(len(array))
    return pc.cast(array, _KIND_TYPES[kind])
