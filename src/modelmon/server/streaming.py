"""Streaming detection inside the server: every tick, feed newly captured records to the
detectors of each DataQuality schedule whose config says ``"streaming": true``.

Detections are recorded as executions of a companion schedule, ``<schedule>.streaming`` (a NOW
schedule without a window, so the scheduler never runs it itself), with their violations and
metric points; listeners (alerting) hear them like any other execution, so the same rules fire.
Detector state is checkpointed under ``<data dir>/streaming/`` and survives restarts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from modelmon.errors import ModelmonError, NotFoundError
from modelmon.server.state import ServerState
from modelmon.services.runners.data_quality import load_data_quality_baseline
from modelmon.services.streaming import Detections, StreamingMonitor
from modelmon.store import ExecutionStatus, MonitorType, Schedule, ScheduleStatus

__all__ = ["SUFFIX", "StreamingWorker", "install_streaming"]

_log = logging.getLogger(__name__)
SUFFIX = ".streaming"
_OPTIONS = ("detector", "detector_options", "error_detector", "categories")


class StreamingWorker:
    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._monitors: dict[int, StreamingMonitor] = {}

    def tick(self, now: datetime) -> None:
        store = self._state.store
        for schedule in store.schedules.list_schedules(status=ScheduleStatus.SCHEDULED):
            if schedule.monitor_type is not MonitorType.DATA_QUALITY:
                continue
            if not schedule.config.get("streaming") or schedule.name.endswith(SUFFIX):
                continue
            try:
                monitor = self._monitor(schedule)
                found = monitor.catch_up(self._state.data_dir)
            except (ModelmonError, OSError) as exc:
                _log.warning("streaming detection for %r skipped: %s", schedule.name, exc)
                continue
            if found.violations:
                self._record(schedule, found, now)

    def _monitor(self, schedule: Schedule) -> StreamingMonitor:
        monitor = self._monitors.get(schedule.id)
        if monitor is None:
            files = self._state.store.models.get_baseline(
                schedule.model, schedule.version, MonitorType.DATA_QUALITY
            ).files
            options: dict[str, Any] = {
                k: v
                for k, v in dict(schedule.config.get("streaming_options") or {}).items()
                if k in _OPTIONS
            }
            monitor = StreamingMonitor(
                schedule.model,
                schedule.version,
                load_data_quality_baseline(files, schedule).statistics,
                self._state.data_dir / "streaming",
                clock=self._state.clock,
                **options,
            )
            self._monitors[schedule.id] = monitor
        return monitor

    def _companion(self, schedule: Schedule, now: datetime) -> Schedule:
        store = self._state.store
        try:
            return store.schedules.get_schedule_by_name(schedule.name + SUFFIX)
        except NotFoundError:
            return store.schedules.create_schedule(
                schedule.name + SUFFIX,
                model=schedule.model,
                version=schedule.version,
                monitor_type=MonitorType.DATA_QUALITY,
                cron="NOW",
                now=now,
                config={"streaming_of": schedule.name},
            )

    def _record(self, schedule: Schedule, found: Detections, now: datetime) -> None:
        store = self._state.store
        companion = self._companion(schedule, now)
        times = [point.timestamp for point in found.points] or [now]
        execution = store.executions.try_acquire_execution(
            companion.id,
            now,
            window_start=min(times),
            window_end=max(max(times), now),
            owner=self._state.owner,
            lease_seconds=600,
            now=now,
        )
        if execution is None:
            return
        outcome = found.outcome()
        store.violations.add_violations(execution.id, outcome.violations, now=now)
        store.metrics.write_points(outcome.points, execution_id=execution.id)
        ended = store.executions.transition_execution(
            execution.id,
            ExecutionStatus.COMPLETED_WITH_VIOLATIONS,
            now=now,
            owner=self._state.owner,
            exit_message=outcome.message,
        )
        for listener in self._state.listeners:
            try:
                listener(ended, companion)
            except Exception:  # one broken listener must not stop detection
                _log.exception("listener failed on streaming execution %d", ended.id)


def install_streaming(state: ServerState) -> StreamingWorker:
    worker: StreamingWorker | None = state.extensions.get("streaming")
    if worker is None:
        worker = StreamingWorker(state)
        state.extensions["streaming"] = worker
        state.tick_hooks.append(worker.tick)
    return worker
