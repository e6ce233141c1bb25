"""Models in this process: a pickled/joblib estimator file, or a ``module:function`` callable.

Loading a pickle runs code from the file: load only files you trust, as with any pickle.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmon.errors import ConfigError, InputError, NotFoundError
from modelmon.models.base import Model, Scores, as_scores

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CallableModel", "EstimatorModel", "load_estimator", "load_function"]

# Estimator families whose models shap's TreeExplainer explains exactly.
_TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


class EstimatorModel(Model):
    """A scikit-learn-style estimator (scikit-learn, XGBoost and LightGBM's sklearn API)."""

    def __init__(self, estimator: Any, description: str) -> None:
        self.estimator = estimator
        self.description = description
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = None if names is None else tuple(str(n) for n in names)

    @property
    def tree_model(self) -> Any | None:
        module = type(self.estimator).__module__
        return self.estimator if module.startswith(_TREE_MODULES) else None

    def predict(self, rows: pd.DataFrame) -> Scores:
        # Estimators fitted on arrays warn when given named columns, and vice versa.
        data: Any = rows if self.feature_names is not None else rows.to_numpy()
        try:
            if hasattr(self.estimator, "predict_proba"):
                raw = self.estimator.predict_proba(data)
                if getattr(raw, "ndim", 0) == 2 and raw.shape[1] == 2:
                    raw = raw[:, 1]
            else:
                raw = self.estimator.predict(data)
        except Exception as error:
            raise InputError(
                f"the model could not score the data: {type(error).__name__}: {error}",
                path=self.description,
            ) from None
        return as_scores(raw, len(rows), self.description)


class CallableModel(Model):
    """A Python function taking a pandas DataFrame of feature rows, returning their scores."""

    def __init__(self, function: Callable[[Any], Any], description: str) -> None:
        self.function = function
        self.description = description

    def predict(self, rows: pd.DataFrame) -> Scores:
        try:
            raw = self.function(rows)
        except Exception as error:
            raise InputError(
                f"the model function failed: {type(error).__name__}: {error}",
                path=self.description,
            ) from None
        return as_scores(raw, len(rows), self.description)


def load_estimator(path: Path) -> EstimatorModel:
    """An estimator from a joblib or pickle file."""
    if not path.is_file():
        raise NotFoundError(f"{path}: no such model file")
    try:
        import joblib  # type: ignore[import-untyped]

        estimator = joblib.load(path)
    except Exception:
        try:
            with path.open("rb") as source:
                estimator = pickle.load(source)
        except Exception as error:
            raise InputError(
                f"the model file cannot be loaded: {type(error).__name__}: {error}",
                path=path,
                expected="a joblib or pickle file of a scikit-learn, XGBoost or LightGBM model",
            ) from None
    if not (hasattr(estimator, "predict") or hasattr(estimator, "predict_proba")):
        raise InputError(
            "the model file holds no model",
            path=path,
            expected="an object with predict() or predict_proba()",
            found=type(estimator).__name__,
        )
    return EstimatorModel(estimator, str(path))


def load_function(reference: str) -> CallableModel:
    """The function ``module:function`` names."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"A model function must be given as 'module:function'. Got {reference!r} instead."
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise InputError(
            f"the module of the model function cannot be imported: {type(error).__name__}: {error}",
            path=reference,
        ) from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise InputError(
                f"module {module_name!r} has no {attribute!r}",
                path=reference,
                expected="a function taking a DataFrame and returning scores",
            )
        target = getattr(target, part)
    if not callable(target):
        raise InputError(
            f"{attribute!r} in module {module_name!r} is not callable",
            path=reference,
            found=type(target).__name__,
        )
    return CallableModel(target, reference)
