"""A real server seeded with real executions (the scheduler over captured credit traffic, with a
fake clock), and one headless Chromium for the whole session.

Browser tests skip only when /usr/bin/chromium is missing and $CI is unset; in CI they must run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

import modelmon.server.testing as server_testing
from modelmon import Capture
from modelmon.examples import generate_credit, score_credit
from modelmon.server import ServerState
from modelmon.store import MonitorType, Store, open_store

CHROMIUM = Path("/usr/bin/chromium")
T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("MODELMON_TEST_ARTIFACTS", REPO / "test-artifacts")) / "dashboard"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def dashboard_server(state: ServerState) -> Iterator[str]:
    with server_testing.running_server(state) as url:
        yield url


def _capture(data_dir: Path, hour: datetime, *, seed: int, drifts: tuple[str, ...] = ()) -> None:
    table = generate_credit(400, seed=seed, drifts=drifts)
    features = table.select([n for n in table.column_names if n != "default"])
    outputs = pa.table({"default_probability": score_credit(table)})
    with Capture("credit", "v1", data_dir=data_dir) as capture:
        capture.log_batch(features, outputs, time=hour + timedelta(minutes=7))


@dataclass
class Seeded:
    url: str
    state: ServerState
    store: Store
    executions: list[Any]


@pytest.fixture(scope="session")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, baseline_files: dict[str, Any]
) -> Iterator[Seeded]:
    """Two models: credit (five hourly data-quality runs: healthy, healthy, no traffic, healthy,
    income drifted) with an alert rule on income drift, and fraud (registered, never run)."""
    root = tmp_path_factory.mktemp("dashboard")
    data_dir = root / "data"
    data_dir.mkdir()
    clock = FakeClock(T0)
    with open_store(f"sqlite:///{root}/modelmon.db", migrate=True) as store:
        store.models.create_model("credit", now=T0, description="Credit default scoring")
        store.models.create_version("credit", "v1", now=T0)
        store.models.set_baseline("credit", "v1", MonitorType.DATA_QUALITY, baseline_files, now=T0)
        store.models.create_model("fraud", now=T0)
        store.models.create_version("fraud", "v3", now=T0)
        store.schedules.create_schedule(
            "credit-hourly",
            model="credit",
            version="v1",
            monitor_type=MonitorType.DATA_QUALITY,
            cron="cron(0 * ? * * *)",
            now=T0,
        )
        for hour, seed, drifts in (
            (0, 10, ()),
            (1, 11, ()),
            (3, 13, ()),
            (4, 14, ("income_shift",)),
        ):
            _capture(data_dir, T0 + hour * H, seed=seed, drifts=drifts)
        state = ServerState(store, data_dir, clock=clock, owner="dashboard-test")
        _alert_rule(state)
        clock.now = T0 + 5 * H + timedelta(minutes=5)
        ran = state.tick()
        with dashboard_server(state) as url:
            yield Seeded(url, state, store, ran)


def _alert_rule(state: ServerState) -> None:
    from modelmon.alerting.rules import RuleSpec
    from modelmon.alerting.server import install_alerting

    spec = RuleSpec(
        name="income-drift",
        metric="feature_baseline_drift_income",
        matchers={"model": "=credit"},
        condition={"type": "above", "threshold": 0.1},  # type: ignore[arg-type]
        severity="critical",
    )
    state.store.alerts.create_rule(spec.name, spec.model_dump(mode="json"), now=T0)
    install_alerting(state)


@pytest.fixture
def api(seeded: Seeded) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seeded.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A server with an empty store: what a first start looks like."""
    with open_store(f"sqlite:///{tmp_path}/empty.db", migrate=True) as store:
        state = ServerState(store, tmp_path / "data", clock=FakeClock(T0), owner="empty")
        with dashboard_server(state) as url:
            yield url


@pytest.fixture(scope="session")
def docs_images() -> Path:
    """Where the README's screenshots go: docs/images with MODELMON_UPDATE_SCREENSHOTS=1, else
    the artifacts directory (a test run must not change tracked files)."""
    if os.environ.get("MODELMON_UPDATE_SCREENSHOTS"):
        out = REPO / "docs" / "images"
    else:
        out = ARTIFACTS / "readme"
    out.mkdir(parents=True, exist_ok=True)
    return out
