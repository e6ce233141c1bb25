"""The demo's model: a scikit-learn classifier of credit default, trained on generated data.

Two versions: v1 (gradient-boosted trees) and v2, a challenger (logistic regression) that agrees
with v1 on most applications but not all, which is what prediction-drift monitoring should see.
Rows are encoded by hand (numbers as floats, categories one-hot) rather than by a pandas
ColumnTransformer: scoring one request is then a couple of milliseconds instead of tens.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.examples import FEATURES

__all__ = ["CATEGORICAL", "NUMERIC", "CreditModel", "train"]

CATEGORICAL = ("region", "home_ownership", "purpose", "gender")
NUMERIC = tuple(f for f in FEATURES if f not in CATEGORICAL)
# The model does not use the protected attribute; bias monitoring checks that it stays fair.
_USED_CATEGORICAL = ("region", "home_ownership", "purpose")


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


class _Encoder:
    """Numbers as floats (missing = NaN), categories seen in training one-hot (others all 0)."""

    def __init__(self, table: pa.Table) -> None:
        self.categories = {
            name: sorted(set(table[name].drop_null().to_pylist())) for name in _USED_CATEGORICAL
        }

    def encode(self, rows: list[dict[str, Any]]) -> np.ndarray:
        width = len(NUMERIC) + sum(len(c) for c in self.categories.values())
        matrix = np.zeros((len(rows), width))
        for i, row in enumerate(rows):
            for j, name in enumerate(NUMERIC):
                matrix[i, j] = _number(row.get(name))
            offset = len(NUMERIC)
            for name, values in self.categories.items():
                value = row.get(name)
                if value in values:
                    matrix[i, offset + values.index(value)] = 1.0
                offset += len(values)
        return matrix


class CreditModel:
    """A fitted estimator scoring rows given as dicts of the credit features."""

    def __init__(
        self, estimator: Any, encoder: _Encoder, version: str, fill: np.ndarray | None
    ) -> None:
        self.estimator = estimator
        self.encoder = encoder
        self.version = version
        self._fill = fill  # per-column (median, scale) for estimators that need no NaN

    def _features(self, rows: list[dict[str, Any]]) -> np.ndarray:
        matrix = self.encoder.encode(rows)
        if self._fill is not None:
            median, scale = self._fill
            matrix = np.where(np.isnan(matrix), median, matrix)
            matrix = (matrix - median) / scale
        return matrix

    def predict_proba(self, rows: list[dict[str, Any]]) -> np.ndarray:
        probabilities: np.ndarray = self.estimator.predict_proba(self._features(rows))[:, 1]
        return probabilities


def train(table: pa.Table, version: str, *, seed: int = 0) -> CreditModel:
    """Fit ``version`` ("v1": boosted trees, else logistic regression) on a credit table."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    encoder = _Encoder(table)
    rows = table.select([*NUMERIC, *_USED_CATEGORICAL]).to_pylist()
    labels = table["default"].to_numpy()
    if version == "v1":
        model = CreditModel(
            HistGradientBoostingClassifier(max_iter=120, random_state=seed), encoder, version, None
        )
    else:
        raw = encoder.encode(rows)
        median = np.nanmedian(raw, axis=0)
        scale = np.nanstd(raw, axis=0)
        fill = np.stack([median, np.where(scale > 0, scale, 1.0)])
        model = CreditModel(LogisticRegression(max_iter=500), encoder, version, fill)
    model.estimator.fit(model._features(rows), labels)
    return model
