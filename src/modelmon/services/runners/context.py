"""What a monitor runner is given and what it gives back.

A runner is a pure-ish function ``run(ctx) -> Outcome``: it reads its window and its baseline
through ``ctx`` and returns what it found; the executor records it (violations, metric points,
status, files) and owns every transition, so a runner never touches the execution itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from modelmon.capture import read_captures
from modelmon.errors import NotFoundError
from modelmon.store import Execution, ExecutionStatus, MonitorType, Point, Schedule, Store

__all__ = ["EMPTY_WINDOW_REASON", "EmptyWindow", "Outcome", "RunContext", "Runner"]

EMPTY_WINDOW_REASON = "no captured data in window"


class EmptyWindow(Exception):
    """The window holds nothing to judge: SageMaker's Failed case, not an error of ours.

    ``reason`` is recorded as the execution's failure reason (e.g. "no labels in window")."""

    def __init__(self, reason: str = EMPTY_WINDOW_REASON) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    """What a runner found. ``violations`` are (feature, check type, description) triples."""

    has_violations: bool
    message: str
    files: Mapping[str, str] = field(default_factory=dict)
    violations: tuple[tuple[str, str, str], ...] = ()
    points: tuple[Point, ...] = ()

    @property
    def status(self) -> ExecutionStatus:
        return (
            ExecutionStatus.COMPLETED_WITH_VIOLATIONS
            if self.has_violations
            else ExecutionStatus.COMPLETED
        )


@dataclass(frozen=True)
class RunContext:
    store: Store
    execution: Execution
    schedule: Schedule
    data_dir: Path
    clock: Callable[[], datetime]

    @classmethod
    def create(
        cls,
        store: Store,
        execution: Execution,
        schedule: Schedule,
        data_dir: str | os.PathLike[str],
        clock: Callable[[], datetime],
    ) -> RunContext:
        return cls(store, execution, schedule, Path(data_dir), clock)

    @property
    def config(self) -> dict[str, Any]:
        """The schedule's monitor config (free-form per monitor type)."""
        return self.schedule.config

    @property
    def report_dir(self) -> Path:
        """Where the run writes its files: SageMaker's ``{schedule}/yyyy/mm/dd/hh/`` layout."""
        stamp = self.execution.scheduled_time.strftime("%Y/%m/%d/%H")
        return self.data_dir / "reports" / self.schedule.name / stamp

    def read_window(self, *, with_labels: bool = False) -> pa.Table:
        """The captured records of the execution's window (see ``read_captures``).

        Raises EmptyWindow when nothing was captured in it."""
        try:
            table = read_captures(
                self.data_dir,
                self.schedule.model,
                version=self.schedule.version,
                start=self.execution.window_start,
                end=self.execution.window_end,
                with_labels=with_labels,
            )
        except NotFoundError:
            # Nothing was ever captured for the model: to the user that is an empty window too.
            raise EmptyWindow from None
        if table.num_rows == 0:
            raise EmptyWindow
        return table

    def baseline_files(self, monitor_type: MonitorType) -> dict[str, Any]:
        """The files of the model version's baseline for ``monitor_type``: each either its
        decoded JSON or a path to it. Raises NotFoundError if none is attached."""
        stored = self.store.models.get_baseline(
            self.schedule.model, self.schedule.version, monitor_type
        )
        return stored.files

    def labels(self, **extra: str) -> dict[str, str]:
        """The labels every point of this run carries, plus ``extra`` (feature, segment...)."""
        return {
            "model": self.schedule.model,
            "version": self.schedule.version,
            "monitor": self.schedule.monitor_type.value,
            "schedule": self.schedule.name,
            **extra,
        }

    @property
    def at(self) -> datetime:
        """A window's points are stamped with its end: when the data they describe is complete."""
        return self.execution.window_end


Runner = Callable[[RunContext], Outcome]
