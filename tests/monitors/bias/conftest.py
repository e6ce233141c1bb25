"""Credit data with a score, a baseline of it, and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.cli import main as cli_main
from modelmon.examples import generate_credit, score_credit
from modelmon.monitors.bias import BiasBaseline, BiasMonitor, FacetSpec


def _scored(rows: int, seed: int, *, penalty: float = 0.0) -> pa.Table:
    """Credit applications with ``score`` (default probability) and ``prediction`` (score > 0.5);
    ``penalty`` raises women's scores: a model that turned against one group."""
    table = generate_credit(rows, seed=seed)
    score = score_credit(table)
    female = np.asarray(table["gender"].to_pylist()) == "female"
    score = np.clip(score + penalty * female, 0, 1)
    table = table.append_column("score", pa.array(score))
    return table.append_column("prediction", pa.array((score > 0.5).astype(np.int64)))


def _monitor(**options: object) -> BiasMonitor:
    defaults: dict[str, object] = {
        "label": "default",
        "label_values": [1],
        "facets": [FacetSpec("gender", ("female",)), FacetSpec("age", threshold=50.0)],
        "probability_attribute": "score",
        "group_variable": "region",
    }
    return BiasMonitor(**{**defaults, **options})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def credit_baseline() -> BiasBaseline:
    return _monitor().baseline(_scored(20_000, seed=1))


@pytest.fixture
def run_cli() -> Callable[..., int]:
    """``modelmon`` through its real error handling."""

    def run(*args: str | Path) -> int:
        return cli_main.main([str(a) for a in args])

    return run


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.parquet"
    pq.write_table(_scored(5_000, seed=1), path)
    return path


@pytest.fixture(scope="session")
def scored() -> Callable[..., pa.Table]:
    return _scored


@pytest.fixture(scope="session")
def monitor() -> Callable[..., BiasMonitor]:
    return _monitor
