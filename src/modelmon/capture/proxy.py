"""An HTTP reverse proxy that captures every inference on its way to any model server.

``modelmon proxy --upstream http://127.0.0.1:9000 --model churn --data-dir DIR`` puts this in
front of a model server that needs no change: clients call the proxy instead, with any method,
path, headers and body, and get the upstream's answer byte for byte. On the side, each exchange
becomes one :class:`~modelmon.capture.records.InferenceEvent` (request body, response body,
status, latency, inference id), by the same rules as the ASGI middleware
(:mod:`modelmon.capture.asgi`): the id from ``X-Inference-Id`` or a fresh one, returned to the
client *and* passed to the upstream in that header; at most 1 MiB of each body kept. The events
go to a :class:`~modelmon.capture.writer.CaptureWriter` running in a child process
(:class:`CaptureProcess`), so that decoding and writing them never holds up a request.

What passes through unchanged: the status and reason, the headers (except the hop-by-hop ones,
which belong to each connection), and the bodies, which are never decoded, decompressed or
re-encoded. The upstream's ``Host`` is its own; the client's goes in ``X-Forwarded-Host``, its
address is appended to ``X-Forwarded-For``. A response without a ``Content-Length`` (server-sent
events, chunked streams) is streamed to the client as it comes; a request body without one, or
larger than 1 MiB, is streamed to the upstream.

What the proxy answers itself, as JSON ``{"error": ..., "detail": ..., "upstream": ...,
"inference_id": ...}``: **502** when the upstream cannot be reached or fails to answer (drops
the connection, sends no valid HTTP), **504** when it does not connect, or goes silent, for
``timeout`` seconds. Both are captured with
their status and error and no response body (the model gave none). The upstream's own 4xx/5xx
answers are passed through and captured with their bodies.

``latency_ms`` is the model server's time: from forwarding the request to having its whole
response (the proxy's own overhead is not in it).

Connections to the upstream are pooled and kept alive. An idle pooled connection is dropped after
a second and a half, sooner than model servers drop theirs (uvicorn after 5 s, gunicorn 2 s), so
the proxy does not send a request down a connection the server is closing: a POST that meets a
closed connection cannot be retried safely.

**Shadow mode** (``--shadow-upstream URL --shadow-version V --shadow-fraction 0.1``): a share of
the captured requests is sent again, after the client has its answer from the primary, to a
challenger model server, and the challenger's answer is captured as version ``V`` with the
primary's inference id (source ``shadow``), so the two versions' predictions on the same inputs
join by id (see :mod:`modelmon.monitors.prediction_drift`). The client never sees the challenger:
its response and its latency are the primary's; the mirrored request goes out on its own
connection pool once the primary has answered; the challenger's errors and timeouts are captured
as its status and error, never raised. Which requests are mirrored is decided per inference id
by the same hash as capture sampling, so with deterministic sampling a shadow fraction at or below
the capture's share mirrors exactly that share of all traffic, and every mirrored request has its
primary capture. Request bodies streamed to the primary (no ``Content-Length``, or over the
capture limit) are not mirrored, nor are requests while ``max_in_flight`` mirrored requests
are still waiting for the challenger: both are counted (:attr:`ShadowMirror.stats`).
The mirrored request carries ``X-Modelmon-Shadow: 1`` so the challenger can skip side effects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import logging
import marshal
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from modelmon.capture.asgi import (
    DEFAULT_ID_HEADER,
    DEFAULT_MAX_BODY_BYTES,
    BodyBuffer,
    CaptureFailures,
    CaptureSink,
    Exchange,
    inference_id_from,
)
from modelmon.capture.records import InferenceEvent, Payload
from modelmon.capture.sampling import Sampler, check_rate
from modelmon.capture.writer import CaptureStats, CaptureWriter
from modelmon.errors import ConfigError

__all__ = [
    "SHADOW_HEADER",
    "CaptureProcess",
    "CaptureProxy",
    "ShadowMirror",
    "ShadowStats",
    "capture_main",
    "check_header_name",
    "check_listen",
    "check_timeout",
    "check_upstream",
    "new_event_loop",
    "serve_until_signalled",
]

# RFC 9110 §7.6.1: they describe one connection, so a proxy must not forward them; Host is the
# upstream's own. Expect is answered by the proxy's server side, and aiohttp's client would wait
# for a 100 Continue the request has already had.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# aiohttp's client adds these when absent; a proxy must send only what the client sent (an added
# Accept-Encoding would have the upstream compress a body the client cannot read).
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")
_IDLE_CONNECTION_SECONDS = 1.5
SHADOW_HEADER = "X-Modelmon-Shadow"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_log = logging.getLogger("modelmon.capture")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HOST_PORT = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]\s]+)):(?P<port>\d{1,5})")


def check_upstream(value: str, name: str = "upstream", owner: str = "CaptureProxy") -> URL:
    """The upstream's base URL: http(s), a host, an optional path prefix, nothing else."""
    try:
        url = URL(value)
    except (ValueError, TypeError):
        url = None
    if (
        url is None
        or url.scheme not in ("http", "https")
        or not url.host
        or url.raw_query_string
        or url.raw_fragment
        or url.user is not None
    ):
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be an http:// or https:// URL of the model "
            f"server, such as http://127.0.0.1:9000 (a path prefix is allowed; no query, fragment "
            f"or credentials). Got {value!r} instead."
        )
    return url


