"""Alerting and remediation: rules over metric points, the OK / ALARM / INSUFFICIENT_DATA state
machine, grouped notifications (webhook, Slack, email, command) through a retried outbox,
silences, acknowledgements, reminders, and remediation actions with an audit log.

engine = AlertEngine(store)
engine.after_execution(execution, schedule, now)   # evaluate, remind, deliver
engine.dispatcher.deliver_due(now)                 # retries, driven by the caller's clock
"""

from __future__ import annotations

from modelmon.alerting.conditions import Verdict, slot_verdicts
from modelmon.alerting.defaults import default_rules_for
from modelmon.alerting.dispatch import DeliveryReport, Dispatcher, backoff
from modelmon.alerting.engine import AlertEngine, EvaluationReport, silenced_until
from modelmon.alerting.messages import AlertEvent, Outgoing, group_events
from modelmon.alerting.policy import AlertState, decide
from modelmon.alerting.rules import ConditionSpec, EvaluationSpec, RuleSpec
from modelmon.alerting.transport import DeliveryError

__all__ = [
    "AlertEngine",
    "AlertEvent",
    "AlertState",
    "ConditionSpec",
    "DeliveryError",
    "DeliveryReport",
    "Dispatcher",
    "EvaluationReport",
    "EvaluationSpec",
    "Outgoing",
    "RuleSpec",
    "Verdict",
    "backoff",
    "decide",
    "default_rules_for",
    "group_events",
    "silenced_until",
    "slot_verdicts",
]
