"""The model-quality HTML report: one file, no network, the numbers of the check it reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.cli.main import main
from modelmon.monitors.model_quality import ModelQualityMonitor
from modelmon.reports.model_quality import render_model_quality_report


def _scored(rows: int, seed: int, noise: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, rows)
    score = np.clip(label * 0.6 + rng.normal(0.2, noise, rows), 0, 1)
    return pa.table({"score": score, "label": label})


def test_a_degraded_window_reports_its_violations_against_the_baseline() -> None:
    monitor = ModelQualityMonitor("BinaryClassification", probability_attribute="score")
    baseline = monitor.baseline(_scored(4_000, seed=1, noise=0.2))
    result = monitor.check(_scored(2_000, seed=2, noise=0.6), baseline)
    assert result.has_violations
    page = render_model_quality_report(
        result, baseline, generated_at=datetime(2026, 11, 23, tzinfo=UTC)
    )
    assert "default-src 'none'" in page
    assert page.count('class="badge bad"') == len(result.violations)
    assert "ROC curve" in page
    assert "Confusion matrix" in page
    auc = result.statistics.metrics["auc"].value if result.statistics else None
    assert auc is not None
    assert f"{auc:.4g}" in page
    assert len(page) < 200_000


def test_the_cli_check_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pq.write_table(_scored(3_000, seed=1, noise=0.2), tmp_path / "validation.parquet")
    pq.write_table(_scored(1_000, seed=2, noise=0.6), tmp_path / "window.parquet")
    common = ["--probability-attribute", "score", "--ground-truth-attribute", "label"]
    assert main(
        ["model-quality", "baseline", "--dataset", str(tmp_path / "validation.parquet"),
         "--problem-type", "BinaryClassification", *common, "--output", str(tmp_path / "b")]
    ) == 0  # fmt: skip
    report = tmp_path / "quality.html"
    code = main(
        ["model-quality", "check", "--dataset", str(tmp_path / "window.parquet"),
         "--baseline", str(tmp_path / "b"), *common, "--output", str(tmp_path / "out"),
         "--report", str(report)]
    )  # fmt: skip
    assert code == 1
    assert "ROC curve" in report.read_text()
    assert str(report) in capsys.readouterr().out
