"""Load a model to explain: a model file, a ``module:function``, or an HTTP endpoint URL.

:func:`load_model` decides by the reference's shape: ``http://``/``https://`` is an endpoint
(:class:`EndpointModel`), an existing file is a joblib/pickle of a scikit-learn, XGBoost or
LightGBM model (:class:`EstimatorModel`; loading a pickle runs its code, so load only files you
trust), and ``module:function`` is a Python function taking a pandas DataFrame
(:class:`CallableModel`). Anything that cannot be loaded is a clear error (exit 2), never a
traceback.
"""

from __future__ import annotations

from pathlib import Path

from modelmon.errors import ConfigError, NotFoundError
from modelmon.models.base import Model, as_scores, json_scalar
from modelmon.models.endpoint import CONTENT_TYPES, EndpointModel
from modelmon.models.local import CallableModel, EstimatorModel, load_estimator, load_function

__all__ = [
    "CONTENT_TYPES",
    "CallableModel",
    "EndpointModel",
    "EstimatorModel",
    "Model",
    "as_scores",
    "json_scalar",
    "load_model",
]


def load_model(reference: str | Model, *, content_type: str = "application/json") -> Model:
    """The model ``reference`` names (a loaded :class:`Model` is returned as it is)."""
    if isinstance(reference, Model):
        return reference
    if not isinstance(reference, str) or not reference:
        raise ConfigError(
            "The 'model' parameter must be a model file, a 'module:function' or an endpoint URL. "
            f"Got {reference!r} instead."
        )
    if reference.startswith(("http://", "https://")):
        return EndpointModel(reference, content_type=content_type)
    path = Path(reference)
    if path.is_file():
        return load_estimator(path)
    module, colon, function = reference.partition(":")
    if colon and module and function and "/" not in module and "\\" not in module:
        return load_function(reference)
    raise NotFoundError(
        f"{reference}: no such model file (a model is a joblib/pickle file, a "
        "'module:function' or an http(s):// endpoint URL)"
    )