def check_listen(value: str, name: str = "listen", owner: str = "CaptureProxy") -> tuple[str, int]:
    """``HOST:PORT`` (``[IPv6]:PORT`` for IPv6; port 0 picks a free one) as (host, port)."""
    match = _HOST_PORT.fullmatch(value.strip())
    port = int(match["port"]) if match else -1
    if match is None or not 0 <= port <= 65535:
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be HOST:PORT with a port from 0 to 65535, "
            f"such as 127.0.0.1:8081 or [::1]:8081. Got {value!r} instead."
        )
    return match["ipv6"] or match["host"], port


def check_timeout(value: float, name: str = "timeout", owner: str = "CaptureProxy") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be a number of seconds > 0. "
            f"Got {value!r} instead."
        )
    return float(value)


def check_header_name(value: str, name: str = "id_header", owner: str = "CaptureProxy") -> str:
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be an HTTP header name (letters, digits "
            f"and -, such as X-Inference-Id). Got {value!r} instead."
        )
    return value


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CaptureProxy:
    """A reverse proxy to ``upstream`` that submits every sampled exchange to ``writer``.

    ``writer`` is a :class:`CaptureProcess` (what ``modelmon proxy`` uses), a
    :class:`~modelmon.capture.writer.CaptureWriter` or any other :class:`CaptureSink`; it stays the
    caller's: :meth:`stop` drains requests in flight but does not close it.
    ``timeout`` bounds both connecting to the upstream and each wait for its data; requests still
    in flight ``timeout`` seconds after :meth:`stop` began are cut. ``shadow`` mirrors a share
    of the captured requests to a challenger (see the module documentation). ``clock`` stamps
    each request's arrival (the demo passes its simulated clock).
    """

    def __init__(
        self,
        upstream: str,
        *,
        model: str,
        version: str,
        writer: CaptureSink,
        id_header: str = DEFAULT_ID_HEADER,
        timeout: float = 30.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_connections: int = 100,
        shadow: ShadowMirror | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        base = check_upstream(upstream)
        # Joined as text with the request's raw path, so percent-encoding reaches the upstream
        # exactly as the client sent it.
        self._base = str(base.origin()) + base.raw_path.rstrip("/")
        self.upstream = upstream
        self.model = model
        self.version = version
        self.writer = writer
        self.id_header = check_header_name(id_header)
        self.timeout = check_timeout(timeout)
        self.max_body_bytes = max_body_bytes
        self.max_connections = max_connections
        if shadow is not None and shadow.version == version:
            raise ConfigError(
                "The 'shadow' parameter of CaptureProxy must capture the challenger under a "
                f"version other than the primary's. Got version {version!r} for both instead."
            )
        self.shadow = shadow
        self._clock = clock
        self._failures = CaptureFailures()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    @property
    def capture_errors(self) -> int:
        """How many times capture itself failed (the requests were proxied all the same)."""
        return self._failures.count

    async def start(self, host: str = "127.0.0.1", port: int = 8081) -> str:
        """Listen on ``host:port``; returns the address as a URL (with the port picked for 0)."""
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self.max_connections, keepalive_timeout=_IDLE_CONNECTION_SECONDS
            ),
            timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=self.timeout),
            auto_decompress=False,
            skip_auto_headers=_NO_AUTO_HEADERS,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # Bodies up to the capture limit are read whole (the fast path); longer ones stream.
        app = web.Application(client_max_size=max(self.max_body_bytes, 1))
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            auto_decompress=False,
            shutdown_timeout=self.timeout,
        )
        await self._runner.setup()
        if self.shadow is not None:
            self.shadow.start(self.writer, self._failures)
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        bound = self._runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        return f"http://{shown}:{bound[1]}"

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to ``timeout``), close the pool;
        then let mirrored requests finish (up to the shadow's timeout)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.shadow is not None:
            await self.shadow.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = self._clock()
        start = time.perf_counter()
        session = self._session
        assert session is not None  # requests arrive only between start() and stop()
        inference_id = inference_id_from(request.headers.get(self.id_header))
        exchange = self._exchange(request, inference_id, arrived, start)

        headers = self._upstream_headers(request, inference_id)
        length = request.content_length
        data: bytes | AsyncIterator[bytes] | None = None
        if length is not None and length <= self.max_body_bytes:
            data = await request.read()
            if exchange is not None:
                exchange.request.add(data)
        elif request.body_exists:
            data = _tee(request.content, None if exchange is None else exchange.request)

        url = URL(self._base + request.raw_path, encoded=True)
        shadow = self.shadow
        mirror = (
            shadow is not None
            and exchange is not None
            and shadow.wants(inference_id, replayable=not isinstance(data, AsyncIterator))
        )
        response = await self._forward(request, session, url, headers, data, inference_id, exchange)
        if mirror and shadow is not None:
            # The primary has answered: the client's response goes out as this task ends, while
            # the mirrored request runs in a task of its own.
            body = data if isinstance(data, bytes) else None
            shadow.mirror(request, headers, body, inference_id, arrived, self.model)
        return response

    async def _forward(
        self,
        request: web.Request,
        session: aiohttp.ClientSession,
        url: URL,
        headers: CIMultiDict[str],
        data: bytes | AsyncIterator[bytes] | None,
        inference_id: str,
        exchange: Exchange | None,
    ) -> web.StreamResponse:
        """The upstream's answer to ``request``, or the proxy's own 502/504."""
        sent = time.perf_counter()
        try:
            async with session.request(
                request.method, url, headers=headers, data=data, allow_redirects=False
            ) as upstream:
                reply_headers = self._end_to_end(upstream.headers, inference_id)
                if upstream.headers.get("Content-Length") is not None or not _may_have_body(
                    request.method, upstream.status
                ):
                    body = await upstream.read()
                    latency = (time.perf_counter() - sent) * 1000.0
                    if exchange is not None:
                        exchange.response.add(body)
                        exchange.submit(
                            status=upstream.status,
                            response_type=upstream.headers.get("Content-Type", ""),
                            latency_ms=latency,
                        )
                    return web.Response(
                        status=upstream.status,
                        reason=upstream.reason,
                        headers=reply_headers,
                        body=body,
                    )
                return await self._stream(request, upstream, reply_headers, exchange, sent)
        except TimeoutError as error:
            return self._failed(
                504, "the upstream did not answer in time", error, inference_id, exchange, sent
            )
        except aiohttp.ClientConnectorError as error:
            return self._failed(
                502, "the upstream could not be reached", error, inference_id, exchange, sent
            )
        except aiohttp.ClientError as error:
            return self._failed(
                502, "the upstream failed to answer", error, inference_id, exchange, sent
            )

    def _exchange(
        self, request: web.Request, inference_id: str, arrived: datetime, start: float
    ) -> Exchange | None:
        """The capture of this request, or None when it is not sampled (or capture failed)."""
        try:
            if not self.writer.should_sample(inference_id):
                return None
            return Exchange(
                self.writer,
                self._failures,
                model=self.model,
                version=self.version,
                source="proxy",
                inference_id=inference_id,
                arrived=arrived,
                start=start,
                request_type=request.headers.get("Content-Type", ""),
                max_body_bytes=self.max_body_bytes,
            )
        except Exception:
            self._failures("starting the capture of a request")
            return None

    def _upstream_headers(self, request: web.Request, inference_id: str) -> CIMultiDict[str]:
        headers = self._end_to_end(request.headers, inference_id)
        if request.remote:
            forwarded = headers.get("X-Forwarded-For")
            headers["X-Forwarded-For"] = (
                f"{forwarded}, {request.remote}" if forwarded else request.remote
            )
        if "X-Forwarded-Host" not in headers and request.host:
            headers["X-Forwarded-Host"] = request.host
        if "X-Forwarded-Proto" not in headers:
            headers["X-Forwarded-Proto"] = request.scheme
        return headers

    def _end_to_end(self, incoming: CIMultiDictProxy[str], inference_id: str) -> CIMultiDict[str]:
        """The headers meant for the other side (hop-by-hop ones dropped), with the id header."""
        dropped = _connection_listed(incoming)
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in incoming.items():
            lowered = name.lower()
            if lowered not in _HOP_BY_HOP and lowered not in dropped:
                headers.add(name, value)
        if self.id_header not in headers:
            headers[self.id_header] = inference_id
        return headers

    async def _stream(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        headers: CIMultiDict[str],
        exchange: Exchange | None,
        sent: float,
    ) -> web.StreamResponse:
        """Pass a body of unknown length on chunk by chunk, as a stream must be."""
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        response.headers.extend(headers)
        await response.prepare(request)
        error: str | None = None
        try:
            async for chunk in upstream.content.iter_any():
                if exchange is not None:
                    exchange.response.add(chunk)
                await response.write(chunk)
            await response.write_eof()
        except ConnectionResetError as failure:
            # Writing to a client that left (aiohttp's error for it is also a ClientError, so
            # this comes first; reading from the upstream never raises it).
            error = f"the client went away while the response streamed: {_describe(failure)}"
        except (aiohttp.ClientError, TimeoutError) as failure:
            # Too late for a 502: the status is sent. Cut the connection so that the client
            # sees a broken response, not a short one that looks whole.
            error = f"the upstream failed while streaming the response: {_describe(failure)}"
            if request.transport is not None:
                request.transport.close()
        if exchange is not None:
            exchange.submit(
                status=upstream.status,
                response_type=upstream.headers.get("Content-Type", ""),
                latency_ms=(time.perf_counter() - sent) * 1000.0,
                error=error,
            )
        return response

    def _failed(
        self,
        status: int,
        problem: str,
        error: BaseException,
        inference_id: str,
        exchange: Exchange | None,
        sent: float,
    ) -> web.Response:
        detail = _describe(error)
        if exchange is not None:
            exchange.submit(
                status=status,
                response_type="",
                latency_ms=(time.perf_counter() - sent) * 1000.0,
                error=f"{problem}: {detail}",
                keep_response=False,
            )
        body = {
            "error": problem,
            "detail": detail,
            "upstream": self.upstream,
            "inference_id": inference_id,
        }
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            content_type="application/json",
            headers={self.id_header: inference_id},
        )


