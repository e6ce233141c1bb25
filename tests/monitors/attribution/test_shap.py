"""Our SHAP values are shap's: tree SHAP for tree models, kernel SHAP otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from modelmon.errors import ConfigError
from modelmon.models import EstimatorModel
from modelmon.monitors.attribution import explain, global_values
from modelmon.monitors.attribution.shap_values import import_shap

Data = Callable[..., pd.DataFrame]


def test_tree_shap_is_shaps(tree_model: GradientBoostingClassifier, data: Data) -> None:
    rows = data(200, seed=5)
    ours = explain(EstimatorModel(tree_model, "gb"), rows, rows.iloc[:10])
    direct = shap.TreeExplainer(tree_model)
    assert ours.method == "tree_shap"
    np.testing.assert_allclose(ours.values[:, :, 0], direct.shap_values(rows))
    assert ours.expected[0] == pytest.approx(float(np.ravel(direct.expected_value)[0]))


def test_random_forest_keeps_the_positive_class(data: Data) -> None:
    rows = data(300, seed=6)
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0)
    forest.fit(rows, (rows["f0"] > 0).astype(int))
    ours = explain(EstimatorModel(forest, "rf"), rows, rows)
    direct = np.asarray(shap.TreeExplainer(forest).shap_values(rows))
    assert ours.values.shape == (300, 6, 1)
    np.testing.assert_allclose(ours.values[:, :, 0], direct[:, :, 1])


def test_kernel_shap_is_shaps(linear_model: LogisticRegression, data: Data) -> None:
    rows, background = data(8, seed=7), data(10, seed=8)
    ours = explain(EstimatorModel(linear_model, "lr"), rows, background, nsamples=64, seed=3)
    assert ours.method == "kernel_shap"
    np.random.seed(3)
    explainer = shap.KernelExplainer(
        lambda x: linear_model.predict_proba(x)[:, 1], background.to_numpy()
    )
    direct = explainer.shap_values(rows.to_numpy(), nsamples=64, l1_reg=False, silent=True)
    np.testing.assert_allclose(ours.values[:, :, 0], direct, atol=1e-10)
    # Kernel SHAP is additive: values sum to the prediction minus the expected value.
    predicted = linear_model.predict_proba(rows.to_numpy())[:, 1]
    np.testing.assert_allclose(ours.values[:, :, 0].sum(axis=1), predicted - ours.expected[0])


def test_global_aggregates() -> None:
    from modelmon.monitors.attribution import Explanation

    values = np.array([[1.0, -2.0], [-3.0, 0.0], [2.0, 1.0]])[:, :, None]
    (aggregates,) = global_values(Explanation("tree_shap", values, np.zeros(1)), ["a", "b"])
    assert aggregates["mean_abs"] == {"a": 2.0, "b": 1.0}
    assert aggregates["median"] == {"a": 1.0, "b": 0.0}
    assert aggregates["mean_sq"] == pytest.approx({"a": 14 / 3, "b": 5 / 3})


def test_tree_method_refuses_other_models(linear_model: LogisticRegression, data: Data) -> None:
    rows = data(5, seed=1)
    with pytest.raises(ConfigError, match="needs a tree model"):
        explain(EstimatorModel(linear_model, "lr"), rows, rows, method="tree")


def test_missing_shap_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)
    with pytest.raises(ConfigError, match=r"pip install 'modelmon\[attribution\]'"):
        import_shap()
