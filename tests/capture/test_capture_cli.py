"""``modelmon capture`` and ``modelmon labels`` as a user runs them: the exit status and the
messages. The set-up and one test run real processes; the rest call the same ``main`` in-process
(a process costs seconds of imports)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelmon.cli import main as cli

SAMPLE = Path(__file__).parents[1] / "formats" / "data" / "capture"


def run(*args: str | Path, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    env.pop("MODELMON_DATA_DIR", None)
    extra = [] if data_dir is None else ["--data-dir", str(data_dir)]
    return subprocess.run(
        [sys.executable, "-m", "modelmon.cli.main", *map(str, args), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SageMaker's sample capture imported, and labels for it (one of them bad)."""
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SAMPLE, root / "s3" / "endpoint")
    result = run("capture", "import", root / "s3", "--model", "churn", data_dir=root / "data")
    assert result.returncode == 0, result.stderr
    assert "Imported 2 of 2 captured records" in result.stdout
    labels = root / "labels.csv"
    labels.write_text("inference_id,label\norder-17,1\nmissing-id,0\n")
    result = run("labels", "import", labels, "--model", "churn", data_dir=root / "data")
    assert result.returncode == 1, result.stderr
    assert "Imported 1 of 2 labels" in result.stdout
    assert (
        f"modelmon: {labels}, line 3: no captured prediction of model 'churn' has inference id "
        "'missing-id'"
    ) in result.stderr
    return root / "data"


def test_show_prints_the_window_as_a_table(data_dir: Path) -> None:
    result = run("capture", "show", "--model", "churn", "--since", "2022-04-18", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:7] == [
        "inference_time",
        "inference_id",
        "version",
        "latency_ms",
        "status",
        "error",
        "label",
    ]
    assert lines[3].split()[2:4] == ["order-17", "AllTraffic"]
    assert lines[3].split()[4:8] == ["-", "-", "-", "1"]  # no latency, status, error; label 1
    assert lines[-1] == "(2 records; --limit to change, --format jsonl for all)"


def main(
    capsys: pytest.CaptureFixture[str], *args: str | Path, data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    extra = [] if data_dir is None else ["--data-dir", str(data_dir)]
    try:
        code = cli.main([*map(str, args), *extra])
    except SystemExit as exit:  # argparse's usage errors
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def test_show_as_json_lines_with_a_limit(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = main(
        capsys,
        "capture", "show", "--model", "churn", "--since", "2022-04-18T00:00:00Z",
        "--limit", "1", "--format", "jsonl", data_dir=data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    row = json.loads(line)
    assert (row["inference_id"], row["label"], row["input._c0"]) == ("order-17", 1, 95)
    assert row["request_data"] == "95,3,210.1,1,0"


def test_show_as_csv(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = main(
        capsys,
        "capture", "show", "--model", "churn", "--since", "2022-04-17", "--until", "2022-04-19",
        "--format", "csv", data_dir=data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith('"inference_id","inference_time"')
    assert len(result.stdout.splitlines()) == 3


def test_stats_counts_records_and_labels_per_hour(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = main(
        capsys, "capture", "stats", "--model", "churn", "--since", "2022-04-18", data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert rows[0][:6] == ["AllTraffic", "2022-04-18", "00:00", "2", "0", "0"]
    assert rows[0][7] == "50.0%"
    assert rows[1][:2] == ["all", "2"]


def test_the_recent_default_window_is_empty(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = main(capsys, "capture", "show", "--model", "churn", data_dir=data_dir)
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "No captured records of 'churn' in the window.",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["capture", "show", "--model", "fraud"], "nothing was captured for model 'fraud'"),
        (["capture", "show", "--model", "churn", "--since", "soon"], "'--since' option must be"),
        (["capture", "import", "nowhere.jsonl", "--model", "churn"], "does not exist"),
        (["labels", "import", "x.csv", "--model", "../churn"], "'model' parameter of"),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    result = main(capsys, *args, data_dir=data_dir)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_data_dir_is_required(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELMON_DATA_DIR", raising=False)
    result = main(capsys, "capture", "show", "--model", "churn")
    assert result.returncode == 2
    assert "--data-dir" in result.stderr
