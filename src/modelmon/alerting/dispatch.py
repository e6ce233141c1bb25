"""Delivery from the outbox, with retries and exponential backoff on an injected clock.

``deliver_due(now)`` makes one attempt at every notification that is due. A failed attempt is
recorded (error, attempt count) and retried after 30 s, 1 min, 2 min, ... capped at 30 min; after
``max_attempts`` the notification is failed for good, and stays in the log. A channel whose
attempts keep failing is reported unhealthy (``/metrics``, the channels API) until one succeeds.
One bad channel never holds up the others: after its first failure in a pass, its remaining
messages wait for the next pass instead of each waiting out a timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelmon.alerting import channels as channel_types
from modelmon.alerting.transport import DeliveryError
from modelmon.store import ChannelRecord, Store

__all__ = ["DEFAULT_UNHEALTHY_AFTER", "DeliveryReport", "Dispatcher", "backoff"]

_log = logging.getLogger(__name__)

DEFAULT_UNHEALTHY_AFTER = 3

Sender = Callable[[str, dict[str, Any], dict[str, Any]], None]


def backoff(
    attempt: int,
    *,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(minutes=30),
) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): base * 2**(attempt-1)."""
    delay: timedelta = base * 2 ** min(attempt - 1, 30)
    return min(delay, cap)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)


class Dispatcher:
    """Sends due notifications. ``budget_seconds`` bounds one pass's wall time, so a pass run
    by the scheduler's thread can never hold it for long (the rest waits for the next pass)."""

    def __init__(
        self,
        store: Store,
        *,
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(seconds=30),
        max_delay: timedelta = timedelta(minutes=30),
        budget_seconds: float = 30.0,
        unhealthy_after: int = DEFAULT_UNHEALTHY_AFTER,
        sender: Sender = channel_types.send,
    ) -> None:
        self._store = store
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.budget_seconds = budget_seconds
        self.unhealthy_after = unhealthy_after
        self._send = sender

    def deliver_due(self, now: datetime) -> DeliveryReport:
        report = DeliveryReport()
        started = time.monotonic()
        known = {c.name: c for c in self._store.alerts.list_channels()}
        failing: set[str] = set()
        for notification in self._store.alerts.due_notifications(now, limit=500):
            out_of_time = time.monotonic() - started > self.budget_seconds
            if notification.channel in failing or out_of_time:
                report.deferred.append(notification.id)
                continue
            channel = known.get(notification.channel)
            if channel is None:
                self._store.alerts.record_attempt(
                    notification.id,
                    ok=False,
                    error=f"channel {notification.channel!r} no longer exists",
                    now=now,
                    retry_at=None,
                )
                report.failed.append(notification.id)
                continue
            error = self._attempt(channel, notification.payload)
            self._store.alerts.record_delivery(channel.name, ok=error is None, error=error, now=now)
            if error is None:
                self._store.alerts.record_attempt(
                    notification.id, ok=True, error=None, now=now, retry_at=None
                )
                report.sent.append(notification.id)
                continue
            failing.add(channel.name)
            attempt = notification.attempts + 1
            retry_at = (
                None
                if attempt >= self.max_attempts
                else now + backoff(attempt, base=self.base_delay, cap=self.max_delay)
            )
            self._store.alerts.record_attempt(
                notification.id, ok=False, error=error, now=now, retry_at=retry_at
            )
            (report.failed if retry_at is None else report.retrying).append(notification.id)
            _log.warning(
                "notification %d to channel %r failed (attempt %d): %s",
                notification.id,
                channel.name,
                attempt,
                error,
            )
        return report

    def _attempt(self, channel: ChannelRecord, payload: dict[str, Any]) -> str | None:
        try:
            self._send(channel.type, channel.config, payload)
        except Exception as exc:  # any failure is recorded, never raised into the scheduler
            return str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        return None

    def healthy(self, channel: ChannelRecord) -> bool:
        return channel.consecutive_failures < self.unhealthy_after
