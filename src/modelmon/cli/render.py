"""Plain-text summaries the CLI prints (the files are the full record)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from modelmon.formats import sagemaker as sm

if TYPE_CHECKING:  # the monitor pulls in scipy, which commands that only render need not load
    from modelmon.monitors.data_quality import DataQualityResult

__all__ = ["baseline_summary", "check_summary", "table"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.4g}"


def baseline_summary(statistics: sm.Statistics, written: Sequence[Path]) -> str:
    rows = []
    for f in statistics.features:
        if f.numerical is not None:
            n = f.numerical
            present, total = n.num_present, n.num_present + n.num_missing
            detail = (
                f"mean {_number(n.mean)}, std {_number(n.std_dev)}, range [{n.min:g}, {n.max:g}]"
            )
        else:
            s = f.string
            assert s is not None
            present, total = s.num_present, s.num_present + s.num_missing
            top = ", ".join(b.value for b in s.buckets[:3])
            detail = f"{s.distinct_count:.0f} distinct; top: {top}"
        completeness = present / total if total else math.nan
        rows.append([f.name, f.inferred_type, f"{completeness:.2%}", detail])
    files = ", ".join(str(p) for p in written)
    return (
        f"Baseline of {statistics.item_count} rows, {len(statistics.features)} features.\n"
        + table(["feature", "type", "complete", "summary"], rows)
        + f"\nWrote {files}"
    )


def check_summary(result: DataQualityResult, written: Sequence[Path]) -> str:
    lines = [
        f"Checked {result.statistics.item_count} rows of {result.source} against a baseline "
        f"of {result.baseline_item_count} rows."
    ]
    if result.drift:
        rows = [
            [
                f.name,
                f.kind,
                "yes" if f.drift else ("no" if f.drift is False else "n/a"),
                f.rule if f.drift is not None else f"not evaluated: {f.reason}",
            ]
            for f in result.drift
        ]
        lines.append(table(["feature", "kind", "drift", "rule"], rows))
    if result.violations:
        lines.append(f"\n{len(result.violations)} violations:")
        rows = [[v.feature_name, v.constraint_check_type, v.description] for v in result.violations]
        lines.append(table(["feature", "check", "description"], rows))
    lines.append("\n" + result.exit_message())
    lines.append("Wrote " + ", ".join(str(p) for p in written))
    return "\n".join(lines)
