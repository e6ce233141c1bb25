"""CaptureMiddleware on real Starlette/FastAPI apps: through httpx's ASGITransport, Starlette's
TestClient (lifespan, websockets) and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from starlette.responses import PlainTextResponse, StreamingResponse

from modelmon.capture.asgi import TRUNCATED_MEDIA_TYPE, CaptureMiddleware
from modelmon.capture.testing import RecordingSink
from modelmon.errors import ConfigError


def model_app() -> FastAPI:
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, float]:
        features = await request.json()
        return {"score": 0.25 + features["age"] / 1000}

    @app.post("/csv")
    async def csv(request: Request) -> PlainTextResponse:
        rows = (await request.body()).decode().splitlines()
        return PlainTextResponse("\n".join("0.5" for _ in rows), media_type="text/csv")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/reject")
    async def reject() -> None:
        raise HTTPException(status_code=400, detail="age must be a number")

    @app.post("/crash")
    async def crash(request: Request) -> None:
        await request.body()
        raise RuntimeError("model exploded")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for index in range(3):
                yield bytes([65 + index]) * 1000

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return app


def call(app: Any, method: str, url: str, **options: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
            return await client.request(method, url, **options)

    return asyncio.run(go())


def captured(writer: RecordingSink, **options: Any) -> FastAPI:
    app = model_app()
    app.add_middleware(
        CaptureMiddleware,
        model="churn",
        version="v3",
        writer=writer,
        **options,  # type: ignore[arg-type]
    )
    return app


def test_a_json_inference_is_captured_and_its_id_returned() -> None:
    writer = RecordingSink()
    before = datetime.now(UTC)
    response = call(captured(writer), "POST", "/predict", json={"age": 41})
    assert response.status_code == 200
    assert response.json() == {"score": 0.291}
    [event] = writer.events
    assert response.headers["x-inference-id"] == event.inference_id
    assert len(event.inference_id) == 32
    assert (event.model, event.version, event.source) == ("churn", "v3", "asgi")
    assert event.request is not None
    assert event.response is not None
    assert event.request.data == b'{"age":41}'
    assert event.request.content_type == "application/json"
    assert event.response.data == response.content
    assert event.response.content_type == "application/json"
    assert (event.status, event.error) == (200, None)
    assert event.latency_ms is not None
    assert 0 < event.latency_ms < 10_000
    assert before <= event.time <= datetime.now(UTC)


def test_the_clients_id_is_kept_and_csv_is_captured_as_sent() -> None:
    writer = RecordingSink()
    body = b"41,1200.5\n37,99\n"
    response = call(
        captured(writer),
        "POST",
        "/csv",
        content=body,
        headers={"Content-Type": "text/csv", "X-Inference-Id": "req-7"},
    )
    assert response.headers["x-inference-id"] == "req-7"
    [event] = writer.events
    assert event.inference_id == "req-7"
    assert event.request is not None
    assert event.request.data == body
    assert event.response is not None
    assert event.response.data == b"0.5\n0.5"
    assert event.response.content_type.startswith("text/csv")


def test_a_custom_id_header_and_a_path_filter() -> None:
    writer = RecordingSink()
    app = captured(writer, id_header="Request-Id", paths=["/predict"])
    health = call(app, "GET", "/health")
    assert health.json() == {"status": "ok"}
    assert "request-id" not in health.headers  # not a captured path: untouched
    response = call(app, "POST", "/predict", json={"age": 1}, headers={"Request-Id": "r1"})
    assert response.headers["request-id"] == "r1"
    assert [event.inference_id for event in writer.events] == ["r1"]


def test_requests_not_sampled_are_served_with_an_id_but_not_captured() -> None:
    writer = RecordingSink(keep=False)
    response = call(captured(writer), "POST", "/predict", json={"age": 41})
    assert response.json() == {"score": 0.291}
    assert len(response.headers["x-inference-id"]) == 32
    assert writer.events == []


def test_errors_of_the_app_are_captured_and_still_raised() -> None:
    writer = RecordingSink()
    app = captured(writer)
    rejected = call(app, "POST", "/reject", json={"age": "x"})
    assert rejected.status_code == 400
    with pytest.raises(RuntimeError, match="model exploded"):
        call(app, "POST", "/crash", json={})
    reject, crash = writer.events
    assert (reject.status, reject.error) == (400, "HTTP 400 Bad Request")
    assert reject.response is not None
    assert b"age must be a number" in reject.response.data
    assert (crash.status, crash.error) == (500, "RuntimeError: model exploded")
    assert crash.request is not None
    assert crash.request.data == b"{}"


def test_a_streamed_response_is_passed_whole_and_captured_up_to_the_limit() -> None:
    writer = RecordingSink()
    response = call(captured(writer, max_body_bytes=2500), "GET", "/stream")
    assert response.content == b"A" * 1000 + b"B" * 1000 + b"C" * 1000
    [event] = writer.events
    assert event.request is None  # a GET has no body
    assert event.response is not None
    assert event.response.data == b"A" * 1000 + b"B" * 1000 + b"C" * 500
    assert event.response.content_type == (
        f'{TRUNCATED_MEDIA_TYPE}; size=3000; type="text/event-stream; charset=utf-8"'
    )


def test_a_request_body_in_chunks_is_joined() -> None:
    writer = RecordingSink()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"age":'
        yield b" 41}"

    response = call(captured(writer), "POST", "/predict", content=chunks())
    assert response.json() == {"score": 0.291}
    assert writer.events[0].request is not None
    assert writer.events[0].request.data == b'{"age": 41}'


def test_a_failing_capture_never_changes_the_response(caplog: pytest.LogCaptureFixture) -> None:
    writer = RecordingSink(fail=True)
    app = model_app()
    middleware = CaptureMiddleware(app, model="churn", writer=writer)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="modelmon.capture"):
        first = call(middleware, "POST", "/predict", json={"age": 41})
        second = call(middleware, "POST", "/predict", json={"age": 41})
    assert first.status_code == second.status_code == 200
    assert first.json() == {"score": 0.291}
    assert middleware.capture_errors == 2
    # Logged once with its traceback, not once per request.
    [record] = caplog.records
    assert "capture failed while submitting the event" in record.getMessage()
    assert record.exc_info is not None


def test_a_plain_asgi_app_without_starlette() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(b"content-type", b"application/json"), (b"x-inference-id", b"app-set")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": body[::-1]})

    writer = RecordingSink()
    middleware = CaptureMiddleware(app, model="m", writer=writer)  # type: ignore[arg-type]
    response = call(middleware, "POST", "/anything", content=b"[1,2]")
    assert response.status_code == 201
    assert response.content == b"]2,1["
    # The app set the header itself: it is not doubled, and the app's value is what it sent.
    assert response.headers.get_list("x-inference-id") == ["app-set"]
    [event] = writer.events
    assert event.status == 201
    assert event.response is not None
    assert event.response.data == b"]2,1["


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_other_scopes_pass_through_untouched(kind: str) -> None:
    seen = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> dict[str, Any]:
        return {"type": f"{kind}.connect"}

    async def send(message: dict[str, Any]) -> None:
        return None

    middleware = CaptureMiddleware(app, model="m", writer=RecordingSink())
    scope = {"type": kind, "path": "/ws", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    assert seen == [(scope, receive, send)]
    assert seen[0][0] is scope


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "exactly one of the 'data_dir' and 'writer' parameters. Got neither"),
        ({"data_dir": "x", "writer": RecordingSink()}, "Got both"),
        ({"writer": RecordingSink(), "sampling": 0.5}, "'sampling' parameter"),
        ({"data_dir": "x", "id_header": " "}, "'id_header' parameter"),
        ({"data_dir": "x", "max_body_bytes": -1}, "'max_body_bytes' parameter"),
    ],
)
def test_bad_parameters_are_refused_when_the_app_is_built(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        CaptureMiddleware(model_app(), model="churn", **options)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on an ephemeral port of 127.0.0.1; stopped (lifespan shutdown
    included) when the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_a_real_uvicorn_server_captures_every_inference_and_flushes_on_shutdown(
    tmp_path: Path,
) -> None:
    app = model_app()
    app.add_middleware(CaptureMiddleware, model="churn", data_dir=tmp_path, paths=["/predict"])
    with serving(app) as url, httpx.Client(base_url=url) as client:
        ids = [
            client.post("/predict", json={"age": age}).headers["x-inference-id"] for age in range(5)
        ]
        mine = client.post("/predict", json={"age": 9}, headers={"X-Inference-Id": "mine"})
        assert mine.headers["x-inference-id"] == "mine"
        health = client.get("/health")
        assert health.json() == {"status": "ok"}
        assert "x-inference-id" not in health.headers
    [file] = tmp_path.glob("captures/churn/v1/*/*/*/*/*.parquet")
    table = pq.read_table(file).sort_by("inference_time")
    assert table.column("inference_id").to_pylist() == [*ids, "mine"]
    assert table.column("input.age").to_pylist() == ["0", "1", "2", "3", "4", "9"]
    assert set(table.column("status").to_pylist()) == {200}
    assert all(latency > 0 for latency in table.column("latency_ms").to_pylist())
