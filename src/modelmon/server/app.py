"""The FastAPI application: REST under /api/v1, /metrics, /healthz, OpenAPI at /openapi.json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelmon import __version__
from modelmon.alerting.server import install_alerting
from modelmon.dashboard import mount_dashboard
from modelmon.server.errors import install_error_handlers
from modelmon.server.limits import BodyLimit
from modelmon.server.loop import SchedulerLoop
from modelmon.server.routes import alerts, executions, health, ingest, metrics, models, schedules
from modelmon.server.state import ServerState
from modelmon.server.streaming import install_streaming

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(state: ServerState, *, tick_interval: float | None = None) -> FastAPI:
    """The app over ``state``. With ``tick_interval`` (seconds) the scheduler runs in a
    background thread for the app's lifetime; without, ticks happen only on request
    (``POST /api/v1/scheduler/tick``), which is what tests with a fake clock want."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = None if tick_interval is None else SchedulerLoop(state, tick_interval)
        if loop is not None:
            loop.start()
        try:
            yield
        finally:
            if loop is not None:
                loop.stop()
            state.close()

    app = FastAPI(
        title="modelmon",
        version=__version__,
        description="Monitor machine-learning models in production: models, baselines, "
        "schedules, executions, metric points, captures and labels.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; the schema is enough.
        docs_url=None,
        redoc_url=None,
    )
    app.state.modelmon = state
    install_alerting(state)
    install_streaming(state)
    install_error_handlers(app)
    for router in (
        models.router,
        schedules.router,
        executions.router,
        metrics.router,
        ingest.router,
        alerts.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    mount_dashboard(app)
    app.add_middleware(BodyLimit, max_bytes=state.max_body_bytes)
    return app
