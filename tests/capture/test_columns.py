"""The stored layout of bodies: the fast path for common shapes gives what capture_jsonl gives."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from modelmon.capture.columns import flat_rows
from modelmon.formats.capture_jsonl import CapturePayload, CaptureRecord, record_rows
from modelmon.formats.json_values import JsonValue

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=8,
)


@given(values, st.sampled_from(["input", "output"]))
def test_flat_rows_agrees_with_record_rows(value: JsonValue, side: str) -> None:
    fast = flat_rows(value, side)
    if fast is None:
        return
    payload = CapturePayload("JSON", "application/json", value)
    record = CaptureRecord(
        line=0,
        event_id="",
        inference_id=None,
        inference_time=datetime(2024, 1, 1, tzinfo=UTC),
        input=payload if side == "input" else None,
        output=payload if side == "output" else None,
    )
    assert fast == record_rows(record)
