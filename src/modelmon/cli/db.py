"""``modelmon db upgrade``: bring a store's schema up to this version of modelmon."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    group = commands.add_parser("db", help="manage the server's database")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="apply the schema migrations this modelmon needs",
        description="Create or migrate the store's tables (SQLite or PostgreSQL) to this version.",
    )
    upgrade.add_argument(
        "--store",
        default=os.environ.get("MODELMON_STORE"),
        required="MODELMON_STORE" not in os.environ,
        metavar="URI",
        help="sqlite:///PATH or postgresql://... (default: $MODELMON_STORE)",
    )
    upgrade.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from modelmon.store import open_store  # SQLAlchemy loads only for this command

    with open_store(args.store, migrate=True) as store:
        store.check_schema()
    print("The store's schema is up to date.")
    return 0
