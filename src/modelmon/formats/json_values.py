"""JSON values as the readers hold them: their type, strict decoding and compact text."""

from __future__ import annotations

import json
from typing import TypeAlias

__all__ = ["JsonValue", "compact_json", "load_json"]

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


def load_json(text: str) -> JsonValue:
    """``text`` decoded as JSON.

    Raises json.JSONDecodeError when it is not JSON, and UnicodeEncodeError when it holds a lone
    surrogate escape (like ``\\ud800``): that is not valid Unicode, and Arrow cannot store it.
    """
    value: JsonValue = json.loads(text)
    if "\\u" in text:  # only an escape can spell a lone surrogate
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


def compact_json(value: JsonValue) -> str:
    """``value`` as JSON text without spaces, non-ASCII characters as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
