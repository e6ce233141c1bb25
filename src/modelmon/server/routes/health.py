"""``/healthz`` (liveness and readiness) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from modelmon.server.auth import state_of
from modelmon.server.prometheus import exposition

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the store answers; 503 (with the reason) when it does not."""
    state = state_of(request)
    try:
        state.store.check_schema()
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "reason": f"{type(exc).__name__}: {exc}"}, status_code=503
        )
    return JSONResponse(
        {
            "status": "ok",
            "scheduler": {
                "ticks": state.ticks,
                "errors": state.tick_errors,
                "last_tick": None if state.last_tick is None else state.last_tick.isoformat(),
            },
        }
    )


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    state = state_of(request)
    health: dict[str, float] = {
        "modelmon_up": 1.0,
        "modelmon_scheduler_ticks_total": float(state.ticks),
        "modelmon_scheduler_tick_errors_total": float(state.tick_errors),
    }
    if state.last_tick is not None:
        health["modelmon_scheduler_last_tick_timestamp_seconds"] = state.last_tick.timestamp()
    if state.started_at is not None:
        health["modelmon_start_time_seconds"] = state.started_at.timestamp()
    stats = state.capture_stats()
    if stats is not None:
        health["modelmon_ingest_records_written_total"] = float(stats.written)
        health["modelmon_ingest_records_dropped_total"] = float(stats.dropped)
        health["modelmon_ingest_records_failed_total"] = float(stats.failed)
    extra = [line for collect in state.collectors for line in collect()]
    text = exposition(
        state.store.metrics.latest_points(),
        state.store.executions.count_by_status(),
        health,
        extra,
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
