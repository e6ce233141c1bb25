"""Executions of schedules: the status machine and the lease that keeps runs single.

Every status change is one conditional UPDATE whose WHERE clause states the allowed previous
states, so two server instances racing on the same row cannot both win: the database decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from modelmon.errors import ConfigError, ConflictError, NotFoundError
from modelmon.store._records import Execution, ExecutionStatus
from modelmon.store._schema import executions, violations
from modelmon.store._types import AnyRow, require_utc

__all__ = ["STALE_REASON", "ExecutionStore"]

STALE_REASON = "server stopped during execution"

_S = ExecutionStatus
# Target status -> the statuses it may be reached from. Pending -> InProgress only happens
# through try_acquire_execution, which also takes the lease.
_ALLOWED_FROM: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    _S.COMPLETED: frozenset({_S.IN_PROGRESS}),
    _S.COMPLETED_WITH_VIOLATIONS: frozenset({_S.IN_PROGRESS}),
    _S.FAILED: frozenset({_S.PENDING, _S.IN_PROGRESS}),
    _S.STOPPED: frozenset({_S.PENDING, _S.IN_PROGRESS}),
}


def _execution(row: AnyRow) -> Execution:
    values = row._asdict()
    values["status"] = ExecutionStatus(values["status"])
    return Execution(**values)


def _insert_ignoring_duplicates(connection: Connection, values: dict[str, Any]) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(executions)
        .values(values)
        .on_conflict_do_nothing(index_elements=["schedule_id", "scheduled_time"])
    )


class ExecutionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def try_acquire_execution(
        self,
        schedule_id: int,
        scheduled_time: datetime,
        *,
        window_start: datetime,
        window_end: datetime,
        owner: str,
        lease_seconds: float,
        now: datetime,
    ) -> Execution | None:
        """Create the execution of ``scheduled_time`` if needed and take its lease.

        Returns the execution, now InProgress and leased to ``owner`` until now + lease_seconds,
        or None when another owner holds a live lease or the execution already ended. A lease that
        expired while InProgress is taken over (its previous owner is presumed dead).
        """
        if lease_seconds <= 0:
            raise ConfigError(
                f"The 'lease_seconds' parameter must be positive. Got {lease_seconds!r} instead."
            )
        now = require_utc(now, "now")
        scheduled_time = require_utc(scheduled_time, "scheduled_time")
        with self._engine.begin() as connection:
            _insert_ignoring_duplicates(
                connection,
                {
                    "schedule_id": schedule_id,
                    "scheduled_time": scheduled_time,
                    "window_start": require_utc(window_start, "window_start"),
                    "window_end": require_utc(window_end, "window_end"),
                    "status": _S.PENDING.value,
                    "output_files": {},
                    "created_at": now,
                },
            )
            row = connection.execute(
                update(executions)
                .where(
                    executions.c.schedule_id == schedule_id,
                    executions.c.scheduled_time == scheduled_time,
                    or_(
                        executions.c.status == _S.PENDING.value,
                        and_(
                            executions.c.status == _S.IN_PROGRESS.value,
                            executions.c.lease_expires_at < now,
                        ),
                    ),
                )
                .values(
                    status=_S.IN_PROGRESS.value,
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    started_at=now,
                )
                .returning(*executions.c)
            ).one_or_none()
        return None if row is None else _execution(row)

    def reopen_execution(
        self, execution_id: int, *, owner: str, lease_seconds: float, now: datetime
    ) -> Execution | None:
        """Take an ended execution back to InProgress under ``owner``'s lease, to run it again
        (its window gained late labels). Its violations are dropped with it, in one transaction;
        its metric points are overwritten by the new run's. None if it is not ended (running,
        or another instance reopened it first)."""
        if lease_seconds <= 0:
            raise ConfigError(
                f"The 'lease_seconds' parameter must be positive. Got {lease_seconds!r} instead."
            )
        now = require_utc(now, "now")
        ended = [s.value for s in (_S.COMPLETED, _S.COMPLETED_WITH_VIOLATIONS, _S.FAILED)]
        with self._engine.begin() as connection:
            row = connection.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.status.in_(ended))
                .values(
                    status=_S.IN_PROGRESS.value,
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    started_at=now,
                    ended_at=None,
                    failure_reason=None,
                    exit_message=None,
                )
                .returning(*executions.c)
            ).one_or_none()
            if row is not None:
                connection.execute(delete(violations).where(violations.c.execution_id == row.id))
        return None if row is None else _execution(row)

    def renew_lease(
        self, execution_id: int, *, owner: str, lease_seconds: float, now: datetime
    ) -> bool:
        """Extend a lease that ``owner`` still holds; False means it was lost (stop working)."""
        now = require_utc(now, "now")
        with self._engine.begin() as connection:
            renewed = connection.execute(
                update(executions)
                .where(
                    executions.c.id == execution_id,
                    executions.c.status == _S.IN_PROGRESS.value,
                    executions.c.lease_owner == owner,
                    executions.c.lease_expires_at >= now,
                )
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
            ).rowcount
        return renewed == 1

    def transition_execution(
        self,
        execution_id: int,
        status: ExecutionStatus,
        *,
        now: datetime,
        owner: str | None = None,
        failure_reason: str | None = None,
        output_files: dict[str, Any] | None = None,
        exit_message: str | None = None,
    ) -> Execution:
        """End an execution: Completed, CompletedWithViolations, Failed (with a reason) or Stopped.

        With ``owner``, an InProgress execution only changes if that owner still holds the lease,
        so an instance whose lease was taken over cannot overwrite the new owner's result.
        """
        status = ExecutionStatus(status)
        allowed = _ALLOWED_FROM.get(status)
        if allowed is None:
            raise ConfigError(
                f"The 'status' parameter of transition_execution must be one of "
                f"{sorted(s.value for s in _ALLOWED_FROM)}. Got {status.value!r} instead; "
                "executions start through try_acquire_execution."
            )
        if status is _S.FAILED and not failure_reason:
            raise ConfigError("A Failed execution needs a 'failure_reason'. Got none.")
        condition: ColumnElement[bool] = executions.c.status.in_([s.value for s in allowed])
        if owner is not None:
            condition = and_(
                condition,
                or_(
                    executions.c.status != _S.IN_PROGRESS.value,
                    executions.c.lease_owner == owner,
                ),
            )
        values: dict[str, Any] = {
            "status": status.value,
            "ended_at": require_utc(now, "now"),
            "failure_reason": failure_reason,
            "exit_message": exit_message,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if output_files is not None:
            values["output_files"] = output_files
        with self._engine.begin() as connection:
            row = connection.execute(
                update(executions)
                .where(executions.c.id == execution_id, condition)
                .values(values)
                .returning(*executions.c)
            ).one_or_none()
        if row is not None:
            return _execution(row)
        current = self.get_execution(execution_id)
        if owner is not None and current.status is _S.IN_PROGRESS:
            raise ConflictError(
                f"Execution {execution_id} is leased to {current.lease_owner!r}, not {owner!r}."
            )
        raise ConflictError(
            f"Execution {execution_id} cannot go from {current.status.value} to {status.value}."
        )

    def expire_stale(self, now: datetime) -> list[int]:
        """Mark Failed every InProgress execution whose lease ran out; returns their ids.

        Run at start-up and periodically, so a crash never leaves an execution InProgress.
        """
        now = require_utc(now, "now")
        with self._engine.begin() as connection:
            ids = connection.scalars(
                update(executions)
                .where(
                    executions.c.status == _S.IN_PROGRESS.value,
                    executions.c.lease_expires_at < now,
                )
                .values(
                    status=_S.FAILED.value,
                    failure_reason=STALE_REASON,
                    ended_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                )
                .returning(executions.c.id)
            ).all()
        return sorted(ids)

    def count_by_status(self) -> dict[ExecutionStatus, int]:
        """How many executions are in each status (for the server's own health metrics)."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(executions.c.status, func.count()).group_by(executions.c.status)
            ).all()
        return {ExecutionStatus(status): count for status, count in rows}

    def get_execution(self, execution_id: int) -> Execution:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(executions).where(executions.c.id == execution_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"There is no execution with id {execution_id}.")
        return _execution(row)

    def list_executions(
        self,
        *,
        schedule_id: int | None = None,
        status: ExecutionStatus | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[Execution]:
        """Executions newest first; ``start``/``end`` bound scheduled_time as [start, end)."""
        conditions = []
        if schedule_id is not None:
            conditions.append(executions.c.schedule_id == schedule_id)
        if status is not None:
            conditions.append(executions.c.status == ExecutionStatus(status).value)
        if start is not None:
            conditions.append(executions.c.scheduled_time >= require_utc(start, "start"))
        if end is not None:
            conditions.append(executions.c.scheduled_time < require_utc(end, "end"))
        query = (
            select(executions)
            .where(*conditions)
            .order_by(executions.c.scheduled_time.desc(), executions.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [_execution(row) for row in connection.execute(query)]
