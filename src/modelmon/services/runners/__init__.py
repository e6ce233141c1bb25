"""One runner per monitor type; the executor looks them up here."""

from __future__ import annotations

from modelmon.services.runners.context import (
    EMPTY_WINDOW_REASON,
    EmptyWindow,
    Outcome,
    RunContext,
    Runner,
)
from modelmon.services.runners.data_quality import run_data_quality
from modelmon.store import MonitorType

__all__ = ["EMPTY_WINDOW_REASON", "RUNNERS", "EmptyWindow", "Outcome", "RunContext", "Runner"]

RUNNERS: dict[MonitorType, Runner] = {
    MonitorType.DATA_QUALITY: run_data_quality,
}
