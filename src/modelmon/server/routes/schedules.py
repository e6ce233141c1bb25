"""Monitoring schedules: create, list, stop/start, change config, run a NOW window."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from modelmon.errors import ConfigError
from modelmon.server.auth import require_write, state_of
from modelmon.server.schemas import ExecutionOut, RunNowIn, ScheduleIn, ScheduleOut
from modelmon.services import cron
from modelmon.services.scheduler import Scheduler
from modelmon.services.windows import explicit_window, parse_offset, scheduled_window
from modelmon.store import MonitorType, ScheduleStatus, TokenInfo

__all__ = ["router"]

router = APIRouter(tags=["schedules"])
# Monitors that compare with a baseline; service health may use one, prediction drift compares
# two captured versions.
NEEDS_BASELINE = frozenset(
    {
        MonitorType.DATA_QUALITY,
        MonitorType.MODEL_QUALITY,
        MonitorType.MODEL_BIAS,
        MonitorType.MODEL_EXPLAINABILITY,
    }
)
Writer = Annotated[TokenInfo | None, Depends(require_write)]


@router.get("/schedules", response_model=list[ScheduleOut])
def list_schedules(
    request: Request,
    model: str | None = None,
    status: ScheduleStatus | None = None,
) -> list[ScheduleOut]:
    store = state_of(request).store
    return [ScheduleOut.of(s) for s in store.schedules.list_schedules(model=model, status=status)]


@router.post("/schedules", response_model=ScheduleOut, status_code=201)
def create_schedule(body: ScheduleIn, request: Request, _: Writer) -> ScheduleOut:
    """Validated here, once, so a schedule that is stored can always run."""
    state = state_of(request)
    expression = cron.parse(body.cron, field="cron")
    start_offset = parse_offset(body.start_offset, "start_offset")
    end_offset = parse_offset(body.end_offset, "end_offset")
    if isinstance(expression, cron.Now):
        if body.window_start is None or body.window_end is None:
            raise ConfigError(
                "The 'window_start' and 'window_end' fields are required for a NOW schedule. "
                "Got a NOW schedule without them instead."
            )
        explicit_window(body.window_start, body.window_end)
    else:
        if body.window_start is not None or body.window_end is not None:
            raise ConfigError(
                "The 'window_start' and 'window_end' fields apply to a NOW schedule only; a "
                f"recurring schedule uses offsets. Got them with {body.cron!r} instead."
            )
        scheduled_window(
            expression, state.clock(), start_offset=start_offset, end_offset=end_offset
        )
    if body.monitor_type in NEEDS_BASELINE:
        state.store.models.get_baseline(body.model, body.version, body.monitor_type)
    else:
        state.store.models.get_version(body.model, body.version)
    schedule = state.store.schedules.create_schedule(
        body.name,
        model=body.model,
        version=body.version,
        monitor_type=body.monitor_type,
        cron=body.cron,
        now=state.clock(),
        start_offset=start_offset,
        end_offset=end_offset,
        window_start=body.window_start,
        window_end=body.window_end,
        config=body.config,
    )
    engine = state.extensions.get("alerting")
    if engine is not None:
        # Sensible alerts from the first run on, without writing any rule.
        engine.ensure_default_rules(schedule, now=state.clock())
    return ScheduleOut.of(schedule)


@router.get("/schedules/{name}", response_model=ScheduleOut)
def get_schedule(name: str, request: Request) -> ScheduleOut:
    return ScheduleOut.of(state_of(request).store.schedules.get_schedule_by_name(name))


@router.put("/schedules/{name}/config", response_model=ScheduleOut)
def update_config(name: str, config: dict[str, Any], request: Request, _: Writer) -> ScheduleOut:
    store = state_of(request).store
    schedule = store.schedules.get_schedule_by_name(name)
    return ScheduleOut.of(store.schedules.update_config(schedule.id, config))


@router.post("/schedules/{name}/stop", response_model=ScheduleOut)
def stop_schedule(name: str, request: Request, _: Writer) -> ScheduleOut:
    store = state_of(request).store
    schedule = store.schedules.get_schedule_by_name(name)
    return ScheduleOut.of(store.schedules.set_status(schedule.id, ScheduleStatus.STOPPED))


@router.post("/schedules/{name}/start", response_model=ScheduleOut)
def start_schedule(name: str, request: Request, _: Writer) -> ScheduleOut:
    store = state_of(request).store
    schedule = store.schedules.get_schedule_by_name(name)
    return ScheduleOut.of(store.schedules.set_status(schedule.id, ScheduleStatus.SCHEDULED))


@router.delete("/schedules/{name}", status_code=204)
def delete_schedule(name: str, request: Request, _: Writer) -> None:
    store = state_of(request).store
    store.schedules.delete_schedule(store.schedules.get_schedule_by_name(name).id)


@router.post("/schedules/{name}/run", response_model=ExecutionOut)
def run_now(name: str, body: RunNowIn, request: Request, _: Writer) -> ExecutionOut:
    """Run a NOW schedule over the given window, synchronously."""
    state = state_of(request)
    schedule = state.store.schedules.get_schedule_by_name(name)
    scheduler = Scheduler(
        state.store,
        data_dir=state.data_dir,
        owner=state.owner,
        clock=state.clock,
        listeners=state.listeners,
    )
    execution = scheduler.run_now(schedule.id, body.window_start, body.window_end)
    violations = state.store.violations.list_violations(execution_id=execution.id)
    return ExecutionOut.of(execution, schedule, violations)


@router.post("/scheduler/tick", response_model=list[ExecutionOut])
def tick(
    request: Request,
    _: Writer,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[ExecutionOut]:
    """Run whatever is due now (what the server's loop does every interval)."""
    state = state_of(request)
    ran = state.tick()
    return [ExecutionOut.of(e) for e in ran[:limit]]
