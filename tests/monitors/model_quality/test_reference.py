"""Every metric against scikit-learn on random data, and against SageMaker's own examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression

from modelmon.stats.calibration import fit_isotonic, hosmer_lemeshow
from modelmon.stats.classification import (
    binary_counts,
    binary_rates,
    confusion_matrix,
    downsample_curve,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    weighted_scores,
)
from modelmon.stats.regression import regression_metrics

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def binary_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    actual = rng.random(n) < draw(st.floats(0.05, 0.95))
    # Rounded scores make ties, which curves and the AUC must handle as sklearn does.
    scores = np.round(rng.random(n), draw(st.integers(1, 4)))
    predicted = rng.random(n) < 0.5
    return actual, predicted, scores


@SETTINGS
@given(binary_data())
def test_binary_rates_equal_sklearn(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    actual, predicted, _ = data
    rates = binary_rates(binary_counts(actual, predicted))
    kw = {"zero_division": 0}
    tn, fp, fn, tp = skm.confusion_matrix(actual, predicted, labels=[False, True]).ravel()
    expected = {
        "recall": skm.recall_score(actual, predicted, **kw),
        "precision": skm.precision_score(actual, predicted, **kw),
        "accuracy": skm.accuracy_score(actual, predicted),
        "true_positive_rate": skm.recall_score(actual, predicted, **kw),
        "true_negative_rate": tn / (tn + fp) if tn + fp else 1.0,
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
        "false_negative_rate": fn / (fn + tp) if fn + tp else 1.0,
        "f0_5": skm.fbeta_score(actual, predicted, beta=0.5, **kw),
        "f1": skm.f1_score(actual, predicted, **kw),
        "f2": skm.fbeta_score(actual, predicted, beta=2.0, **kw),
    }
    for name, value in expected.items():
        assert float(rates[name]) == pytest.approx(value, abs=1e-12), name


@SETTINGS
@given(binary_data())
def test_auc_and_curves_equal_sklearn(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    actual, _, scores = data
    if actual.all() or not actual.any():
        return
    assert roc_auc(actual, scores) == pytest.approx(skm.roc_auc_score(actual, scores), abs=1e-12)
    fpr, tpr = roc_curve(actual, scores)
    sk_fpr, sk_tpr, _ = skm.roc_curve(actual, scores, drop_intermediate=False)
    # Spark's curve is sklearn's with (1, 1) appended.
    np.testing.assert_allclose(fpr, np.r_[sk_fpr, 1.0])
    np.testing.assert_allclose(tpr, np.r_[sk_tpr, 1.0])
    precisions, recalls = precision_recall_curve(actual, scores)
    sk_p, sk_r, _ = skm.precision_recall_curve(actual, scores)
    # sklearn: lowest threshold first and a final (recall 0, precision 1); Spark: highest first,
    # starting at (0, precision at the highest score).
    np.testing.assert_allclose(precisions, np.r_[sk_p[-2], sk_p[-2::-1]])
    np.testing.assert_allclose(recalls, np.r_[0.0, sk_r[-2::-1]])


@SETTINGS
@given(st.integers(1, 400), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_multiclass_scores_equal_sklearn(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, k, n)
    predicted = np.where(rng.random(n) < 0.6, actual, rng.integers(0, k, n))
    matrix = confusion_matrix(actual, predicted, k)
    np.testing.assert_array_equal(
        matrix, skm.confusion_matrix(actual, predicted, labels=list(range(k)))
    )
    scores = weighted_scores(matrix)
    kw = {"average": "weighted", "zero_division": 0}
    assert float(scores["accuracy"]) == pytest.approx(skm.accuracy_score(actual, predicted))
    assert float(scores["weighted_recall"]) == pytest.approx(
        skm.recall_score(actual, predicted, **kw)
    )
    assert float(scores["weighted_precision"]) == pytest.approx(
        skm.precision_score(actual, predicted, **kw)
    )
    for key, beta in (("weighted_f0_5", 0.5), ("weighted_f1", 1.0), ("weighted_f2", 2.0)):
        assert float(scores[key]) == pytest.approx(
            skm.fbeta_score(actual, predicted, beta=beta, **kw)
        ), key


@SETTINGS
@given(st.integers(2, 300), st.integers(0, 2**32 - 1), st.booleans())
def test_regression_metrics_equal_sklearn(n: int, seed: int, constant: bool) -> None:
    rng = np.random.default_rng(seed)
    actual = np.full(n, 3.0) if constant else rng.normal(size=n)
    predicted = actual + rng.normal(scale=0.5, size=n)
    got = regression_metrics(actual, predicted)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(actual, predicted))
    assert got["mse"] == pytest.approx(skm.mean_squared_error(actual, predicted))
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(actual, predicted)))
    assert got["r2"] == pytest.approx(skm.r2_score(actual, predicted))


def test_regression_constant_labels_follow_sklearn() -> None:
    actual = np.array([2.0, 2.0, 2.0])
    assert regression_metrics(actual, actual)["r2"] == skm.r2_score(actual, actual) == 1.0
    assert regression_metrics(actual, actual + 1)["r2"] == skm.r2_score(actual, actual + 1)


@SETTINGS
@given(st.integers(1, 400), st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_isotonic_calibration_equals_sklearn(n: int, seed: int, decimals: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(n), decimals)
    outcomes = rng.random(n) < scores
    fitted = fit_isotonic(scores, outcomes)
    reference = IsotonicRegression(out_of_bounds="clip").fit(scores, outcomes.astype(float))
    probe = np.r_[np.linspace(-0.2, 1.2, 57), scores]
    np.testing.assert_allclose(fitted.apply(probe), reference.predict(probe), atol=1e-12)


def test_hosmer_lemeshow_matches_its_formula_and_scipy() -> None:
    from scipy.stats import chi2

    rng = np.random.default_rng(3)
    p = rng.random(1000)
    y = rng.random(1000) < p
    test = hosmer_lemeshow(p, y, groups=10)
    order = np.argsort(p, kind="stable")
    statistic = 0.0
    for part in np.array_split(order, 10):
        o, e = y[part].sum(), p[part].sum()
        statistic += (o - e) ** 2 / (e * (1 - e / part.size))
    assert test.statistic == pytest.approx(statistic)
    assert test.p_value == pytest.approx(chi2.sf(statistic, 10))
    assert test.groups == 10


def test_hosmer_lemeshow_holds_its_level_and_detects_miscalibration() -> None:
    rng = np.random.default_rng(11)
    rejections = 0
    for _ in range(300):
        p = rng.random(500)
        rejections += hosmer_lemeshow(p, rng.random(500) < p).p_value < 0.05
    assert 0.02 <= rejections / 300 <= 0.09
    p = rng.random(500)
    assert hosmer_lemeshow(p, rng.random(500) < p**2).p_value < 1e-6


def test_sagemakers_binary_example_to_the_last_digit() -> None:
    """model-monitor-model-quality-metrics.md: confusion {"0":{"0":1,"1":2},"1":{"0":0,"1":1}}."""
    actual = np.array([False, False, False, True])
    predicted = np.array([False, True, True, True])
    rates = {k: float(v) for k, v in binary_rates(binary_counts(actual, predicted)).items()}
    assert rates["recall"] == 1.0
    assert rates["precision"] == 0.3333333333333333
    assert rates["accuracy"] == 0.5
    assert rates["true_negative_rate"] == 0.33333333333333337  # 1 - fpr, as SageMaker prints
    assert rates["false_positive_rate"] == 0.6666666666666666
    assert rates["false_negative_rate"] == 0.0
    assert rates["f0_5"] == 0.3846153846153846
    assert rates["f1"] == 0.5
    assert rates["f2"] == 0.7142857142857143
    constant = {k: float(v) for k, v in binary_rates((1.0, 3.0, 0.0, 0.0)).items()}
    assert constant["precision"] == 0.25
    assert constant["f0_5"] == 0.29411764705882354
    assert constant["f1"] == 0.4
    assert constant["f2"] == 0.625


def test_sagemakers_multiclass_example() -> None:
    """The same page's multiclass numbers come from this confusion matrix."""
    matrix = np.array([[1180, 510], [268, 138]])
    scores = {k: float(v) for k, v in weighted_scores(matrix).items()}
    assert scores["accuracy"] == pytest.approx(0.6288167938931297, abs=1e-15)
    assert scores["weighted_recall"] == pytest.approx(0.6288167938931297, abs=1e-15)
    assert scores["weighted_precision"] == pytest.approx(0.6983172269629505, abs=1e-15)
    assert scores["weighted_f1"] == pytest.approx(0.6571162346664904, abs=1e-15)
    assert scores["weighted_f0_5"] == pytest.approx(0.6803947317178771, abs=1e-15)
    assert scores["weighted_f2"] == pytest.approx(0.6384024354394601, abs=1e-15)
    always_one = np.array([[0, 1690], [0, 406]])
    constant = {k: float(v) for k, v in weighted_scores(always_one).items()}
    assert constant["accuracy"] == pytest.approx(0.19370229007633588, abs=1e-15)
    assert constant["weighted_precision"] == pytest.approx(0.03752057718081697, abs=1e-15)
    assert constant["weighted_f1"] == pytest.approx(0.06286421244683643, abs=1e-15)
    assert constant["weighted_f2"] == pytest.approx(0.10570313141262414, abs=1e-15)


def test_downsampled_curve_keeps_both_ends() -> None:
    xs = np.linspace(0, 1, 10_001)
    small_x, small_y = downsample_curve(xs, xs**2, 100)
    assert small_x.size == 100
    assert (small_x[0], small_x[-1], small_y[-1]) == (0.0, 1.0, 1.0)
    same_x, _ = downsample_curve(xs[:50], xs[:50], 100)
    assert same_x.size == 50
