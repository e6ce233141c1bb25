"""The ModelExplainability runner: global SHAP values on a window, NDCG against the baseline.

The schedule's config holds the ``AttributionMonitor`` parameters; ``model`` (a model file,
``module:function`` or endpoint URL) is required. The baseline's ``analysis.json`` and
``analysis_config.json`` (feature headers, kernel-SHAP background) come from the model version's
ModelExplainability baseline. Feature names are matched to the window's columns as written, then
as ``output.<name>``, then as ``input.<name>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelmon.formats import clarify
from modelmon.formats.clarify import ANALYSIS
from modelmon.monitors.attribution import AttributionBaseline, AttributionMonitor, AttributionResult
from modelmon.services.runners.bias import stored_baseline, window_columns
from modelmon.services.runners.context import Outcome, RunContext
from modelmon.store import MonitorType, Point

__all__ = ["run_model_explainability"]


def run_model_explainability(ctx: RunContext) -> Outcome:
    baseline = _baseline(ctx.baseline_files(MonitorType.MODEL_EXPLAINABILITY), ctx)
    monitor = AttributionMonitor.from_config(ctx.config)
    table = ctx.read_window()
    result = monitor.check(window_columns(table), baseline)
    written = result.save(ctx.report_dir)
    return Outcome(
        has_violations=result.has_violations,
        message=result.exit_message(),
        files={path.name: str(path) for path in written},
        violations=tuple(
            (v.label, v.constraint_check_type, v.description) for v in result.violations
        ),
        points=tuple(_points(result, ctx)),
    )


def _baseline(files: dict[str, Any], ctx: RunContext) -> AttributionBaseline:
    raw, config = stored_baseline(files, ctx, "modelmon attribution baseline")
    return AttributionBaseline(clarify.explainability_from_json(raw, path=ANALYSIS), config)


def _points(result: AttributionResult, ctx: RunContext) -> Iterator[Point]:
    for label, attribution in result.analysis.labels().items():
        for feature, value in attribution.global_shap_values.items():
            labels = ctx.labels(feature=feature, label=label)
            yield Point(f"feature_attribution_{feature}", labels, value, ctx.at)
        if label in result.scores:
            labels = ctx.labels(label=label)
            yield Point("feature_attribution_ndcg", labels, result.scores[label], ctx.at)
