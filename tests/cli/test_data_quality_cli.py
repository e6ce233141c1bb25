"""The CLI as a user runs it: a real process, its exit status, its messages and its files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from modelmon.examples import generate_credit

MODELMON = [sys.executable, "-m", "modelmon.cli.main"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [*MODELMON, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    pq.write_table(generate_credit(10_000, seed=1), root / "train.parquet")
    pacsv.write_csv(generate_credit(2_000, seed=2), root / "healthy.csv")
    pacsv.write_csv(
        generate_credit(2_000, seed=3, drifts=["income_shift", "new_region"]), root / "broken.csv"
    )
    result = run(
        "data-quality",
        "baseline",
        "--dataset",
        root / "train.parquet",
        "--output",
        root / "baseline",
    )
    assert result.returncode == 0, result.stderr
    return root


def test_baseline_writes_both_files(data: Path) -> None:
    statistics = json.loads((data / "baseline" / "statistics.json").read_text())
    constraints = json.loads((data / "baseline" / "constraints.json").read_text())
    assert statistics["version"] == 0.0
    assert statistics["dataset"]["item_count"] == 10_000
    assert (
        constraints["monitoring_config"]["distribution_constraints"]["comparison_method"]
        == "Robust"
    )


def test_check_exit_0_without_violations(data: Path, tmp_path: Path) -> None:
    result = run(
        "data-quality",
        "check",
        "--dataset",
        data / "healthy.csv",
        "--baseline",
        data / "baseline",
        "--output",
        tmp_path / "report",
    )
    assert result.returncode == 0, result.stderr
    assert "Completed: Job completed successfully with no violations." in result.stdout
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    assert violations == {"violations": []}


def test_check_writes_a_self_contained_html_report(data: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = run(
        "data-quality", "check", "--dataset", data / "broken.csv", "--baseline",
        data / "baseline", "--output", tmp_path / "out", "--report", report,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    page = report.read_text()
    assert "income" in page
    assert "<svg" in page
    # Nothing is fetched when it opens (the SVG namespace is a name, not a download).
    assert re.search(r"""(src|href)=["']?(https?:)?//""", page) is None
    assert "@import" not in page
    assert report.stat().st_size < 500_000
    assert str(report) in result.stdout


def test_check_exit_1_with_violations(data: Path, tmp_path: Path) -> None:
    result = run(
        "data-quality",
        "check",
        "--dataset",
        data / "broken.csv",
        "--statistics",
        data / "baseline" / "statistics.json",
        "--constraints",
        data / "baseline" / "constraints.json",
        "--output",
        tmp_path / "report",
    )
    assert result.returncode == 1, result.stderr
    assert "CompletedWithViolations" in result.stdout
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    found = {(v["feature_name"], v["constraint_check_type"]) for v in violations["violations"]}
    assert found == {
        ("income", "baseline_drift_check"),
        ("region", "baseline_drift_check"),
        ("region", "categorical_values_check"),
    }
    report = json.loads((tmp_path / "report" / "drift_report.json").read_text())
    assert sorted(report["summary"]["drifted"]) == ["income", "region"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope.csv"], "nope.csv"),
        (["--dataset", "{data}/train.parquet", "--baseline", "{data}/missing"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_output(
    data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.format(data=data) for a in args]
    if "--baseline" not in args:
        args += ["--baseline", str(data / "baseline")]
    result = run("data-quality", "check", *args, "--output", tmp_path / "out")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_malformed_baseline_json_names_file_and_line(data: Path, tmp_path: Path) -> None:
    broken = tmp_path / "baseline"
    broken.mkdir()
    (broken / "statistics.json").write_text((data / "baseline" / "statistics.json").read_text())
    (broken / "constraints.json").write_text('{"version": 0.0,\n  "features": [\n}')
    result = run(
        "data-quality",
        "check",
        "--dataset",
        data / "healthy.csv",
        "--baseline",
        broken,
        "--output",
        tmp_path / "out",
    )
    assert result.returncode == 2
    assert "constraints.json" in result.stderr
    assert "line 3" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(data: Path, tmp_path: Path) -> None:
    result = run("data-quality", "check", "--dataset", data / "healthy.csv", "--output", tmp_path)
    assert result.returncode == 2
    assert "give --baseline DIR" in result.stderr
    result = run("data-quality", "frobnicate")
    assert result.returncode == 2


def test_mixed_type_baseline_exits_2_naming_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("a,b\n1,x\n2,y\n3,z\noops,w\n5,v\n")
    result = run("data-quality", "baseline", "--dataset", path, "--output", tmp_path / "out")
    assert result.returncode == 2
    assert "train.csv, line 5, column 'a'" in result.stderr
    assert "'oops'" in result.stderr
    assert not (tmp_path / "out").exists()
