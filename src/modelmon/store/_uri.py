"""Storage is chosen by URI: the scheme picks the backend, as in mlflow's tracking registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from modelmon.errors import ConfigError

__all__ = ["VALID_SCHEMES", "create_store_engine"]


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    # An in-memory database would be a different, empty database on every pooled connection.
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ConfigError(
            "The store URI must name a database file, as in 'sqlite:////path/to/modelmon.db'. "
            f"Got {url.render_as_string()!r} instead."
        )
    if not Path(database).parent.is_dir():
        raise ConfigError(
            f"The directory of the SQLite store {database!r} does not exist; create it first."
        )
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # Foreign keys are off by default in SQLite; WAL lets readers (the dashboard) run while the
        # scheduler writes; the busy timeout makes a second server instance wait for the write lock
        # instead of failing at once.
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        # 64 MiB of page cache (the default is 2 MiB): points arrive in time order but are kept in
        # series order, so writes touch pages all over the points table.
        cursor.execute("PRAGMA cache_size = -65536")
        cursor.close()

    return engine


def _postgresql_engine(url: URL) -> Engine:
    # psycopg 3 whatever the URI says: SQLAlchemy's default for "postgresql://" is psycopg2.
    return create_engine(url.set(drivername="postgresql+psycopg"), pool_pre_ping=True)


_BUILDERS: dict[str, Callable[[URL], Engine]] = {
    "sqlite": _sqlite_engine,
    "postgresql": _postgresql_engine,
    "postgresql+psycopg": _postgresql_engine,
}
VALID_SCHEMES = tuple(sorted(_BUILDERS))


def create_store_engine(uri: str) -> Engine:
    """The SQLAlchemy engine for ``uri``; an unknown scheme lists the valid ones."""
    try:
        url = make_url(uri)
    except ArgumentError:
        raise ConfigError(
            f"The store URI {uri!r} is not a URI; expected 'scheme://...' with a scheme in "
            f"{list(VALID_SCHEMES)}, e.g. 'sqlite:////var/lib/modelmon/modelmon.db'."
        ) from None
    builder = _BUILDERS.get(url.drivername)
    if builder is None:
        raise ConfigError(
            f"Unexpected URI scheme {url.drivername!r} for the store "
            f"{url.render_as_string(hide_password=True)!r}. "
            f"Valid schemes are: {list(VALID_SCHEMES)}."
        )
    return builder(url)
