"""Executions (with their violations and output files) and violations across executions."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from modelmon.server.auth import state_of
from modelmon.server.files import file_content
from modelmon.server.schemas import ExecutionOut, ViolationOut
from modelmon.store import ExecutionStatus, Schedule

__all__ = ["router"]

router = APIRouter(tags=["executions"])


@router.get("/executions", response_model=list[ExecutionOut])
def list_executions(
    request: Request,
    schedule: str | None = None,
    model: str | None = None,
    status: ExecutionStatus | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[ExecutionOut]:
    """Newest first; ``start``/``end`` bound the scheduled time."""
    store = state_of(request).store
    if schedule is not None:
        chosen = [store.schedules.get_schedule_by_name(schedule)]
    else:
        chosen = store.schedules.list_schedules(model=model)
    by_id: dict[int, Schedule] = {s.id: s for s in chosen}
    found = []
    for item in chosen:
        found += store.executions.list_executions(
            schedule_id=item.id, status=status, start=start, end=end, limit=limit
        )
    found.sort(key=lambda e: (e.scheduled_time, e.id), reverse=True)
    return [ExecutionOut.of(e, by_id[e.schedule_id]) for e in found[:limit]]


@router.get("/executions/{execution_id}", response_model=ExecutionOut)
def get_execution(execution_id: int, request: Request) -> ExecutionOut:
    store = state_of(request).store
    execution = store.executions.get_execution(execution_id)
    schedule = store.schedules.get_schedule(execution.schedule_id)
    violations = store.violations.list_violations(execution_id=execution_id)
    return ExecutionOut.of(execution, schedule, violations)


@router.get("/executions/{execution_id}/points")
def get_execution_points(execution_id: int, request: Request) -> list[dict[str, object]]:
    """The metric points the execution produced (stamped with its window's end)."""
    store = state_of(request).store
    execution = store.executions.get_execution(execution_id)
    schedule = store.schedules.get_schedule(execution.schedule_id)
    found = store.metrics.execution_points(
        execution_id, execution.window_end, {"schedule": schedule.name}
    )
    return [
        {
            "name": p.name,
            "labels": dict(p.labels),
            "value": None if math.isnan(p.value) else p.value,
            "timestamp": p.timestamp,
        }
        for p in found
    ]


@router.get("/executions/{execution_id}/files/{name}")
def get_execution_file(execution_id: int, name: str, request: Request) -> Any:
    """An output file of the execution (statistics.json, constraint_violations.json...)."""
    execution = state_of(request).store.executions.get_execution(execution_id)
    return file_content(execution.output_files, name, f"execution {execution_id}")


@router.get("/violations", response_model=list[ViolationOut])
def list_violations(
    request: Request,
    model: str | None = None,
    execution_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[ViolationOut]:
    store = state_of(request).store
    found = store.violations.list_violations(
        model=model, execution_id=execution_id, start=start, end=end, limit=limit
    )
    return [ViolationOut.of(v) for v in found]
