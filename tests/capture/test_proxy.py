"""The capture proxy between real HTTP peers on 127.0.0.1: httpx clients, a stdlib model server
(another HTTP stack than the proxy's), the proxy in-process and as ``modelmon proxy``."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyarrow.parquet as pq
import pytest

from modelmon.capture import InferenceEvent, Payload
from modelmon.capture.asgi import TRUNCATED_MEDIA_TYPE
from modelmon.capture.proxy import CaptureProcess, CaptureProxy
from modelmon.capture.testing import RecordingSink
from modelmon.cli.main import main


class ModelServer(BaseHTTPRequestHandler):
    """A model server on the standard library: keep-alive, JSON and CSV, errors, streams."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as real servers do; else each reply waits on delayed ACKs
    connections: set[int]  # client ports seen: one per connection the proxy opened
    slow_started: threading.Event  # set when a /slow request reaches the model

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().strip(), 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return data
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        self.connections.add(self.client_address[1])
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/predict":
            features = json.loads(body)
            self._reply(
                200, json.dumps({"score": features["age"] / 100}).encode(), "application/json"
            )
        elif url.path == "/invocations":  # SageMaker's CSV convention
            rows = body.decode().splitlines()
            self._reply(200, "\n".join("0.5" for _ in rows).encode(), "text/csv")
        elif url.path.startswith("/echo"):
            seen = {
                "method": self.command,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
            self._reply(200, json.dumps(seen).encode(), "application/json", Set_Cookie="a=1")
        elif url.path == "/fail":
            self._reply(503, b'{"error": "model not loaded"}', "application/json", Retry_After="5")
        elif url.path == "/slow":
            self.slow_started.set()
            time.sleep(float(parse_qs(url.query)["seconds"][0]))
            self._reply(200, b'{"score": 1}', "application/json")
        elif url.path == "/drop":  # a model server that dies mid-request
            self.close_connection = True
        elif url.path == "/gzip":
            self._reply(
                200, gzip.compress(b'{"score": 0.7}'), "application/json", Content_Encoding="gzip"
            )
        elif url.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index in range(4):
                chunk = f"data: {index}\n\n".encode() * 40
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._reply(404, b"no such model", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class Upstream:
    def __init__(self) -> None:
        self.connections: set[int] = set()
        self.slow_started = threading.Event()
        attributes = {"connections": self.connections, "slow_started": self.slow_started}
        self.server = ThreadingHTTPServer(
            ("127.0.0.1", 0), type("Handler", (ModelServer,), attributes)
        )
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    model = Upstream()
    thread = threading.Thread(target=model.server.serve_forever, daemon=True)
    thread.start()
    yield model
    model.server.shutdown()
    model.server.server_close()


class RunningProxy:
    """A CaptureProxy on its own event loop in a thread, listening on an ephemeral port."""

    def __init__(self, upstream: str, writer: RecordingSink, **options: Any) -> None:
        self.writer = writer
        self.proxy = CaptureProxy(upstream, model="churn", version="v3", writer=writer, **options)  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.url = self._run(self.proxy.start("127.0.0.1", 0))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def close(self) -> None:
        self._run(self.proxy.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def proxied(upstream: Upstream) -> Iterator[tuple[httpx.Client, RunningProxy]]:
    proxy = RunningProxy(upstream.url, RecordingSink(), max_body_bytes=1000)
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        yield client, proxy
    proxy.close()


def test_a_json_predict_passes_through_and_is_captured(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    response = client.post("/predict", json={"age": 41})
    assert response.status_code == 200
    assert response.json() == {"score": 0.41}
    [event] = proxy.writer.events
    assert response.headers["x-inference-id"] == event.inference_id
    assert (event.model, event.version, event.source) == ("churn", "v3", "proxy")
    assert event.request is not None
    assert event.request.data == b'{"age":41}'
    assert event.request.content_type == "application/json"
    assert event.response is not None
    assert event.response.data == b'{"score": 0.41}'
    assert event.response.content_type == "application/json"
    assert (event.status, event.error) == (200, None)
    assert event.latency_ms is not None
    assert 0 < event.latency_ms < 10_000


def test_csv_any_path_method_and_query_and_the_id_reach_the_upstream(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    csv = client.post(
        "/invocations", content=b"41,1200.5\n37,99\n", headers={"Content-Type": "text/csv"}
    )
    assert (csv.status_code, csv.text) == (200, "0.5\n0.5")
    assert csv.headers["content-type"] == "text/csv"
    echo = client.put(
        "/echo/v2/models/a%2Fb?x=1&y=%20",
        content=b"\x00\xffnot json",
        headers={"X-Inference-Id": "c-1"},
    )
    seen = echo.json()
    assert seen["method"] == "PUT"
    assert seen["path"] == "/echo/v2/models/a%2Fb?x=1&y=%20"
    assert seen["sha256"] == hashlib.sha256(b"\x00\xffnot json").hexdigest()
    assert seen["headers"]["x-inference-id"] == "c-1"  # the model server can log the same id
    assert echo.headers["x-inference-id"] == "c-1"
    first, second = proxy.writer.events
    assert first.request is not None
    assert first.request.data == b"41,1200.5\n37,99\n"
    assert second.inference_id == "c-1"
    assert second.request is not None
    assert second.request.data == b"\x00\xffnot json"  # kept raw: the writer stores it base64


def test_headers_pass_except_hop_by_hop_and_nothing_is_added(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, _ = proxied
    response = client.post(
        "/echo",
        content=b"{}",
        headers={
            "Connection": "keep-alive, X-Private",
            "X-Private": "only for the proxy",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Authorization": "Bearer abc",
            "X-Forwarded-For": "10.0.0.1",
        },
    )
    seen = response.json()["headers"]
    for hop in ("x-private", "keep-alive", "te"):
        assert hop not in seen
    assert seen["authorization"] == "Bearer abc"
    assert seen["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert seen["x-forwarded-host"] == client.base_url.netloc.decode()
    assert seen["host"] != seen["x-forwarded-host"]  # the upstream's own host
    # Only what the client sent: no Content-Type, User-Agent or Accept-Encoding of the proxy's.
    assert seen["user-agent"].startswith("python-httpx")
    assert seen["accept-encoding"] == response.request.headers["accept-encoding"]
    assert response.headers.get_list("set-cookie") == ["a=1"]


def test_bodies_are_never_decompressed_or_changed(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    with client.stream("GET", "/gzip") as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b'{"score": 0.7}'
    [event] = proxy.writer.events
    assert event.response is not None
    assert event.response.data == raw
    head = client.head("/gzip")
    assert head.headers["content-length"] == str(len(raw))  # of the body a GET would get
    assert head.content == b""


def test_upstream_errors_pass_through_and_are_recorded(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    failed = client.post("/fail", json={"age": 1})
    assert failed.status_code == 503
    assert failed.json() == {"error": "model not loaded"}
    assert failed.headers["retry-after"] == "5"
    assert client.get("/nothing").status_code == 404
    fail, missing = proxy.writer.events
    assert (fail.status, fail.error) == (503, "HTTP 503 Service Unavailable")
    assert fail.response is not None
    assert fail.response.data == b'{"error": "model not loaded"}'
    assert (missing.status, missing.error) == (404, "HTTP 404 Not Found")


def test_streams_are_passed_on_and_long_bodies_captured_up_to_the_limit(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    with client.stream("GET", "/stream") as response:
        chunks = list(response.iter_raw())
    expected = b"".join(f"data: {index}\n\n".encode() * 40 for index in range(4))
    assert b"".join(chunks) == expected
    assert response.headers["content-type"] == "text/event-stream"
    big = bytes(range(256)) * 20  # 5,120 bytes, over the 1,000-byte limit: streamed upstream
    echo = client.post("/echo", content=big, headers={"Content-Type": "application/octet-stream"})
    assert echo.json()["sha256"] == hashlib.sha256(big).hexdigest()
    stream, post = proxy.writer.events
    assert stream.response is not None
    assert stream.response.data == expected[:1000]
    assert stream.response.content_type == (
        f'{TRUNCATED_MEDIA_TYPE}; size={len(expected)}; type="text/event-stream"'
    )
    assert post.request is not None
    assert post.request.data == big[:1000]
    assert post.request.content_type.startswith(f"{TRUNCATED_MEDIA_TYPE}; size=5120;")


def test_an_upstream_path_prefix_is_kept(upstream: Upstream) -> None:
    proxy = RunningProxy(upstream.url + "/echo/base/", RecordingSink())
    try:
        seen = httpx.get(f"{proxy.url}/v1/predict?x=1").json()
    finally:
        proxy.close()
    assert seen["path"] == "/echo/base/v1/predict?x=1"


def test_connections_to_the_upstream_are_kept_alive(upstream: Upstream) -> None:
    proxy = RunningProxy(upstream.url, RecordingSink())
    try:
        upstream.connections.clear()
        with httpx.Client(base_url=proxy.url) as client:
            for age in range(20):
                assert client.post("/predict", json={"age": age}).status_code == 200
        assert len(upstream.connections) == 1
        assert len(proxy.writer.events) == 20
    finally:
        proxy.close()


def test_an_unreachable_upstream_gives_502_and_is_recorded() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proxy = RunningProxy(f"http://127.0.0.1:{port}", RecordingSink())
    try:
        response = httpx.post(
            f"{proxy.url}/predict", json={"age": 1}, headers={"X-Inference-Id": "u"}
        )
    finally:
        proxy.close()
    assert response.status_code == 502
    body = response.json()
    assert body["error"] == "the upstream could not be reached"
    assert body["upstream"] == f"http://127.0.0.1:{port}"
    assert body["inference_id"] == response.headers["x-inference-id"] == "u"
    [event] = proxy.writer.events
    assert event.status == 502
    assert event.error is not None
    assert event.error.startswith("the upstream could not be reached: ")
    assert event.response is None  # the model answered nothing
    assert event.request is not None
    assert event.request.data == b'{"age":1}'


def test_an_upstream_that_drops_the_connection_gives_502(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    response = client.post("/drop", json={"age": 1})
    assert response.status_code == 502
    assert response.json()["error"] == "the upstream failed to answer"
    [event] = proxy.writer.events
    assert event.status == 502
    assert (
        event.error == "the upstream failed to answer: ServerDisconnectedError: Server disconnected"
    )
    assert event.response is None


def test_a_silent_upstream_gives_504_after_the_timeout(upstream: Upstream) -> None:
    proxy = RunningProxy(upstream.url, RecordingSink(), timeout=0.3)
    try:
        started = time.monotonic()
        response = httpx.get(f"{proxy.url}/slow?seconds=1.5", timeout=10)
        waited = time.monotonic() - started
    finally:
        proxy.close()
    assert response.status_code == 504
    assert response.json()["error"] == "the upstream did not answer in time"
    assert 0.3 <= waited < 1.4
    [event] = proxy.writer.events
    assert event.status == 504
    assert event.error == (
        "the upstream did not answer in time: "
        "SocketTimeoutError: Timeout on reading data from socket"
    )


def test_sampling_and_failing_capture_never_change_the_answer(
    proxied: tuple[httpx.Client, RunningProxy],
) -> None:
    client, proxy = proxied
    proxy.writer.keep = False
    skipped = client.post("/predict", json={"age": 10})
    assert skipped.json() == {"score": 0.1}
    assert len(skipped.headers["x-inference-id"]) == 32
    assert proxy.writer.events == []
    proxy.writer.keep, proxy.writer.fail = True, True
    failed = client.post("/predict", json={"age": 10})
    assert failed.json() == {"score": 0.1}
    assert proxy.proxy.capture_errors == 1


# -- the command --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--upstream", "ftp://127.0.0.1:9000"], "'--upstream'"),
        (["--upstream", "http://127.0.0.1:9000/?q=1"], "'--upstream'"),
        (["--listen", "8081"], "'--listen'"),
        (["--listen", "127.0.0.1:70000"], "'--listen'"),
        (["--sampling-percentage", "150"], "'--sampling-percentage'"),
        (["--timeout", "0"], "'--timeout'"),
        (["--id-header", "X Id"], "'--id-header'"),
        (["--model", "../etc"], "'--model'"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    flags: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defaults = {"--upstream": "http://127.0.0.1:9000", "--model": "churn"}
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        defaults[flag] = value
    argv = ["proxy", "--data-dir", str(tmp_path), *(x for item in defaults.items() for x in item)]
    assert main(argv) == 2
    assert named in capsys.readouterr().err


def start_command(upstream: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "modelmon.cli.main", "proxy", "--upstream", upstream,
        "--model", "churn", "--version", "v3", "--listen", "127.0.0.1:0",
        "--data-dir", str(data_dir), "--timeout", "10",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the port is bound (or the process dies)
    if "listening on " not in line:
        process.kill()
        pytest.fail(f"modelmon proxy did not start: {line}{process.communicate()[1]}")
    return process, line.split("listening on ", 1)[1].split(",", 1)[0]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_command_drains_requests_in_flight_and_flushes_on_a_signal(
    stop: signal.Signals, upstream: Upstream, tmp_path: Path
) -> None:
    process, url = start_command(upstream.url, tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=20) as client, ThreadPoolExecutor(1) as pool:
            fast = [client.post("/predict", json={"age": age}) for age in range(3)]
            upstream.slow_started.clear()
            slow = pool.submit(client.get, "/slow?seconds=1")
            assert upstream.slow_started.wait(timeout=10)  # the request is in flight
            process.send_signal(stop)
            assert slow.result().status_code == 200
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped; 4 inferences captured, 0 dropped" in out
    table = pq.read_table(next(tmp_path.glob("captures/churn/v3/*/*/*/*")))
    ids = {response.headers["x-inference-id"] for response in fast}
    assert ids <= set(table.column("inference_id").to_pylist())
    assert table.num_rows == 4
    assert sorted(table.column("status").to_pylist()) == [200] * 4


def test_the_capture_process_writes_what_it_is_given_and_reports(tmp_path: Path) -> None:
    arrived = datetime(2026, 5, 1, 13, 5, 7, 123456, tzinfo=UTC)

    def event(inference_id: str, request: Payload | None) -> InferenceEvent:
        return InferenceEvent(
            model="churn",
            version="v3",
            inference_id=inference_id,
            time=arrived,
            request=request,
            response=Payload(b'{"score": 0.5}', "application/json"),
            latency_ms=1.25,
            status=200,
            source="proxy",
        )

    async def capture() -> tuple[list[bool], Any]:
        sink = CaptureProcess(tmp_path, sampling=1.0)
        await sink.start()
        sent = [
            sink.submit(event("a", Payload(b'{"age": 41}', "application/json"))),
            sink.submit(event("b", None)),
        ]
        stats = await sink.close()
        sent.append(sink.submit(event("c", None)))  # after close: dropped, counted
        return sent, stats

    sent, stats = asyncio.run(capture())
    assert sent == [True, True, False]
    assert (stats.written, stats.dropped, stats.files_written) == (2, 0, 1)
    [file] = tmp_path.glob("captures/churn/v3/2026/05/01/13/*.parquet")
    table = pq.read_table(file).sort_by("inference_id")
    assert table.column("inference_id").to_pylist() == ["a", "b"]
    assert table.column("inference_time").to_pylist() == [arrived, arrived]
    assert table.column("input.age").to_pylist() == ["41", None]
    assert table.column("request_data").to_pylist() == ['{"age": 41}', None]
    assert table.column("latency_ms").to_pylist() == [1.25, 1.25]
