from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelmon.errors import ConfigError, NotFoundError
from modelmon.store import ConflictError, MonitorType, ProblemType, Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_model_crud(store: Store) -> None:
    created = store.models.create_model(
        "churn",
        description="who leaves",
        problem_type=ProblemType.BINARY_CLASSIFICATION,
        schema={"features": [{"name": "age", "type": "integer"}]},
        now=T0,
    )
    assert created.name == "churn"
    assert created.created_at == T0
    assert created.created_at.tzinfo is not None
    assert store.models.get_model("churn") == created
    store.models.create_model("arpu", now=T0 + timedelta(seconds=1))
    assert [m.name for m in store.models.list_models()] == ["arpu", "churn"]

    updated = store.models.update_model("churn", description="who churns")
    assert updated.description == "who churns"
    assert updated.problem_type is ProblemType.BINARY_CLASSIFICATION
    assert updated.schema == created.schema

    store.models.delete_model("churn")
    with pytest.raises(NotFoundError, match="no model named 'churn'"):
        store.models.get_model("churn")
    with pytest.raises(NotFoundError, match="no model named 'churn'"):
        store.models.delete_model("churn")


def test_a_model_name_is_unique(store: Store) -> None:
    store.models.create_model("churn", now=T0)
    with pytest.raises(ConflictError, match="'churn' already exists"):
        store.models.create_model("churn", now=T0)


def test_a_naive_clock_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="'now' parameter must be a timezone-aware"):
        store.models.create_model("churn", now=T0.replace(tzinfo=None))


def test_versions(store: Store) -> None:
    store.models.create_model("churn", now=T0)
    v1 = store.models.create_version("churn", "1", description="first", now=T0)
    store.models.create_version("churn", "2", now=T0 + timedelta(hours=1))
    assert store.models.get_version("churn", "1") == v1
    assert [v.version for v in store.models.list_versions("churn")] == ["1", "2"]
    with pytest.raises(ConflictError, match="already has a version '1'"):
        store.models.create_version("churn", "1", now=T0)
    with pytest.raises(NotFoundError, match="no model named 'nope'"):
        store.models.create_version("nope", "1", now=T0)
    store.models.delete_version("churn", "2")
    with pytest.raises(NotFoundError, match="has no version '2'"):
        store.models.get_version("churn", "2")


def test_baselines_are_replaced_and_deleted(store: Store) -> None:
    store.models.create_model("churn", now=T0)
    store.models.create_version("churn", "1", now=T0)
    files = {"statistics.json": {"version": 0.0}, "constraints.json": "/data/c.json"}
    first = store.models.set_baseline("churn", "1", MonitorType.DATA_QUALITY, files, now=T0)
    assert first.files == files
    later = T0 + timedelta(days=1)
    second = store.models.set_baseline(
        "churn", "1", MonitorType.DATA_QUALITY, {"statistics.json": {}}, now=later
    )
    assert second.id == first.id
    assert second.created_at == later
    store.models.set_baseline("churn", "1", MonitorType.MODEL_QUALITY, {}, now=T0)
    kinds = [b.monitor_type for b in store.models.list_baselines("churn", "1")]
    assert kinds == [MonitorType.DATA_QUALITY, MonitorType.MODEL_QUALITY]
    store.models.delete_baseline("churn", "1", MonitorType.DATA_QUALITY)
    with pytest.raises(NotFoundError, match="no DataQuality baseline"):
        store.models.get_baseline("churn", "1", MonitorType.DATA_QUALITY)


def test_deleting_a_model_deletes_what_hangs_off_it(store: Store) -> None:
    store.models.create_model("churn", now=T0)
    store.models.create_version("churn", "1", now=T0)
    store.models.set_baseline("churn", "1", MonitorType.DATA_QUALITY, {}, now=T0)
    schedule = store.schedules.create_schedule(
        "hourly",
        model="churn",
        version="1",
        monitor_type=MonitorType.DATA_QUALITY,
        cron="cron(0 * ? * * *)",
        now=T0,
    )
    store.models.delete_model("churn")
    with pytest.raises(NotFoundError, match="no schedule with id"):
        store.schedules.get_schedule(schedule.id)
    store.models.create_model("churn", now=T0)
    assert store.models.list_versions("churn") == []
