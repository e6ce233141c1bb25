"""``modelmon demo``: the whole loop on one machine, on embedded defaults, in about a minute.

A credit-default model (scikit-learn) is trained on generated applications and served over HTTP
behind ``modelmon proxy``, which captures every inference. The monitoring server (SQLite and a data
directory) holds the model, its baselines and its schedules. Simulated days of traffic are replayed
through the proxy under a simulated clock that the server's scheduler also reads, labels arrive a
day late, monitors run as their schedules come due, alerts go to a local webhook, and the server
is left running with its dashboard (unless ``serve`` is False).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pyarrow as pa

from modelmon.capture import read_captures
from modelmon.capture.proxy import CaptureProxy, ShadowMirror
from modelmon.capture.writer import CaptureWriter
from modelmon.demo.clock import SimulatedClock
from modelmon.demo.model import CreditModel, train
from modelmon.demo.serving import AlertInbox, BackgroundLoop, model_app, start_site
from modelmon.demo.story import STORY, Day
from modelmon.demo.traffic import Sent, send_rows
from modelmon.errors import ConfigError
from modelmon.examples import FEATURES, generate_credit
from modelmon.monitors.bias import BiasMonitor
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.monitors.model_quality import ModelQualityMonitor
from modelmon.monitors.service_health import ServiceHealthMonitor
from modelmon.server import ServerState
from modelmon.server.testing import running_server
from modelmon.store import open_store

__all__ = ["DAY_ONE", "DemoResult", "run_demo"]

DAY_ONE = datetime(2026, 11, 2, tzinfo=UTC)
MODEL = "credit"
_HOUR = timedelta(hours=1)
_MARKER = ".modelmon-demo"

Progress = Callable[[int, int, str], None]
# Is the model as fair to women as in validation? (It never sees gender; the check proves it.)
_BIAS = {
    "label": "label",
    "label_value": 1,
    "facet": {"name": "gender", "values": ["female"]},
    "probability_attribute": "default_probability",
    "probability_threshold": 0.5,
}


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
    days: int = len(STORY)

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

    def __init__(
        self, loop: BackgroundLoop, v1: CreditModel, v2: CreditModel, clock: SimulatedClock
    ) -> None:
        self.loop = loop
        self.clock = clock
        self.delay = 0.0
        self.inbox = AlertInbox()
        self._runners: list[Any] = []
        self.data_dir = Path()
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
            self.v1_url, model=MODEL, version="v1", writer=writer, shadow=shadow, clock=self.clock
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
    serve_forever: Callable[[DemoResult], None] | None = None,
) -> DemoResult:
    """Play ``days`` of the story with ``rate`` applications per hour; with ``serve_forever``,
    call it with the result while the server still runs (it returns when the user quits)."""
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
    # With a token, writes need it, and command actions (the roll-back) are allowed.
    _, secret = store.tokens.create_token("demo", now=clock())
    state = ServerState(store, data_dir, clock=clock, owner="demo", started_at=clock())
    loop = BackgroundLoop()
    stack = _Stack(loop, v1, v2, clock)
    stack.data_dir = data_dir
    writer = CaptureWriter(data_dir, clock=clock, flush_interval=0.2)
    try:
        with (
            running_server(state, port=port) as base_url,
            httpx.Client(
                base_url=base_url,
                timeout=120,
                headers={"Authorization": f"Bearer {secret}"},
                event_hooks={"response": [_raise_for_status]},
            ) as api,
        ):
            result = DemoResult(base_url, data_dir, days=days)
            report(1, steps, "computing baselines and schedules")
            _register(api, directory, training, v1, stack, writer, clock)
            step = 2
            pending_labels: list[Sent] = []
            for number, day in enumerate(STORY[:days], start=1):
                stack.start_proxy(writer, day.shadow_fraction)
                if day.shadow_fraction > 0:
                    _compare_versions(api)
                sent_today = _play_day(
                    number, day, rate, api, stack, writer, clock, result, report, step, steps
                )
                step += 24
                # Yesterday's labels arrive at the end of today.
                for sent in pending_labels:
                    _send_labels(api, sent)
                pending_labels = sent_today
                api.post("/api/v1/scheduler/tick")
            # The last day's labels arrive just after midnight, and its windows are re-run.
            clock.advance(timedelta(minutes=1))
            for sent in pending_labels:
                _send_labels(api, sent)
            api.post("/api/v1/scheduler/tick")
            _collect(api, result, stack)
            report(steps, steps, "done")
            if serve_forever is not None:
                serve_forever(result)
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
        api.post("/api/v1/scheduler/tick")
    stack.delay = 0.0
    return sent_today


def _raise_for_status(response: httpx.Response) -> None:
    """Every API call of the demo must succeed; if one does not, say what the server said."""
    if response.status_code >= 400:
        response.read()
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )


def _send_labels(api: httpx.Client, sent: Sent) -> None:
    labels = [
        {"inference_id": i, "label": label}
        for i, label in zip(sent.inference_ids, sent.labels, strict=True)
    ]
    api.post("/api/v1/labels", json={"model": MODEL, "labels": labels})


def _upload(api: httpx.Client, version: str, monitor_type: str, paths: Iterable[Path]) -> None:
    files = {path.name: json.loads(path.read_text()) for path in paths if path.suffix == ".json"}
    api.put(
        f"/api/v1/models/{MODEL}/versions/{version}/baselines/{monitor_type}",
        json={"files": files},
    )


def _schedule(api: httpx.Client, name: str, monitor_type: str, cron: str, **extra: Any) -> None:
    body = {"name": name, "model": MODEL, "version": "v1", "monitor_type": monitor_type}
    api.post("/api/v1/schedules", json={**body, "cron": cron, **extra})


def _rule(
    api: httpx.Client, name: str, metric: str, condition: dict[str, Any], **extra: Any
) -> None:
    body = {
        "name": name,
        "metric": metric,
        "matchers": {"model": f"={MODEL}"},
        "condition": condition,
        "evaluation": {"m": 1, "n": 1, "missing": "keep"},
        "channels": ["demo-inbox"],
        "allow_unknown_metric": True,
        **extra,
    }
    api.post("/api/v1/alerts/rules", json=body)


def _register(
    api: httpx.Client,
    directory: Path,
    training: pa.Table,
    v1: CreditModel,
    stack: _Stack,
    writer: CaptureWriter,
    clock: SimulatedClock,
) -> None:
    """Register the model, compute and attach its baselines, create schedules and alert rules,
    as a team would through the REST API."""
    api.post(
        "/api/v1/models",
        json={
            "name": MODEL,
            "description": "Probability that a loan applicant defaults (demo).",
            "problem_type": "BinaryClassification",
        },
    )
    for version in ("v1", "v2"):
        api.post(f"/api/v1/models/{MODEL}/versions", json={"version": version})
    baselines = directory / "baselines"
    reference = _reference(training, v1)
    quality = DataQualityMonitor().baseline(reference)
    _upload(api, "v1", "DataQuality", quality.save(baselines / "data-quality"))

    validation = generate_credit(5_000, seed=7)
    scored = pa.table(
        {
            "default_probability": v1.predict_proba(validation.select(list(FEATURES)).to_pylist()),
            "label": validation["default"],
            "gender": validation["gender"],
        }
    )
    model_quality = ModelQualityMonitor(
        "BinaryClassification", probability_attribute="default_probability"
    ).baseline(scored)
    _upload(api, "v1", "ModelQuality", model_quality.save(baselines / "model-quality"))
    bias = BiasMonitor.from_config(_BIAS).baseline(scored)
    _upload(api, "v1", "ModelBias", bias.save(baselines / "bias"))

    # A load test before going live: its latency is the service-health benchmark.
    clock.set(DAY_ONE - 2 * _HOUR)
    stack.start_proxy(writer, 0.0)
    stack.send(generate_credit(600, seed=9), id_prefix="loadtest")
    writer.flush(timeout=60)
    load_test = read_captures(
        stack.data_dir, MODEL, version="v1", start=DAY_ONE - 2 * _HOUR, end=DAY_ONE
    )
    health = ServiceHealthMonitor().baseline(load_test, source="load test")
    health_p90 = health.summary.latency_ms["p90"] or health.summary.mean_latency_ms or 50.0
    _upload(api, "v1", "ServiceHealth", [health.save(baselines / "service-health")])
    clock.set(DAY_ONE)

    api.post(
        "/api/v1/alerts/channels",
        json={"name": "demo-inbox", "type": "webhook", "config": {"url": stack.inbox_url}},
    )
    every_6h = "cron(0 0/6 ? * * *)"
    _schedule(api, "credit-data-quality", "DataQuality", every_6h)  # default rules come with it
    # A laptop running the whole demo is noisy: judge latency against 3x the load test's.
    _schedule(
        api, "credit-service-health", "ServiceHealth", every_6h, config={"latency_tolerance": 3.0}
    )
    daily = "cron(0 0 ? * * *)"
    _schedule(
        api,
        "credit-model-quality",
        "ModelQuality",
        daily,
        config={
            "problem_type": "BinaryClassification",
            "probability_attribute": "default_probability",
        },
    )
    _schedule(api, "credit-bias", "ModelBias", daily, config=_BIAS)
    api.post(
        "/api/v1/alerts/actions",
        json={"name": "roll-back", "type": "command", "config": {"argv": _rollback(directory)}},
    )
    auc = model_quality.statistics.metrics["auc"].value
    below = {"type": "below", "threshold": round(auc - 0.05, 3)}
    _rule(api, "credit-auc", "model_quality_auc", below)
    _rule(
        api,
        "credit-latency",
        "service_latency_p90_ms",
        # Twice the load test's p90: noise on a busy laptop stays under it, a slow-down does not.
        {"type": "above", "threshold": round(2 * health_p90, 1)},
        severity="critical",
        remediation=["roll-back"],
    )


def _compare_versions(api: httpx.Client) -> None:
    """v2 goes into shadow: compare its predictions with v1's on the same requests."""
    api.post(
        "/api/v1/schedules",
        json={
            "name": "credit-v2-vs-v1",
            "model": MODEL,
            "version": "v2",
            "monitor_type": "PredictionDrift",
            "cron": "cron(0 0/6 ? * * *)",
            "config": {"baseline_version": "v1", "output": "default_probability"},
        },
    )
    _rule(
        api,
        "credit-v2-disagreement",
        "prediction_disagreement_rate",
        {"type": "above", "threshold": 0.1},
    )


def _rollback(directory: Path) -> list[str]:
    """The remediation the demo runs: a real command; a team would call its deploy tool."""
    log = directory / "remediation.log"
    script = (
        "import os, sys; "
        f"open({str(log)!r}, 'a').write('roll back ' + os.environ.get('MODELMON_ALERT_MODEL', '?') "
        "+ ' to the previous version\\n')"
    )
    return [sys.executable, "-c", script]


def _collect(api: httpx.Client, result: DemoResult, stack: _Stack) -> None:
    listed = api.get("/api/v1/executions", params={"limit": 10_000}).json()
    result.executions = [api.get(f"/api/v1/executions/{e['id']}").json() for e in reversed(listed)]
    result.notifications = stack.inbox.snapshot()
    result.alerts = api.get("/api/v1/alerts").json()
