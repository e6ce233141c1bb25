"""ASGI middleware that captures every inference a FastAPI/Starlette (or any ASGI) app serves.

::

    app.add_middleware(CaptureMiddleware, model="churn", version="v3", data_dir="/var/modelmon",
                       paths=["/predict"])

For each HTTP request it records the request body, the response body, the status, the latency and
an inference id, and hands them to a :class:`~modelmon.capture.writer.CaptureWriter` as one
:class:`~modelmon.capture.records.InferenceEvent`. The id comes from the request's ``id_header``
(``X-Inference-Id``) when the client sends one; otherwise a fresh id is made. Either way the
response carries it in that header, so the client can send the ground-truth label for it later.

The middleware is pure ASGI (no Starlette import), so it wraps any ASGI app. What it promises:

* **It never changes what the app does.** Messages are passed on as they come; the only change is
  the added id header. A failure inside capture is counted (``capture_errors``) and logged, and the
  request goes on untouched. Exceptions of the app itself are recorded (status 500 unless a
  response had started, and the error) and re-raised, exactly as without the middleware.
* **Little work on the request path.** Bodies are kept as the byte chunks they arrive in; parsing
  them happens in the writer's thread. Requests not sampled are not buffered at all. That thread
  shares the app's GIL: once a second it spends about 0.2 ms of Python per captured inference,
  which requests arriving meanwhile can feel in their tail latency. Where that matters, sample, or
  put ``modelmon proxy`` in front instead (it writes from a separate process).
* **Bounded memory.** At most ``max_body_bytes`` (1 MiB) of each body is kept. A longer body, such
  as a long streaming response, is captured up to that size and marked truncated (see
  :func:`truncated_content_type`); the client still gets every byte.
* ``latency_ms`` runs from the request's arrival to the app's last response message.
* ``lifespan`` and ``websocket`` scopes pass through untouched. A writer the middleware made itself
  (from ``data_dir``) is flushed and closed when the app's lifespan shuts down.

The helpers below the middleware (:class:`Exchange`, :class:`BodyBuffer`, ...) are shared with the
HTTP proxy (:mod:`modelmon.capture.proxy`), so both capture by the same rules.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from http import HTTPStatus
from os import PathLike
from typing import Any, Protocol

from modelmon.capture.records import InferenceEvent, Payload, new_inference_id
from modelmon.capture.writer import CaptureWriter
from modelmon.errors import ConfigError

__all__ = [
    "DEFAULT_ID_HEADER",
    "DEFAULT_MAX_BODY_BYTES",
    "TRUNCATED_MEDIA_TYPE",
    "BodyBuffer",
    "CaptureFailures",
    "CaptureMiddleware",
    "CaptureSink",
    "Exchange",
    "error_for_status",
    "inference_id_from",
    "truncated_content_type",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_ID_HEADER = "X-Inference-Id"
# A feature vector is far smaller than this; the cap bounds the memory the writer's queue
# (10,000 events by default) can hold when a client posts images or a response streams for long.
DEFAULT_MAX_BODY_BYTES = 1 << 20
TRUNCATED_MEDIA_TYPE = "application/x-modelmon-truncated"
# Longer "ids" are abuse or a bug, not ids: such a request gets a fresh id instead.
_MAX_ID_LENGTH = 256

_log = logging.getLogger("modelmon.capture")


class CaptureSink(Protocol):
    """Where captured events go: a :class:`CaptureWriter`, or the proxy's capture process."""

    def should_sample(self, inference_id: str) -> bool: ...

    def submit(self, event: InferenceEvent) -> bool: ...


def inference_id_from(value: str | None) -> str:
    """The client's inference id if it sent a usable one (non-blank, short), else a fresh id."""
    if value is not None:
        value = value.strip()
        if 0 < len(value) <= _MAX_ID_LENGTH:
            return value
    return new_inference_id()


def truncated_content_type(content_type: str, size: int) -> str:
    """The content type of a body cut at the capture limit.

    ``application/x-modelmon-truncated; size=<full length in bytes>; type="<original type>"``: a
    media type of its own, so the writer keeps the prefix as base64 and never decodes it into
    features (the last CSV line or JSON value of a prefix is cut and would be wrong), while the
    stored content type still says what the body was and how long.
    """
    original = content_type.replace('"', "'")
    return f'{TRUNCATED_MEDIA_TYPE}; size={size}; type="{original}"'


def error_for_status(status: int) -> str | None:
    """What a failed HTTP exchange records as its error: ``HTTP 503 Service Unavailable``."""
    if status < 400:
        return None
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


