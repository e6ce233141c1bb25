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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from modelmon.capture import windows_needing_reevaluation
from modelmon.errors import ConfigError, ConflictError, NotFoundError
from modelmon.services import cron
from modelmon.services.executor import run_execution
from modelmon.services.lease import LeaseKeeper
from modelmon.services.windows import Window, explicit_window, scheduled_window
from modelmon.store import (
    Execution,
    ExecutionStatus,
    MonitorType,
    Schedule,
    ScheduleStatus,
    Store,
)

__all__ = ["DEFAULT_LEASE_SECONDS", "LABELLED_MONITORS", "RERUN_LOOKBACK", "Scheduler"]

_log = logging.getLogger(__name__)

# Twice SageMaker's runtime budget of an hourly job (1800 s): a live run is never taken over,
# and a dead instance's run is failed within the hour by expire_stale.
DEFAULT_LEASE_SECONDS = 3600.0

# Monitors whose answer changes when ground truth arrives: their windows are re-run on late labels.
LABELLED_MONITORS = frozenset({MonitorType.MODEL_QUALITY, MonitorType.MODEL_BIAS})
# How far back a late label still re-runs a window (older windows keep their result).
RERUN_LOOKBACK = timedelta(days=30)
_HOUR = timedelta(hours=1)
_ENDED = frozenset(
    {ExecutionStatus.COMPLETED, ExecutionStatus.COMPLETED_WITH_VIOLATIONS, ExecutionStatus.FAILED}
)

Listener = Callable[[Execution, Schedule], None]


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
        listeners: Sequence[Listener] = (),
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
        # Called with every execution this scheduler ended (alerting evaluates rules here).
        self.listeners: list[Listener] = list(listeners)
        # Per schedule: labels that arrived up to this time have been looked at for re-runs.
        self._labels_seen: dict[int, datetime] = {}

    def tick(self) -> list[Execution]:
        """Fail runs whose owner died, run every due execution (a NOW schedule's once), and
        re-run ended windows of labelled monitors that gained late labels; returns those this
        ran."""
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
            else:
                ran += self._once(schedule)
            if schedule.monitor_type in LABELLED_MONITORS:
                ran += self._rerun_late_labels(schedule)
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

    def _once(self, schedule: Schedule) -> list[Execution]:
        """A NOW schedule created with its window runs once, at its creation time."""
        if schedule.window_start is None or schedule.window_end is None:
            return []
        if self._store.executions.list_executions(schedule_id=schedule.id, limit=1):
            return []
        try:
            window = explicit_window(schedule.window_start, schedule.window_end)
        except ConfigError as exc:
            return self._fail(schedule, schedule.created_at, Window(*_order(schedule)), exc)
        execution = self._run(schedule, schedule.created_at, window)
        return [] if execution is None else [execution]

    def _rerun_late_labels(self, schedule: Schedule) -> list[Execution]:
        now = self._clock()
        recent = [
            e
            for e in self._store.executions.list_executions(
                schedule_id=schedule.id, start=now - RERUN_LOOKBACK, limit=10_000
            )
            if e.status in _ENDED and e.ended_at is not None
        ]
        if not recent:
            return []
        # On the first look, labels that arrived before the newest run ended were seen by it.
        since = self._labels_seen.get(schedule.id) or max(
            e.ended_at for e in recent if e.ended_at is not None
        )
        self._labels_seen[schedule.id] = now
        try:
            hours = {
                start
                for version, start in windows_needing_reevaluation(
                    self._data_dir, schedule.model, since, until=now
                )
                if version == schedule.version
            }
        except NotFoundError:
            return []
        ran = []
        for execution in sorted(recent, key=lambda e: e.scheduled_time):
            touched = any(
                execution.window_start < hour + _HOUR and hour < execution.window_end
                for hour in hours
            )
            if not touched:
                continue
            reopened = self._store.executions.reopen_execution(
                execution.id, owner=self._owner, lease_seconds=self._lease_seconds, now=now
            )
            if reopened is not None:
                finished = self._execute(schedule, reopened)
                if finished is not None:
                    ran.append(finished)
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
        return self._execute(schedule, execution)

    def _execute(self, schedule: Schedule, execution: Execution) -> Execution | None:
        try:
            with LeaseKeeper(
                self._store,
                execution,
                owner=self._owner,
                lease_seconds=self._lease_seconds,
                clock=self._clock,
            ):
                ended = run_execution(
                    self._store, execution, schedule, data_dir=self._data_dir, clock=self._clock
                )
        except ConflictError as exc:
            # Our lease was taken over while we ran: the new owner's result stands.
            _log.warning("execution %d of %r was taken over: %s", execution.id, schedule.name, exc)
            return None
        self._notify(ended, schedule)
        return ended

    def _notify(self, execution: Execution, schedule: Schedule) -> None:
        for listener in self.listeners:
            try:
                listener(execution, schedule)
            except Exception:  # one broken listener must not stop the runs or the others
                _log.exception("listener %r failed on execution %d", listener, execution.id)

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
        self._notify(failed, schedule)
        return [failed]


def _order(schedule: Schedule) -> tuple[datetime, datetime]:
    # A NOW schedule whose window is invalid still needs some window to record its failure at.
    start = schedule.window_start or schedule.created_at
    end = schedule.window_end or schedule.created_at
    return min(start, end), max(start, end)
