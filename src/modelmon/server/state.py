"""What every request handler shares: the store, the data directory, the clock, the scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from modelmon.capture.writer import CaptureStats, CaptureWriter
from modelmon.services.scheduler import Scheduler
from modelmon.store import Execution, Schedule, Store

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Collector", "ExecutionListener", "ServerState"]

_log = logging.getLogger(__name__)

# Large enough for a batch of thousands of captured records or a baseline dataset; anything
# bigger belongs in the capture path (SDK, proxy) or a file the server reads itself.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024

ExecutionListener = Callable[[Execution, Schedule], None]
# Extra lines for /metrics (alert states, notifier health...).
Collector = Callable[[], Iterable[str]]


@dataclass
class ServerState:
    store: Store
    data_dir: Path
    clock: Callable[[], datetime]
    owner: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    started_at: datetime | None = None
    # Called after each execution this server ran (alerting hooks in here).
    listeners: list[ExecutionListener] = field(default_factory=list)
    collectors: list[Collector] = field(default_factory=list)
    # Called with the time after every scheduler tick (alert reminders and delivery retries).
    tick_hooks: list[Callable[[datetime], None]] = field(default_factory=list)
    # Capabilities installed on this server, by name (e.g. "alerting": its AlertEngine).
    extensions: dict[str, Any] = field(default_factory=dict)
    # The scheduler loop's own health, for /metrics and /healthz.
    ticks: int = 0
    tick_errors: int = 0
    last_tick: datetime | None = None
    _writer: CaptureWriter | None = field(default=None, repr=False)
    _writer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tick_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _scheduler: Scheduler | None = field(default=None, repr=False)

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            # Shares the listener list, so listeners added later are called too.
            self._scheduler = Scheduler(
                self.store, data_dir=self.data_dir, owner=self.owner, clock=self.clock
            )
            self._scheduler.listeners = self.listeners
        return self._scheduler

    def tick(self) -> list[Execution]:
        """One scheduler pass; ticks of one server never overlap (leases cover other servers)."""
        with self._tick_lock:
            try:
                ran = self.scheduler.tick()
            except Exception:
                self.tick_errors += 1
                raise
            finally:
                self.ticks += 1
                self.last_tick = self.clock()
            for hook in self.tick_hooks:
                try:
                    hook(self.last_tick)
                except Exception:  # a hook's failure must not stop scheduling
                    self.tick_errors += 1
                    _log.exception("tick hook %r failed", hook)
        return ran

    @property
    def writer(self) -> CaptureWriter:
        """The capture writer for records ingested over HTTP, started on first use."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = CaptureWriter(self.data_dir, clock=self.clock)
            return self._writer

    def capture_stats(self) -> CaptureStats | None:
        with self._writer_lock:
            return None if self._writer is None else self._writer.stats

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