@dataclasses.dataclass(frozen=True)
class ShadowStats:
    """Counters of a :class:`ShadowMirror`: requests ``mirrored`` to the challenger (each
    captured, answered or not), of those ``failed`` (an error status, a timeout, no connection),
    and requests not mirrored because the challenger was ``busy`` (``max_in_flight`` mirrored
    requests waiting) or their body was ``streamed`` (too long to replay)."""

    mirrored: int
    failed: int
    busy: int
    streamed: int


class ShadowMirror:
    """Sends a share of a :class:`CaptureProxy`'s requests to a challenger model server too, and
    captures its answers as ``version`` (see the module documentation).

    ``fraction`` of inference ids are mirrored (by capture sampling's hash). ``timeout`` bounds
    each mirrored request as a whole, so a challenger that hangs holds at most
    ``max_in_flight`` requests for that long. ``timer`` (seconds, monotonic) measures the
    challenger's latency; tests pass their own.
    """

    def __init__(
        self,
        upstream: str,
        *,
        version: str,
        fraction: float = 0.1,
        timeout: float = 30.0,
        max_in_flight: int = 100,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        owner = "ShadowMirror"
        base = check_upstream(upstream, "upstream", owner)
        self._base = str(base.origin()) + base.raw_path.rstrip("/")
        self.upstream = upstream
        self.version = version
        self.fraction = check_rate(fraction, owner, "fraction")
        self._sampler = Sampler(self.fraction)
        self.timeout = check_timeout(timeout, "timeout", owner)
        if (
            isinstance(max_in_flight, bool)
            or not isinstance(max_in_flight, int)
            or max_in_flight < 1
        ):
            raise ConfigError(
                f"The 'max_in_flight' parameter of {owner} must be an int >= 1. "
                f"Got {max_in_flight!r} instead."
            )
        self.max_in_flight = max_in_flight
        self.max_body_bytes = max_body_bytes
        self._timer = timer
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._writer: CaptureSink | None = None
        self._failures = CaptureFailures()
        self._mirrored = self._failed = self._busy = self._streamed = 0

    @property
    def stats(self) -> ShadowStats:
        return ShadowStats(self._mirrored, self._failed, self._busy, self._streamed)

    def start(self, writer: CaptureSink, failures: CaptureFailures) -> None:
        """Open the challenger's own connection pool (from the event loop that will mirror)."""
        self._writer = writer
        self._failures = failures
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self.max_in_flight, keepalive_timeout=_IDLE_CONNECTION_SECONDS
            ),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            auto_decompress=False,
            skip_auto_headers=_NO_AUTO_HEADERS,
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def stop(self) -> None:
        """Let mirrored requests finish (each is bounded by ``timeout``), close the pool."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.timeout + 1.0)
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def wants(self, inference_id: str, *, replayable: bool) -> bool:
        """Whether to mirror this request; the ones it cannot take are counted."""
        if self._session is None or not self._sampler.keep(inference_id):
            return False
        if not replayable:
            self._streamed += 1
            return False
        if len(self._tasks) >= self.max_in_flight:
            self._busy += 1
            return False
        return True

    def mirror(
        self,
        request: web.Request,
        headers: CIMultiDict[str],
        body: bytes | None,
        inference_id: str,
        arrived: datetime,
        model: str,
    ) -> None:
        """Send the request to the challenger in a task of its own; returns at once."""
        if self._writer is None:
            return
        try:
            exchange = Exchange(
                self._writer,
                self._failures,
                model=model,
                version=self.version,
                source="shadow",
                inference_id=inference_id,
                arrived=arrived,
                start=self._timer(),
                request_type=request.headers.get("Content-Type", ""),
                max_body_bytes=self.max_body_bytes,
            )
            if body:
                exchange.request.add(body)
            mirrored = CIMultiDict(headers)
            mirrored[SHADOW_HEADER] = "1"
            url = URL(self._base + request.raw_path, encoded=True)
            task = asyncio.get_running_loop().create_task(
                self._send(request.method, url, mirrored, body, exchange)
            )
        except Exception:
            self._failures("mirroring a request to the shadow upstream")
            return
        self._mirrored += 1
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: bytes | None,
        exchange: Exchange,
    ) -> None:
        session = self._session
        assert session is not None  # mirroring happens only between start() and stop()
        sent = self._timer()
        status: int | None = None
        problem: str | None = None
        content_type = ""
        try:
            async with session.request(
                method, url, headers=headers, data=body, allow_redirects=False
            ) as answer:
                status = answer.status
                async for chunk in answer.content.iter_any():
                    exchange.response.add(chunk)
                content_type = answer.headers.get("Content-Type", "")
        except TimeoutError as error:
            status, problem = 504, f"the shadow upstream did not answer in time: {_describe(error)}"
        except aiohttp.ClientConnectorError as error:
            status, problem = 502, f"the shadow upstream could not be reached: {_describe(error)}"
        except aiohttp.ClientError as error:
            status, problem = 502, f"the shadow upstream failed to answer: {_describe(error)}"
        except Exception:  # a bug of ours must not end up in the event loop's log as unhandled
            self._failures("mirroring a request to the shadow upstream")
            return
        if problem is not None or (status is not None and status >= 400):
            self._failed += 1
        exchange.submit(
            status=status,
            response_type="" if problem is not None else content_type,
            latency_ms=(self._timer() - sent) * 1000.0,
            error=problem,
            keep_response=problem is None,
        )


class CaptureProcess:
    """A :class:`~modelmon.capture.writer.CaptureWriter` in a child process, fed through a pipe.

    Why a process: the writer decodes bodies into columns and writes Parquet, about 0.2 ms of
    Python per inference. In a thread of the proxy's process that work holds the GIL for tens of
    milliseconds every flush, and every request arriving meanwhile waits for it: the proxy's
    p99 would be the writer's flush time. Here the proxy only samples, packs each event with
    :mod:`marshal` (about a microsecond) and writes it to a non-blocking pipe; the child does the
    rest on another core.

    Nothing blocks the proxy: if the child falls behind by more than ``max_buffer_bytes`` the
    event is dropped and counted (the child's writer also drops, and counts, when its own queue is
    full). :meth:`close` sends what is buffered, lets the child flush and returns the writer's
    statistics. The child ignores SIGINT and SIGTERM (a terminal's Ctrl-C, or a service manager,
    signal the whole process group): it stops when its pipe closes, which also happens if the
    proxy dies, so captures already handed over are flushed either way.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        sampling: float = 1.0,
        max_buffer_bytes: int = 64 << 20,
    ) -> None:
        self.data_dir = os.fspath(data_dir)
        self._sampler = Sampler(check_rate(sampling, "CaptureProcess"))
        self.max_buffer_bytes = max_buffer_bytes
        self._process: asyncio.subprocess.Process | None = None
        self._transport: asyncio.WriteTransport | None = None
        self._pipe_closed: asyncio.Future[None] | None = None
        self._closing = False
        self._sent = 0
        self._dropped = 0
        self._sampled_out = 0

    async def start(self) -> None:
        """Start the child and connect the pipe (call from the event loop that will submit)."""
        read_end, write_end = os.pipe()
        try:
            # A fresh interpreter rather than multiprocessing: forking a process that runs an
            # event loop and threads is unsafe, and spawn would re-run the caller's main module.
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from modelmon.capture.proxy import capture_main; capture_main()",
                str(read_end),
                self.data_dir,
                pass_fds=(read_end,),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                # The child imports modelmon from where this process found it.
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))},
            )
        finally:
            os.close(read_end)  # the child's end: the child sees EOF once ours closes
        os.set_blocking(write_end, False)
        loop = asyncio.get_running_loop()
        self._pipe_closed = loop.create_future()
        pipe = open(write_end, "wb", buffering=0)  # noqa: SIM115 (the transport closes it)
        self._transport, _ = await loop.connect_write_pipe(lambda: _PipeProtocol(self), pipe)

    def should_sample(self, inference_id: str) -> bool:
        if self._sampler.keep(inference_id):
            return True
        self._sampled_out += 1
        return False

    def submit(self, event: InferenceEvent) -> bool:
        """Hand ``event`` to the child; never blocks. False if it was dropped, which is counted."""
        transport = self._transport
        if (
            transport is None
            or transport.is_closing()
            or transport.get_write_buffer_size() > self.max_buffer_bytes
        ):
            self._dropped += 1
            return False
        frame = marshal.dumps(_pack(event))
        transport.write(len(frame).to_bytes(4, "little") + frame)
        self._sent += 1
        return True

    def _lost(self, error: Exception | None) -> None:
        if not self._closing:
            _log.error(
                "the capture process stopped (%s); inferences are no longer captured",
                error or "its pipe closed",
            )
        if self._pipe_closed is not None and not self._pipe_closed.done():
            self._pipe_closed.set_result(None)

    async def close(self) -> CaptureStats:
        """Send what is buffered, let the child flush and stop; the capture's statistics."""
        self._closing = True
        if self._transport is not None and self._pipe_closed is not None:
            self._transport.close()
            await self._pipe_closed
        # What the child reports on its last line; all zero if it died before it could.
        child: dict[str, Any] = {field.name: 0 for field in dataclasses.fields(CaptureStats)}
        child["last_flush_time"] = None
        if self._process is not None:
            output, _ = await self._process.communicate()
            if output.strip():
                child = json.loads(output.splitlines()[-1])
                if child["last_flush_time"] is not None:
                    child["last_flush_time"] = datetime.fromisoformat(child["last_flush_time"])
        child["submitted"] = self._sent + self._dropped
        child["dropped"] += self._dropped
        child["sampled_out"] = self._sampled_out
        return CaptureStats(**child)


