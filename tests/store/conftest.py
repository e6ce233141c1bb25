"""One store suite, two databases: every test using ``store`` runs on SQLite and PostgreSQL.

PostgreSQL comes from ``.ci/postgres.sh start``, which prints the URI to put in
MODELMON_TEST_POSTGRES_URI. Without it the PostgreSQL cases are skipped locally and fail in CI
(the CI variable is set), so CI can never pass by silently skipping them. Each test gets its own
PostgreSQL schema (a new SQLite file), so tests never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from modelmon.store import Store, open_store


@pytest.fixture
def store_uri(new_store_uri: Callable[[], str]) -> str:
    return new_store_uri()


@pytest.fixture
def store(store_uri: str) -> Iterator[Store]:
    with open_store(store_uri, migrate=True) as store:
        yield store
