"""Small HTTP servers the demo runs on 127.0.0.1: the model server and the alert receiver.

Both are aiohttp apps on one event loop in a background thread, so the demo's main thread can
drive traffic and the simulated clock.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

from modelmon.demo.model import CreditModel
from modelmon.server.testing import free_port

__all__ = ["AlertInbox", "BackgroundLoop", "model_app", "start_site"]

T = TypeVar("T")


class BackgroundLoop:
    """An asyncio loop in a daemon thread; ``run(coro)`` waits for a coroutine's result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def model_app(model: CreditModel, delay: Callable[[], float]) -> web.Application:
    """POST /invocations with ``{"instances": [{feature: value}, ...]}`` answers
    ``{"predictions": [{"default_probability": p}, ...]}``; ``delay()`` seconds are added to
    every answer (the demo's slow-down)."""

    async def invocations(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            rows = body["instances"]
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("'instances' must be a list of objects")
        except (ValueError, KeyError, TypeError) as error:
            return web.json_response({"error": f"bad request: {error}"}, status=400)
        pause = delay()
        if pause > 0:
            await asyncio.sleep(pause)  # the simulated slow-down: a real wait on a real server
        probabilities = await asyncio.to_thread(model.predict_proba, rows)
        predictions = [{"default_probability": round(float(p), 6)} for p in probabilities]
        return web.json_response({"predictions": predictions})

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "version": model.version})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/invocations", invocations)
    app.router.add_get("/ping", ping)
    return app


class AlertInbox:
    """Collects the JSON bodies POSTed to it: the demo's stand-in for a team's alert channel."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def app(self) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            try:
                body = await request.json()
            except json.JSONDecodeError:
                body = {"text": await request.text()}
            with self._lock:
                self.received.append(body)
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_post("/{tail:.*}", receive)
        return app

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)


async def start_site(app: web.Application, port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on 127.0.0.1 (a free port by default); returns the runner and base URL."""
    port = port or free_port()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"
