"""The alerting REST API against a real server (uvicorn on 127.0.0.1), and the CLI against it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelmon.alerting import AlertEngine
from modelmon.cli import alerts as alerts_cli
from modelmon.errors import ConfigError
from modelmon.server import ServerState
from modelmon.server.testing import running_server
from modelmon.store import Execution, Point, Schedule, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
RULE: dict[str, Any] = {
    "name": "age-drift",
    "metric": "feature_baseline_drift_age",
    "matchers": {"model": "=credit", "feature": "=~age|income"},
    "condition": {"type": "above", "threshold": 0.1},
    "evaluation": {"m": 1, "n": 2, "missing": "keep"},
    "severity": "critical",
    "description": "$feature drifted to $value",
    "runbook_url": "https://wiki.example/drift",
    "channels": ["hook"],
    "reminder_minutes": 60,
}


@pytest.fixture
def state(store: Store, data_dir: Path, clock: Any) -> ServerState:
    data_dir.mkdir(parents=True, exist_ok=True)
    return ServerState(store, data_dir, clock=clock, owner="test-server")


@pytest.fixture
def base_url(state: ServerState) -> Iterator[str]:
    with running_server(state) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=30) as client:
        yield client


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _seed_series(store: Store) -> None:
    labels = {"model": "credit", "feature": "age", "schedule": "another-monitor"}
    store.metrics.write_points([Point("feature_baseline_drift_age", labels, 0.01, T0)])


def test_rules_are_validated_with_the_field_named(api: httpx.Client, store: Store) -> None:
    bad_hook = _error(api.post("/alerts/rules", json=RULE), 422)
    assert bad_hook["field"] == "metric"  # no such series yet
    assert "allow_unknown_metric" in bad_hook["message"]
    _seed_series(store)
    unknown_channel = _error(api.post("/alerts/rules", json=RULE), 422)
    assert unknown_channel["field"] == "channels[0]"
    assert "unknown channel 'hook'" in unknown_channel["message"]
    cases = [
        ({"matchers": {"feature": "age"}}, "matchers"),
        ({"evaluation": {"m": 3, "n": 2}}, "evaluation"),
        ({"description": "$valeu"}, "description"),
        ({"remediation": ["retrain"], "channels": []}, "remediation[0]"),
        ({"condition": {"type": "spike"}}, "condition.type"),
        ({"cooldown": 5}, "cooldown"),
    ]
    for change, field in cases:
        assert _error(api.post("/alerts/rules", json={**RULE, **change}), 422)["field"] == field


def test_channels_rules_and_actions_round_trip(api: httpx.Client, store: Store) -> None:
    _seed_series(store)
    email = {
        "name": "oncall-mail",
        "type": "email",
        "config": {"host": "smtp.example", "sender": "mm@example", "to": ["a@example"]},
    }
    created = api.post(
        "/alerts/channels", json={**email, "config": {**email["config"], "password": "p"}}
    )
    assert created.status_code == 201, created.text
    assert created.json()["config"]["password"] == "********"  # never shown back
    assert created.json()["config"]["port"] == 587
    assert created.json()["healthy"] is True
    bad = _error(api.post("/alerts/channels", json={**email, "name": "x", "config": {}}), 422)
    assert bad["field"] == "config"
    assert "config.host" in bad["message"]
    assert api.post("/alerts/channels", json=email).status_code == 409
    hook = {"name": "hook", "type": "webhook", "config": {"url": "http://127.0.0.1:9/"}}
    assert api.post("/alerts/channels", json=hook).status_code == 201
    action = {"name": "retrain", "type": "command", "config": {"argv": ["true"]}}
    refused = _error(api.post("/alerts/actions", json=action), 403)
    assert "create an API token first" in refused["message"]
    _, secret = store.tokens.create_token("ops", now=T0)
    api.headers["Authorization"] = f"Bearer {secret}"
    assert api.post("/alerts/actions", json=action).status_code == 201
    assert (
        _error(api.post("/alerts/actions", json={**action, "type": "slack"}), 422)["field"]
        == "type"
    )

    rule = api.post("/alerts/rules", json={**RULE, "remediation": ["retrain"]})
    assert rule.status_code == 201, rule.text
    body = rule.json()
    nested = ("condition", "evaluation")
    assert {k: body[k] for k in RULE if k not in nested} == {
        k: v for k, v in RULE.items() if k not in nested
    }
    for key in nested:  # the document comes back complete, with the defaults filled in
        assert RULE[key].items() <= body[key].items()
    assert body["condition"]["k"] == 3.0
    assert body["remediation"] == ["retrain"]
    rule_id = body["id"]
    assert [r["name"] for r in api.get("/alerts/rules").json()] == ["age-drift"]
    patched = api.patch(f"/alerts/rules/{rule_id}", json={"enabled": False, "severity": "info"})
    assert (patched.json()["enabled"], patched.json()["severity"]) == (False, "info")
    assert (
        _error(api.patch(f"/alerts/rules/{rule_id}", json={"evaluation": {"m": 0}}), 422)["field"]
        == "evaluation"
    )
    in_use = _error(api.delete("/alerts/channels/hook"), 409)
    assert "age-drift" in in_use["message"]
    assert api.delete("/alerts/actions/retrain").status_code == 409
    assert api.delete(f"/alerts/rules/{rule_id}").status_code == 204
    assert api.get(f"/alerts/rules/{rule_id}").status_code == 404
    assert api.delete("/alerts/channels/hook").status_code == 204
    assert api.delete("/alerts/actions/retrain").status_code == 204
    assert [c["name"] for c in api.get("/alerts/channels").json()] == ["oncall-mail"]


def test_alerts_history_acknowledgement_silences_and_logs(
    api: httpx.Client,
    store: Store,
    schedule: Schedule,
    run_execution: Callable[..., Execution],
    clock: Any,
) -> None:
    _seed_series(store)
    api.post(
        "/alerts/channels",
        json={"name": "hook", "type": "webhook", "config": {"url": "http://127.0.0.1:9/"}},
    )
    rule_id = api.post("/alerts/rules", json=RULE).json()["id"]
    engine = AlertEngine(store, create_defaults=False)
    execution = run_execution(schedule, T0 + H, {"feature_baseline_drift_age": {"age": 0.4}})
    engine.after_execution(execution, schedule, T0 + H)
    clock.now = T0 + H

    (alert,) = api.get("/alerts", params={"state": "ALARM", "model": "credit"}).json()
    assert {
        k: alert[k] for k in ("rule_id", "rule_name", "severity", "model", "version", "state")
    } == {
        "rule_id": rule_id,
        "rule_name": "age-drift",
        "severity": "critical",
        "model": "credit",
        "version": "v1",
        "state": "ALARM",
    }
    assert alert["labels"]["feature"] == "age"
    assert (alert["value"], alert["message"]) == (0.4, "age drifted to 0.4")
    assert alert["since"].startswith("2026-11-02T01:00:00")
    assert alert["silenced_until"] is None
    assert api.get("/alerts", params={"state": "OK"}).json() == []
    history = api.get(f"/alerts/{alert['id']}/history").json()
    assert [(h["from"], h["to"], h["value"]) for h in history] == [
        ("INSUFFICIENT_DATA", "ALARM", 0.4)
    ]

    acked = api.post(f"/alerts/{alert['id']}/acknowledge", json={"by": "alice"}).json()
    assert acked["acknowledged_by"] == "alice"
    assert api.post("/alerts/999/acknowledge", json={"by": "x"}).status_code == 404

    until = (T0 + 5 * H).isoformat()
    silence = api.post(
        "/alerts/silences",
        json={"matchers": {"feature": "=age"}, "until": until, "reason": "known"},
    )
    assert silence.status_code == 201, silence.text
    assert silence.json()["created_by"] == "anonymous"
    (silenced,) = api.get("/alerts").json()
    assert silenced["silenced_until"].startswith("2026-11-02T05:00:00")
    past = _error(
        api.post("/alerts/silences", json={"matchers": {"a": "=b"}, "until": T0.isoformat()}), 422
    )
    assert past["field"] == "until"
    everything = _error(api.post("/alerts/silences", json={"until": until}), 422)
    assert everything["field"] == "matchers"
    assert (
        api.post("/alerts/silences", json={"matchers": {"a": "b"}, "until": until}).status_code
        == 422
    )
    assert api.get("/alerts/silences", params={"active": "true"}).json()[0]["active"] is True
    assert api.delete(f"/alerts/silences/{silence.json()['id']}").status_code == 204

    (notification,) = api.get("/alerts/notifications").json()
    assert (notification["channel"], notification["status"], notification["attempts"]) == (
        "hook",
        "pending",
        1,
    )
    assert notification["subject"].startswith("[ALARM] credit v1: 1 alert firing")
    assert notification["last_error"]
    assert api.get("/alerts/remediations").json() == []


def test_the_cli_drives_the_server(
    base_url: str, store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_series(store)
    monkeypatch.setenv("MODELMON_SERVER", base_url)
    parser = argparse.ArgumentParser(prog="modelmon")
    alerts_cli.register(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> Any:
        args = parser.parse_args(["alerts", *argv])
        assert args.handler(args) == 0
        out = capsys.readouterr().out
        return json.loads(out) if out.strip() else None

    run(
        "channels",
        "create",
        "hook",
        "--type",
        "webhook",
        "--config",
        '{"url": "http://127.0.0.1:9/"}',
    )
    created = run(
        "rules", "create", "--name", "age-drift", "--metric", "feature_baseline_drift_age",
        "--match", "model=credit", "--match", "feature=~age|income", "--above", "0.2",
        "--m", "2", "--n", "3", "--channel", "hook", "--severity", "critical",
    )  # fmt: skip
    assert created["matchers"] == {"model": "=credit", "feature": "=~age|income"}
    assert (created["evaluation"]["m"], created["condition"]["threshold"]) == (2, 0.2)
    assert [r["name"] for r in run("rules", "list")] == ["age-drift"]
    assert run("rules", "disable", str(created["id"]))["enabled"] is False
    silence = run(
        "silence", "create", "--match", "model=credit", "--for", "2h", "--reason", "deploy"
    )
    assert silence["matchers"] == {"model": "=credit"}
    assert run("list", "--state", "ALARM") == []
    with pytest.raises(ConfigError, match=r"evaluation\.m must be between 1 and evaluation\.n"):
        run(
            "rules",
            "create",
            "--name",
            "x",
            "--metric",
            "feature_baseline_drift_age",
            "--above",
            "1",
            "--m",
            "4",
            "--n",
            "3",
        )
    with pytest.raises(ConfigError, match="--match"):
        run("silence", "create", "--match", "model", "--for", "1h")
    run("rules", "delete", str(created["id"]))
    assert run("rules", "list") == []
