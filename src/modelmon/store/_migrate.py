"""Alembic, driven from Python: the migrations ship inside the package, no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from modelmon.errors import SchemaVersionError

__all__ = ["check_revision", "current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # env.py takes the connection from here rather than building an engine from a URL.
    config.attributes["connection"] = connection
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None for a database modelmon never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_revision(engine: Engine) -> None:
    """Refuse a database whose schema is older (migrate it) or newer (upgrade modelmon)."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is not None and not _is_known(current):
        raise SchemaVersionError(_newer_message(current, head))
    raise SchemaVersionError(
        f"The store's schema is at revision {current or 'none (empty database)'} but this "
        f"modelmon needs {head}. Migrate it: `modelmon db upgrade --store URI`, or "
        "open_store(uri, migrate=True)."
    )


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision; a no-op when it is already there."""
    current = current_revision(engine)
    if current is not None and not _is_known(current):
        raise SchemaVersionError(_newer_message(current, head_revision()))
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")


def _is_known(revision: str) -> bool:
    try:
        return _script().get_revision(revision) is not None
    except CommandError:
        return False


def _newer_message(current: str, head: str) -> str:
    return (
        f"The store's schema is at revision {current}, which this modelmon does not know (its "
        f"newest is {head}): the database was migrated by a newer modelmon. Upgrade modelmon."
    )
