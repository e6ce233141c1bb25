"""Models, their versions and the baselines attached to a version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from modelmon.errors import ConflictError, NotFoundError
from modelmon.store._records import Baseline, Model, ModelVersion, MonitorType, ProblemType
from modelmon.store._schema import baselines, model_versions, models
from modelmon.store._types import AnyRow, require_utc

__all__ = ["ModelStore", "resolve_version_id"]


def resolve_version_id(connection: Connection, model: str, version: str) -> int:
    version_id: int | None = connection.scalar(
        select(model_versions.c.id)
        .join(models, models.c.id == model_versions.c.model_id)
        .where(models.c.name == model, model_versions.c.version == version)
    )
    if version_id is None:
        raise NotFoundError(f"Model {model!r} has no version {version!r}.")
    return version_id


def _model_id(connection: Connection, name: str) -> int:
    model_id: int | None = connection.scalar(select(models.c.id).where(models.c.name == name))
    if model_id is None:
        raise NotFoundError(f"There is no model named {name!r}.")
    return model_id


def _model(row: AnyRow) -> Model:
    return Model(
        id=row.id,
        name=row.name,
        description=row.description,
        problem_type=ProblemType(row.problem_type),
        schema=row.schema,
        created_at=row.created_at,
    )


_VERSION_COLUMNS = (
    model_versions.c.id,
    models.c.name.label("model"),
    model_versions.c.version,
    model_versions.c.description,
    model_versions.c.created_at,
)
_BASELINE_COLUMNS = (
    baselines.c.id,
    models.c.name.label("model"),
    model_versions.c.version,
    baselines.c.monitor_type,
    baselines.c.files,
    baselines.c.created_at,
)


def _baseline(row: AnyRow) -> Baseline:
    return Baseline(
        id=row.id,
        model=row.model,
        version=row.version,
        monitor_type=MonitorType(row.monitor_type),
        files=row.files,
        created_at=row.created_at,
    )


class ModelStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- models ----------------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        *,
        now: datetime,
        description: str = "",
        problem_type: ProblemType = ProblemType.NONE,
        schema: dict[str, Any] | None = None,
    ) -> Model:
        values = {
            "name": name,
            "description": description,
            "problem_type": ProblemType(problem_type).value,
            "schema": schema,
            "created_at": require_utc(now, "now"),
        }
        try:
            with self._engine.begin() as connection:
                row = connection.execute(insert(models).values(values).returning(*models.c)).one()
        except IntegrityError:
            raise ConflictError(f"A model named {name!r} already exists.") from None
        return _model(row)

    def get_model(self, name: str) -> Model:
        with self._engine.connect() as connection:
            row = connection.execute(select(models).where(models.c.name == name)).one_or_none()
        if row is None:
            raise NotFoundError(f"There is no model named {name!r}.")
        return _model(row)

    def list_models(self) -> list[Model]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(models).order_by(models.c.name)).all()
        return [_model(row) for row in rows]

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        problem_type: ProblemType | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Model:
        """Change the fields that are given; None leaves a field as it is."""
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if problem_type is not None:
            changes["problem_type"] = ProblemType(problem_type).value
        if schema is not None:
            changes["schema"] = schema
        if changes:
            with self._engine.begin() as connection:
                connection.execute(update(models).where(models.c.name == name).values(changes))
        return self.get_model(name)

    def delete_model(self, name: str) -> None:
        """Delete a model with its versions, baselines, schedules, executions and violations.

        Its metric points stay: they are history, labelled with the model's name.
        """
        with self._engine.begin() as connection:
            if connection.execute(delete(models).where(models.c.name == name)).rowcount == 0:
                raise NotFoundError(f"There is no model named {name!r}.")

    # -- versions --------------------------------------------------------------------------------
    def create_version(
        self, model: str, version: str, *, now: datetime, description: str = ""
    ) -> ModelVersion:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(model_versions).values(
                        model_id=_model_id(connection, model),
                        version=version,
                        description=description,
                        created_at=require_utc(now, "now"),
                    )
                )
        except IntegrityError:
            raise ConflictError(f"Model {model!r} already has a version {version!r}.") from None
        return self.get_version(model, version)

    def get_version(self, model: str, version: str) -> ModelVersion:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(*_VERSION_COLUMNS)
                .join(models, models.c.id == model_versions.c.model_id)
                .where(models.c.name == model, model_versions.c.version == version)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"Model {model!r} has no version {version!r}.")
        return ModelVersion(**row._asdict())

    def list_versions(self, model: str) -> list[ModelVersion]:
        with self._engine.connect() as connection:
            model_id = _model_id(connection, model)
            rows = connection.execute(
                select(*_VERSION_COLUMNS)
                .join(models, models.c.id == model_versions.c.model_id)
                .where(model_versions.c.model_id == model_id)
                .order_by(model_versions.c.created_at, model_versions.c.id)
            ).all()
        return [ModelVersion(**row._asdict()) for row in rows]

    def delete_version(self, model: str, version: str) -> None:
        """Delete a version with its baselines, schedules and their executions."""
        with self._engine.begin() as connection:
            version_id = resolve_version_id(connection, model, version)
            connection.execute(delete(model_versions).where(model_versions.c.id == version_id))

    # -- baselines -------------------------------------------------------------------------------
    def set_baseline(
        self,
        model: str,
        version: str,
        monitor_type: MonitorType,
        files: dict[str, Any],
        *,
        now: datetime,
    ) -> Baseline:
        """Attach baseline files (name -> JSON content or path), replacing earlier ones."""
        kind = MonitorType(monitor_type).value
        created_at = require_utc(now, "now")
        with self._engine.begin() as connection:
            version_id = resolve_version_id(connection, model, version)
            # Update first, insert if nothing was there: the same SQL on both databases.
            changed = connection.execute(
                update(baselines)
                .where(baselines.c.version_id == version_id, baselines.c.monitor_type == kind)
                .values(files=files, created_at=created_at)
            ).rowcount
            if changed == 0:
                connection.execute(
                    insert(baselines).values(
                        version_id=version_id, monitor_type=kind, files=files, created_at=created_at
                    )
                )
        return self.get_baseline(model, version, monitor_type)

    def get_baseline(self, model: str, version: str, monitor_type: MonitorType) -> Baseline:
        with self._engine.connect() as connection:
            row = connection.execute(
                self._baselines_query(model, version).where(
                    baselines.c.monitor_type == MonitorType(monitor_type).value
                )
            ).one_or_none()
        if row is None:
            raise NotFoundError(
                f"Model {model!r} version {version!r} has no {monitor_type} baseline."
            )
        return _baseline(row)

    def list_baselines(self, model: str, version: str) -> list[Baseline]:
        with self._engine.connect() as connection:
            resolve_version_id(connection, model, version)
            rows = connection.execute(
                self._baselines_query(model, version).order_by(baselines.c.monitor_type)
            ).all()
        return [_baseline(row) for row in rows]

    def delete_baseline(self, model: str, version: str, monitor_type: MonitorType) -> None:
        with self._engine.begin() as connection:
            version_id = resolve_version_id(connection, model, version)
            deleted = connection.execute(
                delete(baselines).where(
                    baselines.c.version_id == version_id,
                    baselines.c.monitor_type == MonitorType(monitor_type).value,
                )
            ).rowcount
        if deleted == 0:
            raise NotFoundError(
                f"Model {model!r} version {version!r} has no {monitor_type} baseline."
            )

    @staticmethod
    def _baselines_query(model: str, version: str) -> Any:
        return (
            select(*_BASELINE_COLUMNS)
            .join(model_versions, model_versions.c.id == baselines.c.version_id)
            .join(models, models.c.id == model_versions.c.model_id)
            .where(models.c.name == model, model_versions.c.version == version)
        )
