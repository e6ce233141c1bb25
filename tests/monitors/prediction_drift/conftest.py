"""The prediction-drift CLI run as ``modelmon`` runs it: parse, call, map errors to exit codes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelmon.cli.main import main


@pytest.fixture
def run_cli() -> Callable[[list[str]], int]:
    return main