class _PipeProtocol(asyncio.Protocol):
    def __init__(self, owner: CaptureProcess) -> None:
        self.owner = owner

    def connection_lost(self, error: Exception | None) -> None:
        self.owner._lost(error)


def _pack(event: InferenceEvent) -> tuple[Any, ...]:
    """The event as a tuple of plain values, which :mod:`marshal` packs fastest."""
    request, response = event.request, event.response
    return (
        event.model,
        event.version,
        event.inference_id,
        (event.time - _EPOCH) // _MICROSECOND,
        None if request is None else request.data,
        None if request is None else request.content_type,
        None if response is None else response.data,
        None if response is None else response.content_type,
        event.latency_ms,
        event.status,
        event.error,
        event.source,
    )


def _unpack(frame: bytes) -> InferenceEvent:
    (
        model,
        version,
        inference_id,
        micros,
        request,
        request_type,
        response,
        response_type,
        latency_ms,
        status,
        error,
        source,
    ) = marshal.loads(frame)
    return InferenceEvent(
        model=model,
        version=version,
        inference_id=inference_id,
        time=_EPOCH + timedelta(microseconds=micros),
        request=None if request is None else Payload(request, request_type),
        response=None if response is None else Payload(response, response_type),
        latency_ms=latency_ms,
        status=status,
        error=error,
        source=source,
    )


