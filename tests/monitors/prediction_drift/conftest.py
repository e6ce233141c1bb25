"""The prediction-drift CLI run as ``modelmon`` runs it: parse, call, map errors to exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from modelmon.cli import prediction_drift
from modelmon.errors import ModelmonError


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="modelmon")
    commands = parser.add_subparsers(dest="command", required=True)
    prediction_drift.register(commands)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except ModelmonError as error:
        print(f"modelmon: error: {error}")
        return error.exit_code
    return code


@pytest.fixture
def run_cli() -> Callable[[list[str]], int]:
    return _run
