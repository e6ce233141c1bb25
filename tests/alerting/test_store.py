"""The AlertStore on SQLite and PostgreSQL: rules, alert transitions, silences, the outbox."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from modelmon.errors import ConflictError, NotFoundError
from modelmon.store import Evaluated, MonitorType, Point, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
SPEC = {"metric": "drift", "condition": {"type": "above", "threshold": 0.1}}


def _evaluate(store: Store, rule_id: int, state: str, value: float | None, at: datetime) -> tuple:
    ((alert, previous),) = store.alerts.apply_evaluations(
        rule_id,
        [Evaluated("drift", {"feature": "age", "model": "m"}, state, value, f"{state} {value}")],
        model="m",
        version="v1",
        execution_id=7,
        now=at,
    )
    return alert, previous


def test_rules_round_trip_and_names_are_unique(any_store: Store) -> None:
    rule = any_store.alerts.create_rule("r1", SPEC, now=T0)
    assert (rule.name, rule.spec, rule.source) == ("r1", SPEC, None)
    with pytest.raises(ConflictError, match="'r1' already exists"):
        any_store.alerts.create_rule("r1", SPEC, now=T0)
    other = any_store.alerts.create_rule("r2", SPEC, now=T0, source="schedule:1")
    with pytest.raises(ConflictError, match="'r2' already exists"):
        any_store.alerts.update_rule(rule.id, name="r2", spec=SPEC, now=T0)
    changed = any_store.alerts.update_rule(rule.id, name="r3", spec={"x": 1}, now=T0 + timedelta(1))
    assert (changed.name, changed.spec, changed.updated_at) == ("r3", {"x": 1}, T0 + timedelta(1))
    assert [r.name for r in any_store.alerts.list_rules()] == ["r3", "r2"]
    any_store.alerts.delete_rule(other.id)
    with pytest.raises(NotFoundError, match="no alert rule with id"):
        any_store.alerts.get_rule(other.id)


def test_transitions_are_recorded_once_per_change(any_store: Store) -> None:
    rule = any_store.alerts.create_rule("r", SPEC, now=T0)
    alert, previous = _evaluate(any_store, rule.id, "OK", 0.05, T0)
    assert (alert.state, previous) == ("OK", "INSUFFICIENT_DATA")
    alert, previous = _evaluate(any_store, rule.id, "OK", 0.06, T0 + timedelta(hours=1))
    assert (previous, alert.value, alert.since) == (None, 0.06, T0)  # unchanged: no transition
    alert, previous = _evaluate(any_store, rule.id, "ALARM", math.nan, T0 + timedelta(hours=2))
    assert (alert.state, previous, alert.value) == ("ALARM", "OK", None)  # NaN stored as null
    history = any_store.alerts.list_transitions(alert.id)
    assert [(t.from_state, t.to_state) for t in history] == [
        ("INSUFFICIENT_DATA", "OK"),
        ("OK", "ALARM"),
    ]
    assert history[1].at == T0 + timedelta(hours=2)
    assert history[1].execution_id == 7


def test_acknowledgement_lasts_one_episode_of_alarm(any_store: Store) -> None:
    rule = any_store.alerts.create_rule("r", SPEC, now=T0)
    alert, _ = _evaluate(any_store, rule.id, "OK", 0.0, T0)
    with pytest.raises(ConflictError, match="only an alert in ALARM"):
        any_store.alerts.acknowledge(alert.id, by="bob", now=T0)
    _evaluate(any_store, rule.id, "ALARM", 1.0, T0)
    acked = any_store.alerts.acknowledge(alert.id, by="bob", now=T0 + timedelta(minutes=5))
    assert (acked.acknowledged_by, acked.acknowledged_at) == ("bob", T0 + timedelta(minutes=5))
    resolved, _ = _evaluate(any_store, rule.id, "OK", 0.0, T0 + timedelta(hours=1))
    assert resolved.acknowledged_by is None
    with pytest.raises(NotFoundError, match="no alert with id"):
        any_store.alerts.acknowledge(999_999, by="bob", now=T0)


def test_silences_expire(any_store: Store) -> None:
    rule = any_store.alerts.create_rule("r", SPEC, now=T0)
    silence = any_store.alerts.create_silence(
        matchers={"feature": "=age"},
        until=T0 + timedelta(hours=2),
        reason="retraining",
        created_by="alice",
        rule_id=rule.id,
        now=T0,
    )
    assert silence.matchers == {"feature": "=age"}
    assert any_store.alerts.list_silences(active_at=T0 + timedelta(hours=1)) == [silence]
    assert any_store.alerts.list_silences(active_at=T0 + timedelta(hours=2)) == []
    with pytest.raises(NotFoundError, match="no alert rule"):
        any_store.alerts.create_silence(
            matchers={}, until=T0, reason="", created_by="", rule_id=12345, now=T0
        )
    any_store.alerts.delete_silence(silence.id)
    with pytest.raises(NotFoundError, match="no silence"):
        any_store.alerts.delete_silence(silence.id)


def test_the_outbox_retries_then_fails_and_keeps_the_log(any_store: Store) -> None:
    any_store.alerts.create_channel("hook", "webhook", {"url": "http://x"}, now=T0)
    first = any_store.alerts.enqueue_notification(
        channel="hook", kind="alert", subject="s", payload={"a": 1}, now=T0
    )
    (due,) = any_store.alerts.due_notifications(T0)
    assert (due.id, due.payload, due.status) == (first, {"a": 1}, "pending")
    retry_at = T0 + timedelta(seconds=30)
    any_store.alerts.record_attempt(first, ok=False, error="boom", now=T0, retry_at=retry_at)
    any_store.alerts.record_delivery("hook", ok=False, error="boom", now=T0)
    assert any_store.alerts.due_notifications(T0 + timedelta(seconds=29)) == []
    assert [n.id for n in any_store.alerts.due_notifications(retry_at)] == [first]
    any_store.alerts.record_attempt(first, ok=False, error="boom2", now=retry_at, retry_at=None)
    failed = any_store.alerts.get_notification(first)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 2, "boom2")
    assert any_store.alerts.get_channel("hook").consecutive_failures == 1
    any_store.alerts.record_delivery("hook", ok=True, error=None, now=retry_at)
    healthy = any_store.alerts.get_channel("hook")
    assert (healthy.consecutive_failures, healthy.last_success_at) == (0, retry_at)
    assert any_store.alerts.count_notifications() == {("hook", "failed"): 1}


def test_remediations_and_default_claims(any_store: Store) -> None:
    entry = any_store.alerts.record_remediation(
        action="retrain",
        action_type="command",
        rule_id=None,
        rule_name="r",
        model="m",
        version="v1",
        execution_id=None,
        context={"model": "m"},
        ok=True,
        exit_code=0,
        output="started",
        error=None,
        started_at=T0,
        ended_at=T0,
    )
    assert any_store.alerts.list_remediations() == [entry]
    any_store.models.create_model("m", now=T0)
    any_store.models.create_version("m", "v1", now=T0)
    any_store.models.set_baseline("m", "v1", MonitorType.DATA_QUALITY, {"a.json": {}}, now=T0)
    schedule = any_store.schedules.create_schedule(
        "s", model="m", version="v1", monitor_type=MonitorType.DATA_QUALITY, cron="NOW", now=T0
    )
    assert any_store.alerts.claim_defaults(schedule.id, now=T0) is True
    assert any_store.alerts.claim_defaults(schedule.id, now=T0) is False


def test_read_series_takes_every_matching_series_at_once(any_store: Store) -> None:
    labels = {"model": "m", "schedule": "s"}
    any_store.metrics.write_points(
        [
            Point("drift_age", {**labels, "feature": "age"}, 0.1, T0),
            Point("drift_age", {**labels, "feature": "age"}, math.nan, T0 + timedelta(hours=1)),
            Point("drift_income", {**labels, "feature": "income"}, 0.3, T0 + timedelta(hours=5)),
            Point("drift_region", {"model": "other", "feature": "region"}, 0.2, T0),
            Point("quality", labels, 1.0, T0),
        ]
    )
    found = any_store.metrics.read_series(
        "drift_", lambda name, labels: labels["model"] == "m", start=T0, end=T0 + timedelta(hours=2)
    )
    by_name = {s.name: s for s in found}
    assert set(by_name) == {"drift_age", "drift_income"}
    age = by_name["drift_age"]
    assert age.timestamps == (T0, T0 + timedelta(hours=1))
    assert age.values[0] == 0.1
    assert math.isnan(age.values[1])
    assert by_name["drift_income"].timestamps == ()  # exists, but no point in the range


def test_many_evaluations_apply_in_one_batch(any_store: Store) -> None:
    rule = any_store.alerts.create_rule("r", SPEC, now=T0)

    def batch(states: list[str], at: datetime) -> list[tuple[str, str | None]]:
        evaluated = [
            Evaluated("drift", {"feature": f"f{i}"}, state, float(i), "")
            for i, state in enumerate(states)
        ]
        results = any_store.alerts.apply_evaluations(
            rule.id, evaluated, model="m", version="v", execution_id=None, now=at
        )
        assert [a.labels["feature"] for a, _ in results] == [f"f{i}" for i in range(len(states))]
        return [(a.state, previous) for a, previous in results]

    assert batch(["OK", "ALARM"], T0) == [
        ("OK", "INSUFFICIENT_DATA"),
        ("ALARM", "INSUFFICIENT_DATA"),
    ]
    assert batch(["OK", "OK", "ALARM"], T0 + timedelta(hours=1)) == [
        ("OK", None),
        ("OK", "ALARM"),
        ("ALARM", "INSUFFICIENT_DATA"),
    ]
    assert len(any_store.alerts.alerts_of_rule(rule.id)) == 3
