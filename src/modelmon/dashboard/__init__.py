"""The web dashboard: a static single-page app served by the modelmon server.

Everything it needs ships in ``static/`` (vanilla JavaScript modules, CSS and its own SVG
charts): no CDN, no build step, works offline. Pages are client-side routes (``/#/models/credit``)
over the read-only summaries of ``/api/v1`` (see ``modelmon.server.routes.dashboard``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "mount_dashboard"]

STATIC_DIR = Path(__file__).parent / "static"


def mount_dashboard(app: FastAPI, *, api_prefix: str = "/api/v1") -> None:
    """Serve the app shell at ``/`` and its assets under ``/ui/``, and include the read-only
    endpoints it draws from (``modelmon.server.routes.dashboard``) unless the app has them."""
    from modelmon.server.routes import dashboard

    paths = {getattr(route, "path", None) for route in app.routes}
    if f"{api_prefix}/overview" not in paths:
        app.include_router(dashboard.router, prefix=api_prefix)
    index = STATIC_DIR / "index.html"

    # The shell is tiny and names its assets: never cache it, so an upgrade shows at once.
    @app.get("/", include_in_schema=False)
    def shell() -> FileResponse:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    @app.get("/ui", include_in_schema=False)
    def shell_redirect() -> RedirectResponse:
        return RedirectResponse("/")

    app.mount("/ui", StaticFiles(directory=STATIC_DIR), name="dashboard")
