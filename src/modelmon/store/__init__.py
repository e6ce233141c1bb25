"""The store of the monitoring server: SQLAlchemy Core on SQLite or PostgreSQL, chosen by URI.

store = open_store("sqlite:////var/lib/modelmon/modelmon.db", migrate=True)
store.metrics.query_points("drift", {"model": "churn"}, start=t0, end=t1)
"""

from __future__ import annotations

from modelmon.errors import ConflictError, SchemaVersionError
from modelmon.store._alerts import (
    ActionRecord,
    AlertRecord,
    AlertStore,
    ChannelRecord,
    Evaluated,
    NotificationRecord,
    RemediationRecord,
    RuleRecord,
    SilenceRecord,
    TransitionRecord,
)
from modelmon.store._executions import STALE_REASON, ExecutionStore
from modelmon.store._metrics import MetricStore
from modelmon.store._models import ModelStore
from modelmon.store._records import (
    Baseline,
    Execution,
    ExecutionStatus,
    Matcher,
    Model,
    ModelVersion,
    MonitorType,
    Point,
    ProblemType,
    Schedule,
    ScheduleStatus,
    Series,
    TokenInfo,
    Violation,
)
from modelmon.store._schedules import ScheduleStore
from modelmon.store._store import Store, open_store
from modelmon.store._tokens import TokenStore
from modelmon.store._uri import VALID_SCHEMES
from modelmon.store._violations import ViolationStore

__all__ = [
    "STALE_REASON",
    "VALID_SCHEMES",
    "ActionRecord",
    "AlertRecord",
    "AlertStore",
    "Baseline",
    "ChannelRecord",
    "ConflictError",
    "Evaluated",
    "Execution",
    "ExecutionStatus",
    "ExecutionStore",
    "Matcher",
    "MetricStore",
    "Model",
    "ModelStore",
    "ModelVersion",
    "MonitorType",
    "NotificationRecord",
    "Point",
    "ProblemType",
    "RemediationRecord",
    "RuleRecord",
    "Schedule",
    "ScheduleStatus",
    "ScheduleStore",
    "SchemaVersionError",
    "Series",
    "SilenceRecord",
    "Store",
    "TokenInfo",
    "TokenStore",
    "TransitionRecord",
    "Violation",
    "ViolationStore",
    "open_store",
]
