"""Shared fixtures: a SQLite store with a credit model, a fake clock, captured credit traffic,
and empty databases of either kind (``new_store_uri``: SQLite, or PostgreSQL from
MODELMON_TEST_POSTGRES_URI, which ``.ci/postgres.sh start`` prints; without it the PostgreSQL cases
are skipped locally and fail in CI, so CI can never pass by silently skipping them; each gets its
own PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
    with credit_store(f"sqlite:///{tmp_path}/modelmon.db", baseline_files) as opened:
        yield opened


@contextmanager
def credit_store(uri: str, baseline_files: dict[str, Any]) -> Iterator[Store]:
    """A migrated store at ``uri`` holding the credit model, its version and its baseline."""
    with open_store(uri, migrate=True) as opened:
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


POSTGRES_ENV = "MODELMON_TEST_POSTGRES_URI"


def _postgres_base_uri() -> str:
    uri = os.environ.get(POSTGRES_ENV)
    if uri:
        return uri
    how = f'export {POSTGRES_ENV}="$(.ci/postgres.sh start)"'
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {POSTGRES_ENV} is not: {how} before pytest.")
    pytest.skip(f"PostgreSQL store tests need {POSTGRES_ENV}; run: {how}")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store_uri(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Callable[[], str]]:
    """A factory of URIs of empty databases of the parametrized kind."""
    if request.param == "sqlite":
        counter = iter(range(1_000))
        yield lambda: f"sqlite:///{tmp_path}/store{next(counter)}.db"
        return
    base = make_url(_postgres_base_uri())
    admin = create_engine(base.set(drivername="postgresql+psycopg"))
    created: list[str] = []

    def new_uri() -> str:
        # The name is generated here, never user input, so it can be spliced into the DDL.
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        created.append(schema)
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield new_uri
    with admin.begin() as connection:
        for schema in created:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def credit_store_on_both(
    new_store_uri: Callable[[], str], baseline_files: dict[str, Any]
) -> Iterator[Store]:
    """The credit store on SQLite and on PostgreSQL (parametrized through ``new_store_uri``)."""
    with credit_store(new_store_uri(), baseline_files) as opened:
        yield opened
