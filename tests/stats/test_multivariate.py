"""Multivariate drift against scikit-learn and direct numpy computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import pdist
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from modelmon.stats import multivariate as mv

CORRELATED = np.array([[1.0, 0.8], [0.8, 1.0]])
ANTI = np.array([[1.0, -0.8], [-0.8, 1.0]])


def _normal(seed: int, rows: int, cov: np.ndarray = CORRELATED) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal(np.zeros(len(cov)), cov, rows)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(2, 80), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])),
    st.integers(0, 2**32 - 1),
)
def test_roc_auc_matches_sklearn_with_ties(scores: np.ndarray, seed: int) -> None:
    labels = np.random.default_rng(seed).integers(0, 2, scores.size)
    labels[0], labels[-1] = 0, 1
    assert mv.roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_auc_null_se_matches_simulation() -> None:
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(60), np.ones(40)]
    aucs = [mv.roc_auc(rng.random(100), labels) for _ in range(3000)]
    assert np.std(aucs) == pytest.approx(mv.auc_null_se(60, 40), rel=0.06)


def test_domain_classifier_finds_a_broken_correlation() -> None:
    result = mv.domain_classifier(_normal(1, 1500), _normal(2, 1500, ANTI), ["a", "b"])
    assert result.drift
    assert result.auc > 0.8
    assert {name for name, _ in result.top_features} == {"a", "b"}
    assert len(result.fold_aucs) == 5
    assert result.pvalue < 1e-6


def test_domain_classifier_is_quiet_on_unchanged_data_and_names_the_shifted_feature() -> None:
    null = mv.domain_classifier(_normal(1, 1000), _normal(2, 800), ["a", "b"])
    assert not null.drift
    assert abs(null.auc - 0.5) < 0.05
    assert null.threshold == pytest.approx(0.6)
    rng = np.random.default_rng(3)
    base, now = rng.normal(size=(1000, 4)), rng.normal(size=(1000, 4))
    now[:, 2] += 1.0
    groups = ["w", "x", "y", "y"]  # two columns of one feature are shuffled together
    shifted = mv.domain_classifier(base, now, groups)
    assert shifted.drift
    assert shifted.top_features[0][0] == "y"


def test_domain_classifier_threshold_grows_on_small_samples() -> None:
    result = mv.domain_classifier(_normal(1, 60), _normal(2, 60), ["a", "b"], alpha=0.003)
    assert result.threshold == pytest.approx(0.5 + 2.7478 * mv.auc_null_se(60, 60), rel=1e-3)
    assert result.threshold > 0.6


def test_pca_reconstruction_errors_match_sklearn() -> None:
    rng = np.random.default_rng(5)
    fit = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5)) * [1, 2, 3, 4, 5] + 7
    data = rng.normal(size=(50, 5)) * 3
    errors, k = mv.pca_reconstruction_errors(fit, data, 0.65)
    mean, std = fit.mean(axis=0), fit.std(axis=0)
    pca = PCA(n_components=0.65, svd_solver="full").fit((fit - mean) / std)
    scaled = (data - mean) / std
    expected = np.linalg.norm(scaled - pca.inverse_transform(pca.transform(scaled)), axis=1)
    assert k == pca.n_components_
    np.testing.assert_allclose(errors, expected, rtol=1e-9, atol=1e-9)


def test_pca_reconstruction_verdicts() -> None:
    null = mv.pca_reconstruction(_normal(1, 2000), _normal(2, 500))
    assert not null.drift
    assert null.lower < null.current_error < null.upper
    broken = mv.pca_reconstruction(_normal(1, 2000), _normal(2, 500, ANTI))
    assert broken.drift
    assert broken.relative_change > 1.0
    assert broken.components == 1


def test_mmd2_unbiased_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(12, 3)), rng.normal(0.5, 1.0, size=(9, 3))
    sigma = 1.3

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.exp(-((a - b) ** 2).sum() / (2 * sigma**2)))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a, b) for a in x for b in y) / (n * m)
    assert mv.mmd2_unbiased(x, y, sigma) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_median_bandwidth_matches_scipy_pdist() -> None:
    x = np.random.default_rng(2).normal(size=(40, 3))
    assert mv.median_bandwidth(x) == pytest.approx(np.median(pdist(x)), rel=1e-9)
    assert mv.median_bandwidth(np.ones((5, 2))) == 1.0


def test_mmd_test_statistic_and_verdicts() -> None:
    a, b = _normal(1, 300), _normal(2, 200, ANTI)
    result = mv.mmd_test(a, b, permutations=100)
    pooled = np.vstack([a, b])
    assert result.bandwidth == pytest.approx(mv.median_bandwidth(pooled))
    assert result.mmd2 == pytest.approx(mv.mmd2_unbiased(a, b, result.bandwidth), rel=1e-9)
    assert result.drift
    assert result.pvalue == pytest.approx(1 / 101)
    assert not mv.mmd_test(_normal(3, 300), _normal(4, 200)).drift


def test_mmd_test_false_alarm_rate_is_near_alpha() -> None:
    alarms = sum(
        mv.mmd_test(_normal(s, 60), _normal(1000 + s, 60), permutations=99, alpha=0.05).drift
        for s in range(60)
    )
    assert alarms <= 8  # 3 expected at alpha 0.05; 8 is beyond three standard errors


def test_mmd_test_bounds_its_sample() -> None:
    result = mv.mmd_test(_normal(1, 3000), _normal(2, 50), max_rows=200, permutations=20)
    assert (result.n_reference, result.n_current) == (200, 50)


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="NaN"):
        mv.mmd_test(np.array([[0.0], [np.nan]]), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        mv.pca_reconstruction_errors(np.zeros((1, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="must agree"):
        mv.domain_classifier(np.zeros((10, 2)), np.zeros((10, 2)), ["a"])
    with pytest.raises(ValueError, match="both classes"):
        mv.roc_auc([0.1, 0.2], [1, 1])
