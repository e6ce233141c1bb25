"""The CLI against a real server: `modelmon serve` as a process, and the client commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelmon.cli.main import main
from modelmon.server.testing import free_port
from modelmon.store import MonitorType, open_store


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith(("{", "[")) else out), err


def test_client_commands_register_schedule_and_query(
    base_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, clock: Any
) -> None:
    server = ("--server", base_url)
    code, model, _ = _run(
        capsys, "models", "create", "churn", "--problem-type", "BinaryClassification", *server
    )
    assert (code, model["name"]) == (0, "churn")
    assert _run(capsys, "models", "add-version", "churn", "v1", *server)[0] == 0
    dataset = tmp_path / "train.csv"
    dataset.write_text("tenure,plan\n3,basic\n10,pro\n7,basic\n")
    code, baseline, _ = _run(
        capsys, "baselines", "compute", "churn", "v1", "--dataset", str(dataset), *server
    )
    assert baseline["files"] == ["constraints.json", "statistics.json"]
    code, schedule, _ = _run(
        capsys,
        "schedules",
        "create",
        "churn-hourly",
        "--model",
        "churn",
        "--version",
        "v1",
        "--start-offset=-PT2H",
        *server,
    )
    assert (code, schedule["start_offset_seconds"]) == (0, -7200)
    records = tmp_path / "records.jsonl"
    records.write_text(
        "\n".join(json.dumps({"input": {"tenure": i, "plan": "basic"}}) for i in range(5))
    )
    code, sent, _ = _run(
        capsys, "ingest", "captures", str(records), "--model", "churn", "--version", "v1", *server
    )
    assert sent["accepted"] == 5
    code, listed, _ = _run(capsys, "schedules", "list", "--model", "churn", *server)
    assert [s["name"] for s in listed] == ["churn-hourly"]

    code, _, err = _run(capsys, "models", "show", "nope", *server)
    assert code == 2
    assert "404" in err
    code, _, err = _run(
        capsys, "schedules", "create", "x", "--model", "churn", "--version", "v1",
        "--cron", "often", *server,
    )  # fmt: skip
    assert code == 2
    assert "cron" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": 1}\n{oops\n')
    code, _, err = _run(capsys, "ingest", "captures", str(bad), "--model", "churn", *server)
    assert code == 2
    assert "line 2" in err


def test_an_unreachable_server_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = _run(capsys, "models", "list", "--server", url)
    assert code == 2
    assert "cannot be reached" in err


def test_serve_starts_catches_up_and_stops_cleanly(
    tmp_path: Path, baseline_files: dict[str, Any]
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # A schedule made three hours before the server starts: those runs were missed.
    created = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    with open_store(f"sqlite:///{data_dir / 'modelmon.db'}", migrate=True) as store:
        store.models.create_model("credit", now=created)
        store.models.create_version("credit", "v1", now=created)
        store.models.set_baseline(
            "credit", "v1", MonitorType.DATA_QUALITY, baseline_files, now=created
        )
        store.schedules.create_schedule(
            "hourly", model="credit", version="v1", monitor_type=MonitorType.DATA_QUALITY,
            cron="cron(0 * ? * * *)", now=created,
        )  # fmt: skip
    command = [
        sys.executable, "-m", "modelmon.cli.main", "serve", "--port", str(port),
        "--data-dir", str(data_dir), "--tick-interval", "0.2",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning:modelmon"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        health = _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert health["status"] == "ok"
        missed = httpx.get(f"http://127.0.0.1:{port}/api/v1/executions").json()
        assert len(missed) == 3
        assert {e["failure_reason"] for e in missed} == {"no captured data in window"}
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells how it ended.
    assert process.returncode in (0, -signal.SIGTERM), err.decode()
    assert "Traceback" not in err.decode()
    assert f"serving on http://127.0.0.1:{port}" in out.decode()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            answer = httpx.get(f"{url}/healthz", timeout=1)
            if answer.json()["scheduler"]["ticks"] >= 1:
                return answer.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # waiting for a separate process to come up, not for time to pass
    raise AssertionError("the server did not become healthy")
