"""Constraint violations found by an execution."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from modelmon.store._records import Violation
from modelmon.store._schema import executions, model_versions, models, schedules, violations
from modelmon.store._types import require_utc

__all__ = ["ViolationStore"]


class ViolationStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_violations(
        self, execution_id: int, found: Iterable[tuple[str, str, str]], *, now: datetime
    ) -> list[Violation]:
        """Record ``(feature, check_type, description)`` triples for one execution."""
        created_at = require_utc(now, "now")
        rows = [
            {
                "execution_id": execution_id,
                "feature": feature,
                "check_type": check_type,
                "description": description,
                "created_at": created_at,
            }
            for feature, check_type, description in found
        ]
        if not rows:
            return []
        with self._engine.begin() as connection:
            connection.execute(insert(violations), rows)
        return self.list_violations(execution_id=execution_id)

    def list_violations(
        self,
        *,
        model: str | None = None,
        execution_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
    ) -> list[Violation]:
        """Violations oldest first; ``start``/``end`` bound created_at as [start, end)."""
        query = select(violations)
        if model is not None:
            query = (
                query.join(executions, executions.c.id == violations.c.execution_id)
                .join(schedules, schedules.c.id == executions.c.schedule_id)
                .join(model_versions, model_versions.c.id == schedules.c.version_id)
                .join(models, models.c.id == model_versions.c.model_id)
                .where(models.c.name == model)
            )
        if execution_id is not None:
            query = query.where(violations.c.execution_id == execution_id)
        if start is not None:
            query = query.where(violations.c.created_at >= require_utc(start, "start"))
        if end is not None:
            query = query.where(violations.c.created_at < require_utc(end, "end"))
        query = query.order_by(violations.c.created_at, violations.c.id).limit(limit)
        with self._engine.connect() as connection:
            return [Violation(**row._asdict()) for row in connection.execute(query)]
