"""Typing text columns: the kind of a column of strings, how kinds widen, and conversion."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.formats.text_types import convert_text, infer_text_kind, is_number_text, merge_kinds


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([None, None], "null"),
        (["1", "-2", "007", None], "int"),
        (["1", "2.5"], "float"),
        (["1e3", "+2", ".5", "5.", "nan", "-Inf", "infinity"], "float"),
        (["9223372036854775808"], "float"),
        (["1", "abc"], "string"),
        (["0x1F"], "string"),
        ([" 1"], "string"),
        (["1,5"], "string"),
        (["true", "false"], "string"),
    ],
)
def test_infer_text_kind(values: list[str | None], kind: str) -> None:
    assert infer_text_kind(pa.array(values, pa.string())) == kind


def test_infer_text_kind_only_widens() -> None:
    ints = pa.array(["1", "2"])
    assert infer_text_kind(ints, "float") == "float"
    assert infer_text_kind(ints, "string") == "string"
    assert infer_text_kind(pa.array([None], pa.string()), "int") == "int"


@pytest.mark.parametrize(
    ("first", "second", "merged"),
    [
        ("null", "int", "int"),
        ("int", "null", "int"),
        ("int", "float", "float"),
        ("float", "int", "float"),
        ("bool", "int", "string"),
        ("int", "string", "string"),
        ("bool", "bool", "bool"),
    ],
)
def test_merge_kinds(first: Any, second: Any, merged: str) -> None:
    assert merge_kinds(first, second) == merged


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1))
def test_integer_text_converts_exactly(values: list[int | None]) -> None:
    text = pa.array([None if v is None else str(v) for v in values], pa.string())
    kind = infer_text_kind(text)
    assert kind == ("null" if all(v is None for v in values) else "int")
    assert convert_text(text, kind).to_pylist() == values


@given(st.floats(allow_nan=False))
def test_is_number_text_agrees_with_float_text(value: float) -> None:
    assert is_number_text(repr(value))
    assert infer_text_kind(pa.array([repr(value)])) in ("int", "float")


@pytest.mark.parametrize("text", ["abc", "", "1 2", "0x10", "1e", "--1"])
def test_is_number_text_rejects(text: str) -> None:
    assert not is_number_text(text)
