"""The demo's story happens: every problem it stages is found and alerted, the healthy day is quiet.

One run of the whole demo (a real proxy, model servers, server and webhook on 127.0.0.1), then
assertions on what it found, as ``modelmon demo --no-serve`` would print it.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from modelmon.demo.run import DAY_ONE, DemoResult, run_demo


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, Path]:
    directory = tmp_path_factory.mktemp("demo") / "modelmon-demo"
    return run_demo(directory, port=None), directory


def _firing(result: DemoResult) -> list[dict[str, object]]:
    return [
        alert
        for notice in result.notifications
        for alert in notice.get("alerts", [])
        if alert["event"] == "firing"
    ]


@pytest.mark.slow
def test_the_healthy_day_is_quiet(story: tuple[DemoResult, Path]) -> None:
    result, _ = story
    assert result.request_errors == 0
    for monitor in ("DataQuality", "ModelQuality", "ModelBias", "ServiceHealth"):
        assert result.violations_on(1, monitor) == set(), monitor
    day_two = DAY_ONE + timedelta(days=1)
    early = [n for n in result.notifications if datetime.fromisoformat(n["window_end"]) <= day_two]
    assert early == []


@pytest.mark.slow
def test_each_staged_problem_is_found(story: tuple[DemoResult, Path]) -> None:
    result, _ = story
    assert result.violations_on(2, "DataQuality") == {"income"}
    assert {"loan_amount", "credit_score"} <= result.violations_on(3, "DataQuality")
    assert "auc" in result.violations_on(3, "ModelQuality")
    assert result.violations_on(4, "ServiceHealth")
    assert result.violations_on(4, "DataQuality") == set()
    compared = [e for e in result.executions if e["monitor_type"] == "PredictionDrift"]
    assert compared
    assert compared[0]["status"] == "Completed"  # v2 mostly agrees with v1


@pytest.mark.slow
def test_alerts_are_grouped_and_remediation_ran(story: tuple[DemoResult, Path]) -> None:
    result, directory = story
    metrics = {str(alert["metric"]) for alert in _firing(result)}
    assert {
        "feature_baseline_drift_income",
        "feature_baseline_drift_loan_amount",
        "feature_non_null_credit_score",
        "model_quality_auc",
        "service_latency_p90_ms",
    } <= metrics
    # Many features drifting in one window make one message, not one each.
    assert len(result.notifications) < len(_firing(result)) * 2
    log = (directory / "remediation.log").read_text().splitlines()
    assert log == ["roll back credit to the previous version"]
    # The alert states came back through the REST API, the slow-down's still firing at the end.
    latency = [a for a in result.alerts if a["rule_name"] == "credit-latency"]
    assert [a["state"] for a in latency] == ["ALARM"]


def test_the_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    command = [sys.executable, "-m", "modelmon.cli.main", "demo", "--dir", str(tmp_path)]
    command += ["--no-serve"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2
    assert "was not made by 'modelmon demo'" in finished.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
