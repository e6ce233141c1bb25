"""Alerting inside ``modelmon serve``: evaluate after every execution, export alert state and
channel health on ``/metrics`` (so Prometheus Alertmanager can route from there instead)."""

from __future__ import annotations

from collections.abc import Iterator

from modelmon.alerting.dispatch import DEFAULT_UNHEALTHY_AFTER, Dispatcher
from modelmon.alerting.engine import AlertEngine
from modelmon.alerting.policy import AlertState
from modelmon.server.prometheus import sample
from modelmon.server.state import ServerState
from modelmon.store import Execution, Schedule, Store

__all__ = ["alerting_metrics", "install_alerting"]


def install_alerting(state: ServerState) -> AlertEngine:
    """Hook alerting into the server: a listener run after each execution the scheduler ends
    (it catches and logs its own failures) and a /metrics collector.

    Returns the engine: calling ``engine.tick(state.clock())`` from the server's loop also
    sends reminders and retries between executions."""
    installed: AlertEngine | None = state.extensions.get("alerting")
    if installed is not None:
        return installed  # once per server: a second listener would notify twice
    engine = AlertEngine(state.store, dispatcher=Dispatcher(state.store))
    state.extensions["alerting"] = engine
    state.tick_hooks.append(engine.tick)

    def after_execution(execution: Execution, schedule: Schedule) -> None:
        engine.after_execution(execution, schedule, state.clock())

    state.listeners.append(after_execution)
    state.collectors.append(lambda: alerting_metrics(state.store))
    return engine


def alerting_metrics(
    store: Store, *, unhealthy_after: int = DEFAULT_UNHEALTHY_AFTER
) -> Iterator[str]:
    """Prometheus lines: per rule and model the state (1 for the worst state of its series, 0
    for the others, as kube-state-metrics does), alert counts, and each channel's health."""
    rules = {rule.id: rule for rule in store.alerts.list_rules()}
    counts: dict[tuple[int, str, str], dict[str, int]] = {}
    for alert in store.alerts.list_alerts(limit=1_000_000):
        by_state = counts.setdefault((alert.rule_id, alert.model, alert.version), {})
        by_state[alert.state] = by_state.get(alert.state, 0) + 1
    yield "# TYPE modelmon_alert_state gauge"
    states = [s.value for s in AlertState]
    for (rule_id, model, version), by_state in sorted(counts.items()):
        rule = rules.get(rule_id)
        if rule is None:
            continue
        worst = next(
            s for s in ("ALARM", "INSUFFICIENT_DATA", "OK") if by_state.get(s) or s == "OK"
        )
        severity = str(rule.spec.get("severity", "warning"))
        base = {"rule": rule.name, "model": model, "version": version, "severity": severity}
        for state in states:
            yield sample("modelmon_alert_state", {**base, "state": state}, float(state == worst))
    yield "# TYPE modelmon_alerts gauge"
    for (rule_id, model, version), by_state in sorted(counts.items()):
        rule = rules.get(rule_id)
        if rule is None:
            continue
        for state in states:
            labels = {"rule": rule.name, "model": model, "version": version, "state": state}
            yield sample("modelmon_alerts", labels, float(by_state.get(state, 0)))
    yield "# TYPE modelmon_notification_channel_healthy gauge"
    for channel in store.alerts.list_channels():
        healthy = channel.consecutive_failures < unhealthy_after
        yield sample(
            "modelmon_notification_channel_healthy", {"channel": channel.name}, float(healthy)
        )
    yield "# TYPE modelmon_notifications gauge"
    for (channel_name, status), count in sorted(store.alerts.count_notifications().items()):
        labels = {"channel": channel_name, "status": status}
        yield sample("modelmon_notifications", labels, float(count))
