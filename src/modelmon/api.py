"""Top-level conveniences of the public API."""

from __future__ import annotations

from typing import Any

from modelmon.engines.local import profile_dataset
from modelmon.formats.datasets import DatasetFormat, open_dataset
from modelmon.stats.profile import DatasetProfile

__all__ = ["profile"]


def profile(
    data: Any,
    *,
    format: DatasetFormat | None = None,
    csv_header: bool | None = None,
    workers: int | None = None,
) -> DatasetProfile:
    """Profile ``data`` (a path, pandas/polars DataFrame or Arrow table) into a profile."""
    return profile_dataset(
        open_dataset(data, format=format, csv_header=csv_header), workers=workers
    )
