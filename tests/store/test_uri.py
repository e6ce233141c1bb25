from __future__ import annotations

from pathlib import Path

import pytest

from modelmon.errors import ConfigError
from modelmon.store import VALID_SCHEMES, open_store


@pytest.mark.parametrize(
    "uri", ["mysql://user@host/db", "memory://", "file:///tmp/x", "postgres://h/db"]
)
def test_an_unknown_scheme_lists_the_valid_ones(uri: str) -> None:
    with pytest.raises(ConfigError, match=r"Valid schemes are: \['postgresql'") as info:
        open_store(uri)
    for scheme in VALID_SCHEMES:
        assert repr(scheme) in str(info.value)


def test_a_password_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ConfigError, match="Valid schemes") as info:
        open_store("mysql://user:hunter2@host/db")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("uri", ["", "not a uri", "sqlite:", "://nothing"])
def test_a_malformed_uri_is_a_config_error(uri: str) -> None:
    with pytest.raises(ConfigError, match="store"):
        open_store(uri)


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///:memory:"])
def test_sqlite_needs_a_file(uri: str) -> None:
    with pytest.raises(ConfigError, match="must name a database file"):
        open_store(uri)


def test_sqlite_in_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/missing/modelmon.db")
