"""modelmon: self-hosted monitoring for machine-learning models in production.

The public API is exactly ``__all__``; everything else is internal and may change.
"""

from modelmon.api import profile
from modelmon.errors import (
    BaselineFormatError,
    ConfigError,
    DatasetError,
    InputError,
    ModelmonError,
    NotFoundError,
)
from modelmon.formats.datasets import Dataset, open_dataset
from modelmon.monitors.data_quality import (
    DataQualityBaseline,
    DataQualityMonitor,
    DataQualityResult,
    FeatureDrift,
    load_baseline,
)
from modelmon.stats.profile import ColumnProfile, DatasetProfile

__version__ = "0.1.0"

__all__ = [
    "BaselineFormatError",
    "ColumnProfile",
    "ConfigError",
    "DataQualityBaseline",
    "DataQualityMonitor",
    "DataQualityResult",
    "Dataset",
    "DatasetError",
    "DatasetProfile",
    "FeatureDrift",
    "InputError",
    "ModelmonError",
    "NotFoundError",
    "__version__",
    "load_baseline",
    "open_dataset",
    "profile",
]
