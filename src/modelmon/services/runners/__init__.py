"""One runner per monitor type; the executor looks them up here."""

from __future__ import annotations

from modelmon.services.runners.attribution import run_model_explainability
from modelmon.services.runners.bias import run_model_bias
from modelmon.services.runners.context import (
    EMPTY_WINDOW_REASON,
    EmptyWindow,
    Outcome,
    RunContext,
    Runner,
)
from modelmon.services.runners.data_quality import run_data_quality
from modelmon.services.runners.model_quality import run_model_quality
from modelmon.services.runners.prediction_drift import run_prediction_drift
from modelmon.services.runners.service_health import run_service_health
from modelmon.store import MonitorType

__all__ = ["EMPTY_WINDOW_REASON", "RUNNERS", "EmptyWindow", "Outcome", "RunContext", "Runner"]

RUNNERS: dict[MonitorType, Runner] = {
    MonitorType.DATA_QUALITY: run_data_quality,
    MonitorType.MODEL_QUALITY: run_model_quality,
    MonitorType.MODEL_BIAS: run_model_bias,
    MonitorType.MODEL_EXPLAINABILITY: run_model_explainability,
    MonitorType.PREDICTION_DRIFT: run_prediction_drift,
    MonitorType.SERVICE_HEALTH: run_service_health,
}
