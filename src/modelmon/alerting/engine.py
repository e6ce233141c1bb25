"""The alerting loop: after each execution, evaluate the rules on the points it wrote, move
alerts through OK / ALARM / INSUFFICIENT_DATA, run remediation, and queue grouped notices.

Datapoints are executions: a rule's "last N datapoints" of a series are the series' points at
the window ends of the schedule's last N ended executions, so an execution that failed or
skipped the feature is a missing datapoint, as it should be, not a silently shorter history.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelmon.alerting.conditions import slot_verdicts
from modelmon.alerting.defaults import default_rules_for
from modelmon.alerting.dispatch import Dispatcher
from modelmon.alerting.messages import AlertEvent, group_events
from modelmon.alerting.policy import AlertState, decide
from modelmon.alerting.remediation import run_action
from modelmon.alerting.rules import RuleSpec, parse_matchers
from modelmon.alerting.templates import render_template
from modelmon.errors import ModelmonError, NotFoundError
from modelmon.store import (
    AlertRecord,
    Evaluated,
    Execution,
    ExecutionStatus,
    RuleRecord,
    Schedule,
    Series,
    SilenceRecord,
    Store,
)
from modelmon.store._alerts import labels_hash

__all__ = ["AlertEngine", "EvaluationReport", "silenced_until"]

_log = logging.getLogger(__name__)

_ENDED = frozenset(
    {ExecutionStatus.COMPLETED, ExecutionStatus.COMPLETED_WITH_VIOLATIONS, ExecutionStatus.FAILED}
)
_TICK = timedelta(microseconds=1)
# How many executions back any rule may look (N plus a sigma rule's history).
_MAX_DEPTH = 2000


def silenced_until(
    alert: AlertRecord, silences: Iterable[SilenceRecord], now: datetime
) -> datetime | None:
    """The end of the latest active silence covering ``alert``, or None if none does.

    A silence covers an alert when its rule (if it names one) is the alert's and every matcher
    matches the alert's labels; ``__name__`` matches the metric name, as in PromQL."""
    labels = {**alert.labels, "__name__": alert.metric}
    until = None
    for silence in silences:
        if silence.until <= now or silence.rule_id not in (None, alert.rule_id):
            continue
        matchers = parse_matchers(silence.matchers)
        if all(m.matches(labels.get(label, "")) for label, m in matchers.items()):
            until = silence.until if until is None else max(until, silence.until)
    return until


@dataclass
class EvaluationReport:
    """What one evaluation did: transitions, notifications queued, remediations run."""

    evaluated: int = 0
    events: list[AlertEvent] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)
    remediations: list[int] = field(default_factory=list)


def _format(value: float | None) -> str:
    return "no data" if value is None or not math.isfinite(value) else f"{value:.4g}"