def capture_main() -> None:
    """The capture process (see :class:`CaptureProcess`): ``FD DATA_DIR`` on its command line.

    Reads events from the pipe until it closes, writes them, prints the writer's statistics as
    one JSON line.
    """
    # Before the writer exists, so that its SIGTERM hook sees SIGTERM ignored and stays out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Serving comes first: when the cores are busy, the writer yields to the proxy and the model
    # server (it still gets its share; only a sustained overload fills its queue).
    os.nice(10)
    descriptor, data_dir = int(sys.argv[1]), sys.argv[2]
    writer = CaptureWriter(data_dir)  # sampled already, by the proxy
    with open(descriptor, "rb") as pipe:
        while len(header := pipe.read(4)) == 4:
            writer.submit(_unpack(pipe.read(int.from_bytes(header, "little"))))
    writer.close()
    print(json.dumps(dataclasses.asdict(writer.stats), default=datetime.isoformat), flush=True)


async def _tee(content: aiohttp.StreamReader, buffer: BodyBuffer | None) -> AsyncIterator[bytes]:
    """The request body as it arrives, kept (up to the limit) on the way through."""
    async for chunk in content.iter_any():
        if buffer is not None:
            buffer.add(chunk)
        yield chunk


def _connection_listed(headers: CIMultiDictProxy[str]) -> frozenset[str]:
    """Headers that ``Connection`` names as hop-by-hop for this one connection."""
    listed = headers.getall("Connection", ())
    if not listed:
        return frozenset()
    return frozenset(
        token.strip().lower() for value in listed for token in value.split(",") if token.strip()
    )


def _may_have_body(method: str, status: int) -> bool:
    return method != "HEAD" and status >= 200 and status not in (204, 304)


def _describe(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, TimeoutError) and not text:
        return "timed out"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when uvloop is installed, else asyncio's.

    uvloop is optional: it takes about a fifth less CPU per proxied request (measured with
    ``benchmarks/proxy_latency.py``). It is imported by name so that nothing else needs it.
    """
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


async def serve_until_signalled(
    proxy: CaptureProxy, host: str, port: int, *, on_ready: Callable[[str], None]
) -> None:
    """Run ``proxy`` on ``host:port`` until SIGINT or SIGTERM, then stop it gracefully.

    ``on_ready`` gets the listening URL once the port is bound. Signals that arrive while requests
    drain are ignored: the drain is bounded by the proxy's timeout.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    try:
        on_ready(await proxy.start(host, port))
        await stop.wait()
    finally:
        await proxy.stop()
        for number in signals:
            loop.remove_signal_handler(number)
