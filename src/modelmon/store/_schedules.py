"""Monitoring schedules. The cron text is validated by the scheduler, the store only keeps it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from modelmon.errors import ConflictError, NotFoundError
from modelmon.store._models import resolve_version_id
from modelmon.store._records import MonitorType, Schedule, ScheduleStatus
from modelmon.store._schema import model_versions, models, schedules
from modelmon.store._types import AnyRow, require_utc

__all__ = ["ScheduleStore"]

_COLUMNS = (
    *(column for column in schedules.c if column.name != "version_id"),
    models.c.name.label("model"),
    model_versions.c.version,
)


def _seconds(offset: timedelta | None) -> int | None:
    return None if offset is None else int(offset.total_seconds())


def _optional_utc(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else require_utc(value, name)


def _schedule(row: AnyRow) -> Schedule:
    return Schedule(
        id=row.id,
        name=row.name,
        model=row.model,
        version=row.version,
        monitor_type=MonitorType(row.monitor_type),
        cron=row.cron,
        start_offset=None if row.start_offset_s is None else timedelta(seconds=row.start_offset_s),
        end_offset=None if row.end_offset_s is None else timedelta(seconds=row.end_offset_s),
        window_start=row.window_start,
        window_end=row.window_end,
        config=row.config,
        status=ScheduleStatus(row.status),
        created_at=row.created_at,
    )


class ScheduleStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_schedule(
        self,
        name: str,
        *,
        model: str,
        version: str,
        monitor_type: MonitorType,
        cron: str,
        now: datetime,
        start_offset: timedelta | None = None,
        end_offset: timedelta | None = None,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        config: dict[str, Any] | None = None,
    ) -> Schedule:
        try:
            with self._engine.begin() as connection:
                schedule_id = connection.execute(
                    insert(schedules)
                    .values(
                        name=name,
                        version_id=resolve_version_id(connection, model, version),
                        monitor_type=MonitorType(monitor_type).value,
                        cron=cron,
                        start_offset_s=_seconds(start_offset),
                        end_offset_s=_seconds(end_offset),
                        window_start=_optional_utc(window_start, "window_start"),
                        window_end=_optional_utc(window_end, "window_end"),
                        config=config or {},
                        status=ScheduleStatus.SCHEDULED.value,
                        created_at=require_utc(now, "now"),
                    )
                    .returning(schedules.c.id)
                ).scalar_one()
        except IntegrityError:
            raise ConflictError(f"A schedule named {name!r} already exists.") from None
        return self.get_schedule(schedule_id)

    def get_schedule(self, schedule_id: int) -> Schedule:
        rows = self._select(schedules.c.id == schedule_id)
        if not rows:
            raise NotFoundError(f"There is no schedule with id {schedule_id}.")
        return rows[0]

    def get_schedule_by_name(self, name: str) -> Schedule:
        rows = self._select(schedules.c.name == name)
        if not rows:
            raise NotFoundError(f"There is no schedule named {name!r}.")
        return rows[0]

    def list_schedules(
        self, *, model: str | None = None, status: ScheduleStatus | None = None
    ) -> list[Schedule]:
        conditions = []
        if model is not None:
            conditions.append(models.c.name == model)
        if status is not None:
            conditions.append(schedules.c.status == ScheduleStatus(status).value)
        return self._select(*conditions)

    def set_status(self, schedule_id: int, status: ScheduleStatus) -> Schedule:
        """Stop a schedule or start it again."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id)
                .values(status=ScheduleStatus(status).value)
            ).rowcount
        if changed == 0:
            raise NotFoundError(f"There is no schedule with id {schedule_id}.")
        return self.get_schedule(schedule_id)

    def update_config(self, schedule_id: int, config: dict[str, Any]) -> Schedule:
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(schedules).where(schedules.c.id == schedule_id).values(config=config)
            ).rowcount
        if changed == 0:
            raise NotFoundError(f"There is no schedule with id {schedule_id}.")
        return self.get_schedule(schedule_id)

    def delete_schedule(self, schedule_id: int) -> None:
        """Delete a schedule with its executions and their violations."""
        with self._engine.begin() as connection:
            deleted = connection.execute(
                delete(schedules).where(schedules.c.id == schedule_id)
            ).rowcount
        if deleted == 0:
            raise NotFoundError(f"There is no schedule with id {schedule_id}.")

    def _select(self, *conditions: Any) -> list[Schedule]:
        query = (
            select(*_COLUMNS)
            .join(model_versions, model_versions.c.id == schedules.c.version_id)
            .join(models, models.c.id == model_versions.c.model_id)
            .where(*conditions)
            .order_by(schedules.c.id)
        )
        with self._engine.connect() as connection:
            return [_schedule(row) for row in connection.execute(query)]
