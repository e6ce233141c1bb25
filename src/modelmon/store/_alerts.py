"""Alerting state: rules, channels, actions, alert states with their history, silences, the
notification outbox and the remediation audit log.

The store keeps documents (a rule's spec, a channel's config) as JSON and does not interpret
them: ``modelmon.alerting`` validates them on the way in. State changes that must not race (an
alert's transition, a notification's attempt) are single conditional statements.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from modelmon.errors import ConflictError, NotFoundError
from modelmon.store._schema import (
    alert_actions,
    alert_channels,
    alert_defaults,
    alert_notifications,
    alert_remediations,
    alert_rules,
    alert_silences,
    alert_transitions,
    alerts,
)
from modelmon.store._types import AnyRow, require_utc

__all__ = [
    "ActionRecord",
    "AlertRecord",
    "AlertStore",
    "ChannelRecord",
    "Evaluated",
    "NotificationRecord",
    "RemediationRecord",
    "RuleRecord",
    "SilenceRecord",
    "TransitionRecord",
    "labels_hash",
]


@dataclass(frozen=True)
class RuleRecord:
    id: int
    name: str
    spec: dict[str, Any]
    source: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ChannelRecord:
    id: int
    name: str
    type: str
    config: dict[str, Any]
    created_at: datetime
    consecutive_failures: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True)
class ActionRecord:
    id: int
    name: str
    type: str
    config: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class AlertRecord:
    """The current state of one rule on one series."""

    id: int
    rule_id: int
    metric: str
    labels: dict[str, str]
    model: str
    version: str
    state: str
    since: datetime
    value: float | None
    message: str
    execution_id: int | None
    evaluated_at: datetime
    notified_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class TransitionRecord:
    id: int
    alert_id: int
    at: datetime
    from_state: str
    to_state: str
    value: float | None
    message: str
    execution_id: int | None


@dataclass(frozen=True)
class SilenceRecord:
    id: int
    rule_id: int | None
    matchers: dict[str, str]
    until: datetime
    reason: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class NotificationRecord:
    id: int
    channel: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    subject: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class RemediationRecord:
    id: int
    action: str
    action_type: str
    rule_id: int | None
    rule_name: str
    model: str
    version: str
    execution_id: int | None
    context: dict[str, Any]
    ok: bool
    exit_code: int | None
    output: str
    error: str | None
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class Evaluated:
    """One series' verdict from one evaluation, to be applied to its alert."""

    metric: str
    labels: Mapping[str, str]
    state: str
    value: float | None
    message: str


def labels_hash(labels: Mapping[str, str]) -> str:
    text = json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _number(value: float | None) -> float | None:
    # JSON and SQLite have no NaN: an undefined value is stored (and shown) as null.
    return None if value is None or not math.isfinite(value) else float(value)


def _record(cls: Any, row: AnyRow) -> Any:
    return cls(**row._asdict())


def _alert(row: AnyRow) -> AlertRecord:
    values = row._asdict()
    values.pop("labels_hash", None)
    return AlertRecord(**values)


