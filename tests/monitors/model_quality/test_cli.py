"""``modelmon model-quality baseline|check`` as main() runs it: exit codes, messages, files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

Cli = Callable[..., tuple[int, str, str]]
Scored = Callable[..., pa.Table]
ATTRIBUTES = (
    "--problem-type",
    "BinaryClassification",
    "--inference-attribute",
    "prediction",
    "--probability-attribute",
    "score",
    "--probability-threshold",
    "0.3",
    "--ground-truth-attribute",
    "label",
)


@pytest.fixture
def files(tmp_path: Path, make_scored: Scored) -> Path:
    pq.write_table(make_scored(4_000, seed=1), tmp_path / "validation.parquet")
    pq.write_table(make_scored(1_500, seed=2), tmp_path / "healthy.parquet")
    pq.write_table(make_scored(1_500, seed=3, drifts=["unit_change"]), tmp_path / "broken.parquet")
    return tmp_path


def test_baseline_then_check_exit_0_and_1(cli: Cli, files: Path) -> None:
    code, out, err = cli(
        "model-quality",
        "baseline",
        "--dataset",
        files / "validation.parquet",
        *ATTRIBUTES,
        "--segment",
        "region",
        "--output",
        files / "baseline",
    )
    assert code == 0, err
    assert "BinaryClassification baseline of 4000 labelled rows" in out
    assert sorted(p.name for p in (files / "baseline").iterdir()) == [
        "calibration.json",
        "constraints.json",
        "segment_constraints.json",
        "statistics.json",
    ]
    check = ("model-quality", "check", "--baseline", files / "baseline", *ATTRIBUTES[2:])
    code, out, err = cli(*check, "--dataset", files / "healthy.parquet", "--output", files / "ok")
    assert code == 0, out + err
    assert "Completed: Job completed successfully with no violations." in out
    code, out, err = cli(
        *check,
        "--segment",
        "region",
        "--dataset",
        files / "broken.parquet",
        "--output",
        files / "bad",
    )
    assert code == 1, out + err
    assert "CompletedWithViolations" in out
    assert "warning: calibration drift" in out
    violations = json.loads((files / "bad" / "constraint_violations.json").read_text())
    assert {v["metric_name"] for v in violations["violations"]} >= {"accuracy", "precision"}
    assert (files / "bad" / "segments.json").exists()


def test_bad_input_exits_2_with_a_message(cli: Cli, files: Path, make_scored: Scored) -> None:
    code, _, err = cli(
        "model-quality",
        "baseline",
        "--dataset",
        files / "validation.parquet",
        *ATTRIBUTES[:-1],
        "outcome",
        "--output",
        files / "baseline",
    )
    assert code == 2
    assert "column 'outcome': the ground-truth column is missing" in err
    table = make_scored(50, seed=4)
    scores = table["score"].to_pylist()
    scores[2] = -0.1
    pacsv.write_csv(
        table.set_column(table.column_names.index("score"), "score", pa.array(scores)),
        files / "bad.csv",
    )
    code, _, err = cli(
        "model-quality",
        "baseline",
        "--dataset",
        files / "bad.csv",
        *ATTRIBUTES,
        "--output",
        files / "b",
    )
    assert code == 2
    assert "bad.csv, line 4, column 'score': a probability is outside [0, 1] in row 3" in err
    code, _, err = cli(
        "model-quality",
        "check",
        "--dataset",
        files / "healthy.parquet",
        "--baseline",
        files / "nowhere",
        "--output",
        files / "c",
    )
    assert code == 2
    assert "does not exist" in err
    assert not (files / "c").exists()


def test_check_without_labels_estimates_and_exits_0(
    cli: Cli, files: Path, make_scored: Scored
) -> None:
    code, _, err = cli(
        "model-quality",
        "baseline",
        "--dataset",
        files / "validation.parquet",
        *ATTRIBUTES,
        "--output",
        files / "baseline",
    )
    assert code == 0, err
    table = make_scored(800, seed=5)
    unlabelled = table.set_column(
        table.column_names.index("label"), "label", pa.nulls(800, pa.int64())
    )
    pq.write_table(unlabelled, files / "today.parquet")
    code, out, err = cli(
        "model-quality",
        "check",
        "--dataset",
        files / "today.parquet",
        "--baseline",
        files / "baseline",
        "--inference-attribute",
        "prediction",
        "--probability-attribute",
        "score",
        "--output",
        files / "today",
    )
    assert code == 0, err
    assert "no labels in window yet" in out
    assert "Estimated performance (CBPE)" in out
    estimate = json.loads((files / "today" / "estimated_performance.json").read_text())
    assert estimate["dataset"] == {"item_count": 800, "labelled_count": 0}
    accuracy = estimate["metrics"]["accuracy"]
    assert accuracy["lower"] <= accuracy["value"] <= accuracy["upper"]