class CaptureFailures:
    """Counts failures of capture itself (never of the app) and logs them without flooding."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, what: str) -> None:
        """Call from an ``except`` block; ``what`` names the step that failed."""
        self.count += 1
        # The first failure with its traceback, then one line per 1,000: a full disk must not
        # turn every request into a log entry.
        if self.count == 1 or self.count % 1000 == 0:
            _log.warning(
                "capture failed while %s (%d capture errors so far); requests are served as usual",
                what,
                self.count,
                exc_info=self.count == 1,
            )


class BodyBuffer:
    """The first ``limit`` bytes of a body that arrives in chunks, and its full size."""

    __slots__ = ("chunks", "kept", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.kept = 0
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        room = self.limit - self.kept
        if room <= 0 or not chunk:
            return
        if len(chunk) > room:
            chunk = bytes(chunk[:room])
        self.chunks.append(chunk)
        self.kept += len(chunk)

    def payload(self, content_type: str) -> Payload | None:
        """The body as captured, or None if there was none (a GET, a 204)."""
        if self.size == 0:
            return None
        # Joining a single bytes object returns it without a copy: the common case.
        data = b"".join(self.chunks)
        if self.size > self.kept:
            content_type = truncated_content_type(content_type, self.size)
        return Payload(data, content_type)


class Exchange:
    """One sampled request on its way through: bodies are added as they pass, then one event."""

    __slots__ = (
        "arrived",
        "failures",
        "inference_id",
        "model",
        "request",
        "request_type",
        "response",
        "source",
        "start",
        "submitted",
        "version",
        "writer",
    )

    def __init__(
        self,
        writer: CaptureSink,
        failures: CaptureFailures,
        *,
        model: str,
        version: str,
        source: str,
        inference_id: str,
        arrived: datetime,
        start: float,
        request_type: str,
        max_body_bytes: int,
    ) -> None:
        self.writer = writer
        self.failures = failures
        self.model = model
        self.version = version
        self.source = source
        self.inference_id = inference_id
        self.arrived = arrived
        self.start = start
        self.request_type = request_type
        self.request = BodyBuffer(max_body_bytes)
        self.response = BodyBuffer(max_body_bytes)
        self.submitted = False

    def submit(
        self,
        *,
        status: int | None,
        response_type: str,
        latency_ms: float | None,
        error: str | None = None,
        keep_response: bool = True,
    ) -> None:
        """Hand the event to the writer, once; a capture failure is counted, never raised.

        ``error`` says why the exchange failed; without one, a status of 400 or more is the error.
        ``keep_response=False`` records no response body (one the model server did not send).
        """
        if self.submitted:
            return
        self.submitted = True
        try:
            if error is None and status is not None:
                error = error_for_status(status)
            self.writer.submit(
                InferenceEvent(
                    model=self.model,
                    version=self.version,
                    inference_id=self.inference_id,
                    time=self.arrived,
                    request=self.request.payload(self.request_type),
                    response=self.response.payload(response_type) if keep_response else None,
                    latency_ms=latency_ms,
                    status=status,
                    error=error,
                    source=self.source,
                )
            )
        except Exception:
            self.failures("submitting the event")


class CaptureMiddleware:
    """Capture the inferences an ASGI app serves (see the module documentation).

    Give either ``data_dir`` (the middleware makes and owns a :class:`CaptureWriter` with
    ``sampling``, the share of inferences kept, 0 to 1, default 1) or ``writer`` (a writer of
    yours, or any :class:`CaptureSink`: you set its sampling and close it). ``paths`` limits
    capture to requests whose path is one of them (exact match); by default every HTTP request
    is captured.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        model: str,
        version: str = "v1",
        data_dir: str | PathLike[str] | None = None,
        writer: CaptureSink | None = None,
        sampling: float | None = None,
        id_header: str = DEFAULT_ID_HEADER,
        paths: Iterable[str] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        # Checked here, not per request: Starlette builds its middleware when the server starts,
        # so a mistake stops the start instead of failing every request.
        if not isinstance(id_header, str) or not id_header.strip():
            raise ConfigError(
                "The 'id_header' parameter of CaptureMiddleware must be a header name. "
                f"Got {id_header!r} instead."
            )
        if (
            not isinstance(max_body_bytes, int)
            or isinstance(max_body_bytes, bool)
            or max_body_bytes < 0
        ):
            raise ConfigError(
                "The 'max_body_bytes' parameter of CaptureMiddleware must be an int >= 0. "
                f"Got {max_body_bytes!r} instead."
            )
        self._owned_writer: CaptureWriter | None = None
        if writer is not None:
            if data_dir is not None:
                raise ConfigError(
                    "CaptureMiddleware needs exactly one of the 'data_dir' and 'writer' "
                    "parameters. Got both instead."
                )
            if sampling is not None:
                raise ConfigError(
                    "The 'sampling' parameter of CaptureMiddleware applies only with 'data_dir'; "
                    "set the sampling of the writer you pass instead."
                )
        elif data_dir is not None:
            writer = self._owned_writer = CaptureWriter(
                data_dir, sampling=1.0 if sampling is None else sampling
            )
        else:
            raise ConfigError(
                "CaptureMiddleware needs exactly one of the 'data_dir' and 'writer' parameters. "
                "Got neither instead."
            )
        self.app = app
        self.model = model
        self.version = version
        self.writer = writer
        # ASGI header names are lower-case bytes: compare with them as they come.
        self._id_name = id_header.strip().lower().encode("latin-1")
        self.paths = None if paths is None else frozenset(paths)
        self.max_body_bytes = max_body_bytes
        self._failures = CaptureFailures()

    @property
    def capture_errors(self) -> int:
        """How many times capture itself failed (the requests were served all the same)."""
        return self._failures.count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" and (self.paths is None or scope["path"] in self.paths):
            await self._capture(scope, receive, send)
        elif kind == "lifespan" and self._owned_writer is not None:
            await self.app(scope, receive, self._closing_on_shutdown(self._owned_writer, send))
        else:
            await self.app(scope, receive, send)

    def _closing_on_shutdown(self, writer: CaptureWriter, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            # The server exits once it sees shutdown.complete: flush before passing it on.
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                try:
                    writer.close()
                except Exception:
                    self._failures("closing the writer")
            await send(message)

        return lifespan_send

    async def _capture(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = datetime.now(UTC)
        start = time.perf_counter()
        try:
            client_id: str | None = None
            request_type = ""
            for name, value in scope["headers"]:
                if name == self._id_name:
                    client_id = value.decode("latin-1")
                elif name == b"content-type":
                    request_type = value.decode("latin-1")
            inference_id = inference_id_from(client_id)
            id_header = (self._id_name, inference_id.encode("latin-1", "replace"))
            exchange = (
                Exchange(
                    self.writer,
                    self._failures,
                    model=self.model,
                    version=self.version,
                    source="asgi",
                    inference_id=inference_id,
                    arrived=arrived,
                    start=start,
                    request_type=request_type,
                    max_body_bytes=self.max_body_bytes,
                )
                if self.writer.should_sample(inference_id)
                else None
            )
        except Exception:
            self._failures("reading the request headers")
            await self.app(scope, receive, send)
            return
        await _CapturedRequest(self, exchange, id_header, receive, send).run(scope)


class _CapturedRequest:
    """The receive/send wrappers of one request; ``exchange`` is None when it is not sampled."""

    __slots__ = (
        "app",
        "exchange",
        "failures",
        "id_header",
        "latency_ms",
        "receive",
        "response_type",
        "send",
        "status",
    )

    def __init__(
        self,
        middleware: CaptureMiddleware,
        exchange: Exchange | None,
        id_header: tuple[bytes, bytes],
        receive: Receive,
        send: Send,
    ) -> None:
        self.app = middleware.app
        self.receive = receive
        self.send = send
        self.failures = middleware._failures
        self.exchange = exchange
        self.id_header = id_header
        self.status: int | None = None
        self.response_type = ""
        self.latency_ms: float | None = None

    async def run(self, scope: Scope) -> None:
        exchange = self.exchange
        try:
            await self.app(scope, self.receive if exchange is None else self._receive, self._send)
        except BaseException as error:
            if exchange is not None:
                # An app that fails before responding gets a 500 from the server.
                self._submit(
                    exchange, error=f"{type(error).__name__}: {error}", status=self.status or 500
                )
            raise
        if exchange is not None:
            self._submit(exchange, error="the app returned before finishing the response")

    def _submit(self, exchange: Exchange, *, error: str | None, status: int | None = None) -> None:
        latency = self.latency_ms
        if latency is None:
            latency = (time.perf_counter() - exchange.start) * 1000.0
        exchange.submit(
            status=self.status if status is None else status,
            response_type=self.response_type,
            latency_ms=latency,
            error=error,
        )

    async def _receive(self) -> Message:
        message = await self.receive()
        exchange = self.exchange
        if exchange is not None and message["type"] == "http.request":
            try:
                exchange.request.add(message.get("body", b""))
            except Exception:
                self.failures("buffering the request body")
        return message

    async def _send(self, message: Message) -> None:
        exchange = self.exchange
        forward = message
        done = False
        try:
            kind = message["type"]
            if kind == "http.response.start":
                forward = _with_header(message, self.id_header)
                self.status = int(message["status"])
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        self.response_type = value.decode("latin-1")
                        break
            elif exchange is not None and kind == "http.response.body":
                exchange.response.add(message.get("body", b""))
                done = not message.get("more_body", False)
            elif exchange is not None and kind == "http.response.pathsend":
                # A file the server sends itself: its bytes never pass through here.
                done = True
            if exchange is not None and done:
                self.latency_ms = (time.perf_counter() - exchange.start) * 1000.0
        except Exception:
            self.failures("reading the response")
            forward = message
            done = False
        await self.send(forward)
        if exchange is not None and done:
            self._submit(exchange, error=None)


def _with_header(message: Message, header: tuple[bytes, bytes]) -> Message:
    """``message`` with the id header added unless the app set it; the app's own list is kept."""
    headers = message.get("headers", ())
    if any(name.lower() == header[0] for name, _ in headers):
        return message
    return {**message, "headers": [*headers, header]}
