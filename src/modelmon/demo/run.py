"""``modelmon demo``: the whole loop on one machine, on embedded defaults, in about a minute.

A credit-default model (scikit-learn) is trained on generated applications and served over HTTP
behind ``modelmon proxy``, which captures every inference. The monitoring server (SQLite and a data
directory) holds the model, its baselines and its schedules. Simulated days of traffic are replayed
through the proxy under a simulated clock that the server's scheduler also reads, labels arrive a
day late, monitors run as their schedules come due, alerts go to a local webhook, and the server
is left running with its dashboard (unless ``serve`` is False).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pyarrow as pa

from modelmon.capture.proxy import CaptureProxy, ShadowMirror
from modelmon.capture.writer import CaptureWriter
from modelmon.demo.clock import SimulatedClock
from modelmon.demo.model import CreditModel, train
from modelmon.demo.serving import AlertInbox, BackgroundLoop, model_app, start_site
from modelmon.demo.story import STORY, Day
from modelmon.demo.traffic import Sent, send_rows
from modelmon.errors import ConfigError
from modelmon.examples import FEATURES, generate_credit
from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.server import ServerState
from modelmon.server.testing import running_server
from modelmon.store import open_store

__all__ = ["DAY_ONE", "DemoResult", "run_demo"]

DAY_ONE = datetime(2026, 11, 2, tzinfo=UTC)
MODEL = "credit"
_HOUR = timedelta(hours=1)
_MARKER = ".modelmon-demo"

Progress = Callable[[int, int, str], None]


@dataclass
class DemoResult:
    """What the demo did: the server's address and what each monitor and alert said."""

    base_url: str
    data_dir: Path
    executions: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    request_errors: int = 0

    def violations_on(self, day: int, monitor_type: str) -> set[str]:
        """Features (or checks) in violation in executions of ``monitor_type`` whose window
        lies in day ``day`` (1-based)."""
        start = DAY_ONE + timedelta(days=day - 1)
        end = start + timedelta(days=1)
        found: set[str] = set()
        for execution in self.executions:
            window = datetime.fromisoformat(execution["window_start"])
            if execution["monitor_type"] == monitor_type and start <= window < end:
                found |= {v["feature"] for v in execution.get("violations") or []}
        return found


class _Stack:
    """The running pieces: model servers, alert inbox, capture proxy, in one background loop."""

    def __init__(self, loop: BackgroundLoop, v1: CreditModel, v2: CreditModel) -> None:
        self.loop = loop
        self.delay = 0.0
        self.inbox = AlertInbox()
        self._runners: list[Any] = []
        self.v1_url = self._serve(model_app(v1, lambda: self.delay))
        self.v2_url = self._serve(model_app(v2, lambda: 0.0))
        self.inbox_url = self._serve(self.inbox.app())
        self.proxy: CaptureProxy | None = None
        self.proxy_url = ""
        self.session: aiohttp.ClientSession = loop.run(_session())

    def _serve(self, app: Any) -> str:
        runner, url = self.loop.run(start_site(app))
        self._runners.append(runner)
        return url

    def start_proxy(self, writer: CaptureWriter, shadow_fraction: float) -> None:
        if self.proxy is not None:
            self.loop.run(self.proxy.stop())
        shadow = (
            ShadowMirror(self.v2_url, version="v2", fraction=shadow_fraction)
            if shadow_fraction > 0
            else None
        )
        self.proxy = CaptureProxy(
            self.v1_url, model=MODEL, version="v1", writer=writer, shadow=shadow
        )
        self.proxy_url = self.loop.run(self.proxy.start(port=0))

    def send(self, table: pa.Table, id_prefix: str) -> Sent:
        return self.loop.run(send_rows(self.session, self.proxy_url, table, id_prefix=id_prefix))

    def close(self) -> None:
        if self.proxy is not None:
            self.loop.run(self.proxy.stop())
        self.loop.run(self.session.close())
        for runner in self._runners:
            self.loop.run(runner.cleanup())


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def _prepare(directory: Path) -> Path:
    """A fresh demo directory: one we made before is emptied, anything else is refused."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / _MARKER).exists():
            raise ConfigError(
                f"The demo directory {directory} exists and was not made by 'modelmon demo'; "
                "pass --dir with a new or empty directory."
            )
        shutil.rmtree(directory)
    data_dir = directory / "data"
    data_dir.mkdir(parents=True)
    (directory / _MARKER).write_text("made by modelmon demo; emptied on its next run\n")
    return data_dir


def _reference(table: pa.Table, model: CreditModel) -> pa.Table:
    """The training data as the proxy will capture it: the model's output first, then inputs."""
    scores = model.predict_proba(table.select(list(FEATURES)).to_pylist())
    return table.select(list(FEATURES)).add_column(
        0, "default_probability", pa.array(scores.round(6))
    )


