"""The two ways alerting reaches outside: an HTTP POST of JSON, and a local command.

A command is an argv list run without a shell, so nothing in an alert (a label value, a
feature name) can ever be interpreted as shell syntax. It gets the alert's context twice: as
``MODELMON_ALERT_*`` environment variables (scalars) and as JSON on stdin (everything).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CommandResult",
    "DeliveryError",
    "context_env",
    "post_json",
    "run_command",
]

# Kept in the audit log and error messages: enough to diagnose, bounded in size.
OUTPUT_LIMIT = 4000


class DeliveryError(Exception):
    """A notification or action could not be delivered; the message says why."""


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_LIMIT else "..." + text[-OUTPUT_LIMIT:]


def post_json(
    url: str, payload: Any, *, headers: Mapping[str, str] | None = None, timeout: float
) -> str:
    """POST ``payload`` as JSON; returns the response body. Raises DeliveryError unless 2xx."""
    data = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "modelmon", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _tail(response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        raise DeliveryError(f"POST {url} answered {error.code}: {_tail(body)[:500]}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"POST {url} failed: {reason}") from None


def context_env(context: Mapping[str, Any]) -> dict[str, str]:
    """``MODELMON_ALERT_<KEY>`` for every scalar in ``context``."""
    env = {}
    for key, value in context.items():
        if isinstance(value, str | int | float | bool) or value is None:
            env[f"MODELMON_ALERT_{key.upper()}"] = "" if value is None else str(value)
    return env


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None  # None when it timed out
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def describe(self) -> str:
        if self.exit_code is None:
            return "timed out"
        return f"exit code {self.exit_code}" + (f": {self.stderr.strip()}" if self.stderr else "")


def run_command(
    argv: Sequence[str],
    context: Mapping[str, Any],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``argv`` (no shell) with the context as env vars and JSON on stdin."""
    environment = {**os.environ, **(env or {}), **context_env(context)}
    try:
        completed = subprocess.run(
            list(argv),
            input=json.dumps(context, default=str),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        return CommandResult(None, _text(expired.stdout), _text(expired.stderr))
    except OSError as error:  # not found, not executable
        raise DeliveryError(f"cannot run {argv[0]!r}: {error.strerror or error}") from None
    return CommandResult(completed.returncode, _tail(completed.stdout), _tail(completed.stderr))


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return _tail(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
