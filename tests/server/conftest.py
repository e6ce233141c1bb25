"""A real server (uvicorn on 127.0.0.1) over the credit store (SQLite and PostgreSQL), with a
fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelmon.server import ServerState
from modelmon.server.testing import running_server
from modelmon.store import Store


@pytest.fixture
def store(credit_store_on_both: Store) -> Store:
    """Every server test runs on SQLite and on PostgreSQL."""
    return credit_store_on_both


@pytest.fixture
def state(store: Store, data_dir: Path, clock: Any) -> ServerState:
    data_dir.mkdir(parents=True, exist_ok=True)
    return ServerState(store, data_dir, clock=clock, owner="test-server")


@pytest.fixture
def base_url(state: ServerState) -> Iterator[str]:
    with running_server(state) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client
