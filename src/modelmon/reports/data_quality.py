"""The data-quality HTML report: one self-contained file per check or per server execution.

The report is a function of SageMaker's files (statistics, baseline statistics, constraints,
violations) plus modelmon's drift report, so it reads the same whether the check ran in the CLI,
on the server, or in SageMaker itself. It embeds summaries only (counts, moments, binned
shares), never rows, so it stays small and safe to mail around.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from modelmon.formats import sagemaker as sm
from modelmon.formats.atomic import atomic_file
from modelmon.monitors.data_quality import DataQualityBaseline, DataQualityResult
from modelmon.reports.distributions import DistributionComparison, compare_features
from modelmon.reports.page import html_page, table
from modelmon.reports.svg import BarSeries, grouped_bars

__all__ = [
    "MAX_FEATURE_SECTIONS",
    "DataQualityReport",
    "data_quality_report",
    "execution_report",
    "render_html_report",
    "write_html_report",
]

# Beyond this many features the per-feature charts are left out (the tables keep them all),
# so a report of a very wide dataset stays a few megabytes at most.
MAX_FEATURE_SECTIONS = 200

_STATISTICS, _CONSTRAINTS = "statistics.json", "constraints.json"
_VIOLATIONS, _DRIFT = "constraint_violations.json", "drift_report.json"


@dataclass(frozen=True)
class DataQualityReport:
    """What a data-quality report shows. ``details`` are (label, value) lines for the header
    (source, model, window, status...)."""

    title: str
    statistics: sm.Statistics | None
    baseline_statistics: sm.Statistics | None
    violations: tuple[sm.Violation, ...]
    drift_report: Mapping[str, Any] | None = None
    constraints: sm.Constraints | None = None
    details: tuple[tuple[str, str], ...] = ()


def data_quality_report(
    result: DataQualityResult,
    baseline: DataQualityBaseline,
    *,
    title: str | None = None,
    details: Sequence[tuple[str, str]] = (),
) -> DataQualityReport:
    """The report of a ``DataQualityMonitor.check`` result against its baseline."""
    return DataQualityReport(
        title=title or f"Data quality: {result.source}",
        statistics=result.statistics,
        baseline_statistics=baseline.statistics,
        violations=tuple(result.violations),
        drift_report=result.drift_report(),
        constraints=baseline.constraints,
        details=(("Dataset", result.source), *details),
    )


def execution_report(
    output_files: Mapping[str, Any],
    baseline_files: Mapping[str, Any],
    *,
    title: str,
    details: Sequence[tuple[str, str]] = (),
) -> DataQualityReport:
    """The report of a stored execution: each file is its decoded JSON or a path to it (as
    the store keeps them). Files that are missing (a failed run) are left out of the report."""
    statistics = _read(output_files, _STATISTICS, sm.statistics_from_json)
    violations = _read(output_files, _VIOLATIONS, sm.violations_from_json)
    drift = _read(output_files, _DRIFT, lambda obj, path: obj if isinstance(obj, dict) else None)
    return DataQualityReport(
        title=title,
        statistics=statistics,
        baseline_statistics=_read(baseline_files, _STATISTICS, sm.statistics_from_json),
        violations=() if violations is None else violations.violations,
        drift_report=drift,
        constraints=_read(baseline_files, _CONSTRAINTS, sm.constraints_from_json),
        details=tuple(details),
    )


def _read(files: Mapping[str, Any], name: str, parse: Any) -> Any:
    if name not in files:
        return None
    stored = files[name]
    if isinstance(stored, str):
        try:
            text = Path(stored).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return parse(json.loads(text), path=stored)
    return parse(stored, path=name)


def render_html_report(report: DataQualityReport, *, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML document (inline CSS and SVG, no script, no network)."""
    drift = _drift_rows(report.drift_report)
    body = [_header(report, drift, generated_at), _violations(report.violations)]
    body.append(_drift_table(drift))
    body.append(_multivariate(report.drift_report))
    body.append(_features(report, drift))
    return html_page(report.title, "".join(body))


def write_html_report(
    path: str | os.PathLike[str],
    report: DataQualityReport,
    *,
    generated_at: datetime | None = None,
) -> Path:
    """Write the report atomically; returns its path."""
    target = Path(path)
    text = render_html_report(report, generated_at=generated_at)
    with atomic_file(target) as sink:
        sink.write(text.encode("utf-8"))
    return target


