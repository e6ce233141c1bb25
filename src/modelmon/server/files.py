"""Serve a stored file (a baseline's or an execution's) by name: only names the record lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelmon.errors import NotFoundError

__all__ = ["file_content"]


def file_content(files: dict[str, Any], name: str, owner: str) -> Any:
    """The JSON of ``files[name]``: kept either as its decoded JSON or as a path to it.

    The name is looked up in the record, never joined onto a directory, so a request cannot
    reach any other file."""
    if name not in files:
        raise NotFoundError(f"{owner} has no file {name!r}; it has {sorted(files)}.")
    stored = files[name]
    if not isinstance(stored, str):
        return stored
    path = Path(stored)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(
            f"The file {name!r} of {owner} is no longer on disk ({path})."
        ) from None
