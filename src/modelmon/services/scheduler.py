"""The scheduler: turn schedules into executions, once each, across any number of instances.

A tick looks at every Scheduled schedule, works out the nominal times that came due since its
last execution (or its creation) and runs them oldest first. Because due times are derived from
what is stored rather than from a timer, a server that was down catches up every missed period
on its next tick. Several instances may tick the same store: the store's lease on each
(schedule, nominal time) decides which one runs it, the others skip it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from modelmon.errors import ConfigError, ConflictError
from modelmon.services import cron
from modelmon.services.executor import run_execution
from modelmon.services.windows import Window, explicit_window, scheduled_window
from modelmon.store import Execution, ExecutionStatus, Schedule, ScheduleStatus, Store

__all__ = ["DEFAULT_LEASE_SECONDS", "Scheduler"]

_log = logging.getLogger(__name__)

# Twice SageMaker's runtime budget of an hourly job (1800 s): a live run is never taken over,
# and a dead instance's run is failed within the hour by expire_stale.
DEFAULT_LEASE_SECONDS = 3600.0


class Scheduler:
    """Runs due executions of the schedules in ``store``; ``clock`` gives the current UTC time.

    ``owner`` names this instance in the leases it takes, so it must differ between instances.
    """

    def __init__(
        self,
        store: Store,
        *,
        data_dir: str | os.PathLike[str],
        owner: str,
        clock: Callable[[], datetime],
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        if lease_seconds <= 0:
            raise ConfigError(
                f"The 'lease_seconds' parameter of Scheduler must be positive. "
                f"Got {lease_seconds!r} instead."
            )
        self._store = store
        self._data_dir = data_dir
        self._owner = owner
        self._clock = clock
        self._lease_seconds = lease_seconds

    def tick(self) -> list[Execution]:
        """Fail runs whose owner died, then run every due execution; returns those this ran."""
        self._store.executions.expire_stale(self._clock())
        ran: list[Execution] = []
        for schedule in self._store.schedules.list_schedules(status=ScheduleStatus.SCHEDULED):
            try:
                expression = cron.parse(schedule.cron)
            except ConfigError as exc:
                # Nothing to run and no nominal time to record a failure at: say it and go on,
                # so one bad schedule never stops the others.
                _log.warning("schedule %r is skipped: %s", schedule.name, exc)
                continue
            if isinstance(expression, cron.Recurring):
                ran += self._catch_up(schedule, expression)
        return ran

    def run_now(self, schedule_id: int, window_start: datetime, window_end: datetime) -> Execution:
        """Run a ``NOW`` schedule once over [window_start, window_end), at most 24 h long.

        Raises ConflictError if the schedule already has a run at this instant (another
        instance started it), since the store keeps one execution per schedule and time.
        """
        schedule = self._store.schedules.get_schedule(schedule_id)
        if not isinstance(cron.parse(schedule.cron), cron.Now):
            raise ConfigError(
                f"Only a 'NOW' schedule runs on demand; schedule {schedule.name!r} is "
                f"{schedule.cron!r}. Got a run_now request for it instead."
            )
        window = explicit_window(window_start, window_end)
        now = self._clock()
        ran = self._run(schedule, now, window)
        if ran is None:
            raise ConflictError(
                f"Schedule {schedule.name!r} already has a run at {now.isoformat()}."
            )
        return ran

    def _catch_up(self, schedule: Schedule, expression: cron.Recurring) -> list[Execution]:
        latest = self._store.executions.list_executions(schedule_id=schedule.id, limit=1)
        since = latest[0].scheduled_time if latest else schedule.created_at
        ran = []
        for nominal in cron.due_times(expression, since, self._clock()):
            try:
                window = scheduled_window(
                    expression,
                    nominal,
                    start_offset=schedule.start_offset,
                    end_offset=schedule.end_offset,
                )
            except ConfigError as exc:
                # Bad offsets: record each run as Failed with the reason, over the default
                # window, so the user sees why nothing was analysed.
                ran += self._fail(schedule, nominal, scheduled_window(expression, nominal), exc)
                continue
            execution = self._run(schedule, nominal, window)
            if execution is not None:
                ran.append(execution)
        return ran

    def _acquire(self, schedule: Schedule, nominal: datetime, window: Window) -> Execution | None:
        now = self._clock()
        return self._store.executions.try_acquire_execution(
            schedule.id,
            nominal,
            window_start=window.start,
            window_end=window.end,
            owner=self._owner,
            lease_seconds=self._lease_seconds,
            now=now,
        )

    def _run(self, schedule: Schedule, nominal: datetime, window: Window) -> Execution | None:
        execution = self._acquire(schedule, nominal, window)
        if execution is None:
            return None  # another instance holds it, or it already ended
        try:
            return run_execution(
                self._store, execution, schedule, data_dir=self._data_dir, clock=self._clock
            )
        except ConflictError as exc:
            # Our lease was taken over while we ran: the new owner's result stands.
            _log.warning("execution %d of %r was taken over: %s", execution.id, schedule.name, exc)
            return None

    def _fail(
        self, schedule: Schedule, nominal: datetime, window: Window, error: ConfigError
    ) -> list[Execution]:
        execution = self._acquire(schedule, nominal, window)
        if execution is None:
            return []
        failed = self._store.executions.transition_execution(
            execution.id,
            ExecutionStatus.FAILED,
            now=self._clock(),
            owner=self._owner,
            failure_reason=str(error),
            exit_message=f"Failed: {error}",
        )
        return [failed]
