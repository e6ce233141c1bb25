"""A self-contained HTML report of a model-quality check: metrics against the baseline and its
constraints, the estimate (before labels), segments, the confusion matrix and the ROC curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from modelmon.formats import sagemaker_model_quality as mq
from modelmon.monitors.model_quality import ModelQualityBaseline, ModelQualityResult
from modelmon.reports.page import html_page, table

__all__ = ["render_model_quality_report"]

_OPERATORS = {
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": "≥",
}


def render_model_quality_report(
    result: ModelQualityResult,
    baseline: ModelQualityBaseline,
    *,
    generated_at: datetime,
    title: str = "Model quality check",
) -> str:
    verdict = result.exit_message()
    facts = [
        ("Data", result.source),
        ("Problem type", baseline.problem_type),
        ("Rows", f"{result.item_count} ({result.labelled_count} with a label)"),
        ("Generated", generated_at.isoformat()),
    ]
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="verdict {"bad" if result.has_violations else "ok"}">{escape(verdict)}</p>'
        '<dl class="facts">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
        + "</dl>"
        + _metrics(result, baseline)
        + _estimate(result)
        + _segments(result)
        + _confusion(result.statistics)
        + _roc(baseline.statistics, result.statistics)
    )
    return html_page(title, body)


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.4g}"


def _metrics(result: ModelQualityResult, baseline: ModelQualityBaseline) -> str:
    if result.statistics is None:
        return "<h2>Metrics</h2><p>No row has its label yet: see the estimate below.</p>"
    violated = {v.metric_name for v in result.violations}
    rows = []
    for name, current in result.statistics.metrics.items():
        before = baseline.statistics.metrics.get(name)
        constraint = baseline.constraints.constraints.get(name)
        rule = (
            f"{_OPERATORS[constraint.comparison_operator]} {_number(constraint.threshold)} fails"
            if constraint is not None
            else ""
        )
        badge = (
            '<span class="badge bad">violation</span>'
            if name in violated
            else ('<span class="badge ok">ok</span>' if constraint else "")
        )
        spread = (
            f" ± {_number(current.standard_deviation)}"
            if not math.isnan(current.standard_deviation)
            else ""
        )
        rows.append(
            (
                escape(name),
                _number(None if before is None else before.value),
                _number(current.value) + spread,
                escape(rule),
                badge,
            )
        )
    return "<h2>Metrics</h2>" + table(
        ["Metric", "Baseline", "Current", "Constraint", "Verdict"], rows, raw=True
    )


def _estimate(result: ModelQualityResult) -> str:
    estimate = result.estimate
    if estimate is None or not estimate.metrics:
        return ""
    level = f"{estimate.confidence_level:.0%}"
    rows = [
        (
            name,
            _number(m.value),
            f"{_number(m.lower)} – {_number(m.upper)}",
            _number(m.realised),
        )
        for name, m in estimate.metrics.items()
    ]
    warnings = "".join(f"<li>{escape(w)}</li>" for w in estimate.warnings)
    return (
        f"<h2>Estimated performance ({escape(estimate.method)})</h2>"
        + table(["Metric", "Estimate", f"{level} interval", "Realised"], rows)
        + (f"<ul>{warnings}</ul>" if warnings else "")
    )


def _segments(result: ModelQualityResult) -> str:
    if not result.segments:
        return ""
    rows = [
        (
            segment.name,
            "yes" if segment.checked else "too few rows",
            ", ".join(v.metric_name for v in segment.violations) or "none",
        )
        for segment in result.segments
    ]
    return "<h2>Segments</h2>" + table(["Segment", "Checked", "Violations"], rows)


def _confusion(statistics: mq.ModelQualityStatistics | None) -> str:
    if statistics is None or not statistics.confusion_matrix:
        return ""
    matrix = statistics.confusion_matrix
    predicted = sorted({p for row in matrix.values() for p in row})
    rows = [
        (actual, *(str(matrix[actual].get(p, 0)) for p in predicted)) for actual in sorted(matrix)
    ]
    return "<h2>Confusion matrix (actual → predicted)</h2>" + table(
        ["actual \\ predicted", *predicted], rows
    )


def _roc(baseline: mq.ModelQualityStatistics, current: mq.ModelQualityStatistics | None) -> str:
    curves = [("baseline", baseline.roc_curve, "#8a94a6")]
    if current is not None:
        curves.append(("current", current.roc_curve, "#2563eb"))
    drawn = [(name, curve, color) for name, curve, color in curves if curve]
    if not drawn:
        return ""
    size = 240
    lines = "".join(
        f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{_points(curve, size)}">'
        f"<title>{name}</title></polyline>"
        for name, curve, color in drawn
        if curve is not None
    )
    legend = ", ".join(f"{name} ({color})" for name, _, color in drawn)
    return (
        "<h2>ROC curve</h2>"
        f'<svg class="chart" role="img" viewBox="-30 -10 {size + 40} {size + 40}" '
        f'style="max-width:320px" aria-label="ROC curves: {escape(legend)}">'
        f'<rect x="0" y="0" width="{size}" height="{size}" fill="none" stroke="#d8dde5"/>'
        f'<line x1="0" y1="{size}" x2="{size}" y2="0" stroke="#d8dde5" stroke-dasharray="4"/>'
        f"{lines}"
        f'<text class="axis" x="{size / 2}" y="{size + 20}" text-anchor="middle">'
        "false positive rate</text></svg>"
        f"<p>{escape(legend)}</p>"
    )


def _points(curve: tuple[Sequence[float], Sequence[float]], size: int) -> str:
    # At most ~200 vertices: the report stays small whatever the curve's resolution.
    fpr, tpr = curve
    step = max(1, len(fpr) // 200)
    chosen = list(range(0, len(fpr), step))
    if chosen and chosen[-1] != len(fpr) - 1:
        chosen.append(len(fpr) - 1)
    return " ".join(f"{fpr[i] * size:.1f},{(1 - tpr[i]) * size:.1f}" for i in chosen)
