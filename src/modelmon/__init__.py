"""modelmon: self-hosted monitoring for machine-learning models in production.

The public API is exactly ``__all__``; everything else is internal and may change. Names are
imported on first use, so a model server that only needs ``modelmon.Capture`` does not pay for the
statistics stack (scipy) at start-up.
"""

import importlib as _importlib
import typing as _typing

from modelmon.errors import (
    BaselineFormatError,
    ConfigError,
    ConflictError,
    DatasetError,
    InputError,
    ModelmonError,
    NotFoundError,
    SchemaVersionError,
)

if _typing.TYPE_CHECKING:
    from modelmon.api import profile
    from modelmon.capture import (
        Capture,
        CaptureMiddleware,
        CaptureStats,
        CaptureWriter,
        ImportReport,
        InferenceEvent,
        LabelCoverage,
        Payload,
        capture_features,
        import_captures,
        import_labels,
        label_coverage,
        new_inference_id,
        read_captures,
        windows_needing_reevaluation,
    )
    from modelmon.formats.datasets import Dataset, open_dataset
    from modelmon.monitors.attribution import AttributionMonitor
    from modelmon.monitors.bias import BiasMonitor
    from modelmon.monitors.data_quality import (
        DataQualityBaseline,
        DataQualityMonitor,
        DataQualityResult,
        FeatureDrift,
        load_baseline,
    )
    from modelmon.monitors.model_quality import (
        EstimatedPerformance,
        ModelQualityBaseline,
        ModelQualityMonitor,
        ModelQualityResult,
        load_model_quality_baseline,
    )
    from modelmon.monitors.prediction_drift import PredictionDriftMonitor
    from modelmon.monitors.service_health import ServiceHealthMonitor
    from modelmon.services.streaming import StreamingMonitor
    from modelmon.stats.profile import ColumnProfile, DatasetProfile

__version__ = "0.1.0"

_LAZY = {
    "profile": "modelmon.api",
    "Capture": "modelmon.capture",
    "CaptureMiddleware": "modelmon.capture",
    "CaptureStats": "modelmon.capture",
    "CaptureWriter": "modelmon.capture",
    "ImportReport": "modelmon.capture",
    "InferenceEvent": "modelmon.capture",
    "LabelCoverage": "modelmon.capture",
    "Payload": "modelmon.capture",
    "capture_features": "modelmon.capture",
    "import_captures": "modelmon.capture",
    "import_labels": "modelmon.capture",
    "label_coverage": "modelmon.capture",
    "new_inference_id": "modelmon.capture",
    "read_captures": "modelmon.capture",
    "windows_needing_reevaluation": "modelmon.capture",
    "Dataset": "modelmon.formats.datasets",
    "open_dataset": "modelmon.formats.datasets",
    "DataQualityBaseline": "modelmon.monitors.data_quality",
    "DataQualityMonitor": "modelmon.monitors.data_quality",
    "DataQualityResult": "modelmon.monitors.data_quality",
    "FeatureDrift": "modelmon.monitors.data_quality",
    "load_baseline": "modelmon.monitors.data_quality",
    "AttributionMonitor": "modelmon.monitors.attribution",
    "BiasMonitor": "modelmon.monitors.bias",
    "ModelQualityMonitor": "modelmon.monitors.model_quality",
    "ModelQualityBaseline": "modelmon.monitors.model_quality",
    "ModelQualityResult": "modelmon.monitors.model_quality",
    "EstimatedPerformance": "modelmon.monitors.model_quality",
    "load_model_quality_baseline": "modelmon.monitors.model_quality",
    "PredictionDriftMonitor": "modelmon.monitors.prediction_drift",
    "ServiceHealthMonitor": "modelmon.monitors.service_health",
    "StreamingMonitor": "modelmon.services.streaming",
    "ColumnProfile": "modelmon.stats.profile",
    "DatasetProfile": "modelmon.stats.profile",
}

__all__ = [
    "AttributionMonitor",
    "BaselineFormatError",
    "BiasMonitor",
    "Capture",
    "CaptureMiddleware",
    "CaptureStats",
    "CaptureWriter",
    "ColumnProfile",
    "ConfigError",
    "ConflictError",
    "DataQualityBaseline",
    "DataQualityMonitor",
    "DataQualityResult",
    "Dataset",
    "DatasetError",
    "DatasetProfile",
    "EstimatedPerformance",
    "FeatureDrift",
    "ImportReport",
    "InferenceEvent",
    "InputError",
    "LabelCoverage",
    "ModelQualityBaseline",
    "ModelQualityMonitor",
    "ModelQualityResult",
    "ModelmonError",
    "NotFoundError",
    "Payload",
    "PredictionDriftMonitor",
    "SchemaVersionError",
    "ServiceHealthMonitor",
    "StreamingMonitor",
    "__version__",
    "capture_features",
    "import_captures",
    "import_labels",
    "label_coverage",
    "load_baseline",
    "load_model_quality_baseline",
    "new_inference_id",
    "open_dataset",
    "profile",
    "read_captures",
    "windows_needing_reevaluation",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelmon' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
