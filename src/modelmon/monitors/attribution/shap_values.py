"""SHAP values of a model on some rows, from the ``shap`` package, and their global aggregates.

* Tree models (scikit-learn forests and boosting, XGBoost, LightGBM) get exact tree SHAP
  (``shap.TreeExplainer``, path-dependent: no background needed). It explains the model's raw
  output: probabilities for random forests, log-odds for boosted classifiers.
* Any other model gets kernel SHAP (``shap.KernelExplainer``) against a background sampled from the
  baseline data, with ``nsamples`` coalitions per row and no L1 feature selection. The cost is
  about rows x nsamples x background model evaluations, so all three are bounded (see
  ``AttributionMonitor``'s defaults).

``shap`` is an optional dependency (``pip install 'modelmon[attribution]'``) and slow to import
(it loads numba), so it is imported only when values are computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from modelmon.errors import ConfigError
from modelmon.models import Model

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AGGREGATIONS", "Explanation", "explain", "global_values", "import_shap"]

AGGREGATIONS = ("mean_abs", "median", "mean_sq")
METHODS = ("auto", "tree", "kernel")


def import_shap() -> Any:
    """The ``shap`` module, or a ConfigError saying how to install it."""
    try:
        import shap  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigError(
            "Feature attribution needs the 'shap' package, which is not installed. "
            "Install it with: pip install 'modelmon[attribution]'"
        ) from None
    return shap


@dataclass(frozen=True)
class Explanation:
    method: str  # "tree_shap" or "kernel_shap"
    values: npt.NDArray[np.float64]  # (rows, features, outputs)
    expected: npt.NDArray[np.float64]  # (outputs,)


def explain(
    model: Model,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    *,
    method: str = "auto",
    nsamples: int = 256,
    seed: int = 0,
) -> Explanation:
    """SHAP values of ``model`` on ``rows`` (see the module docstring for the method)."""
    shap = import_shap()
    estimator = model.tree_model
    if method in ("auto", "tree") and estimator is not None:
        try:
            explainer = shap.TreeExplainer(estimator)
            values = explainer.shap_values(rows, check_additivity=False)
        except Exception as error:
            if method == "tree":
                raise ConfigError(
                    f"Exact tree SHAP cannot explain {model.description}: "
                    f"{type(error).__name__}: {error}. Use method 'kernel' or 'auto'."
                ) from None
        else:
            return _normalised("tree_shap", values, explainer.expected_value)
    elif method == "tree":
        raise ConfigError(
            f"Exact tree SHAP needs a tree model; {model.description} is not one. "
            "Use method 'kernel' or 'auto'."
        )
    return _kernel(shap, model, rows, background, nsamples, seed)


def _kernel(
    shap: Any,
    model: Model,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    nsamples: int,
    seed: int,
) -> Explanation:
    import pandas as pd

    if len(background) == 0:
        raise ConfigError(
            "Kernel SHAP needs background rows, and the baseline has none (its "
            "analysis_config.json lacks methods.shap.baseline); baseline the model again with "
            "'modelmon attribution baseline'."
        )
    names = list(rows.columns)
    dtypes = rows.dtypes
    outputs = model.predict(background.iloc[:1]).shape[1]

    def scores(array: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        frame = pd.DataFrame(array, columns=names).astype(dtypes)
        predicted = model.predict(frame)
        return predicted[:, 0] if outputs == 1 else predicted

    # KernelExplainer draws coalitions from numpy's global generator: seed it for reproducible
    # values, and give the caller's state back afterwards.
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        explainer = shap.KernelExplainer(scores, background.to_numpy())
        values = explainer.shap_values(
            rows.to_numpy(), nsamples=nsamples, l1_reg=False, silent=True
        )
    finally:
        np.random.set_state(state)
    return _normalised("kernel_shap", values, explainer.expected_value)


def _normalised(method: str, values: Any, expected: Any) -> Explanation:
    """Values as ``(rows, features, outputs)``; a binary classifier's two outputs become its
    positive class alone, as ``Model.predict`` reports it."""
    if isinstance(values, list):  # older shap: one array per output
        values = np.stack(values, axis=-1)
    array = np.asarray(values, dtype=np.float64)
    base = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    if array.ndim == 2:
        array = array[:, :, None]
    if array.shape[2] == 2:
        array = array[:, :, 1:]
        base = base[1:] if len(base) == 2 else base
    return Explanation(method, array, base[: array.shape[2]])


def global_values(
    explanation: Explanation, features: list[str]
) -> list[dict[str, dict[str, float]]]:
    """Per output, Clarify's global SHAP aggregates: ``mean_abs`` (mean |SHAP|), ``median``
    (median SHAP, signed as Clarify documents) and ``mean_sq`` (mean squared SHAP)."""
    out = []
    for k in range(explanation.values.shape[2]):
        values = explanation.values[:, :, k]
        aggregates = {
            "mean_abs": np.abs(values).mean(axis=0),
            "median": np.median(values, axis=0),
            "mean_sq": (values * values).mean(axis=0),
        }
        out.append(
            {
                name: {f: float(v) for f, v in zip(features, numbers, strict=True)}
                for name, numbers in aggregates.items()
            }
        )
    return out
