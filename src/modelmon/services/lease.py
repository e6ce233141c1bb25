"""Keep an execution's lease alive while it runs, so a long run is never taken over as dead.

A background thread renews the lease every third of its length; if a renewal fails (another
instance took the run over after a stall) it stops, and the run's final transition is refused by
the store, so the new owner's result stands.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from modelmon.store import Execution, Store

__all__ = ["LeaseKeeper"]

_log = logging.getLogger(__name__)


class LeaseKeeper:
    """``with LeaseKeeper(store, execution, owner=..., lease_seconds=..., clock=...):`` run it.

    ``wait(seconds)`` waits between renewals and returns True when told to stop; tests pass
    their own to renew without waiting."""

    def __init__(
        self,
        store: Store,
        execution: Execution,
        *,
        owner: str,
        lease_seconds: float,
        clock: Callable[[], datetime],
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self._store = store
        self._execution = execution
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread = threading.Thread(target=self._run, name="modelmon-lease", daemon=True)
        self.renewals = 0
        self.lost = False

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> bool:
        """Renew once; False when the lease is lost (renewing stops then)."""
        try:
            renewed = self._store.executions.renew_lease(
                self._execution.id,
                owner=self._owner,
                lease_seconds=self._lease_seconds,
                now=self._clock(),
            )
        except Exception:  # a database hiccup: try again at the next interval
            _log.exception("renewing the lease of execution %d failed", self._execution.id)
            return True
        if not renewed:
            self.lost = True
            _log.warning("execution %d lost its lease", self._execution.id)
            return False
        self.renewals += 1
        return True

    def _run(self) -> None:
        while not self._wait(self._lease_seconds / 3) and not self._stop.is_set():
            if not self.renew():
                return
