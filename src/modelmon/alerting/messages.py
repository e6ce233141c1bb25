"""Grouping: the alert events of one model and one execution become one message per channel.

When 300 features drift at once the on-call person gets one message that says so, not 300.
Pure: events in, (channel, subject, payload) out; the payload is what a webhook receives and
what every other channel renders from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from modelmon.store import AlertRecord

__all__ = ["AlertEvent", "Outgoing", "group_events"]

EventKind = Literal["firing", "resolved", "reminder"]
# Lines of the text rendering; the JSON payload carries every alert.
_TEXT_LINES = 40


@dataclass(frozen=True)
class AlertEvent:
    """Something to tell about one alert: it fired, it resolved, or it is still firing."""

    kind: EventKind
    alert: AlertRecord
    rule_name: str
    severity: str
    runbook_url: str | None
    channels: tuple[str, ...]
    previous: str | None = None


@dataclass(frozen=True)
class Outgoing:
    channel: str
    kind: str
    subject: str
    payload: dict[str, Any]
    alert_ids: tuple[int, ...]


def _value(value: float | None) -> str:
    return "no data" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _alert_json(event: AlertEvent) -> dict[str, Any]:
    alert = event.alert
    return {
        "id": alert.id,
        "event": event.kind,
        "rule": event.rule_name,
        "rule_id": alert.rule_id,
        "severity": event.severity,
        "metric": alert.metric,
        "labels": alert.labels,
        "state": alert.state,
        "previous_state": event.previous,
        "since": alert.since.isoformat(),
        "value": alert.value,
        "message": alert.message,
        "runbook_url": event.runbook_url,
    }


def _subject(model: str, version: str, counts: dict[str, int], execution_id: int | None) -> str:
    firing, resolved, reminder = counts["firing"], counts["resolved"], counts["reminder"]
    parts = []
    if firing:
        parts.append(f"{firing} alert{'s' * (firing != 1)} firing")
    if resolved:
        parts.append(f"{resolved} resolved")
    if reminder:
        parts.append(f"{reminder} still firing")
    tag = "ALARM" if firing else ("REMINDER" if reminder else "RESOLVED")
    where = f" (execution {execution_id})" if execution_id is not None else ""
    return f"[{tag}] {model} {version}: {', '.join(parts)}{where}"


def _text(events: Sequence[AlertEvent]) -> str:
    order = {"firing": 0, "reminder": 1, "resolved": 2}
    severity_rank = {"critical": 0, "warning": 1, "info": 2}
    ranked = sorted(
        events,
        key=lambda e: (order[e.kind], severity_rank.get(e.severity, 3), e.rule_name, e.alert.id),
    )
    lines = []
    for event in ranked[:_TEXT_LINES]:
        alert = event.alert
        extra = {k: v for k, v in alert.labels.items() if k not in ("model", "version")}
        where = " ".join(f"{k}={v}" for k, v in sorted(extra.items()))
        line = (
            f"{event.kind.upper()} [{event.severity}] {event.rule_name}: {alert.metric} = "
            f"{_value(alert.value)} {where}".rstrip()
        )
        if alert.message:
            line += f" — {alert.message}"
        if event.runbook_url:
            line += f" (runbook: {event.runbook_url})"
        lines.append(line)
    if len(ranked) > _TEXT_LINES:
        lines.append(f"... and {len(ranked) - _TEXT_LINES} more (see the JSON or the dashboard)")
    return "\n".join(lines)


def group_events(
    events: Iterable[AlertEvent],
    *,
    all_channels: Sequence[str],
    execution_id: int | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> list[Outgoing]:
    """One message per (channel, model, version): for an execution that is one per model and
    execution; for reminders one per model. A rule's ``*`` channel means every channel."""
    groups: dict[tuple[str, str, str], list[AlertEvent]] = {}
    for event in events:
        targets = all_channels if "*" in event.channels else event.channels
        for channel in dict.fromkeys(targets):
            key = (channel, event.alert.model, event.alert.version)
            groups.setdefault(key, []).append(event)
    outgoing = []
    for (channel, model, version), grouped in sorted(groups.items(), key=lambda kv: kv[0]):
        counts: dict[str, int] = {kind: sum(e.kind == kind for e in grouped) for kind in _KINDS}
        subject = _subject(model, version, counts, execution_id)
        kind = "reminder" if counts["reminder"] == len(grouped) else "alert"
        payload: dict[str, Any] = {
            "kind": kind,
            "subject": subject,
            "text": _text(grouped),
            "model": model,
            "version": version,
            "execution_id": execution_id,
            "window_start": None if window is None else window[0].isoformat(),
            "window_end": None if window is None else window[1].isoformat(),
            "counts": counts,
            "alerts": [_alert_json(e) for e in grouped],
        }
        ids = tuple(dict.fromkeys(e.alert.id for e in grouped))
        outgoing.append(Outgoing(channel, kind, subject, payload, ids))
    return outgoing


_KINDS: tuple[EventKind, ...] = ("firing", "resolved", "reminder")
