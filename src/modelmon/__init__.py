"""modelmon: self-hosted monitoring for machine-learning models in production."""

from __future__ import annotations

from modelmon.errors import (
    BaselineFormatError,
    ConfigError,
    DatasetError,
    InputError,
    ModelmonError,
    NotFoundError,
)

__version__ = "0.1.0"

__all__ = [
    "BaselineFormatError",
    "ConfigError",
    "DatasetError",
    "InputError",
    "ModelmonError",
    "NotFoundError",
    "__version__",
]
