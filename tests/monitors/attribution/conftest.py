"""Small models and data to explain, and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from modelmon.cli import main as cli_main

WEIGHTS = (3.0, 2.0, 1.0, 0.5, 0.2, 0.0)
FEATURES = [f"f{i}" for i in range(len(WEIGHTS))]


def _data(rows: int, seed: int, *, flat: str | None = None) -> pd.DataFrame:
    """Features whose importance falls with their index; ``flat`` is held constant (a broken
    upstream feature), which moves it down the ranking."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(WEIGHTS))), columns=FEATURES)
    if flat is not None:
        frame[flat] = 0.0
    return frame


def _label(frame: pd.DataFrame, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logit = (frame.to_numpy() * np.array(WEIGHTS)).sum(axis=1)
    return (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.fixture(scope="session")
def data() -> Callable[..., pd.DataFrame]:
    return _data


@pytest.fixture(scope="session")
def tree_model() -> GradientBoostingClassifier:
    train = _data(1_500, seed=1)
    return GradientBoostingClassifier(n_estimators=30, max_depth=2, random_state=0).fit(
        train, _label(train, 2)
    )


@pytest.fixture(scope="session")
def linear_model() -> LogisticRegression:
    train = _data(1_500, seed=1)
    return LogisticRegression().fit(train.to_numpy(), _label(train, 2))


@pytest.fixture
def run_cli() -> Callable[..., int]:
    """``modelmon`` through its real error handling."""

    def run(*args: str | Path) -> int:
        return cli_main.main([str(a) for a in args])

    return run


@pytest.fixture
def model_file(tmp_path: Path, tree_model: GradientBoostingClassifier) -> Path:
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(tree_model, path)
    return path