def run_demo(
    directory: Path,
    *,
    days: int = len(STORY),
    rate: int = 60,
    port: int | None = None,
    progress: Progress | None = None,
    serve_forever: Callable[[str], None] | None = None,
) -> DemoResult:
    """Play ``days`` of the story with ``rate`` applications per hour; with ``serve_forever``,
    call it with the dashboard's address before shutting down (it returns when the user quits)."""
    if not 1 <= days <= len(STORY):
        raise ConfigError(f"The '--days' option must be 1 to {len(STORY)}. Got {days} instead.")
    if rate < 10:
        raise ConfigError(f"The '--rate' option must be at least 10. Got {rate} instead.")
    report = progress or (lambda done, total, text: None)
    steps = 2 + days * 24
    report(0, steps, "training the model")
    data_dir = _prepare(directory)
    training = generate_credit(20_000, seed=1)
    v1, v2 = train(training, "v1"), train(training, "v2", seed=2)
    clock = SimulatedClock(DAY_ONE)
    store = open_store(f"sqlite:///{data_dir / 'modelmon.db'}", migrate=True)
    state = ServerState(store, data_dir, clock=clock, owner="demo", started_at=clock())
    _install_extensions(state)
    loop = BackgroundLoop()
    stack = _Stack(loop, v1, v2)
    writer = CaptureWriter(data_dir, clock=clock, flush_interval=0.2)
    try:
        with (
            running_server(state, port=port) as base_url,
            httpx.Client(base_url=base_url, timeout=120) as api,
        ):
            result = DemoResult(base_url, data_dir)
            report(1, steps, "computing baselines and schedules")
            _register(api, training, v1, stack)
            step = 2
            pending_labels: list[Sent] = []
            for number, day in enumerate(STORY[:days], start=1):
                stack.start_proxy(writer, day.shadow_fraction)
                sent_today = _play_day(
                    number, day, rate, api, stack, writer, clock, result, report, step, steps
                )
                step += 24
                # Yesterday's labels arrive at the end of today.
                for sent in pending_labels:
                    _send_labels(api, sent)
                pending_labels = sent_today
                api.post("/api/v1/scheduler/tick").raise_for_status()
            # The last day's labels arrive the morning after, and its runs complete.
            clock.advance(timedelta(hours=6))
            for sent in pending_labels:
                _send_labels(api, sent)
            api.post("/api/v1/scheduler/tick").raise_for_status()
            _collect(api, result, stack)
            report(steps, steps, "done")
            if serve_forever is not None:
                serve_forever(base_url)
    finally:
        writer.close()
        stack.close()
        loop.close()
        store.close()
    return result


def _play_day(
    number: int,
    day: Day,
    rate: int,
    api: httpx.Client,
    stack: _Stack,
    writer: CaptureWriter,
    clock: SimulatedClock,
    result: DemoResult,
    report: Progress,
    step: int,
    steps: int,
) -> list[Sent]:
    start = DAY_ONE + timedelta(days=number - 1)
    sent_today = []
    for hour in range(24):
        report(step + hour, steps, f"day {number}: {day.title}")
        slow = day.slow_from_hour is not None and hour >= day.slow_from_hour
        stack.delay = day.slow_seconds if slow else 0.0
        clock.set(start + hour * _HOUR + timedelta(minutes=1))
        table = generate_credit(rate, seed=number * 1000 + hour, drifts=day.drifts)
        sent = stack.send(table, id_prefix=f"d{number}h{hour:02d}")
        result.requests += len(sent.inference_ids)
        result.request_errors += sent.errors
        sent_today.append(sent)
        writer.flush(timeout=60)
        clock.set(start + (hour + 1) * _HOUR + timedelta(minutes=5))
        api.post("/api/v1/scheduler/tick").raise_for_status()
    stack.delay = 0.0
    return sent_today


def _send_labels(api: httpx.Client, sent: Sent) -> None:
    labels = [
        {"inference_id": i, "label": label}
        for i, label in zip(sent.inference_ids, sent.labels, strict=True)
    ]
    api.post("/api/v1/labels", json={"model": MODEL, "labels": labels}).raise_for_status()


def _register(api: httpx.Client, training: pa.Table, v1: CreditModel, stack: _Stack) -> None:
    api.post(
        "/api/v1/models",
        json={
            "name": MODEL,
            "description": "Probability that a loan applicant defaults (demo).",
            "problem_type": "BinaryClassification",
        },
    ).raise_for_status()
    for version in ("v1", "v2"):
        api.post(f"/api/v1/models/{MODEL}/versions", json={"version": version}).raise_for_status()
    reference = _reference(training, v1)
    baseline = DataQualityMonitor().baseline(reference)
    files = {
        "statistics.json": sm.statistics_to_json(baseline.statistics),
        "constraints.json": sm.constraints_to_json(baseline.constraints),
    }
    api.put(
        f"/api/v1/models/{MODEL}/versions/v1/baselines/DataQuality", json={"files": files}
    ).raise_for_status()
    api.post(
        "/api/v1/schedules",
        json={
            "name": "credit-data-quality",
            "model": MODEL,
            "version": "v1",
            "monitor_type": "DataQuality",
            "cron": "cron(0 0/6 ? * * *)",
        },
    ).raise_for_status()


def _collect(api: httpx.Client, result: DemoResult, stack: _Stack) -> None:
    listed = api.get("/api/v1/executions", params={"limit": 10_000}).json()
    result.executions = [api.get(f"/api/v1/executions/{e['id']}").json() for e in reversed(listed)]
    result.notifications = stack.inbox.snapshot()


def _install_extensions(state: ServerState) -> None:
    """Hooks that later capabilities add to the server (alerting)."""
