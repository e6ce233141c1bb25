"""Shared fixtures: a SQLite store with a credit model, a fake clock, captured credit traffic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from modelmon import Capture
from modelmon.examples import FEATURES, generate_credit, score_credit
from modelmon.formats import sagemaker as sm
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.store import MonitorType, Schedule, Store, open_store

T0 = datetime(2026, 11, 2, tzinfo=UTC)
MODEL, VERSION = "credit", "v1"
HOURLY = "cron(0 * ? * * *)"


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(scope="session")
def baseline_files() -> dict[str, Any]:
    train = generate_credit(4_000, seed=1)
    reference = train.select(list(FEATURES)).append_column(
        "default_probability", pa.array(score_credit(train))
    )
    baseline = DataQualityMonitor().baseline(reference)
    return {
        "statistics.json": sm.statistics_to_json(baseline.statistics),
        "constraints.json": sm.constraints_to_json(baseline.constraints),
    }


@pytest.fixture
def store(tmp_path: Path, baseline_files: dict[str, Any]) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/modelmon.db", migrate=True) as opened:
        opened.models.create_model(MODEL, now=T0)
        opened.models.create_version(MODEL, VERSION, now=T0)
        opened.models.set_baseline(MODEL, VERSION, MonitorType.DATA_QUALITY, baseline_files, now=T0)
        yield opened


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def capture_hour(data_dir: Path) -> Callable[..., None]:
    def capture(hour: datetime, *, seed: int, drifts: tuple[str, ...] = ()) -> None:
        """Capture 400 scored applications during the hour starting at ``hour``."""
        table = generate_credit(400, seed=seed, drifts=drifts)
        features = table.select([n for n in table.column_names if n != "default"])
        outputs = pa.table({"default_probability": score_credit(table)})
        with Capture(MODEL, VERSION, data_dir=data_dir) as capture:
            capture.log_batch(features, outputs, time=hour + timedelta(minutes=7))

    return capture


@pytest.fixture
def make_schedule(store: Store) -> Callable[..., Schedule]:
    def make(name: str = "credit-hourly", **options: Any) -> Schedule:
        return store.schedules.create_schedule(
            name,
            model=MODEL,
            version=VERSION,
            monitor_type=options.pop("monitor_type", MonitorType.DATA_QUALITY),
            cron=options.pop("cron", HOURLY),
            now=options.pop("now", T0),
            **options,
        )

    return make
