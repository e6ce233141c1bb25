"""One store suite, two databases: every test using ``store`` runs on SQLite and PostgreSQL.

PostgreSQL comes from ``.ci/postgres.sh start``, which prints the URI to put in
MODELMON_TEST_POSTGRES_URI. Without it the PostgreSQL cases are skipped locally and fail in CI
(the CI variable is set), so CI can never pass by silently skipping them. Each test gets its own
PostgreSQL schema (a new SQLite file), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from modelmon.store import Store, open_store

POSTGRES_ENV = "MODELMON_TEST_POSTGRES_URI"


def _postgres_base_uri() -> str:
    uri = os.environ.get(POSTGRES_ENV)
    if uri:
        return uri
    how = f'export {POSTGRES_ENV}="$(.ci/postgres.sh start)"'
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {POSTGRES_ENV} is not: {how} before pytest.")
    pytest.skip(f"PostgreSQL store tests need {POSTGRES_ENV}; run: {how}")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store_uri(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Callable[[], str]]:
    """A factory of URIs of empty databases of the parametrized kind."""
    if request.param == "sqlite":
        counter = iter(range(1_000))
        yield lambda: f"sqlite:///{tmp_path}/store{next(counter)}.db"
        return
    base = make_url(_postgres_base_uri())
    admin = create_engine(base.set(drivername="postgresql+psycopg"))
    created: list[str] = []

    def new_uri() -> str:
        # The name is generated here, never user input, so it can be spliced into the DDL.
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        created.append(schema)
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield new_uri
    with admin.begin() as connection:
        for schema in created:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store_uri(new_store_uri: Callable[[], str]) -> str:
    return new_store_uri()


@pytest.fixture
def store(store_uri: str) -> Iterator[Store]:
    with open_store(store_uri, migrate=True) as store:
        yield store
