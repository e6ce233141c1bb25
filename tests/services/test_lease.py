"""A running execution's lease is renewed, and a lost lease stops the renewals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from modelmon.services.lease import LeaseKeeper
from modelmon.store import Schedule, Store


def _waits(rounds: int, done: threading.Event) -> Callable[[float], bool]:
    """Renew ``rounds`` times at once, then report and wait to be stopped."""
    calls = 0

    def wait(seconds: float) -> bool:
        nonlocal calls
        calls += 1
        if calls > rounds:
            done.set()
            return True
        return False

    return wait


def test_the_lease_is_renewed_while_the_run_lasts(
    store: Store, clock: Any, make_schedule: Callable[..., Schedule]
) -> None:
    schedule = make_schedule()
    execution = store.executions.try_acquire_execution(
        schedule.id, clock.now, window_start=clock.now - timedelta(hours=1),
        window_end=clock.now, owner="a", lease_seconds=60, now=clock.now,
    )  # fmt: skip
    assert execution is not None
    done = threading.Event()
    clock.advance(timedelta(seconds=50))
    with LeaseKeeper(
        store, execution, owner="a", lease_seconds=60, clock=clock, wait=_waits(3, done)
    ) as keeper:
        assert done.wait(10)
    assert keeper.renewals == 3
    renewed = store.executions.get_execution(execution.id)
    assert renewed.lease_expires_at == clock.now + timedelta(seconds=60)


def test_a_lost_lease_stops_the_renewals(
    store: Store, clock: Any, make_schedule: Callable[..., Schedule]
) -> None:
    schedule = make_schedule()
    execution = store.executions.try_acquire_execution(
        schedule.id, clock.now, window_start=clock.now - timedelta(hours=1),
        window_end=clock.now, owner="a", lease_seconds=60, now=clock.now,
    )  # fmt: skip
    assert execution is not None
    clock.advance(timedelta(seconds=120))  # expired: another instance may take it over
    taken = store.executions.try_acquire_execution(
        schedule.id, execution.scheduled_time, window_start=execution.window_start,
        window_end=execution.window_end, owner="b", lease_seconds=60, now=clock.now,
    )  # fmt: skip
    assert taken is not None
    keeper = LeaseKeeper(store, execution, owner="a", lease_seconds=60, clock=clock)
    assert keeper.renew() is False
    assert (keeper.lost, keeper.renewals) == (True, 0)
