"""Talk to a running ``modelmon serve`` over HTTP: the client half of the CLI's server commands.

Every server command takes ``--server`` (default ``$MODELMON_SERVER`` or http://127.0.0.1:8080)
and ``--token`` (default ``$MODELMON_TOKEN``). The server's 4xx errors become ModelmonErrors with
its message, so they print like any other error and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelmon.errors import ConfigError, ConflictError, ModelmonError, NotFoundError

__all__ = [
    "DEFAULT_SERVER",
    "Handler",
    "add_server_options",
    "call",
    "command",
    "group",
    "print_json",
]

DEFAULT_SERVER = "http://127.0.0.1:8080"
# A server command: calls the API, returns what to print as JSON (None: nothing).
Handler = Callable[[argparse.Namespace], Any]


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        default=os.environ.get("MODELMON_SERVER", DEFAULT_SERVER),
        metavar="URL",
        help="the modelmon server (default: $MODELMON_SERVER or %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("MODELMON_TOKEN"),
        metavar="TOKEN",
        help="API token for writes (default: $MODELMON_TOKEN)",
    )


class ServerError(ModelmonError):
    """The server answered with an error: its status and message are kept."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


def call(
    args: argparse.Namespace,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: Mapping[str, str | Sequence[str] | None] | None = None,
    data: bytes | None = None,
    content_type: str | None = None,
    timeout: float = 300.0,
) -> Any:
    """``method path`` on the server; returns the decoded JSON (None for an empty answer)."""
    query = urllib.parse.urlencode(
        [
            (key, item)
            for key, value in (params or {}).items()
            if value is not None
            for item in ([value] if isinstance(value, str) else value)
        ]
    )
    url = args.server.rstrip("/") + path + (f"?{query}" if query else "")
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        content_type = "application/json"
    if content_type is not None:
        headers["Content-Type"] = content_type
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise _server_error(error) from None
    except urllib.error.URLError as error:
        raise ConfigError(
            f"The server at {args.server} cannot be reached ({error.reason}). Start it with "
            "'modelmon serve' or pass --server URL."
        ) from None
    return json.loads(raw) if raw else None


def _server_error(error: urllib.error.HTTPError) -> ModelmonError:
    raw = error.read()
    try:
        message = json.loads(raw)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = raw.decode("utf-8", "replace")[:500] or error.reason
    text = f"the server answered {error.code}: {message}"
    if error.code == 404:
        return NotFoundError(text)
    if error.code == 409:
        return ConflictError(text)
    if error.code == 422:
        return ConfigError(text)
    return ServerError(error.code, text)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def command(actions: Any, name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
    """A subcommand with the server options whose answer is printed as JSON; exit 0."""
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    add_server_options(parser)

    def run(args: argparse.Namespace) -> int:
        result = handler(args)
        if result is not None:
            print_json(result)
        return 0

    parser.set_defaults(handler=run)
    return parser


def group(commands: Any, name: str, help_text: str, *, dest: str = "action") -> Any:
    """A command grouping subcommands (``modelmon schedules create|list|...``)."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=dest, metavar="ACTION", required=True)
