"""The monitoring server: REST API, Prometheus metrics, health, and the scheduler loop.

state = ServerState(store, data_dir, clock=utc_now, owner="host-1")
app = create_app(state, tick_interval=30)      # serve with uvicorn
"""

from __future__ import annotations

from modelmon.server.app import API_PREFIX, create_app
from modelmon.server.state import ServerState

__all__ = ["API_PREFIX", "ServerState", "create_app"]
