"""Regression metrics over arrays: SageMaker's ``mae``, ``mse``, ``rmse`` and ``r2``.

``r2`` follows scikit-learn when the labels are constant (1.0 for a perfect fit, else 0.0), so
the value is always finite and serialisable.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["regression_metrics"]

Floats: TypeAlias = npt.NDArray[np.float64]


def regression_metrics(actual: Floats, predicted: Floats) -> dict[str, float]:
    """``{"mae", "mse", "rmse", "r2"}`` of ``predicted`` against ``actual`` (same length, >= 1)."""
    error = predicted - actual
    mse = float((error * error).mean())
    centred = actual - actual.mean()
    residual = float((error * error).sum())
    total = float((centred * centred).sum())
    # Constant labels: scikit-learn's finite convention (1 for a perfect fit, else 0).
    r2 = (1.0 if residual == 0.0 else 0.0) if total == 0.0 else 1.0 - residual / total
    return {
        "mae": float(np.abs(error).mean()),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": r2,
    }
