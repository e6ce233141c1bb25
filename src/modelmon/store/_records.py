"""The immutable records the store hands out, and the vocabularies they use.

Enumerations are ``StrEnum`` whose values are SageMaker's spellings, stored as plain text so that
adding a member never needs a database enum migration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from modelmon.errors import ConfigError

__all__ = [
    "Baseline",
    "Execution",
    "ExecutionStatus",
    "Matcher",
    "Model",
    "ModelVersion",
    "MonitorType",
    "Point",
    "ProblemType",
    "Schedule",
    "ScheduleStatus",
    "Series",
    "TokenInfo",
    "Violation",
]


class ProblemType(StrEnum):
    REGRESSION = "Regression"
    BINARY_CLASSIFICATION = "BinaryClassification"
    MULTICLASS_CLASSIFICATION = "MulticlassClassification"
    NONE = "None"


class MonitorType(StrEnum):
    DATA_QUALITY = "DataQuality"
    MODEL_QUALITY = "ModelQuality"
    MODEL_BIAS = "ModelBias"
    MODEL_EXPLAINABILITY = "ModelExplainability"
    PREDICTION_DRIFT = "PredictionDrift"
    SERVICE_HEALTH = "ServiceHealth"


class ScheduleStatus(StrEnum):
    SCHEDULED = "Scheduled"
    STOPPED = "Stopped"


class ExecutionStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
    FAILED = "Failed"
    STOPPED = "Stopped"


@dataclass(frozen=True)
class Model:
    id: int
    name: str
    description: str
    problem_type: ProblemType
    schema: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class ModelVersion:
    id: int
    model: str
    version: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class Baseline:
    """Baseline files of one model version and monitor type: file name -> JSON content or a path."""

    id: int
    model: str
    version: str
    monitor_type: MonitorType
    files: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Schedule:
    """A monitoring schedule. ``cron`` is SageMaker's expression text, validated by the scheduler.

    The analysis window is either relative to each scheduled time (``start_offset``/``end_offset``,
    e.g. -1 h and 0) or, for a one-off ``NOW`` schedule, absolute (``window_start``/``window_end``).
    """

    id: int
    name: str
    model: str
    version: str
    monitor_type: MonitorType
    cron: str
    start_offset: timedelta | None
    end_offset: timedelta | None
    window_start: datetime | None
    window_end: datetime | None
    config: dict[str, Any]
    status: ScheduleStatus
    created_at: datetime


@dataclass(frozen=True)
class Execution:
    id: int
    schedule_id: int
    scheduled_time: datetime
    window_start: datetime
    window_end: datetime
    status: ExecutionStatus
    failure_reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    output_files: dict[str, Any]
    exit_message: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Violation:
    id: int
    execution_id: int
    feature: str
    check_type: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    """What the store knows about an API token; the secret itself is never kept."""

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Point:
    """One time-series sample, as in prometheus_client's ``Sample``."""

    name: str
    labels: Mapping[str, str]
    value: float
    timestamp: datetime


@dataclass(frozen=True)
class Series:
    """The points of one (name, labels) series in a time range, oldest first."""

    name: str
    labels: dict[str, str]
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]


MatchOp = Literal["=", "!=", "=~", "!~"]


@dataclass(frozen=True)
class Matcher:
    """A Prometheus-style label matcher; a plain string in a matcher dict means ``=``.

    Regular expressions are fully anchored, and a label a series does not have matches as "", both
    as in PromQL, so ``Matcher("!=", "x")`` also selects series without the label.
    """

    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.op not in ("=", "!=", "=~", "!~"):
            raise ConfigError(
                "The 'op' parameter of Matcher must be one of '=', '!=', '=~', '!~'. "
                f"Got {self.op!r} instead."
            )
        if self.op in ("=~", "!~"):
            try:
                object.__setattr__(self, "_regex", re.compile(self.value))
            except re.error as exc:
                raise ConfigError(
                    "The 'value' parameter of Matcher must be a valid regular expression. "
                    f"Got {self.value!r} instead ({exc})."
                ) from None

    def matches(self, found: str) -> bool:
        if self._regex is not None:
            return (self._regex.fullmatch(found) is not None) == (self.op == "=~")
        return (found == self.value) == (self.op == "=")
