"""``modelmon serve`` (the monitoring server) and ``modelmon tokens`` (its API tokens)."""

from __future__ import annotations

import argparse
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_DATA_DIR", "register", "store_uri"]

DEFAULT_DATA_DIR = "modelmon-data"


def _now() -> datetime:
    return datetime.now(UTC)


def _location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("MODELMON_DATA_DIR", DEFAULT_DATA_DIR),
        metavar="DIR",
        help="captures, labels and reports live here (default: $MODELMON_DATA_DIR or "
        "./%(default)s)",
    )
    parser.add_argument(
        "--store",
        default=os.environ.get("MODELMON_STORE"),
        metavar="URI",
        help="sqlite:///PATH or postgresql://... (default: $MODELMON_STORE, else SQLite in the "
        "data directory)",
    )


def store_uri(args: argparse.Namespace) -> str:
    if args.store:
        return str(args.store)
    return f"sqlite:///{Path(args.data_dir).resolve() / 'modelmon.db'}"


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the monitoring server (REST API, dashboard, scheduler)",
        description="Run the monitoring server: REST API under /api/v1, /metrics, /healthz, "
        "OpenAPI at /openapi.json, and the scheduler that runs monitoring executions.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8080, help="port (%(default)s)")
    _location_options(serve)
    serve.add_argument(
        "--tick-interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how often the scheduler looks for due executions (%(default)s)",
    )
    serve.add_argument(
        "--owner",
        default=None,
        help="this instance's name in execution leases (default: host name and process id)",
    )
    serve.set_defaults(handler=_serve)

    tokens = commands.add_parser(
        "tokens",
        help="create, list and revoke the server's API tokens",
        description="API tokens: once one exists, the server's write endpoints require one.",
    )
    actions = tokens.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token and print its secret once")
    create.add_argument("--name", required=True, help="what the token is for")
    _location_options(create)
    create.set_defaults(handler=_create_token)
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    _location_options(listing)
    listing.set_defaults(handler=_list_tokens)
    revoke = actions.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    _location_options(revoke)
    revoke.set_defaults(handler=_revoke_token)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from modelmon.errors import ConfigError
    from modelmon.server import ServerState, create_app
    from modelmon.store import open_store

    if args.tick_interval <= 0:
        raise ConfigError(
            f"The '--tick-interval' option must be positive. Got {args.tick_interval} instead."
        )
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(store_uri(args), migrate=True)
    state = ServerState(
        store,
        data_dir,
        clock=_now,
        owner=args.owner or f"{socket.gethostname()}-{os.getpid()}",
        started_at=_now(),
    )
    app = create_app(state, tick_interval=args.tick_interval)
    print(f"modelmon: serving on http://{args.host}:{args.port} (data in {data_dir.resolve()})")
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        store.close()
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from modelmon.store import open_store

    with open_store(store_uri(args), migrate=True) as store:
        token_id, secret = store.tokens.create_token(args.name, now=_now())
    print(f"Token {token_id} ({args.name}) created. Its secret is shown only now:\n{secret}")
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    from modelmon.store import open_store

    with open_store(store_uri(args), migrate=True) as store:
        tokens = store.tokens.list_tokens()
    for token in tokens:
        state = "revoked" if token.revoked_at else "active"
        print(f"{token.id}\t{token.name}\t{state}\tcreated {token.created_at.isoformat()}")
    if not tokens:
        print("No tokens: the server's write endpoints are open.")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from modelmon.store import open_store

    with open_store(store_uri(args), migrate=True) as store:
        store.tokens.revoke_token(args.id, now=_now())
    print(f"Token {args.id} revoked.")
    return 0
