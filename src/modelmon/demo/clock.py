"""The demo's simulated clock: days pass in seconds, and everything that stamps time reads it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

__all__ = ["SimulatedClock"]


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta
