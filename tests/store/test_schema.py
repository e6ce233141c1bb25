"""Migrations: empty -> head, refusing old and new schemas, and the schema snapshot.

The snapshot (``schema/<dialect>.txt``) is what a migrated database looks like. If you changed
``_schema.py`` on purpose, add a migration and refresh the snapshot with
``MODELMON_UPDATE_SCHEMA_SNAPSHOT=1 .venv/bin/pytest tests/store/test_schema.py`` (with PostgreSQL
running, see conftest.py), then review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from modelmon.store import SchemaVersionError, open_store
from modelmon.store._migrate import head_revision
from modelmon.store._schema import metadata
from modelmon.store._uri import create_store_engine

SNAPSHOTS = Path(__file__).parent / "schema"
UPDATE_ENV = "MODELMON_UPDATE_SCHEMA_SNAPSHOT"


def dump_schema(engine: Engine) -> str:
    """Tables, columns, keys and indexes as the database reports them, in a stable order."""
    inspector = inspect(engine)
    lines = []
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        lines.append(f"TABLE {table}")
        for column in inspector.get_columns(table):
            type_text = column["type"].compile(dialect=engine.dialect)
            null = "NULL" if column["nullable"] else "NOT NULL"
            lines.append(f"  COLUMN {column['name']} {type_text} {null}")
        pk = inspector.get_pk_constraint(table)
        lines.append(f"  PRIMARY KEY {pk['name']} {pk['constrained_columns']}")
        for unique in sorted(inspector.get_unique_constraints(table), key=lambda u: str(u["name"])):
            lines.append(f"  UNIQUE {unique['name']} {unique['column_names']}")
        for index in sorted(inspector.get_indexes(table), key=lambda i: str(i["name"])):
            if index.get("duplicates_constraint"):
                continue  # PostgreSQL reports each unique constraint's index as well
            kind = "UNIQUE INDEX" if index["unique"] else "INDEX"
            lines.append(f"  {kind} {index['name']} {index['column_names']}")
        for fk in sorted(inspector.get_foreign_keys(table), key=lambda f: str(f["name"])):
            ondelete = fk["options"].get("ondelete", "NO ACTION")
            lines.append(
                f"  FOREIGN KEY {fk['name']} {fk['constrained_columns']} -> "
                f"{fk['referred_table']}{fk['referred_columns']} ON DELETE {ondelete}"
            )
    return "\n".join(lines) + "\n"


def test_migrations_create_the_schema_from_empty(store_uri: str) -> None:
    with open_store(store_uri, migrate=True) as store:
        assert store.engine.dialect.name in ("sqlite", "postgresql")
        tables = set(inspect(store.engine).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_migrating_twice_is_a_no_op(store_uri: str) -> None:
    with open_store(store_uri, migrate=True) as store:
        store.migrate()
        store.check_schema()


def test_an_empty_database_is_refused_without_migrate(store_uri: str) -> None:
    with pytest.raises(SchemaVersionError, match=r"empty database.*migrate=True"):
        open_store(store_uri)


def test_a_migrated_database_opens_without_migrate(store_uri: str) -> None:
    open_store(store_uri, migrate=True).close()
    with open_store(store_uri) as store:
        assert store.models.list_models() == []


def test_a_newer_schema_is_refused(store_uri: str) -> None:
    open_store(store_uri, migrate=True).close()
    engine = create_store_engine(store_uri)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    engine.dispose()
    for migrate in (False, True):
        with pytest.raises(SchemaVersionError, match=r"newer modelmon\. Upgrade modelmon"):
            open_store(store_uri, migrate=migrate)


def test_the_migrations_match_the_metadata(store_uri: str) -> None:
    with open_store(store_uri, migrate=True) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], (
        "src/modelmon/store/_schema.py and the migrations disagree; add a migration for the "
        f"change: {differences}"
    )


def test_fresh_and_migrated_schemas_match_the_snapshot(
    new_store_uri: Callable[[], str],
) -> None:
    migrated_store = open_store(new_store_uri(), migrate=True)
    fresh_engine = create_store_engine(new_store_uri())
    metadata.create_all(fresh_engine)
    migrated, fresh = dump_schema(migrated_store.engine), dump_schema(fresh_engine)
    dialect = fresh_engine.dialect.name
    migrated_store.close()
    fresh_engine.dispose()

    assert migrated == fresh, "the migrations do not create what metadata.create_all creates"
    snapshot = SNAPSHOTS / f"{dialect}.txt"
    if os.environ.get(UPDATE_ENV):
        snapshot.write_text(f"-- revision {head_revision()}\n{migrated}")
    expected = snapshot.read_text() if snapshot.exists() else "(no snapshot yet)"
    assert expected == f"-- revision {head_revision()}\n{migrated}", (
        f"The {dialect} schema differs from {snapshot}. If you changed the schema on purpose, "
        f"add a migration and run `{UPDATE_ENV}=1 .venv/bin/pytest tests/store/test_schema.py` "
        "to update the snapshot, then review its diff."
    )
