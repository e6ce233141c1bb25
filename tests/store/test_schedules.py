from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelmon.errors import NotFoundError
from modelmon.store import ConflictError, MonitorType, ScheduleStatus, Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def model(store: Store) -> str:
    store.models.create_model("churn", now=T0)
    store.models.create_version("churn", "1", now=T0)
    return "churn"


def test_schedule_crud(store: Store, model: str) -> None:
    hourly = store.schedules.create_schedule(
        "churn-dq",
        model=model,
        version="1",
        monitor_type=MonitorType.DATA_QUALITY,
        cron="cron(0 * ? * * *)",
        start_offset=timedelta(hours=-1),
        end_offset=timedelta(0),
        config={"features": ["age"]},
        now=T0,
    )
    assert (hourly.model, hourly.version, hourly.status) == (model, "1", ScheduleStatus.SCHEDULED)
    assert (hourly.start_offset, hourly.end_offset) == (timedelta(hours=-1), timedelta(0))
    assert hourly.window_start is None
    assert store.schedules.get_schedule(hourly.id) == hourly
    assert store.schedules.get_schedule_by_name("churn-dq") == hourly

    now_run = store.schedules.create_schedule(
        "churn-once",
        model=model,
        version="1",
        monitor_type=MonitorType.MODEL_QUALITY,
        cron="NOW",
        window_start=T0 - timedelta(days=1),
        window_end=T0,
        now=T0,
    )
    assert (now_run.window_start, now_run.window_end) == (T0 - timedelta(days=1), T0)
    assert now_run.config == {}

    stopped = store.schedules.set_status(hourly.id, ScheduleStatus.STOPPED)
    assert stopped.status is ScheduleStatus.STOPPED
    assert store.schedules.list_schedules(status=ScheduleStatus.SCHEDULED) == [now_run]
    assert len(store.schedules.list_schedules(model=model)) == 2
    assert store.schedules.list_schedules(model="other") == []
    assert store.schedules.update_config(hourly.id, {"k": 1}).config == {"k": 1}

    store.schedules.delete_schedule(hourly.id)
    with pytest.raises(NotFoundError, match=f"no schedule with id {hourly.id}"):
        store.schedules.delete_schedule(hourly.id)


def test_schedule_names_are_unique_and_versions_must_exist(store: Store, model: str) -> None:
    def create(name: str, version: str) -> None:
        store.schedules.create_schedule(
            name,
            model=model,
            version=version,
            monitor_type=MonitorType.DATA_QUALITY,
            cron="cron(0 6 ? * * *)",
            now=T0,
        )

    create("daily", "1")
    with pytest.raises(ConflictError, match="'daily' already exists"):
        create("daily", "1")
    with pytest.raises(NotFoundError, match="has no version '9'"):
        create("other", "9")
