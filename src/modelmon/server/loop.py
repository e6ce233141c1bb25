"""The server's scheduler loop: a thread that ticks every ``interval`` seconds until stopped.

Waiting uses an Event, so stopping is immediate; the first tick happens at start, which is what
catches up runs missed while the server was down.
"""

from __future__ import annotations

import logging
import threading

from modelmon.server.state import ServerState

__all__ = ["SchedulerLoop"]

_log = logging.getLogger(__name__)


class SchedulerLoop:
    def __init__(self, state: ServerState, interval: float = 30.0) -> None:
        self._state = state
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modelmon-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = 60.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._state.tick()
            except Exception:  # keep scheduling; the error count shows on /metrics
                _log.exception("scheduler tick failed")
            self._stop.wait(self._interval)
