"""The engine over a real SQLite store and a real webhook receiver, with an injected clock:
grouping, M of N, missing data, resolve notices, reminders, silences, acknowledgements,
backoff, channel health, remediation and its audit log, default rules."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modelmon.alerting import AlertEngine, Dispatcher, RuleSpec, default_rules_for
from modelmon.alerting.server import alerting_metrics
from modelmon.alerting.testing import WebhookReceiver
from modelmon.store import Execution, ExecutionStatus, MonitorType, Schedule, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
DRIFT = "feature_baseline_drift_"
RunExecution = Callable[..., Execution]


def _rule(store: Store, name: str = "drift", **overrides: Any) -> int:
    body: dict[str, Any] = {
        "name": name,
        "metric": f"{DRIFT}*",
        "matchers": {"model": "=credit"},
        "condition": {"type": "above", "threshold": 0.1},
        "channels": ["hook"],
        "description": "$feature drifted: $value",
    }
    spec = RuleSpec.model_validate({**body, **overrides})
    return store.alerts.create_rule(name, spec.document(), now=T0).id


def _drift(values: dict[str, float]) -> dict[str, dict[str, float]]:
    return {f"{DRIFT}{feature}": {feature: value} for feature, value in values.items()}


@pytest.fixture
def engine(store: Store, hook: WebhookReceiver) -> AlertEngine:
    store.alerts.create_channel("hook", "webhook", {"url": hook.url, "timeout": 5}, now=T0)
    return AlertEngine(store, create_defaults=False)


def _step(
    engine: AlertEngine,
    run_execution: RunExecution,
    schedule: Schedule,
    hour: int,
    values: dict[str, float] | None,
    **options: Any,
) -> Execution:
    """One hourly execution ending at T0 + hour, evaluated and delivered at that time."""
    end = T0 + hour * H
    execution = run_execution(schedule, end, None if values is None else _drift(values), **options)
    engine.after_execution(execution, schedule, end)
    return execution


def test_three_hundred_drifting_features_make_one_message(
    store: Store,
    engine: AlertEngine,
    hook: WebhookReceiver,
    run_execution: RunExecution,
    schedule: Schedule,
) -> None:
    _rule(store)
    _rule(
        store, "drift-critical", severity="critical", condition={"type": "above", "threshold": 0.4}
    )
    features = {f"f{i:03d}": 0.5 for i in range(300)}
    execution = _step(engine, run_execution, schedule, 1, features)
    (message,) = hook.received
    assert message["subject"] == f"[ALARM] credit v1: 600 alerts firing (execution {execution.id})"
    assert message["counts"] == {"firing": 600, "resolved": 0, "reminder": 0}
    assert (message["model"], message["execution_id"]) == ("credit", execution.id)
    assert message["window_end"] == (T0 + H).isoformat()
    assert {a["labels"]["feature"] for a in message["alerts"]} == set(features)
    # critical first in the text; the text stays short, the JSON has everything
    assert message["text"].startswith("FIRING [critical] drift-critical:")
    assert message["text"].endswith("... and 560 more (see the JSON or the dashboard)")
    assert len(store.alerts.list_alerts(state="ALARM")) == 600
    # Still drifting: no new transition, no new message.
    _step(engine, run_execution, schedule, 2, features)
    assert len(hook.received) == 1


def test_a_single_noisy_point_does_not_alarm_when_m_of_n_says_otherwise(
    store: Store,
    engine: AlertEngine,
    hook: WebhookReceiver,
    run_execution: RunExecution,
    schedule: Schedule,
) -> None:
    _rule(store, evaluation={"m": 2, "n": 3})
    states = []
    for hour, value in enumerate([0.02, 0.3, 0.03, 0.02, 0.3, 0.4, 0.02, 0.01, 0.02], start=1):
        _step(engine, run_execution, schedule, hour, {"age": value})
        (alert,) = store.alerts.list_alerts()
        states.append(alert.state)
    assert states == ["INSUFFICIENT_DATA", "OK", "OK", "OK", "OK", "ALARM", "ALARM", "OK", "OK"]
    assert [m["subject"].split("]")[0] for m in hook.received] == ["[ALARM", "[RESOLVED"]
    resolved = hook.received[1]["alerts"][0]
    assert (resolved["event"], resolved["previous_state"], resolved["state"]) == (
        "resolved",
        "ALARM",
        "OK",
    )
    history = store.alerts.list_transitions(alert.id)
    assert [(t.from_state, t.to_state) for t in history] == [
        ("INSUFFICIENT_DATA", "OK"),
        ("OK", "ALARM"),
        ("ALARM", "OK"),
    ]
    assert history[1].at == T0 + 6 * H
    assert history[1].message == "age drifted: 0.4"


@pytest.mark.parametrize(
    ("missing", "expected"),
    [("alarm", "ALARM"), ("ok", "OK"), ("keep", "OK"), ("insufficient", "INSUFFICIENT_DATA")],
)
def test_failed_executions_are_missing_datapoints(
    store: Store,
    engine: AlertEngine,
    run_execution: RunExecution,
    schedule: Schedule,
    missing: str,
    expected: str,
) -> None:
    _rule(store, evaluation={"m": 2, "n": 2, "missing": missing})
    _step(engine, run_execution, schedule, 1, {"age": 0.01})
    _step(engine, run_execution, schedule, 2, {"age": 0.01})
    assert store.alerts.list_alerts()[0].state == "OK"
    for hour in (3, 4):
        _step(engine, run_execution, schedule, hour, None, status=ExecutionStatus.FAILED)
    assert store.alerts.list_alerts()[0].state == expected


def test_reminders_acknowledgements_and_silences_run_on_the_clock(
    store: Store,
    engine: AlertEngine,
    hook: WebhookReceiver,
    run_execution: RunExecution,
    schedule: Schedule,
) -> None:
    rule_id = _rule(store, reminder_minutes=60)
    silence_until = T0 + 3 * H
    store.alerts.create_silence(
        matchers={"feature": "=income"},
        until=silence_until,
        reason="known: new pricing",
        created_by="alice",
        rule_id=rule_id,
        now=T0,
    )
    _step(engine, run_execution, schedule, 1, {"age": 0.3, "income": 0.3})
    (first,) = hook.received
    assert [a["labels"]["feature"] for a in first["alerts"]] == ["age"]  # income is silenced
    assert engine.send_reminders(T0 + H + timedelta(minutes=59)) == []
    assert len(engine.send_reminders(T0 + 2 * H)) == 1
    engine.dispatcher.deliver_due(T0 + 2 * H)
    reminder = hook.received[-1]
    assert reminder["subject"] == "[REMINDER] credit v1: 1 still firing"
    assert [a["labels"]["feature"] for a in reminder["alerts"]] == ["age"]
    age = next(a for a in store.alerts.list_alerts() if a.labels["feature"] == "age")
    store.alerts.acknowledge(age.id, by="bob", now=T0 + 2 * H)
    assert engine.send_reminders(silence_until - timedelta(minutes=1)) == []  # acked; silenced
    # The silence ends: income, never announced, is now reminded about.
    assert len(engine.send_reminders(silence_until + timedelta(minutes=1))) == 1
    engine.dispatcher.deliver_due(silence_until + timedelta(minutes=1))
    assert [a["labels"]["feature"] for a in hook.received[-1]["alerts"]] == ["income"]


def test_failed_deliveries_back_off_on_the_clock_and_mark_the_channel_unhealthy(
    store: Store, engine: AlertEngine, hook: WebhookReceiver, tmp_path: Path
) -> None:
    log = tmp_path / "command.log"
    store.alerts.create_channel(
        "script",
        "command",
        {"argv": [sys.executable, "-c", f"open({str(log)!r}, 'a').write('x')"]},
        now=T0,
    )
    dispatcher = Dispatcher(store, max_attempts=4)
    hook.status = 500
    for channel in ("hook", "script"):
        store.alerts.enqueue_notification(
            channel=channel,
            kind="alert",
            subject="s",
            payload={"subject": "s", "text": "t"},
            now=T0,
        )
    first = dispatcher.deliver_due(T0)
    assert (len(first.sent), len(first.retrying)) == (1, 1)  # the script is not held up
    assert log.read_text() == "x"
    attempts_at = [T0]
    now = T0
    for wait in (30, 60, 120):
        assert dispatcher.deliver_due(now + timedelta(seconds=wait - 1)).retrying == []
        now += timedelta(seconds=wait)
        report = dispatcher.deliver_due(now)
        attempts_at.append(now)
        assert report.retrying + report.failed != []
    assert report.failed != []  # the 4th attempt was the last
    (failed,) = store.alerts.list_notifications(status="failed")
    assert (failed.channel, failed.attempts) == ("hook", 4)
    assert failed.last_error is not None
    assert "answered 500" in failed.last_error
    channel = store.alerts.get_channel("hook")
    assert not dispatcher.healthy(channel)
    lines = list(alerting_metrics(store))
    assert 'modelmon_notification_channel_healthy{channel="hook"} 0.0' in lines
    assert 'modelmon_notification_channel_healthy{channel="script"} 1.0' in lines
    hook.status = 200
    store.alerts.enqueue_notification(
        channel="hook", kind="alert", subject="s2", payload={"x": 1}, now=now
    )
    assert len(dispatcher.deliver_due(now).sent) == 1
    assert dispatcher.healthy(store.alerts.get_channel("hook"))


def test_remediation_runs_once_per_rule_and_execution_with_an_audit_record(
    store: Store,
    engine: AlertEngine,
    run_execution: RunExecution,
    schedule: Schedule,
    tmp_path: Path,
) -> None:
    calls = tmp_path / "calls.jsonl"
    script = (
        "import json, os, sys\n"
        "context = json.load(sys.stdin)\n"
        f"open({str(calls)!r}, 'a').write(json.dumps(context) + '\\n')\n"
        "print('rollback of', os.environ['MODELMON_ALERT_MODEL'], 'requested')\n"
    )
    store.alerts.create_action(
        "rollback", "command", {"argv": [sys.executable, "-c", script]}, now=T0
    )
    store.alerts.create_action(
        "broken", "command", {"argv": [sys.executable, "-c", "exit(2)"]}, now=T0
    )
    _rule(store, remediation=["rollback", "broken"])
    execution = _step(engine, run_execution, schedule, 1, {f"f{i}": 0.9 for i in range(50)})
    (context,) = [json.loads(line) for line in calls.read_text().splitlines()]
    assert (context["model"], context["version"], context["alert_count"]) == ("credit", "v1", 50)
    assert (context["window_start"], context["window_end"]) == (
        T0.isoformat(),
        (T0 + H).isoformat(),
    )
    assert context["execution_id"] == execution.id
    broken, rollback = store.alerts.list_remediations()
    assert (rollback.action, rollback.ok, rollback.exit_code) == ("rollback", True, 0)
    assert rollback.output.strip() == "rollback of credit requested"
    assert (broken.ok, broken.exit_code, broken.error) == (False, 2, "exit code 2")
    _step(engine, run_execution, schedule, 2, {f"f{i}": 0.9 for i in range(50)})
    assert len(store.alerts.list_remediations()) == 2  # still firing: nothing new to remediate


def test_default_rules_come_from_the_baseline_constraints_once(
    store: Store, schedule: Schedule, baseline_files: dict[str, Any]
) -> None:
    specs = default_rules_for(schedule, baseline_files)
    by_kind = {s.name.split(".")[-1].split("-")[0]: s for s in specs}
    drift = by_kind["drift"]
    assert drift.metric == "feature_baseline_drift_*"
    assert drift.condition.type == "above"
    assert drift.condition.threshold == 0.1  # the constraints' comparison_threshold
    assert drift.matchers == {
        "model": "=credit",
        "version": "=v1",
        "schedule": "=credit-hourly",
    }
    assert (drift.evaluation.m, drift.evaluation.n) == (2, 3)
    completeness = [s for s in specs if ".completeness" in s.name]
    assert completeness
    assert all(s.condition.type == "below" for s in completeness)
    engine = AlertEngine(store)
    created = engine.ensure_default_rules(schedule, now=T0)
    assert sorted(r.name for r in created) == sorted(s.name for s in specs)
    store.alerts.delete_rule(created[0].id)
    assert engine.ensure_default_rules(schedule, now=T0) == []  # a deleted default stays deleted


def test_default_drift_thresholds_follow_types_and_overrides(
    store: Store, schedule: Schedule
) -> None:
    constraints = {
        "version": 0.0,
        "features": [
            {"name": "age", "inferred_type": "Integral"},
            {"name": "income", "inferred_type": "Fractional", "completeness": 0.9},
            {"name": "region", "inferred_type": "String"},
            {
                "name": "score",
                "inferred_type": "Fractional",
                "monitoringConfigOverrides": {
                    "distribution_constraints": {"comparison_threshold": 0.3}
                },
            },
        ],
        "monitoring_config": {
            "distribution_constraints": {
                "comparison_threshold": 0.1,
                "categorical_comparison_threshold": 0.2,
            }
        },
    }
    specs = default_rules_for(schedule, {"constraints.json": constraints})
    drift = {s.condition.threshold: s.matchers.get("feature") for s in specs if "drift" in s.name}
    assert drift == {0.1: "=~age|income", 0.2: "=~region", 0.3: "=~score"}
    (completeness,) = [s for s in specs if "completeness" in s.name]
    assert (completeness.condition.threshold, completeness.matchers["feature"]) == (0.9, "=~income")


def test_model_quality_defaults_follow_the_metric_constraints(
    make_schedule: Callable[..., Schedule],
) -> None:
    schedule = make_schedule("quality", monitor_type=MonitorType.MODEL_QUALITY)
    constraints = {
        "version": 0.0,
        "binary_classification_constraints": {
            "auc": {"threshold": 0.71, "comparison_operator": "LessThanThreshold"},
            "false_positive_rate": {
                "threshold": 0.2,
                "comparison_operator": "GreaterThanThreshold",
            },
        },
    }
    specs = {s.metric: s for s in default_rules_for(schedule, {"constraints.json": constraints})}
    assert set(specs) == {"model_quality_auc", "model_quality_false_positive_rate"}
    auc = specs["model_quality_auc"]
    assert (auc.condition.type, auc.condition.threshold) == ("below", 0.71)
    assert auc.matchers["segment"] == "="  # the overall point, not each segment's
    assert specs["model_quality_false_positive_rate"].condition.type == "above"


def test_other_monitors_default_to_alerting_on_any_violation(
    store: Store, make_schedule: Callable[..., Schedule]
) -> None:
    schedule = make_schedule("health", monitor_type=MonitorType.SERVICE_HEALTH)
    [spec] = default_rules_for(schedule, {})
    assert (spec.metric, spec.condition.type, spec.condition.threshold) == (
        "monitor_violations",
        "above",
        0,
    )
    assert spec.matchers["schedule"] == "=health"
    engine = AlertEngine(store, dispatcher=Dispatcher(store))
    [created] = engine.ensure_default_rules(schedule, now=T0)  # no baseline needed
    assert created.name == "health.violations"


def test_alert_state_is_exported_for_prometheus(
    store: Store, engine: AlertEngine, run_execution: RunExecution, schedule: Schedule
) -> None:
    _rule(store)
    _step(engine, run_execution, schedule, 1, {"age": 0.3, "income": 0.01})
    lines = list(alerting_metrics(store))
    base = 'model="credit",rule="drift",severity="warning"'
    assert f'modelmon_alert_state{{{base},state="ALARM",version="v1"}} 1.0' in lines
    assert f'modelmon_alert_state{{{base},state="OK",version="v1"}} 0.0' in lines
    assert 'modelmon_alerts{model="credit",rule="drift",state="OK",version="v1"} 1.0' in lines
    assert 'modelmon_notifications{channel="hook",status="sent"} 1.0' in lines


def test_a_broken_channel_never_breaks_the_listener(
    store: Store, run_execution: RunExecution, schedule: Schedule
) -> None:
    store.alerts.create_channel(
        "hook", "webhook", {"url": "http://127.0.0.1:9/", "timeout": 2}, now=T0
    )
    engine = AlertEngine(store, create_defaults=False)
    _rule(store)
    execution = run_execution(schedule, T0 + H, _drift({"age": 0.5}))
    engine.after_execution(execution, schedule, T0 + H)  # does not raise
    (pending,) = store.alerts.list_notifications()
    assert (pending.status, pending.attempts) == ("pending", 1)
    assert pending.last_error is not None
    assert "failed" in pending.last_error
