"""Send an hour of applications through the proxy, one request per application, concurrently.

Each request carries its own inference id, so the label that arrives later joins exactly its row.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

import aiohttp
import pyarrow as pa

from modelmon.capture.asgi import DEFAULT_ID_HEADER

__all__ = ["Sent", "send_rows"]


@dataclass(frozen=True)
class Sent:
    inference_ids: list[str]
    labels: list[int]
    errors: int


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    # JSON has no NaN: a missing value is sent as null, as an upstream job would.
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in row.items()
    }


async def send_rows(
    session: aiohttp.ClientSession,
    url: str,
    table: pa.Table,
    *,
    id_prefix: str,
    concurrency: int = 8,
) -> Sent:
    """POST each row of ``table`` (its ``default`` column is the label, not sent)."""
    labels = table["default"].to_pylist()
    rows = table.drop_columns(["default"]).to_pylist()
    ids = [f"{id_prefix}-{i:05d}" for i in range(len(rows))]
    gate = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(inference_id: str, row: dict[str, Any]) -> None:
        nonlocal errors
        async with (
            gate,
            session.post(
                f"{url}/invocations",
                json={"instances": [_clean(row)]},
                headers={DEFAULT_ID_HEADER: inference_id},
            ) as response,
        ):
            await response.read()
            if response.status >= 400:
                errors += 1

    await asyncio.gather(*(one(i, r) for i, r in zip(ids, rows, strict=True)))
    return Sent(ids, labels, errors)
