"""Dashboard speed: the overview of 200 models and a feature page with a year of hourly points.

Seeds a SQLite store directly (the store API for points, bulk inserts for the executions of a
year), serves it with the real server, and times headless Chromium (Debian's /usr/bin/chromium)
from navigation until the page has drawn: the overview's table with every model; the feature
page's drift chart (8,760 points, with threshold and violation markers) and the baseline vs
current distribution of the newest run. Also times the JSON endpoints alone. Each figure is the
median of several loads with the range (timing noise on shared machines reaches 2x).

    .venv/bin/python benchmarks/dashboard_speed.py                  # 200 models, 8,760 hours
    .venv/bin/python benchmarks/dashboard_speed.py --models 20 --hours 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert, select

import modelmon.server.testing as server_testing
from modelmon.examples import FEATURES, generate_credit
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.server import ServerState
from modelmon.store import MonitorType, Point, Store, open_store
from modelmon.store._schema import executions, violations

HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 2, tzinfo=UTC)
BIG = "m000"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class Seeded:
    models: int
    hours: int
    points: int
    executions: int
    seconds: float


def seed(store: Store, data_dir: Path, *, models: int, hours: int) -> Seeded:
    """``models`` models, each with a DataQuality schedule and a day of hourly runs; the first
    (m000) has ``hours`` hourly runs with drift and completeness points for every feature."""
    started = time.perf_counter()
    monitor = DataQualityMonitor()
    baseline = monitor.baseline(generate_credit(4_000, seed=1).select(list(FEATURES)))
    base_dir = data_dir / "baseline"
    statistics_path, constraints_path = baseline.save(base_dir)
    drifted = generate_credit(600, seed=2, drifts=("income_shift",)).select(list(FEATURES))
    result = monitor.check(drifted, baseline)
    files = {p.name: str(p) for p in result.save(data_dir / "run")}
    baseline_files = {
        "statistics.json": str(statistics_path),
        "constraints.json": str(constraints_path),
    }
    rng = np.random.default_rng(7)
    features = [f.name for f in baseline.statistics.features]
    total_points = total_runs = 0
    for i in range(models):
        name = f"m{i:03d}"
        store.models.create_model(name, now=NOW, description=f"synthetic model {i}")
        store.models.create_version(name, "v1", now=NOW)
        store.models.set_baseline(name, "v1", MonitorType.DATA_QUALITY, baseline_files, now=NOW)
        schedule = store.schedules.create_schedule(
            f"{name}-hourly",
            model=name,
            version="v1",
            monitor_type=MonitorType.DATA_QUALITY,
            cron="cron(0 * ? * * *)",
            now=NOW,
        )
        n = hours if name == BIG else 24
        ends = [NOW - (n - 1 - h) * HOUR for h in range(n)]
        # Some models drift now and then, some fail now and then: the overview has a mix.
        drift = np.abs(rng.normal(0.04, 0.03, size=(len(features), n)))
        if i % 7 == 0:
            drift[features.index("income"), rng.random(n) < 0.04] += 0.15
        failed = (rng.random(n) < 0.01) if i % 11 else np.zeros(n, dtype=bool)
        violated = (drift > 0.1).any(axis=0) & ~failed
        rows = [
            {
                "schedule_id": schedule.id,
                "scheduled_time": end + timedelta(minutes=5),
                "window_start": end - HOUR,
                "window_end": end,
                "status": "Failed"
                if failed[h]
                else ("CompletedWithViolations" if violated[h] else "Completed"),
                "failure_reason": "no captured data in window" if failed[h] else None,
                "started_at": end + timedelta(minutes=5),
                "ended_at": end + timedelta(minutes=6),
                "output_files": {} if failed[h] else files,
                "exit_message": None,
                "created_at": end,
            }
            for h, end in enumerate(ends)
        ]
        with store.engine.begin() as connection:
            connection.execute(insert(executions), rows)
            ids = list(
                connection.execute(
                    select(executions.c.id)
                    .where(executions.c.schedule_id == schedule.id)
                    .order_by(executions.c.window_end)
                ).scalars()
            )
            found = [
                {
                    "execution_id": ids[h],
                    "feature": features[f],
                    "check_type": "baseline_drift_check",
                    "description": f"Baseline drift distance: {drift[f, h]} exceeds threshold: 0.1",
                    "created_at": ends[h],
                }
                for h in np.flatnonzero(violated)
                for f in np.flatnonzero(drift[:, h] > 0.1)
            ]
            if found:
                connection.execute(insert(violations), found)
        labels = {
            "model": name,
            "version": "v1",
            "monitor": "DataQuality",
            "schedule": schedule.name,
        }
        points = [
            Point(
                f"feature_baseline_drift_{feature}",
                {**labels, "feature": feature},
                float(drift[f, h]),
                ends[h],
            )
            for f, feature in enumerate(features)
            for h in range(n)
            if not failed[h]
        ] + [
            Point(f"feature_non_null_{feature}", {**labels, "feature": feature}, 1.0, ends[h])
            for feature in features
            for h in range(n)
            if not failed[h]
        ]
        total_points += store.metrics.write_points(points)
        total_runs += n
    return Seeded(models, hours, total_points, total_runs, time.perf_counter() - started)


@contextmanager
def serve(state: ServerState) -> Iterator[str]:
    with server_testing.running_server(state) as url:
        yield url


def _timed(
    action: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> list[float]:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def measure(browser: Any, url: str, *, models: int, repeat: int = 5) -> dict[str, list[float]]:
    """Seconds per load: the JSON endpoints, then each page in the browser until drawn."""
    figures: dict[str, list[float]] = {}
    span = 365 * 86400
    with httpx.Client(base_url=url, timeout=60) as client:
        overview = client.get("/api/v1/overview").json()
        assert len(overview["models"]) == models
        feature = client.get(f"/api/v1/models/{BIG}/features/income", params={"span": span}).json()
        newest = feature["executions"]["id"][-1]
        figures["api overview"] = _timed(
            lambda: client.get("/api/v1/overview").raise_for_status(), repeat
        )
        figures["api feature history (1y)"] = _timed(
            lambda: client.get(
                f"/api/v1/models/{BIG}/features/income", params={"span": span}
            ).raise_for_status(),
            repeat,
        )
        figures["api distribution"] = _timed(
            lambda: client.get(
                f"/api/v1/executions/{newest}/features/income/distribution"
            ).raise_for_status(),
            repeat,
        )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(url + "/")  # warm the asset cache once, as a returning user has it

        def overview_page() -> None:
            page.goto(url + "/#/")
            page.wait_for_function(
                f"document.querySelectorAll('table.models tbody tr').length === {models}"
            )

        def feature_page() -> None:
            page.goto(f"{url}/#/models/{BIG}/features/income?range=1y")
            page.wait_for_selector("#drift-chart svg path.line")
            page.wait_for_selector("#bars svg rect.bar")

        def model_page() -> None:
            page.goto(f"{url}/#/models/{BIG}?range=1y")
            page.wait_for_selector("table.features")
            page.wait_for_selector(".strip svg")

        # A full page load each time (from about:blank), assets from the browser's cache.
        def blank() -> None:
            page.goto("about:blank")

        figures["page overview"] = _timed(overview_page, repeat, blank)
        figures["page feature (1y)"] = _timed(feature_page, repeat, blank)
        figures["page model (1y)"] = _timed(model_page, repeat, blank)
    finally:
        context.close()
    return figures


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    )


def run(
    browser: Any, *, models: int, hours: int, repeat: int
) -> tuple[Seeded, dict[str, list[float]]]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with open_store(f"sqlite:///{root}/bench.db", migrate=True) as store:
            seeded = seed(store, root, models=models, hours=hours)
            state = ServerState(
                store, root, clock=lambda: NOW + timedelta(minutes=10), owner="bench"
            )
            with serve(state) as url:
                return seeded, measure(browser, url, models=models, repeat=repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--hours", type=int, default=8760)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            seeded, figures = run(browser, models=args.models, hours=args.hours, repeat=args.repeat)
        finally:
            browser.close()
    print(
        f"seeded {seeded.models} models, {seeded.executions:,} executions, "
        f"{seeded.points:,} points in {seeded.seconds:.1f} s"
    )
    print(f"{'what':<28} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for what, times in figures.items():
        ms = [t * 1000 for t in times]
        print(f"{what:<28} {statistics.median(ms):>10.0f} {min(ms):>8.0f} {max(ms):>8.0f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"seeded": seeded.__dict__, "seconds": figures}, indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
