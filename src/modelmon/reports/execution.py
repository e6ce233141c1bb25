"""A self-contained HTML report of any execution: what ran, what it found, the numbers it wrote.

Data-quality executions get their richer report (``data_quality``); every other monitor type gets
this one, built from the execution's record, violations and metric points — summaries only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from modelmon.reports.page import html_page, table
from modelmon.store import Execution, ExecutionStatus, Point, Schedule, Violation

__all__ = ["render_execution_report"]


def render_execution_report(
    execution: Execution,
    schedule: Schedule,
    violations: Sequence[Violation],
    points: Sequence[Point],
    *,
    generated_at: datetime,
) -> str:
    title = f"{schedule.model} · {schedule.name} · execution {execution.id}"
    ok = execution.status is ExecutionStatus.COMPLETED
    verdict = execution.exit_message or execution.status.value
    facts = [
        ("Model", f"{schedule.model} (version {schedule.version})"),
        ("Monitor", schedule.monitor_type.value),
        ("Schedule", schedule.name),
        ("Window", f"{execution.window_start.isoformat()} – {execution.window_end.isoformat()}"),
        ("Status", execution.status.value),
        ("Generated", generated_at.isoformat()),
    ]
    if execution.failure_reason:
        facts.append(("Failure reason", execution.failure_reason))
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="verdict {"ok" if ok else "bad"}">{escape(verdict)}</p>'
        '<dl class="facts">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        + "</dl>"
        + "<h2>Violations</h2>"
        + (
            table(
                ["Feature or metric", "Check", "Description"],
                [(v.feature, v.check_type, v.description) for v in violations],
            )
            if violations
            else "<p>None.</p>"
        )
        + "<h2>Metric points</h2>"
        + (
            table(["Metric", "Labels", "Value"], [_row(p) for p in points])
            if points
            else "<p>None.</p>"
        )
        + "<h2>Output files</h2>"
        + (
            "<ul>"
            + "".join(f"<li>{escape(n)}</li>" for n in sorted(execution.output_files))
            + "</ul>"
        )
    )
    return html_page(title, body)


def _row(point: Point) -> tuple[str, str, str]:
    shown = {k: v for k, v in point.labels.items() if k not in ("model", "version", "schedule")}
    labels = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
    value = "not a number" if math.isnan(point.value) else f"{point.value:.6g}"
    return point.name, labels, value
