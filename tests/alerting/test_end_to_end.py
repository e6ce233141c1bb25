"""End to end on the real server: a scheduled execution writes drift points, the rule fires,
the webhook receives one grouped message, the remediation command runs and is audited, and the
next clean execution resolves the alert."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from modelmon.alerting.server import install_alerting
from modelmon.alerting.testing import WebhookReceiver
from modelmon.server import ServerState
from modelmon.server.testing import running_server
from modelmon.store import Schedule, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)


def test_drift_fires_groups_remediates_and_resolves(
    store: Store,
    data_dir: Path,
    clock: Any,
    tmp_path: Path,
    hook: WebhookReceiver,
    capture_hour: Callable[..., None],
    make_schedule: Callable[..., Schedule],
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    state = ServerState(store, data_dir, clock=clock, owner="e2e")
    install_alerting(state)
    make_schedule("credit-hourly")
    capture_hour(T0, seed=21, drifts=("income_shift", "older_applicants"))
    capture_hour(T0 + H, seed=22)
    audit = tmp_path / "retrain.json"
    retrain = (
        "import json, os, sys\n"
        f"json.dump(json.load(sys.stdin), open({str(audit)!r}, 'w'))\n"
        "print('retraining job queued for', os.environ['MODELMON_ALERT_MODEL'])\n"
    )
    _, token = store.tokens.create_token("ops", now=T0)
    with (
        running_server(state) as base,
        httpx.Client(
            base_url=f"{base}/api/v1", timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as api,
    ):
        assert api.post(
            "/alerts/channels",
            json={"name": "hook", "type": "webhook", "config": {"url": hook.url}},
        ).is_success
        assert api.post(
            "/alerts/actions",
            json={
                "name": "retrain",
                "type": "command",
                "config": {"argv": [sys.executable, "-c", retrain]},
            },
        ).is_success
        rule = api.post(
            "/alerts/rules",
            json={
                "name": "credit-drift",
                "metric": "feature_baseline_drift_*",
                "matchers": {"model": "=credit"},
                "condition": {"type": "above", "threshold": 0.1},
                "evaluation": {"m": 1, "n": 1},
                "severity": "critical",
                "description": "$feature drifted (distance $value)",
                "channels": ["hook"],
                "remediation": ["retrain"],
                "allow_unknown_metric": True,
            },
        )
        assert rule.status_code == 201, rule.text

        clock.advance(H + timedelta(minutes=5))
        (drifted,) = api.post("/scheduler/tick").json()
        assert drifted["status"] == "CompletedWithViolations"
        (message,) = hook.received  # one message for the model and execution
        assert message["execution_id"] == drifted["id"]
        assert message["subject"].startswith("[ALARM] credit v1: ")
        firing = {a["labels"]["feature"] for a in message["alerts"] if a["event"] == "firing"}
        assert {"income", "age"} <= firing
        assert {a["rule"] for a in message["alerts"]} == {"credit-drift"}
        alarms = api.get("/alerts", params={"state": "ALARM", "model": "credit"}).json()
        assert {a["labels"]["feature"] for a in alarms} == firing

        (run,) = api.get("/alerts/remediations").json()
        assert (run["action"], run["ok"], run["exit_code"]) == ("retrain", True, 0)
        assert run["output"].strip() == "retraining job queued for credit"
        context = json.loads(audit.read_text())
        assert (context["model"], context["version"], context["execution_id"]) == (
            "credit",
            "v1",
            drifted["id"],
        )
        assert context["window_end"] == (T0 + H).isoformat()
        (sent,) = api.get("/alerts/notifications").json()
        assert (sent["status"], sent["attempts"]) == ("sent", 1)
        # The monitor's default rules exist too (2 of 3 datapoints: not firing on one window).
        names = {r["name"] for r in api.get("/alerts/rules").json()}
        assert "credit-hourly.drift" in names

        metrics = httpx.get(f"{base}/metrics").text
        assert (
            'modelmon_alert_state{model="credit",rule="credit-drift",severity="critical",'
            'state="ALARM",version="v1"} 1.0'
        ) in metrics
        assert 'modelmon_notification_channel_healthy{channel="hook"} 1.0' in metrics

        clock.advance(H)
        (clean,) = api.post("/scheduler/tick").json()
        assert clean["status"] == "Completed"
        assert len(hook.received) == 2
        resolved = hook.received[1]
        assert resolved["subject"].startswith("[RESOLVED] credit v1: ")
        assert {a["labels"]["feature"] for a in resolved["alerts"]} == firing
        assert api.get("/alerts", params={"state": "ALARM"}).json() == []
        alert_id = alarms[0]["id"]
        history = api.get(f"/alerts/{alert_id}/history").json()
        assert [(h["from"], h["to"]) for h in history] == [
            ("INSUFFICIENT_DATA", "ALARM"),
            ("ALARM", "OK"),
        ]
        assert len(api.get("/alerts/remediations").json()) == 1  # resolving runs nothing
