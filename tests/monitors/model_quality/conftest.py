"""Scored credit data, simulated calibrated classifiers, and the CLI with model-quality added."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pytest

from modelmon.cli import main as cli_main
from modelmon.cli import model_quality
from modelmon.examples import generate_credit, score_credit


def scored_credit(rows: int, *, seed: int, drifts: Sequence[str] = ()) -> pa.Table:
    """Credit applications with the demo model's ``score``, its ``prediction`` at 0.3 and the
    true ``label``."""
    table = generate_credit(rows, seed=seed, drifts=drifts)
    score = score_credit(table)
    return (
        table.rename_columns([("label" if n == "default" else n) for n in table.column_names])
        .append_column("score", pa.array(score))
        .append_column("prediction", pa.array((score >= 0.3).astype(np.int64)))
    )


def calibrated(rows: int, rng: np.random.Generator, *, shift: float = 0.0) -> pa.Table:
    """A binary classifier whose scores are calibrated probabilities (before ``shift``, which
    is added to the scores after the labels are drawn: calibration drift)."""
    score = rng.beta(2.0, 3.0, rows)
    label = (rng.random(rows) < score).astype(np.int64)
    shown = np.clip(score + shift, 0.0, 1.0)
    return pa.table(
        {
            "score": shown,
            "prediction": (shown >= 0.5).astype(np.int64),
            "label": label,
        }
    )


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``modelmon`` as main() runs it (exit codes, error mapping), with model-quality added
    until the lead registers it in cli/main.py."""
    original = cli_main.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        for action in parser._actions:
            subcommands = isinstance(action, argparse._SubParsersAction)
            if subcommands and "model-quality" not in action.choices:
                model_quality.register(action)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", build)

    def run(*args: object) -> tuple[int, str, str]:
        code = cli_main.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


Calibrated = Callable[..., pa.Table]
Scored = Callable[..., pa.Table]


@pytest.fixture(scope="session")
def make_calibrated() -> Calibrated:
    return calibrated


@pytest.fixture(scope="session")
def make_scored() -> Scored:
    return scored_credit
