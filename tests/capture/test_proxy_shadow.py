"""Shadow mode of the capture proxy, between real aiohttp model servers on 127.0.0.1: a primary,
and challengers that are slow, fail, hang or are not there at all."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from modelmon.capture import read_captures
from modelmon.capture.proxy import CaptureProxy, ShadowMirror
from modelmon.capture.sampling import keeps_id
from modelmon.capture.testing import RecordingSink
from modelmon.cli.main import main
from modelmon.monitors.prediction_drift import PredictionDriftMonitor, join_predictions


async def predict(request: web.Request) -> web.Response:
    features = await request.json()
    return web.json_response({"score": features["age"] / 100})


def primary_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/predict", predict)
    return app


@dataclass
class Challenger:
    """A challenger that answers ``status`` once ``gate`` is open (at once without a gate)."""

    status: int = 200
    gate: asyncio.Event | None = None
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append((dict(request.headers), body))
        self.arrived.set()
        if self.gate is not None:
            await self.gate.wait()
        features = json.loads(body) if body else {"age": 0}
        return web.json_response({"score": features["age"] / 100 + 0.01}, status=self.status)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@dataclass
class Deployment:
    client: aiohttp.ClientSession
    proxy: CaptureProxy
    sink: RecordingSink
    shadow: ShadowMirror

    def by_version(self, version: str) -> dict[str, Any]:
        return {e.inference_id: e for e in self.sink.events if e.version == version}


@asynccontextmanager
async def deployment(challenger: str | Challenger, **shadow: Any) -> AsyncIterator[Deployment]:
    primary, primary_url = await serve(primary_app())
    runners = [primary]
    if isinstance(challenger, Challenger):
        runner, challenger_url = await serve(challenger.app())
        runners.append(runner)
    else:
        challenger_url = challenger
    mirror = ShadowMirror(challenger_url, version="v2", **{"fraction": 1.0, **shadow})
    sink = RecordingSink()
    proxy = CaptureProxy(
        primary_url, model="churn", version="v1", writer=sink, shadow=mirror, max_body_bytes=1000
    )
    url = await proxy.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(base_url=url) as client:
            yield Deployment(client, proxy, sink, mirror)
    finally:
        if isinstance(challenger, Challenger) and challenger.gate is not None:
            challenger.gate.set()
        await proxy.stop()
        for runner in runners:
            await runner.cleanup()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run ``scenario``; a proxy that waited for its challenger would fail it, not hang it."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario(), timeout=30)

    asyncio.run(bounded())


async def post(client: aiohttp.ClientSession, age: int, **headers: str) -> tuple[int, Any, str]:
    async with client.post("/predict", json={"age": age}, headers=headers) as response:
        return response.status, await response.json(), response.headers["X-Inference-Id"]


def test_the_client_gets_the_primary_answer_while_the_challenger_is_still_thinking() -> None:
    async def scenario() -> None:
        challenger = Challenger(gate=asyncio.Event())
        async with deployment(challenger) as running:
            answers = [await post(running.client, age) for age in range(5)]
            # Every client has its answer, and the challenger has answered nobody yet.
            assert [a[:2] for a in answers] == [(200, {"score": age / 100}) for age in range(5)]
            await challenger.arrived.wait()
            assert running.by_version("v2") == {}
            assert challenger.gate is not None
            challenger.gate.set()
            await running.proxy.stop()  # drains the mirrored requests
            ids = [a[2] for a in answers]
            primary, shadow = running.by_version("v1"), running.by_version("v2")
            assert set(primary) == set(shadow) == set(ids)
            for age, inference_id in enumerate(ids):
                event = shadow[inference_id]
                assert (event.model, event.source, event.status, event.error) == (
                    "churn",
                    "shadow",
                    200,
                    None,
                )
                assert json.loads(event.response.data) == {"score": age / 100 + 0.01}
                assert event.request.data == primary[inference_id].request.data
                assert event.time == primary[inference_id].time
                assert event.latency_ms is not None
            headers = [seen[0] for seen in challenger.seen]
            assert sorted(h["X-Inference-Id"] for h in headers) == sorted(ids)
            assert {h["X-Modelmon-Shadow"] for h in headers} == {"1"}
            assert running.shadow.stats.mirrored == 5
            assert running.proxy.capture_errors == 0

    run(scenario)


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("erroring", 500, "HTTP 500 Internal Server Error"),
        ("unreachable", 502, "the shadow upstream could not be reached: "),
        ("hanging", 504, "the shadow upstream did not answer in time: "),
    ],
)
def test_challenger_failures_are_captured_and_never_surfaced(
    kind: str, status: int, error: str
) -> None:
    async def scenario() -> None:
        challenger: str | Challenger
        if kind == "unreachable":
            with socket.socket() as sock:  # a port nobody listens on
                sock.bind(("127.0.0.1", 0))
                challenger = f"http://127.0.0.1:{sock.getsockname()[1]}"
        else:
            gate = asyncio.Event() if kind == "hanging" else None
            challenger = Challenger(status=500 if kind == "erroring" else 200, gate=gate)
        async with deployment(challenger, timeout=0.2) as running:
            code, body, inference_id = await post(running.client, 41, **{"X-Inference-Id": "r-1"})
            assert (code, body, inference_id) == (200, {"score": 0.41}, "r-1")
            await running.proxy.stop()
            shadow = running.by_version("v2")["r-1"]
            assert shadow.status == status
            assert shadow.error is not None
            assert shadow.error.startswith(error)
            assert running.shadow.stats.failed == 1
            assert running.proxy.capture_errors == 0
            assert running.by_version("v1")["r-1"].status == 200

    run(scenario)


def test_the_fraction_picks_ids_by_the_capture_sampling_hash() -> None:
    async def scenario() -> None:
        async with deployment(Challenger(), fraction=0.3) as running:
            ids = [f"id-{n}" for n in range(40)]
            for n, inference_id in enumerate(ids):
                await post(running.client, n, **{"X-Inference-Id": inference_id})
            await running.proxy.stop()
            expected = {i for i in ids if keeps_id(i, 0.3)}
            assert 0 < len(expected) < len(ids)
            assert set(running.by_version("v2")) == expected
            assert len(running.by_version("v1")) == 40

    run(scenario)


def test_streamed_bodies_and_a_busy_challenger_are_skipped_and_counted() -> None:
    async def scenario() -> None:
        challenger = Challenger(gate=asyncio.Event())
        async with deployment(challenger, max_in_flight=1) as running:
            big = {"age": 1, "padding": "x" * 2000}  # over the 1,000-byte capture limit
            async with running.client.post("/predict", json=big) as response:
                assert response.status == 200
            answers = [await post(running.client, age) for age in range(3)]
            assert all(code == 200 for code, _, _ in answers)
            assert running.shadow.stats.streamed == 1
            assert running.shadow.stats.busy == 2  # the first mirrored request holds the slot
            assert running.shadow.stats.mirrored == 1

    run(scenario)


def test_shadow_version_must_differ_from_the_primary() -> None:
    mirror = ShadowMirror("http://127.0.0.1:9", version="v1")
    with pytest.raises(Exception, match="version other than the primary's"):
        CaptureProxy(
            "http://127.0.0.1:9", model="m", version="v1", writer=RecordingSink(), shadow=mirror
        )


# -- the command --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--shadow-upstream", "http://127.0.0.1:9001"], "'--shadow-upstream'"),
        (["--shadow-version", "v2"], "'--shadow-version'"),
        (
            ["--shadow-upstream", "http://127.0.0.1:9001", "--shadow-version", "v1"],
            "'--shadow-version'",
        ),
        (["--shadow-upstream", "ftp://x:1", "--shadow-version", "v2"], "'--shadow-upstream'"),
        (
            [
                "--shadow-upstream",
                "http://127.0.0.1:9001",
                "--shadow-version",
                "v2",
                "--shadow-fraction",
                "1.5",
            ],
            "'--shadow-fraction'",
        ),
        (
            [
                "--shadow-upstream",
                "http://127.0.0.1:9001",
                "--shadow-version",
                "v2",
                "--shadow-timeout",
                "0",
            ],
            "'--shadow-timeout'",
        ),
    ],
)
def test_bad_shadow_flags_exit_2_naming_the_flag(
    flags: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "proxy", "--upstream", "http://127.0.0.1:9000", "--model", "churn", "--version", "v1",
        "--data-dir", str(tmp_path), *flags,
    ]  # fmt: skip
    assert main(argv) == 2
    assert named in capsys.readouterr().err


class Upstreams:
    """A primary and a challenger on an event loop in a thread, for the proxy as a process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.primary, self.primary_url = self._run(serve(primary_app()))
        self.challenger, self.challenger_url = self._run(serve(Challenger().app()))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def close(self) -> None:
        self._run(self.primary.cleanup())
        self._run(self.challenger.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def upstreams() -> Iterator[Upstreams]:
    running = Upstreams()
    yield running
    running.close()


def test_the_command_captures_the_challenger_joinable_by_id(
    upstreams: Upstreams, tmp_path: Path
) -> None:
    command = [
        sys.executable, "-m", "modelmon.cli.main", "proxy", "--upstream", upstreams.primary_url,
        "--model", "churn", "--version", "v1", "--listen", "127.0.0.1:0",
        "--data-dir", str(tmp_path), "--shadow-upstream", upstreams.challenger_url,
        "--shadow-version", "v2", "--shadow-fraction", "1",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "mirroring 100% to" in line, line
        url = line.split("listening on ", 1)[1].split(",", 1)[0]

        async def send() -> list[str]:
            async with aiohttp.ClientSession(base_url=url) as client:
                return [(await post(client, age))[2] for age in range(30, 70)]

        ids = asyncio.run(send())
        process.terminate()
        out, err = process.communicate(timeout=60)  # generous: the cores are shared
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()  # closes the pipes
    assert process.returncode == 0, err
    assert "shadow v2: 40 requests mirrored, 0 failed" in out
    primary = read_captures(tmp_path, "churn", version="v1", with_labels=False)
    challenger = read_captures(tmp_path, "churn", version="v2", with_labels=False)
    joined = join_predictions(primary, challenger, "score")
    assert sorted(joined["inference_id"].to_pylist()) == sorted(ids)
    assert joined["candidate"].to_pylist() == pytest.approx(
        [b + 0.01 for b in joined["baseline"].to_pylist()]
    )
    result = PredictionDriftMonitor(max_mean_abs_diff=0.005).check_captures(
        primary, challenger, "score", baseline_name="v1", candidate_name="v2"
    )
    assert result.overall.rows == 40
    assert [v.constraint_check_type for v in result.violations] == [
        "prediction_score_difference_check"
    ]