class AlertEngine:
    def __init__(
        self,
        store: Store,
        *,
        dispatcher: Dispatcher | None = None,
        create_defaults: bool = True,
    ) -> None:
        self._store = store
        self.dispatcher = dispatcher or Dispatcher(store)
        self.create_defaults = create_defaults

    # -- the listener --------------------------------------------------------------------------

    def after_execution(self, execution: Execution, schedule: Schedule, now: datetime) -> None:
        """Evaluate, remind and deliver; each step's failure is logged and the next still runs,
        so alerting can never stop the scheduler or one broken part stop the rest."""
        try:
            self.evaluate_execution(execution, schedule, now=now)
        except Exception:
            _log.exception("alert rules were not evaluated after execution %d", execution.id)
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """Reminders and due deliveries (retries): also worth calling between executions."""
        for step in (self.send_reminders, self.dispatcher.deliver_due):
            try:
                step(now)
            except Exception:
                _log.exception("alerting step %s failed", step.__name__)

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate_execution(
        self, execution: Execution, schedule: Schedule, *, now: datetime
    ) -> EvaluationReport:
        if self.create_defaults:
            self.ensure_default_rules(schedule, now=now)
        rules = self._enabled_rules()
        report = EvaluationReport()
        if not rules:
            return report
        depth = min(_MAX_DEPTH, max(_depth(spec) for _, spec in rules))
        timeline = self._timeline(execution, schedule, depth)
        silences = self._store.alerts.list_silences(active_at=now)
        for record, spec in rules:
            try:
                events = self._evaluate_rule(record, spec, schedule, execution, timeline, now)
            except ModelmonError as exc:
                _log.warning("alert rule %r was not evaluated: %s", record.name, exc)
                continue
            report.evaluated += 1
            told = [e for e in events if self._should_tell(e, silences, now)]
            report.events += told
            if spec.remediation and any(e.kind == "firing" for e in told):
                report.remediations += self._remediate(record, spec, told, execution, schedule, now)
        report.notifications += self._queue(
            report.events,
            now,
            execution_id=execution.id,
            window=(execution.window_start, execution.window_end),
        )
        return report

    def ensure_default_rules(self, schedule: Schedule, *, now: datetime) -> list[RuleRecord]:
        """Create the schedule's default rules once (deleting one later does not revive it)."""
        if not self._store.alerts.claim_defaults(schedule.id, now=now):
            return []
        try:
            try:
                files = self._store.models.get_baseline(
                    schedule.model, schedule.version, schedule.monitor_type
                ).files
            except NotFoundError:
                files = {}  # prediction drift, service health: no baseline needed
            specs = default_rules_for(schedule, files)
        except ModelmonError as exc:
            _log.info("no default alert rules for schedule %r: %s", schedule.name, exc)
            return []
        created = []
        for spec in specs:
            if self._store.alerts.find_rule(spec.name) is None:
                created.append(
                    self._store.alerts.create_rule(
                        spec.name, spec.document(), now=now, source=f"schedule:{schedule.id}"
                    )
                )
        return created

    def _enabled_rules(self) -> list[tuple[RuleRecord, RuleSpec]]:
        rules = []
        for record in self._store.alerts.list_rules():
            try:
                spec = RuleSpec.model_validate(record.spec)
            except ValueError as exc:  # stored by an older modelmon, or edited by hand
                _log.warning("alert rule %r is invalid and skipped: %s", record.name, exc)
                continue
            if spec.enabled:
                rules.append((record, spec))
        return rules

    def _timeline(self, execution: Execution, schedule: Schedule, depth: int) -> list[datetime]:
        """Window ends of the schedule's ended executions up to this one, oldest first."""
        recent = self._store.executions.list_executions(
            schedule_id=schedule.id, end=execution.scheduled_time + _TICK, limit=depth + 10
        )
        ends = [e.window_end for e in reversed(recent) if e.status in _ENDED]
        return list(dict.fromkeys(ends))[-depth:]

    def _series(
        self, spec: RuleSpec, schedule: Schedule, start: datetime, end: datetime
    ) -> dict[tuple[str, str], Series]:
        matchers = spec.label_matchers

        def keep(name: str, labels: dict[str, str]) -> bool:
            # Only this schedule's series: another schedule's are judged by its own executions.
            return (
                spec.matches_metric(name)
                and labels.get("schedule") == schedule.name
                and all(m.matches(labels.get(label, "")) for label, m in matchers.items())
            )

        found = self._store.metrics.read_series(spec.metric_prefix, keep, start=start, end=end)
        return {(s.name, labels_hash(s.labels)): s for s in found}

    def _evaluate_rule(
        self,
        record: RuleRecord,
        spec: RuleSpec,
        schedule: Schedule,
        execution: Execution,
        timeline: Sequence[datetime],
        now: datetime,
    ) -> list[AlertEvent]:
        if not timeline:
            return []
        slots = list(timeline[-spec.evaluation.n :])
        start = _history_start(spec, timeline)
        series = self._series(spec, schedule, start, slots[-1] + _TICK)
        if not series:
            return []
        current = {
            (a.metric, labels_hash(a.labels)): AlertState(a.state)
            for a in self._store.alerts.alerts_of_rule(record.id)
        }
        evaluated = []
        for key, points in sorted(series.items()):
            name, labels, times, values = (
                points.name,
                points.labels,
                points.timestamps,
                points.values,
            )
            verdicts = slot_verdicts(spec.condition, times, values, slots)
            state = decide(
                verdicts,
                spec.evaluation,
                current.get(key, AlertState.INSUFFICIENT_DATA),
            )
            value = _latest(times, values, slots)
            message = render_template(
                spec.description,
                {
                    **labels,
                    "rule": record.name,
                    "metric": name,
                    "value": _format(value),
                    "condition": spec.condition.describe(),
                    "threshold": spec.condition.threshold,
                    "low": spec.condition.low,
                    "high": spec.condition.high,
                    "state": state.value,
                    "severity": spec.severity,
                    "runbook_url": spec.runbook_url or "",
                    "window_start": execution.window_start.isoformat(),
                    "window_end": execution.window_end.isoformat(),
                    "execution_id": execution.id,
                    "labels": ", ".join(f"{k}={v}" for k, v in sorted(labels.items())),
                },
            )
            evaluated.append(Evaluated(name, labels, state.value, value, message))
        results = self._store.alerts.apply_evaluations(
            record.id,
            evaluated,
            model=schedule.model,
            version=schedule.version,
            execution_id=execution.id,
            now=now,
        )
        events = []
        for alert, previous in results:
            if previous is None:
                continue
            if alert.state == AlertState.ALARM:
                kind = "firing"
            elif previous == AlertState.ALARM:
                kind = "resolved"
            else:
                continue  # INSUFFICIENT_DATA <-> OK: recorded in the history, nobody paged
            events.append(
                AlertEvent(
                    kind,  # type: ignore[arg-type]
                    alert,
                    record.name,
                    spec.severity,
                    spec.runbook_url,
                    tuple(spec.channels),
                    previous,
                )
            )
        return events

    def _should_tell(self, event: AlertEvent, silences: list[SilenceRecord], now: datetime) -> bool:
        if event.kind == "resolved":
            # Only resolve what was announced: a silenced episode ends as quietly as it began.
            return event.alert.notified_at is not None
        return silenced_until(event.alert, silences, now) is None

    # -- remediation ---------------------------------------------------------------------------

    def _remediate(
        self,
        record: RuleRecord,
        spec: RuleSpec,
        events: Sequence[AlertEvent],
        execution: Execution,
        schedule: Schedule,
        now: datetime,
    ) -> list[int]:
        """Run the rule's actions once for this execution, whatever the number of series."""
        firing = [e.alert for e in events if e.kind == "firing"]
        metrics = sorted({a.metric for a in firing})
        context: dict[str, Any] = {
            "rule": record.name,
            "rule_id": record.id,
            "severity": spec.severity,
            "model": schedule.model,
            "version": schedule.version,
            "monitor": schedule.monitor_type.value,
            "schedule": schedule.name,
            "metric": metrics[0] if len(metrics) == 1 else ",".join(metrics),
            "window_start": execution.window_start.isoformat(),
            "window_end": execution.window_end.isoformat(),
            "execution_id": execution.id,
            "alert_count": len(firing),
            "runbook_url": spec.runbook_url,
            "alerts": [
                {"id": a.id, "metric": a.metric, "labels": a.labels, "value": a.value}
                for a in firing
            ],
        }
        ran = []
        for name in spec.remediation:
            began = time.monotonic()
            try:
                action = self._store.alerts.get_action(name)
                kind, config = action.type, action.config
                outcome = run_action(kind, config, context)
                fields = {
                    "ok": outcome.ok,
                    "exit_code": outcome.exit_code,
                    "output": outcome.output,
                    "error": outcome.error,
                }
            except NotFoundError as exc:
                kind = "unknown"
                fields = {"ok": False, "exit_code": None, "output": "", "error": str(exc)}
            entry = self._store.alerts.record_remediation(
                action=name,
                action_type=kind,
                rule_id=record.id,
                rule_name=record.name,
                model=schedule.model,
                version=schedule.version,
                execution_id=execution.id,
                context=context,
                started_at=now,
                # The injected clock does not move during a run; the real duration is kept.
                ended_at=now + timedelta(seconds=time.monotonic() - began),
                **fields,
            )
            ran.append(entry.id)
        return ran

    # -- reminders and the outbox --------------------------------------------------------------

    def send_reminders(self, now: datetime) -> list[int]:
        """Queue one reminder per model and channel for alerts still in ALARM whose rule asks
        for reminders, unless acknowledged or silenced."""
        specs = {
            record.id: (record, spec)
            for record, spec in self._enabled_rules()
            if spec.reminder_minutes
        }
        if not specs:
            return []
        silences = self._store.alerts.list_silences(active_at=now)
        events = []
        for alert in self._store.alerts.list_alerts(state=AlertState.ALARM.value):
            if alert.rule_id not in specs or alert.acknowledged_at is not None:
                continue
            record, spec = specs[alert.rule_id]
            assert spec.reminder_minutes is not None
            last = alert.notified_at or alert.since
            due = now - last >= timedelta(minutes=spec.reminder_minutes)
            if due and silenced_until(alert, silences, now) is None:
                events.append(
                    AlertEvent(
                        "reminder",
                        alert,
                        record.name,
                        spec.severity,
                        spec.runbook_url,
                        tuple(spec.channels),
                    )
                )
        return self._queue(events, now)

    def _queue(
        self,
        events: Sequence[AlertEvent],
        now: datetime,
        *,
        execution_id: int | None = None,
        window: tuple[datetime, datetime] | None = None,
    ) -> list[int]:
        if not events:
            return []
        channels = [c.name for c in self._store.alerts.list_channels()]
        queued: list[int] = []
        told: set[int] = set()
        for message in group_events(
            events, all_channels=channels, execution_id=execution_id, window=window
        ):
            queued.append(
                self._store.alerts.enqueue_notification(
                    channel=message.channel,
                    kind=message.kind,
                    subject=message.subject,
                    payload=message.payload,
                    now=now,
                )
            )
            told.update(message.alert_ids)
        self._store.alerts.mark_notified(told, now=now)
        return queued


def _depth(spec: RuleSpec) -> int:
    history = spec.condition.history if spec.condition.type == "sigma" else 0
    return spec.evaluation.n + history


def _history_start(spec: RuleSpec, timeline: Sequence[datetime]) -> datetime:
    n = spec.evaluation.n
    condition = spec.condition
    first_slot = timeline[-n] if len(timeline) >= n else timeline[0]
    if condition.type == "sigma":
        return timeline[max(0, len(timeline) - n - condition.history)]
    if condition.type == "seasonal":
        period = timedelta(hours=condition.period_hours)
        return (
            first_slot - condition.seasons * period - timedelta(minutes=condition.tolerance_minutes)
        )
    return first_slot


def _latest(
    times: Sequence[datetime], values: Sequence[float], slots: Sequence[datetime]
) -> float | None:
    """The value at the newest slot that has one."""
    at = dict(zip(times, values, strict=True))
    for slot in reversed(slots):
        value = at.get(slot)
        if value is not None and not math.isnan(value):
            return value
    return None
