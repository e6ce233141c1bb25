"""The same metrics per value of chosen columns, so a drop in one segment is not averaged away.

Segments differ (one region's recall is lower than another's in every healthy window), so each
segment is held to its own baseline: the baseline measures every segment and suggests its
constraints (``segment_constraints.json``); a segment the baseline did not see is held to the
overall constraints. Only the ``max_values`` most frequent values of a column are reported
(ties by value), so a high-cardinality column cannot flood the report. Constraints are checked in
a segment only when it has at least ``min_rows`` labelled rows, and (Robust, the default) only
beyond the segment's own sampling noise: segments are small, and every extra segment checked is
another chance of a false alarm.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from modelmon.errors import BaselineFormatError
from modelmon.formats.json_values import JsonValue
from modelmon.formats.sagemaker_model_quality import (
    ModelQualityConstraints,
    ModelQualityStatistics,
    ModelQualityViolation,
    constraints_from_json,
    constraints_to_json,
    metrics_key,
    metrics_to_json,
)
from modelmon.monitors.model_quality.constraints import check_constraints
from modelmon.monitors.model_quality.data import QualityData
from modelmon.monitors.model_quality.metrics import quality_statistics

__all__ = [
    "SEGMENT_CONSTRAINTS_FILE",
    "SegmentResult",
    "segment_constraints_from_json",
    "segment_constraints_to_json",
    "segment_results",
    "segments_to_json",
]

SEGMENT_CONSTRAINTS_FILE = "segment_constraints.json"


@dataclass(frozen=True)
class SegmentResult:
    column: str
    value: str
    statistics: ModelQualityStatistics
    checked: bool
    violations: tuple[ModelQualityViolation, ...]
    noise: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return f"{self.column}={self.value}"


def segment_results(
    data: QualityData,
    constraints: ModelQualityConstraints | None,
    *,
    own: Mapping[str, ModelQualityConstraints] | None = None,
    min_rows: int = 100,
    max_values: int = 20,
    seed: int = 0,
    evaluation_time: str | None = None,
    robust_z: float | None = 2.0,
) -> tuple[SegmentResult, ...]:
    """Each segment's statistics and violations of ``own[segment]`` (else ``constraints``;
    None: nothing is checked). ``robust_z`` None checks as SageMaker does (Simple)."""
    out = []
    for column, keys in data.segments.items():
        labelled = [k for k, has in zip(keys, data.labelled.tolist(), strict=True) if has]
        counts = Counter(k for k in labelled if k is not None)
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:max_values]
        values = np.array(["" if k is None else k for k in keys], dtype=object)
        present = np.array([k is not None for k in keys], dtype=bool)
        for value, _ in top:
            rows = present & (values == value)
            measured = quality_statistics(
                data, rows, seed=seed, evaluation_time=evaluation_time, curves=False
            )
            statistics = measured.statistics
            rules = (own or {}).get(f"{column}={value}", constraints)
            checked = rules is not None and statistics.item_count >= min_rows
            violations: tuple[ModelQualityViolation, ...] = ()
            if checked and rules is not None:
                violations = check_constraints(
                    statistics.metrics,
                    rules,
                    noise=None if robust_z is None else measured.noise,
                    z=robust_z or 0.0,
                    segment=f"{column}={value}",
                )
            out.append(
                SegmentResult(column, value, statistics, checked, violations, measured.noise)
            )
    return tuple(out)


def segments_to_json(segments: tuple[SegmentResult, ...]) -> dict[str, JsonValue]:
    """``segments.json`` (modelmon's own file): each segment's SageMaker-shaped metrics."""
    items: list[JsonValue] = []
    for s in segments:
        key = metrics_key(s.statistics.problem_type)
        items.append(
            {
                "column": s.column,
                "value": s.value,
                "item_count": s.statistics.item_count,
                "constraints_checked": s.checked,
                key: metrics_to_json(s.statistics),
            }
        )
    return {"version": 0.0, "segments": items}


def segment_constraints_to_json(
    constraints: Mapping[str, ModelQualityConstraints],
) -> dict[str, JsonValue]:
    """``segment_constraints.json``: each segment's constraints, SageMaker-shaped."""
    items: list[JsonValue] = []
    for name, rules in constraints.items():
        column, value = name.split("=", 1)
        body = constraints_to_json(rules)
        del body["version"]
        items.append({"column": column, "value": value, **body})
    return {"version": 0.0, "segments": items}


def segment_constraints_from_json(obj: object, *, path: str) -> dict[str, ModelQualityConstraints]:
    """Read a decoded ``segment_constraints.json``; errors name the file and the entry."""
    items = obj.get("segments") if isinstance(obj, Mapping) else None
    if not isinstance(items, list):
        raise BaselineFormatError(
            "not a segment constraints file", path=path, column="segments", expected="an array"
        )
    out = {}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(k), str) for k in ("column", "value")
        ):
            raise BaselineFormatError(
                "a segment needs a column and a value",
                path=path,
                column=f"segments[{i}]",
                expected='{"column": str, "value": str, ...}',
            )
        rules = constraints_from_json(item, path=f"{path} segments[{i}]")
        out[f"{item['column']}={item['value']}"] = rules
    return out
