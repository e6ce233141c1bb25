"""What a model is to modelmon: something that scores a table of feature rows."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from modelmon.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Model", "as_scores", "json_scalar"]

Scores = npt.NDArray[np.float64]


class Model(ABC):
    """A loaded model. ``predict`` returns one row of scores per input row: ``(n, k)`` floats
    (a classifier's positive-class probability when it has two classes, so k = 1)."""

    description: str = "model"
    feature_names: tuple[str, ...] | None = None

    @property
    def tree_model(self) -> Any | None:
        """The estimator, if exact tree SHAP may explain it directly."""
        return None

    @abstractmethod
    def predict(self, rows: pd.DataFrame) -> Scores: ...


def as_scores(raw: object, rows: int, where: str) -> Scores:
    """``raw`` predictions as an ``(rows, k)`` float array; InputError naming ``where`` if
    they are not numbers or not one per row."""
    try:
        scores = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(
            "the model's predictions are not numbers",
            path=where,
            expected="one number (or one row of numbers) per input row",
            found=f"{type(raw).__name__}: {error}",
        ) from None
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.ndim != 2 or scores.shape[0] != rows:
        raise InputError(
            "the model returned the wrong number of predictions",
            path=where,
            expected=f"{rows} predictions",
            found=f"shape {scores.shape}",
        )
    return scores


def json_scalar(value: Any) -> Any:
    """A JSON-ready scalar: numpy numbers as Python numbers, NaN and infinities as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
