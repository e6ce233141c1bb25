"""Run the real server on 127.0.0.1 in a background thread: for tests, the demo and notebooks.

with running_server(state) as base_url:
    httpx.get(f"{base_url}/healthz")
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from modelmon.server.app import create_app
from modelmon.server.state import ServerState

__all__ = ["free_port", "running_server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(
    state: ServerState,
    *,
    tick_interval: float | None = None,
    port: int | None = None,
    startup_timeout: float = 20.0,
) -> Iterator[str]:
    """Serve ``state`` with uvicorn until the block ends; yields the base URL."""
    import uvicorn

    app = create_app(state, tick_interval=tick_interval)
    chosen = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=chosen, log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="modelmon-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the modelmon server did not start on 127.0.0.1:{chosen}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{chosen}"
    finally:
        server.should_exit = True
        thread.join(30)
