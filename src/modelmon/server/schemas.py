"""Request and response bodies of the REST API (pydantic: validated, and described in OpenAPI).

Requests forbid unknown fields, so a typo is a 422 naming it rather than a silent default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelmon.store import (
    Baseline,
    Execution,
    ExecutionStatus,
    Model,
    ModelVersion,
    MonitorType,
    ProblemType,
    Schedule,
    ScheduleStatus,
    Violation,
)

__all__ = [
    "BaselineOut",
    "BaselineUpload",
    "CapturedRecord",
    "CapturesIn",
    "ExecutionOut",
    "IngestResult",
    "LabelIn",
    "LabelsIn",
    "ModelIn",
    "ModelOut",
    "ModelPatch",
    "RunNowIn",
    "ScheduleIn",
    "ScheduleOut",
    "SeriesOut",
    "VersionIn",
    "VersionOut",
    "ViolationOut",
]

# Names end up in paths on disk and in URLs: keep them to a safe alphabet.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelIn(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(default="", max_length=10_000)
    problem_type: ProblemType = ProblemType.NONE
    model_schema: dict[str, Any] | None = Field(default=None, alias="schema")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ModelPatch(_Strict):
    description: str | None = Field(default=None, max_length=10_000)
    problem_type: ProblemType | None = None
    model_schema: dict[str, Any] | None = Field(default=None, alias="schema")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class VersionOut(BaseModel):
    model: str
    version: str
    description: str
    created_at: datetime

    @classmethod
    def of(cls, version: ModelVersion) -> VersionOut:
        return cls(
            model=version.model,
            version=version.version,
            description=version.description,
            created_at=version.created_at,
        )


class ModelOut(BaseModel):
    name: str
    description: str
    problem_type: ProblemType
    model_schema: dict[str, Any] | None = Field(default=None, serialization_alias="schema")
    created_at: datetime
    versions: list[VersionOut] = []

    @classmethod
    def of(cls, model: Model, versions: list[ModelVersion]) -> ModelOut:
        return cls(
            name=model.name,
            description=model.description,
            problem_type=model.problem_type,
            model_schema=model.schema,
            created_at=model.created_at,
            versions=[VersionOut.of(v) for v in versions],
        )


class VersionIn(_Strict):
    version: str = Field(pattern=NAME_PATTERN)
    description: str = Field(default="", max_length=10_000)


class BaselineUpload(_Strict):
    """Baseline files by name, each its JSON content (SageMaker-compatible)."""

    files: dict[str, Any] = Field(min_length=1)


class BaselineOut(BaseModel):
    model: str
    version: str
    monitor_type: MonitorType
    files: list[str]
    created_at: datetime

    @classmethod
    def of(cls, baseline: Baseline) -> BaselineOut:
        return cls(
            model=baseline.model,
            version=baseline.version,
            monitor_type=baseline.monitor_type,
            files=sorted(baseline.files),
            created_at=baseline.created_at,
        )


class ScheduleIn(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    model: str
    version: str
    monitor_type: MonitorType
    cron: str = Field(
        description="cron(0 * ? * * *) hourly, cron(0 H ? * * *) daily at H, "
        "cron(0 0/N ? * * *) every N hours, or NOW (with window_start and window_end)",
        max_length=200,
    )
    start_offset: str | None = Field(
        default=None, description="ISO 8601 duration before the nominal time, e.g. -PT1H"
    )
    end_offset: str | None = Field(default=None, description="ISO 8601 duration, e.g. -PT0H")
    window_start: datetime | None = None
    window_end: datetime | None = None
    config: dict[str, Any] = {}


class ScheduleOut(BaseModel):
    id: int
    name: str
    model: str
    version: str
    monitor_type: MonitorType
    cron: str
    start_offset_seconds: float | None
    end_offset_seconds: float | None
    window_start: datetime | None
    window_end: datetime | None
    config: dict[str, Any]
    status: ScheduleStatus
    created_at: datetime

    @classmethod
    def of(cls, schedule: Schedule) -> ScheduleOut:
        return cls(
            id=schedule.id,
            name=schedule.name,
            model=schedule.model,
            version=schedule.version,
            monitor_type=schedule.monitor_type,
            cron=schedule.cron,
            start_offset_seconds=None
            if schedule.start_offset is None
            else schedule.start_offset.total_seconds(),
            end_offset_seconds=None
            if schedule.end_offset is None
            else schedule.end_offset.total_seconds(),
            window_start=schedule.window_start,
            window_end=schedule.window_end,
            config=schedule.config,
            status=schedule.status,
            created_at=schedule.created_at,
        )


class RunNowIn(_Strict):
    window_start: datetime
    window_end: datetime


class ViolationOut(BaseModel):
    id: int
    execution_id: int
    feature: str
    check_type: str
    description: str
    created_at: datetime

    @classmethod
    def of(cls, violation: Violation) -> ViolationOut:
        return cls(
            id=violation.id,
            execution_id=violation.execution_id,
            feature=violation.feature,
            check_type=violation.check_type,
            description=violation.description,
            created_at=violation.created_at,
        )


class ExecutionOut(BaseModel):
    id: int
    schedule_id: int
    schedule: str | None = None
    model: str | None = None
    version: str | None = None
    monitor_type: MonitorType | None = None
    scheduled_time: datetime
    window_start: datetime
    window_end: datetime
    status: ExecutionStatus
    failure_reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    output_files: list[str]
    exit_message: str | None
    violations: list[ViolationOut] | None = None

    @classmethod
    def of(
        cls,
        execution: Execution,
        schedule: Schedule | None = None,
        violations: list[Violation] | None = None,
    ) -> ExecutionOut:
        return cls(
            id=execution.id,
            schedule_id=execution.schedule_id,
            schedule=None if schedule is None else schedule.name,
            model=None if schedule is None else schedule.model,
            version=None if schedule is None else schedule.version,
            monitor_type=None if schedule is None else schedule.monitor_type,
            scheduled_time=execution.scheduled_time,
            window_start=execution.window_start,
            window_end=execution.window_end,
            status=execution.status,
            failure_reason=execution.failure_reason,
            started_at=execution.started_at,
            ended_at=execution.ended_at,
            output_files=sorted(execution.output_files),
            exit_message=execution.exit_message,
            violations=None if violations is None else [ViolationOut.of(v) for v in violations],
        )


class SeriesOut(BaseModel):
    name: str
    labels: dict[str, str]
    points: list[tuple[datetime, float | None]]


class CapturedRecord(_Strict):
    """One inference: ``input``/``output`` are what a JSON body would hold (an object of named
    values, a list of values by position, a scalar, or a list of those for several rows)."""

    inference_id: str | None = Field(default=None, max_length=256)
    inference_time: datetime | None = None
    input: Any = None
    output: Any = None
    latency_ms: float | None = Field(default=None, ge=0)
    error: str | None = Field(default=None, max_length=10_000)


class CapturesIn(_Strict):
    model: str = Field(pattern=NAME_PATTERN)
    version: str = Field(default="default", pattern=NAME_PATTERN)
    records: list[CapturedRecord] = Field(min_length=1, max_length=100_000)


class LabelIn(_Strict):
    inference_id: str = Field(min_length=1, max_length=256)
    label: str | float | int | bool


class LabelsIn(_Strict):
    model: str = Field(pattern=NAME_PATTERN)
    labels: list[LabelIn] = Field(min_length=1, max_length=1_000_000)


class IngestResult(BaseModel):
    accepted: int
    rejected: int = 0
    notes: list[str] = []
