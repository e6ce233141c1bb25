"""``modelmon db upgrade`` creates or migrates a store, and names bad URIs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from modelmon.store import open_store


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelmon.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upgrade_creates_a_store_that_opens_without_migrating(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'modelmon.db'}"
    result = run("db", "upgrade", "--store", uri)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    with open_store(uri) as store:
        store.check_schema()
    assert run("db", "upgrade", "--store", uri).returncode == 0  # idempotent


def test_unknown_scheme_exits_2_listing_the_valid_ones() -> None:
    result = run("db", "upgrade", "--store", "mysql://localhost/x")
    assert result.returncode == 2
    assert "sqlite" in result.stderr
    assert "postgresql" in result.stderr
    assert "Traceback" not in result.stderr