_ALERT_COLUMNS = [c for c in alerts.c if c.name != "labels_hash"]
_UPDATE_EVALUATED = (
    update(alerts)
    .where(alerts.c.id == bindparam("b_id"))
    .values(
        {
            name: bindparam(f"b_{name}")
            for name in (
                "state",
                "value",
                "message",
                "execution_id",
                "evaluated_at",
                "since",
                "notified_at",
                "acknowledged_at",
                "acknowledged_by",
            )
        }
    )
)
_INITIAL_STATE = "INSUFFICIENT_DATA"
# Bound parameters per IN list, as in _metrics.py.
_IN_CHUNK = 500


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- rules ---------------------------------------------------------------------------------

    def create_rule(
        self, name: str, spec: Mapping[str, Any], *, now: datetime, source: str | None = None
    ) -> RuleRecord:
        now = require_utc(now, "now")
        values = {
            "name": name,
            "spec": dict(spec),
            "source": source,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._engine.begin() as connection:
                rule_id = connection.execute(
                    insert(alert_rules).values(values).returning(alert_rules.c.id)
                ).scalar_one()
        except IntegrityError:
            raise ConflictError(f"An alert rule named {name!r} already exists.") from None
        return self.get_rule(rule_id)

    def get_rule(self, rule_id: int) -> RuleRecord:
        rows = self._rules(alert_rules.c.id == rule_id)
        if not rows:
            raise NotFoundError(f"There is no alert rule with id {rule_id}.")
        return rows[0]

    def find_rule(self, name: str) -> RuleRecord | None:
        rows = self._rules(alert_rules.c.name == name)
        return rows[0] if rows else None

    def list_rules(self) -> list[RuleRecord]:
        return self._rules()

    def update_rule(
        self, rule_id: int, *, name: str, spec: Mapping[str, Any], now: datetime
    ) -> RuleRecord:
        try:
            with self._engine.begin() as connection:
                changed = connection.execute(
                    update(alert_rules)
                    .where(alert_rules.c.id == rule_id)
                    .values(name=name, spec=dict(spec), updated_at=require_utc(now, "now"))
                ).rowcount
        except IntegrityError:
            raise ConflictError(f"An alert rule named {name!r} already exists.") from None
        if changed == 0:
            raise NotFoundError(f"There is no alert rule with id {rule_id}.")
        return self.get_rule(rule_id)

    def delete_rule(self, rule_id: int) -> None:
        with self._engine.begin() as connection:
            # Explicit, so SQLite without foreign-key enforcement leaves no orphans either.
            ids = select(alerts.c.id).where(alerts.c.rule_id == rule_id).scalar_subquery()
            connection.execute(
                delete(alert_transitions).where(alert_transitions.c.alert_id.in_(ids))
            )
            connection.execute(delete(alerts).where(alerts.c.rule_id == rule_id))
            connection.execute(delete(alert_silences).where(alert_silences.c.rule_id == rule_id))
            deleted = connection.execute(
                delete(alert_rules).where(alert_rules.c.id == rule_id)
            ).rowcount
        if deleted == 0:
            raise NotFoundError(f"There is no alert rule with id {rule_id}.")

    def _rules(self, *conditions: Any) -> list[RuleRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(alert_rules).where(*conditions).order_by(alert_rules.c.id)
            ).all()
        return [_record(RuleRecord, row) for row in rows]

    # -- channels and actions ------------------------------------------------------------------

    def create_channel(
        self, name: str, type: str, config: Mapping[str, Any], *, now: datetime
    ) -> ChannelRecord:
        values = {
            "name": name,
            "type": type,
            "config": dict(config),
            "created_at": require_utc(now, "now"),
            "consecutive_failures": 0,
        }
        self._insert_named(alert_channels, values, "notification channel")
        return self.get_channel(name)

    def get_channel(self, name: str) -> ChannelRecord:
        rows = self._channels(alert_channels.c.name == name)
        if not rows:
            raise NotFoundError(f"There is no notification channel named {name!r}.")
        return rows[0]

    def list_channels(self) -> list[ChannelRecord]:
        return self._channels()

    def delete_channel(self, name: str) -> None:
        self._delete_named(alert_channels, name, "notification channel")

    def record_delivery(self, name: str, *, ok: bool, error: str | None, now: datetime) -> None:
        """Count a delivery attempt on the channel's health: success resets the failure run."""
        now = require_utc(now, "now")
        values: dict[str, Any] = {"last_attempt_at": now}
        if ok:
            values |= {"consecutive_failures": 0, "last_success_at": now, "last_error": None}
        else:
            values |= {
                "consecutive_failures": alert_channels.c.consecutive_failures + 1,
                "last_error": error,
            }
        with self._engine.begin() as connection:
            connection.execute(
                update(alert_channels).where(alert_channels.c.name == name).values(values)
            )

    def _channels(self, *conditions: Any) -> list[ChannelRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(alert_channels).where(*conditions).order_by(alert_channels.c.name)
            ).all()
        return [_record(ChannelRecord, row) for row in rows]

    def create_action(
        self, name: str, type: str, config: Mapping[str, Any], *, now: datetime
    ) -> ActionRecord:
        values = {
            "name": name,
            "type": type,
            "config": dict(config),
            "created_at": require_utc(now, "now"),
        }
        self._insert_named(alert_actions, values, "remediation action")
        return self.get_action(name)

    def get_action(self, name: str) -> ActionRecord:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(alert_actions).where(alert_actions.c.name == name)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"There is no remediation action named {name!r}.")
        return _record(ActionRecord, row)  # type: ignore[no-any-return]

    def list_actions(self) -> list[ActionRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(alert_actions).order_by(alert_actions.c.name)).all()
        return [_record(ActionRecord, row) for row in rows]

    def delete_action(self, name: str) -> None:
        self._delete_named(alert_actions, name, "remediation action")

    def _insert_named(self, table: Any, values: dict[str, Any], what: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(table).values(values))
        except IntegrityError:
            raise ConflictError(f"A {what} named {values['name']!r} already exists.") from None

    def _delete_named(self, table: Any, name: str, what: str) -> None:
        with self._engine.begin() as connection:
            deleted = connection.execute(delete(table).where(table.c.name == name)).rowcount
        if deleted == 0:
            raise NotFoundError(f"There is no {what} named {name!r}.")

    # -- alerts --------------------------------------------------------------------------------

    def alerts_of_rule(self, rule_id: int) -> list[AlertRecord]:
        return self._alerts(alerts.c.rule_id == rule_id)

    def apply_evaluations(
        self,
        rule_id: int,
        evaluated: Sequence[Evaluated],
        *,
        model: str,
        version: str,
        execution_id: int | None,
        now: datetime,
    ) -> list[tuple[AlertRecord, str | None]]:
        """Set each series' alert to its evaluated state, in one transaction.

        Returns (alert after the change, previous state if it changed else None). A new alert
        starts in INSUFFICIENT_DATA, so its first verdict is a transition like any other. The
        history gets one row per change; an unchanged state only refreshes value and message.
        """
        now = require_utc(now, "now")
        keys = [(item.metric, labels_hash(item.labels)) for item in evaluated]
        # Batched (executemany): an execution that moves 300 features is a handful of
        # statements, not 900.
        with self._engine.begin() as connection:
            existing = self._rule_alerts(connection, rule_id)
            fresh = {
                key: {
                    "rule_id": rule_id,
                    "metric": item.metric,
                    "labels": dict(sorted(item.labels.items())),
                    "labels_hash": key[1],
                    "model": model,
                    "version": version,
                    "state": _INITIAL_STATE,
                    "since": now,
                    "value": None,
                    "message": "",
                    "execution_id": execution_id,
                    "evaluated_at": now,
                }
                for key, item in zip(keys, evaluated, strict=True)
                if key not in existing
            }
            if fresh:
                connection.execute(insert(alerts), list(fresh.values()))
                existing = self._rule_alerts(connection, rule_id)
            changes, transitions, previous_of = [], [], {}
            for key, item in zip(keys, evaluated, strict=True):
                before = existing[key]
                changed = before.state != item.state
                previous_of[key] = before.state if changed else None
                alarm = changed and item.state == "ALARM"
                # A new ALARM episode: nobody was told yet. Leaving ALARM ends the episode's
                # acknowledgement.
                cleared = changed and item.state != "ALARM"
                changes.append(
                    {
                        "b_id": before.id,
                        "b_state": item.state,
                        "b_value": _number(item.value),
                        "b_message": item.message,
                        "b_execution_id": execution_id,
                        "b_evaluated_at": now,
                        "b_since": now if changed else before.since,
                        "b_notified_at": None if alarm else before.notified_at,
                        "b_acknowledged_at": None if cleared else before.acknowledged_at,
                        "b_acknowledged_by": None if cleared else before.acknowledged_by,
                    }
                )
                if changed:
                    transitions.append(
                        {
                            "alert_id": before.id,
                            "at": now,
                            "from_state": before.state,
                            "to_state": item.state,
                            "value": _number(item.value),
                            "message": item.message,
                            "execution_id": execution_id,
                        }
                    )
            if changes:
                connection.execute(_UPDATE_EVALUATED, changes)
            if transitions:
                connection.execute(insert(alert_transitions), transitions)
            after = self._rule_alerts(connection, rule_id)
        return [(after[key], previous_of[key]) for key in keys]

    @staticmethod
    def _rule_alerts(connection: Connection, rule_id: int) -> dict[tuple[str, str], AlertRecord]:
        rows = connection.execute(
            select(*_ALERT_COLUMNS, alerts.c.labels_hash).where(alerts.c.rule_id == rule_id)
        )
        return {(row.metric, row.labels_hash): _alert(row) for row in rows}

    def get_alert(self, alert_id: int) -> AlertRecord:
        found = self._alerts(alerts.c.id == alert_id)
        if not found:
            raise NotFoundError(f"There is no alert with id {alert_id}.")
        return found[0]

    def list_alerts(
        self,
        *,
        state: str | None = None,
        model: str | None = None,
        rule_id: int | None = None,
        limit: int = 10_000,
    ) -> list[AlertRecord]:
        conditions = []
        if state is not None:
            conditions.append(alerts.c.state == state)
        if model is not None:
            conditions.append(alerts.c.model == model)
        if rule_id is not None:
            conditions.append(alerts.c.rule_id == rule_id)
        return self._alerts(*conditions, limit=limit)

    def list_transitions(self, alert_id: int) -> list[TransitionRecord]:
        self.get_alert(alert_id)
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(alert_transitions)
                .where(alert_transitions.c.alert_id == alert_id)
                .order_by(alert_transitions.c.at, alert_transitions.c.id)
            ).all()
        return [_record(TransitionRecord, row) for row in rows]

    def acknowledge(self, alert_id: int, *, by: str, now: datetime) -> AlertRecord:
        """Acknowledge an alert in ALARM: no reminders until it resolves and fires again."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.state == "ALARM")
                .values(acknowledged_at=require_utc(now, "now"), acknowledged_by=by)
            ).rowcount
        alert = self.get_alert(alert_id)  # NotFoundError first
        if changed == 0:
            raise ConflictError(
                f"Alert {alert_id} is {alert.state}; only an alert in ALARM can be acknowledged."
            )
        return alert

    def mark_notified(self, alert_ids: Iterable[int], *, now: datetime) -> None:
        ids = list(alert_ids)
        if not ids:
            return
        with self._engine.begin() as connection:
            connection.execute(
                update(alerts)
                .where(alerts.c.id.in_(ids))
                .values(notified_at=require_utc(now, "now"))
            )

    def _alerts(self, *conditions: Any, limit: int = 10_000) -> list[AlertRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(*_ALERT_COLUMNS).where(*conditions).order_by(alerts.c.id).limit(limit)
            ).all()
        return [_alert(row) for row in rows]

    # -- silences ------------------------------------------------------------------------------

    def create_silence(
        self,
        *,
        matchers: Mapping[str, str],
        until: datetime,
        reason: str,
        created_by: str,
        rule_id: int | None,
        now: datetime,
    ) -> SilenceRecord:
        if rule_id is not None:
            self.get_rule(rule_id)
        with self._engine.begin() as connection:
            silence_id = connection.execute(
                insert(alert_silences)
                .values(
                    rule_id=rule_id,
                    matchers=dict(matchers),
                    until=require_utc(until, "until"),
                    reason=reason,
                    created_by=created_by,
                    created_at=require_utc(now, "now"),
                )
                .returning(alert_silences.c.id)
            ).scalar_one()
        return self._silences(alert_silences.c.id == silence_id)[0]

    def list_silences(self, *, active_at: datetime | None = None) -> list[SilenceRecord]:
        if active_at is None:
            return self._silences()
        return self._silences(alert_silences.c.until > require_utc(active_at, "active_at"))

    def delete_silence(self, silence_id: int) -> None:
        with self._engine.begin() as connection:
            deleted = connection.execute(
                delete(alert_silences).where(alert_silences.c.id == silence_id)
            ).rowcount
        if deleted == 0:
            raise NotFoundError(f"There is no silence with id {silence_id}.")

    def _silences(self, *conditions: Any) -> list[SilenceRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(alert_silences).where(*conditions).order_by(alert_silences.c.id)
            ).all()
        return [_record(SilenceRecord, row) for row in rows]

    # -- the notification outbox ---------------------------------------------------------------

    def enqueue_notification(
        self, *, channel: str, kind: str, subject: str, payload: Mapping[str, Any], now: datetime
    ) -> int:
        now = require_utc(now, "now")
        with self._engine.begin() as connection:
            notification_id: int = connection.execute(
                insert(alert_notifications)
                .values(
                    channel=channel,
                    kind=kind,
                    status="pending",
                    attempts=0,
                    subject=subject,
                    payload=dict(payload),
                    created_at=now,
                    next_attempt_at=now,
                )
                .returning(alert_notifications.c.id)
            ).scalar_one()
        return notification_id

    def due_notifications(self, now: datetime, *, limit: int = 100) -> list[NotificationRecord]:
        """Pending notifications whose next attempt is due, oldest first."""
        return self._notifications(
            alert_notifications.c.status == "pending",
            alert_notifications.c.next_attempt_at <= require_utc(now, "now"),
            order=alert_notifications.c.next_attempt_at,
            limit=limit,
        )

    def record_attempt(
        self,
        notification_id: int,
        *,
        ok: bool,
        error: str | None,
        now: datetime,
        retry_at: datetime | None,
    ) -> None:
        """One delivery attempt: sent, retried at ``retry_at``, or failed for good (None)."""
        now = require_utc(now, "now")
        values: dict[str, Any] = {"attempts": alert_notifications.c.attempts + 1}
        if ok:
            values |= {"status": "sent", "sent_at": now, "last_error": None}
        elif retry_at is not None:
            values |= {"last_error": error, "next_attempt_at": require_utc(retry_at, "retry_at")}
        else:
            values |= {"status": "failed", "last_error": error}
        with self._engine.begin() as connection:
            connection.execute(
                update(alert_notifications)
                .where(
                    alert_notifications.c.id == notification_id,
                    alert_notifications.c.status == "pending",
                )
                .values(values)
            )

    def list_notifications(
        self, *, status: str | None = None, limit: int = 100
    ) -> list[NotificationRecord]:
        conditions = [] if status is None else [alert_notifications.c.status == status]
        return self._notifications(*conditions, order=alert_notifications.c.id.desc(), limit=limit)

    def get_notification(self, notification_id: int) -> NotificationRecord:
        found = self._notifications(
            alert_notifications.c.id == notification_id, order=alert_notifications.c.id, limit=1
        )
        if not found:
            raise NotFoundError(f"There is no notification with id {notification_id}.")
        return found[0]

    def count_notifications(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> number of notifications."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(
                    alert_notifications.c.channel,
                    alert_notifications.c.status,
                    func.count(),
                ).group_by(alert_notifications.c.channel, alert_notifications.c.status)
            ).all()
        return {(channel, status): count for channel, status, count in rows}

    def _notifications(self, *conditions: Any, order: Any, limit: int) -> list[NotificationRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(alert_notifications)
                .where(*conditions)
                .order_by(order, alert_notifications.c.id)
                .limit(limit)
            ).all()
        return [_record(NotificationRecord, row) for row in rows]

    # -- remediation audit log -----------------------------------------------------------------

    def record_remediation(self, **values: Any) -> RemediationRecord:
        """Append one remediation run (fields of RemediationRecord except id)."""
        for name in ("started_at", "ended_at"):
            values[name] = require_utc(values[name], name)
        with self._engine.begin() as connection:
            remediation_id = connection.execute(
                insert(alert_remediations).values(values).returning(alert_remediations.c.id)
            ).scalar_one()
            row = connection.execute(
                select(alert_remediations).where(alert_remediations.c.id == remediation_id)
            ).one()
        return _record(RemediationRecord, row)  # type: ignore[no-any-return]

    def list_remediations(self, *, limit: int = 100) -> list[RemediationRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(alert_remediations).order_by(alert_remediations.c.id.desc()).limit(limit)
            ).all()
        return [_record(RemediationRecord, row) for row in rows]

    # -- reading series ------------------------------------------------------------------------

    # -- default rules -------------------------------------------------------------------------

    def claim_defaults(self, schedule_id: int, *, now: datetime) -> bool:
        """True the first time it is called for a schedule: its default rules are to be made."""
        with self._engine.begin() as connection:
            return _insert_once(connection, schedule_id, require_utc(now, "now"))


def _insert_once(connection: Connection, schedule_id: int, now: datetime) -> bool:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    result = connection.execute(
        dialect.insert(alert_defaults)
        .values(schedule_id=schedule_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["schedule_id"])
        .returning(alert_defaults.c.schedule_id)
    )
    # RETURNING, not rowcount: drivers disagree on the rowcount of a skipped conflict.
    return result.first() is not None
