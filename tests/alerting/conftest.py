"""Real parts for alerting tests: an HTTP receiver and an SMTP server (STARTTLS + AUTH) on
127.0.0.1, a store on SQLite and PostgreSQL, and executions with chosen metric points."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from modelmon.alerting.testing import WebhookReceiver
from modelmon.server import testing as server_testing
from modelmon.store import (
    Execution,
    ExecutionStatus,
    MonitorType,
    Point,
    Schedule,
    Store,
    open_store,
)

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)


# -- an HTTP receiver ----------------------------------------------------------------------------


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


# -- an SMTP server with STARTTLS and AUTH --------------------------------------------------------


@dataclass
class Smtp:
    host: str
    port: int
    ca_file: str
    username: str
    password: str
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    state = Smtp("127.0.0.1", server_testing.free_port(), str(ca_file), "alerts", "s3cret")

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            state.messages.append(message_from_bytes(envelope.original_content))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            state.username.encode(),
            state.password.encode(),
        )
        if ok:
            state.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=state.port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


# -- a store on both databases --------------------------------------------------------------------


@pytest.fixture
def any_store(new_store_uri: Callable[[], str]) -> Iterator[Store]:
    """An empty migrated store, on SQLite and on PostgreSQL (``new_store_uri``)."""
    with open_store(new_store_uri(), migrate=True) as store:
        yield store


# -- executions with chosen points ---------------------------------------------------------------

RunExecution = Callable[..., Execution]


@pytest.fixture
def run_execution(store: Store) -> RunExecution:
    """End an execution of ``schedule`` for the hour before ``end`` with the given points:
    ``{metric name: {feature: value}}``; the labels are what a runner writes."""

    def run(
        schedule: Schedule,
        end: datetime,
        points: Mapping[str, Mapping[str, float]] | None = None,
        *,
        status: ExecutionStatus = ExecutionStatus.COMPLETED,
    ) -> Execution:
        execution = store.executions.try_acquire_execution(
            schedule.id,
            end,
            window_start=end - H,
            window_end=end,
            owner="test",
            lease_seconds=60,
            now=end,
        )
        assert execution is not None
        labels = {
            "model": schedule.model,
            "version": schedule.version,
            "monitor": schedule.monitor_type.value,
            "schedule": schedule.name,
        }
        store.metrics.write_points(
            (
                Point(name, {**labels, "feature": feature}, value, end)
                for name, by_feature in (points or {}).items()
                for feature, value in by_feature.items()
            ),
            execution_id=execution.id,
        )
        return store.executions.transition_execution(
            execution.id,
            status,
            now=end,
            owner="test",
            failure_reason="no captured data in window"
            if status is ExecutionStatus.FAILED
            else None,
        )

    return run


@pytest.fixture
def schedule(make_schedule: Callable[..., Schedule]) -> Schedule:
    return make_schedule("credit-hourly", monitor_type=MonitorType.DATA_QUALITY)
