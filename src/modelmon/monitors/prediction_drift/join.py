"""Pair two versions' captured predictions on the same inputs, by inference id.

In shadow mode (``modelmon proxy --shadow-upstream``) the challenger's answer to a request is
captured under its own version with the primary's inference id, so the two captures of a request
share ``(inference_id, row_index)``. An id captured twice in one version (a client that resends
its id) counts once: its last row in the table, which for a ``read_captures`` table (sorted by
time) is its latest capture.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.capture.columns import INPUT_PREFIX, OUTPUT_PREFIX
from modelmon.errors import DatasetError

__all__ = ["JOIN_KEYS", "captured_column", "join_predictions"]

JOIN_KEYS = ("inference_id", "row_index")


def captured_column(table: pa.Table, name: str, what: str, *, prefer: str = OUTPUT_PREFIX) -> str:
    """The stored column for ``name``: ``output.<name>`` (or ``input.<name>``) or ``name`` itself.

    ``what`` says where the table came from, for the error when there is no such column."""
    other = INPUT_PREFIX if prefer == OUTPUT_PREFIX else OUTPUT_PREFIX
    for candidate in (prefer + name, other + name, name):
        if candidate in table.column_names:
            return candidate
    features = [n for n in table.column_names if n.startswith((OUTPUT_PREFIX, INPUT_PREFIX))]
    raise DatasetError(
        f"the captures of {what} have no column {name!r}",
        column=name,
        expected="one of " + (", ".join(features) or "(no feature columns were captured)"),
        found="no such column",
    )


def _last_capture(table: pa.Table) -> pa.Table:
    """One row per (inference_id, row_index): the last one in ``table``, in table order."""
    numbered = table.append_column("__pos", pa.array(range(table.num_rows), pa.int64()))
    last = numbered.group_by(list(JOIN_KEYS), use_threads=False).aggregate([("__pos", "max")])
    positions = last["__pos_max"].combine_chunks()
    return table.take(pc.take(positions, pc.sort_indices(positions)))


def join_predictions(
    baseline: pa.Table,
    candidate: pa.Table,
    output: str,
    *,
    segment: str | None = None,
    baseline_name: str = "the baseline version",
    candidate_name: str = "the candidate version",
) -> pa.Table:
    """Captured rows of both versions with the same (inference_id, row_index), as a table of
    ``inference_id``, ``row_index``, ``baseline``, ``candidate`` and, given ``segment`` (an input
    or output name, taken from the baseline's capture), ``segment``; in the baseline's order."""
    base_column = captured_column(baseline, output, baseline_name)
    cand_column = captured_column(candidate, output, candidate_name)
    left_columns = [*JOIN_KEYS, base_column]
    left_names = [*JOIN_KEYS, "baseline"]
    if segment is not None:
        left_columns.append(captured_column(baseline, segment, baseline_name, prefer=INPUT_PREFIX))
        left_names.append("segment")
    left = _last_capture(baseline.select(left_columns).rename_columns(left_names))
    left = left.append_column("__order", pa.array(range(left.num_rows), pa.int64()))
    right = _last_capture(
        candidate.select([*JOIN_KEYS, cand_column]).rename_columns([*JOIN_KEYS, "candidate"])
    )
    joined = left.join(right, list(JOIN_KEYS), join_type="inner", use_threads=False)
    joined = joined.sort_by("__order").drop_columns(["__order"])
    names = [*JOIN_KEYS, "baseline", "candidate", *(["segment"] if segment is not None else [])]
    return joined.select(names)