def _drift_rows(drift_report: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    if not drift_report:
        return {}
    features = drift_report.get("features")
    if not isinstance(features, list):
        return {}
    return {f["name"]: f for f in features if isinstance(f, dict) and "name" in f}


def _header(
    report: DataQualityReport, drift: Mapping[str, Mapping[str, Any]], at: datetime | None
) -> str:
    drifted = [name for name, row in drift.items() if row.get("drift")]
    count = len(report.violations)
    verdict = (
        f'<p class="verdict bad">{count} violation{"s" if count != 1 else ""}</p>'
        if count
        else '<p class="verdict ok">No violations</p>'
    )
    facts = list(report.details)
    if report.baseline_statistics is not None:
        facts.append(("Baseline rows", f"{report.baseline_statistics.item_count:,}"))
    if report.statistics is not None:
        facts.append(("Current rows", f"{report.statistics.item_count:,}"))
        facts.append(("Features", str(len(report.statistics.features))))
    facts.append(("Drifted features", ", ".join(drifted) or "none"))
    if at is not None:
        facts.append(("Generated", at.isoformat(timespec="seconds")))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    return (
        f"<header><h1>{escape(report.title)}</h1>{verdict}<dl class='facts'>{items}</dl></header>"
    )


def _violations(violations: Sequence[sm.Violation]) -> str:
    if not violations:
        return "<section><h2>Violations</h2><p>None: every constraint held.</p></section>"
    rows = [
        [_feature_link(v.feature_name), escape(v.constraint_check_type), escape(v.description)]
        for v in violations
    ]
    return (
        "<section><h2>Violations</h2>"
        + table(["Feature", "Check", "Description"], rows, raw=True)
        + "</section>"
    )


def _drift_table(drift: Mapping[str, Mapping[str, Any]]) -> str:
    if not drift:
        return ""
    rows = []
    for name, row in drift.items():
        metrics = row.get("metrics") or {}
        verdict = row.get("drift")
        badge = (
            '<span class="badge bad">drift</span>'
            if verdict
            else '<span class="badge ok">ok</span>'
            if verdict is False
            else '<span class="badge muted">not evaluated</span>'
        )
        rows.append(
            [
                _feature_link(name),
                escape(str(row.get("kind", ""))),
                escape(str(row.get("method") or "")),
                _num(row.get("statistic")),
                _num(row.get("threshold")),
                badge,
                _num(metrics.get("psi")),
                _num(metrics.get("jensen_shannon")),
                _num(metrics.get("ks_pvalue")),
                escape(str(row.get("reason") or "")),
            ]
        )
    headers = [
        "Feature",
        "Kind",
        "Method",
        "Statistic",
        "Threshold",
        "Verdict",
        "PSI",
        "Jensen–Shannon",
        "KS p-value",
        "Note",
    ]
    return "<section><h2>Drift by feature</h2>" + table(headers, rows, raw=True) + "</section>"


def _multivariate(drift_report: Mapping[str, Any] | None) -> str:
    found = (drift_report or {}).get("multivariate") or []
    if not found:
        return ""
    rows = [
        [
            escape(str(m.get("method"))),
            _num(m.get("statistic")),
            _num(m.get("threshold")),
            escape("drift" if m.get("drift") else "ok" if m.get("drift") is False else "—"),
            escape(str(m.get("rule") or m.get("reason") or "")),
        ]
        for m in found
        if isinstance(m, dict)
    ]
    headers = ["Method", "Statistic", "Threshold", "Verdict", "Rule"]
    return "<section><h2>Multivariate drift</h2>" + table(headers, rows, raw=True) + "</section>"


def _features(report: DataQualityReport, drift: Mapping[str, Mapping[str, Any]]) -> str:
    current = {f.name: f for f in report.statistics.features} if report.statistics else {}
    baseline = (
        {f.name: f for f in report.baseline_statistics.features}
        if report.baseline_statistics
        else {}
    )
    names = list(dict.fromkeys([*current, *baseline]))
    flagged = {v.feature_name for v in report.violations} | {
        n for n, row in drift.items() if row.get("drift")
    }
    # Features with a finding first, so a truncated report still shows what matters.
    names.sort(key=lambda n: n not in flagged)
    shown = names[:MAX_FEATURE_SECTIONS]
    sections = [
        _feature_section(compare_features(baseline.get(n), current.get(n)), drift.get(n))
        for n in shown
    ]
    note = (
        f"<p>Charts of {len(names) - len(shown)} more features are left out of this report.</p>"
        if len(names) > len(shown)
        else ""
    )
    return "<section><h2>Distributions</h2>" + "".join(sections) + note + "</section>"


def _feature_section(comparison: DistributionComparison, drift: Mapping[str, Any] | None) -> str:
    name = comparison.feature
    rule = escape(str((drift or {}).get("rule") or ""))
    series = [
        BarSeries("baseline", comparison.baseline, "baseline"),
        BarSeries("current", comparison.current, "current"),
    ]
    labels = comparison.labels
    summary = _summary_text(comparison)
    chart = grouped_bars(
        labels,
        series,
        title=f"{name}: baseline vs current",
        summary=summary,
        axis_labels=comparison.axis_labels,
    )
    rows = [[label, *(_pct(s.values, i) for s in series)] for i, label in enumerate(labels)]
    stats_keys = list(dict.fromkeys([*comparison.baseline_summary, *comparison.current_summary]))
    stats_rows = [
        [
            key,
            _plain(comparison.baseline_summary.get(key)),
            _plain(comparison.current_summary.get(key)),
        ]
        for key in stats_keys
    ]
    first_column = "Bin" if comparison.kind == "numeric" else "Category"
    return (
        f'<article class="feature" id="{_anchor(name)}"><h3>{escape(name)}</h3>'
        f'<p class="rule">{rule}</p>'
        f'<div class="feature-body"><div class="chart-box">{chart}</div>'
        f"{table(['', 'Baseline', 'Current'], stats_rows)}</div>"
        f"<details><summary>Shares as a table</summary>"
        f"{table([first_column, 'Baseline', 'Current'], rows)}"
        "</details></article>"
    )


def _summary_text(comparison: DistributionComparison) -> str:
    def top(values: Sequence[float]) -> str:
        if not values:
            return "absent"
        i = max(range(len(values)), key=lambda j: values[j])
        return f"most common {comparison.labels[i]} ({values[i] * 100:.1f}%)"

    return (
        f"Distribution of {comparison.feature}: baseline {top(comparison.baseline)}; "
        f"current {top(comparison.current)}."
    )


def _feature_link(name: str) -> str:
    return f'<a href="#{_anchor(name)}">{escape(name)}</a>'


def _anchor(name: str) -> str:
    return "feature-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _pct(values: Sequence[float], i: int) -> str:
    return f"{values[i] * 100:.1f}%" if i < len(values) else "—"


def _num(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:.4g}"


def _plain(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
