"""Regression metrics over arrays: SageMaker's ``mae``, ``mse``, ``rmse`` and ``r2``.

``r2`` follows scikit-learn when the labels are constant (1.0 for a perfect fit, else 0.0), so
the value is always finite and serialisable.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["regression_from_sums", "regression_metrics"]

Floats: TypeAlias = npt.NDArray[np.float64]


def regression_metrics(actual: Floats, predicted: Floats) -> dict[str, float]:
    """``{"mae", "mse", "rmse", "r2"}`` of ``predicted`` against ``actual`` (same length, >= 1)."""
    error = predicted - actual
    centred = actual - actual.mean()
    return regression_from_sums(
        actual.size,
        float(np.abs(error).sum()),
        float((error * error).sum()),
        float((centred * centred).sum()),
    )


def regression_from_sums(
    count: float, absolute_error: float, squared_error: float, total_squares: float
) -> dict[str, float]:
    """The metrics from their sufficient sums: the row count, the sums of absolute and of
    squared errors, and the labels' sum of squares about their mean (mergeable partials give
    them exactly, see the spark engine)."""
    mse = squared_error / count
    # Constant labels: scikit-learn's finite convention (1 for a perfect fit, else 0).
    if total_squares == 0.0:
        r2 = 1.0 if squared_error == 0.0 else 0.0
    else:
        r2 = 1.0 - squared_error / total_squares
    return {
        "mae": absolute_error / count,
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": r2,
    }
