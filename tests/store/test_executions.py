from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from modelmon.errors import ConfigError, NotFoundError
from modelmon.store import (
    STALE_REASON,
    ConflictError,
    Execution,
    ExecutionStatus,
    MonitorType,
    Store,
    open_store,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def schedule_id(store: Store) -> int:
    store.models.create_model("churn", now=T0)
    store.models.create_version("churn", "1", now=T0)
    return store.schedules.create_schedule(
        "hourly",
        model="churn",
        version="1",
        monitor_type=MonitorType.DATA_QUALITY,
        cron="cron(0 * ? * * *)",
        now=T0,
    ).id


def acquire(
    store: Store, schedule_id: int, owner: str, now: datetime, at: datetime = T0
) -> Execution | None:
    return store.executions.try_acquire_execution(
        schedule_id,
        at,
        window_start=at - HOUR,
        window_end=at,
        owner=owner,
        lease_seconds=60,
        now=now,
    )


def test_acquire_creates_a_leased_execution(store: Store, schedule_id: int) -> None:
    execution = acquire(store, schedule_id, "a", now=T0)
    assert execution is not None
    assert execution.status is ExecutionStatus.IN_PROGRESS
    assert (execution.window_start, execution.window_end) == (T0 - HOUR, T0)
    assert execution.lease_owner == "a"
    assert execution.lease_expires_at == T0 + timedelta(seconds=60)
    assert execution.started_at == T0
    assert store.executions.get_execution(execution.id) == execution


def test_two_instances_never_run_the_same_execution(store_uri: str, schedule_id: int) -> None:
    instances = [open_store(store_uri) for _ in range(4)]
    barrier = threading.Barrier(len(instances))
    results: list[Execution | None] = [None] * len(instances)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = acquire(instances[index], schedule_id, f"server-{index}", now=T0)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(instances))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for instance in instances:
        instance.close()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert len({r.id for r in winners}) == 1


def test_an_expired_lease_is_taken_over(store: Store, schedule_id: int) -> None:
    first = acquire(store, schedule_id, "a", now=T0)
    assert first is not None
    assert acquire(store, schedule_id, "b", now=T0 + timedelta(seconds=59)) is None
    renewed_at = T0 + timedelta(seconds=59)
    assert store.executions.renew_lease(first.id, owner="a", lease_seconds=60, now=renewed_at)
    assert acquire(store, schedule_id, "b", now=T0 + timedelta(seconds=119)) is None
    later = T0 + timedelta(seconds=120)
    taken = acquire(store, schedule_id, "b", now=later)
    assert taken is not None
    assert (taken.id, taken.lease_owner, taken.started_at) == (first.id, "b", later)
    # The first owner lost its lease: it can neither renew nor record a result.
    assert not store.executions.renew_lease(first.id, owner="a", lease_seconds=60, now=later)
    with pytest.raises(ConflictError, match="leased to 'b', not 'a'"):
        store.executions.transition_execution(
            first.id, ExecutionStatus.COMPLETED, owner="a", now=later
        )
    done = store.executions.transition_execution(
        first.id, ExecutionStatus.COMPLETED, owner="b", now=later, output_files={"r": "x.json"}
    )
    assert done.status is ExecutionStatus.COMPLETED
    assert (done.lease_owner, done.lease_expires_at, done.ended_at) == (None, None, later)
    assert done.output_files == {"r": "x.json"}
    # An ended execution is never acquired again.
    assert acquire(store, schedule_id, "c", now=later + timedelta(days=1)) is None


def test_expire_stale_fails_executions_whose_lease_ran_out(store: Store, schedule_id: int) -> None:
    stuck = acquire(store, schedule_id, "a", now=T0, at=T0)
    alive = acquire(store, schedule_id, "b", now=T0 + timedelta(seconds=30), at=T0 + HOUR)
    assert stuck is not None
    assert alive is not None
    assert store.executions.expire_stale(T0 + timedelta(seconds=61)) == [stuck.id]
    failed = store.executions.get_execution(stuck.id)
    assert failed.status is ExecutionStatus.FAILED
    assert failed.failure_reason == STALE_REASON
    assert failed.lease_owner is None
    assert store.executions.get_execution(alive.id).status is ExecutionStatus.IN_PROGRESS
    assert store.executions.expire_stale(T0 + timedelta(seconds=61)) == []


def test_status_transitions_are_checked(store: Store, schedule_id: int) -> None:
    execution = acquire(store, schedule_id, "a", now=T0)
    assert execution is not None
    with pytest.raises(ConfigError, match="needs a 'failure_reason'"):
        store.executions.transition_execution(execution.id, ExecutionStatus.FAILED, now=T0)
    with pytest.raises(ConfigError, match="start through try_acquire_execution"):
        store.executions.transition_execution(execution.id, ExecutionStatus.IN_PROGRESS, now=T0)
    failed = store.executions.transition_execution(
        execution.id,
        ExecutionStatus.FAILED,
        failure_reason="no captured data in window",
        exit_message="empty window",
        now=T0,
    )
    assert failed.failure_reason == "no captured data in window"
    assert failed.exit_message == "empty window"
    with pytest.raises(ConflictError, match="cannot go from Failed to Completed"):
        store.executions.transition_execution(execution.id, ExecutionStatus.COMPLETED, now=T0)
    with pytest.raises(NotFoundError, match="no execution with id 999"):
        store.executions.transition_execution(999, ExecutionStatus.STOPPED, now=T0)


def test_list_executions(store: Store, schedule_id: int) -> None:
    for hour in range(3):
        at = T0 + hour * HOUR
        execution = acquire(store, schedule_id, "a", now=at, at=at)
        assert execution is not None
        if hour < 2:
            store.executions.transition_execution(
                execution.id, ExecutionStatus.COMPLETED, now=at, owner="a"
            )
    listed = store.executions.list_executions(schedule_id=schedule_id)
    assert [e.scheduled_time for e in listed] == [T0 + 2 * HOUR, T0 + HOUR, T0]
    completed = store.executions.list_executions(status=ExecutionStatus.COMPLETED, start=T0 + HOUR)
    assert [e.scheduled_time for e in completed] == [T0 + HOUR]
    assert len(store.executions.list_executions(end=T0 + HOUR, limit=5)) == 1


def test_violations_by_execution_model_and_time(store: Store, schedule_id: int) -> None:
    execution = acquire(store, schedule_id, "a", now=T0)
    assert execution is not None
    found = [
        ("age", "data_type_check", "age is a String"),
        ("income", "baseline_drift_check", "distance 0.4 > 0.1"),
    ]
    added = store.violations.add_violations(execution.id, found, now=T0)
    assert [(v.feature, v.check_type, v.description) for v in added] == found
    assert store.violations.add_violations(execution.id, [], now=T0) == []
    assert store.violations.list_violations(model="churn") == added
    assert store.violations.list_violations(model="other") == []
    assert store.violations.list_violations(start=T0 + HOUR) == []
    assert store.violations.list_violations(end=T0 + HOUR, limit=1) == added[:1]
