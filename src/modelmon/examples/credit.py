"""A realistic credit-default data set, generated (seeded) so the demo and tests need no download.

Numeric and categorical features, a protected attribute (``gender``) and a label (``default``)
that depends on the features through a logistic model. ``drifts`` injects production problems:

* ``income_shift``: incomes rise by 40% (a real population change);
* ``unit_change``: ``loan_amount`` arrives in cents instead of dollars (an upstream bug);
* ``missing_scores``: 30% of ``credit_score`` values are missing (a broken feature pipeline);
* ``new_region``: a region the model never saw ("APAC") takes a third of the traffic;
* ``older_applicants``: applicants are ten years older on average.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from modelmon.errors import ConfigError

__all__ = ["CREDIT_DRIFTS", "FEATURES", "generate_credit", "score_credit"]

CREDIT_DRIFTS = ("income_shift", "unit_change", "missing_scores", "new_region", "older_applicants")

FEATURES = (
    "age",
    "income",
    "loan_amount",
    "credit_score",
    "debt_to_income",
    "num_accounts",
    "months_employed",
    "region",
    "home_ownership",
    "purpose",
    "gender",
)

_REGIONS = ["north", "south", "east", "west"]
_REGION_P = [0.35, 0.25, 0.25, 0.15]
_HOME = ["rent", "own", "mortgage"]
_HOME_P = [0.45, 0.2, 0.35]
_PURPOSE = ["car", "home_improvement", "education", "debt_consolidation", "other"]
_PURPOSE_P = [0.25, 0.15, 0.1, 0.35, 0.15]


def generate_credit(rows: int, *, seed: int = 0, drifts: Iterable[str] = ()) -> pa.Table:
    """``rows`` loan applications with the label ``default`` (1 = defaulted)."""
    drift = set(drifts)
    unknown = drift - set(CREDIT_DRIFTS)
    if unknown:
        raise ConfigError(
            f"The 'drifts' parameter of generate_credit must name drifts among "
            f"{', '.join(CREDIT_DRIFTS)}. Got {sorted(unknown)!r} instead."
        )
    if rows < 1:
        raise ConfigError(f"The 'rows' parameter of generate_credit must be >= 1. Got {rows}.")
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(41, 11, rows), 18, 90)
    if "older_applicants" in drift:
        age = np.clip(age + 10, 18, 95)
    income = rng.lognormal(np.log(52_000), 0.45, rows) * (1.4 if "income_shift" in drift else 1.0)
    loan_amount = np.round(rng.gamma(2.2, 6_500, rows), 2)
    credit_score = np.clip(rng.normal(680, 60, rows), 300, 850).round()
    debt_to_income = np.clip(rng.beta(2, 5, rows), 0, 1)
    num_accounts = rng.poisson(4, rows)
    months_employed = rng.geometric(1 / 60, rows) - 1
    regions = _REGIONS + (["APAC"] if "new_region" in drift else [])
    region_p = [p * 2 / 3 for p in _REGION_P] + [1 / 3] if "new_region" in drift else _REGION_P
    region = rng.choice(regions, rows, p=region_p)
    home = rng.choice(_HOME, rows, p=_HOME_P)
    purpose = rng.choice(_PURPOSE, rows, p=_PURPOSE_P)
    gender = rng.choice(["female", "male"], rows, p=[0.48, 0.52])

    # The label depends on the true (undrifted-unit) features, so a unit bug does not move it.
    logit = (
        -1.2
        - 0.012 * (credit_score - 680)
        + 3.0 * (debt_to_income - 0.28)
        + 0.000025 * (loan_amount - 14_300)
        - 0.000006 * (income - 56_000)
        - 0.01 * (age - 41)
        + np.where(home == "rent", 0.3, 0.0)
    )
    default = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)

    if "unit_change" in drift:
        loan_amount = loan_amount * 100
    score_mask = None
    if "missing_scores" in drift:
        score_mask = rng.random(rows) < 0.3
    return pa.table(
        {
            "age": pa.array(age.round().astype(np.int64)),
            "income": pa.array(income.round(2)),
            "loan_amount": pa.array(loan_amount),
            "credit_score": pa.array(credit_score.astype(np.int64), mask=score_mask),
            "debt_to_income": pa.array(debt_to_income.round(4)),
            "num_accounts": pa.array(num_accounts.astype(np.int64)),
            "months_employed": pa.array(months_employed.astype(np.int64)),
            "region": pa.array(region),
            "home_ownership": pa.array(home),
            "purpose": pa.array(purpose),
            "gender": pa.array(gender),
            "default": pa.array(default),
        }
    )


def score_credit(table: pa.Table) -> np.ndarray:
    """The demo's "model": a fixed logistic scorer, the probability of default per row.

    It reads the features as they arrive, so a unit bug or missing values upstream change its
    scores, as they would a real model's (missing scores count as the training mean, 680).
    """
    score = np.nan_to_num(
        table["credit_score"].to_numpy(zero_copy_only=False).astype(float), nan=680
    )
    logit = (
        -1.2
        - 0.012 * (score - 680)
        + 3.0 * (table["debt_to_income"].to_numpy() - 0.28)
        + 0.000025 * (table["loan_amount"].to_numpy() - 14_300)
        - 0.000006 * (table["income"].to_numpy() - 56_000)
    )
    probability: np.ndarray = np.round(1 / (1 + np.exp(-np.clip(logit, -30, 30))), 6)
    return probability
