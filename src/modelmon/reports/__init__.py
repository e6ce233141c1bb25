"""Self-contained HTML reports: one file, inline CSS and SVG, summaries only, no network."""

from __future__ import annotations

from modelmon.reports.data_quality import (
    DataQualityReport,
    data_quality_report,
    execution_report,
    render_html_report,
    write_html_report,
)
from modelmon.reports.distributions import DistributionComparison, compare_features

__all__ = [
    "DataQualityReport",
    "DistributionComparison",
    "compare_features",
    "data_quality_report",
    "execution_report",
    "render_html_report",
    "write_html_report",
]
