"""Shared plumbing for the peer scripts: arguments, loading, timing, the JSON result line.

Each peer script runs in its own virtual environment (benchmarks/.venvs/<peer>) and only
imports numpy/pyarrow (always there) plus, lazily, pandas. It prints exactly one JSON line:

    {"tool", "rows", "load_s", "drift_s", "total_s", "peak_rss_mb", "flagged", "per_column"}

``peak_rss_mb`` here is the script's own getrusage figure; the runner replaces it with the
one it measures on the child process.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


@dataclass
class Run:
    """One peer run: inputs, column kinds, timings, and per-column verdicts."""

    tool: str
    reference: Path
    current: Path
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    per_column: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return self.numeric + self.categorical

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    def verdict(
        self, column: str, stat: str, value: float | None, drift: bool, threshold: Any = None
    ) -> None:
        entry = {"stat": stat, "value": _num(value), "drift": bool(drift)}
        if threshold is not None:
            entry["threshold"] = _num(threshold)
        self.per_column[column] = entry

    def load_arrow(self) -> tuple[pa.Table, pa.Table]:
        with self.timed("load"):
            return pq.read_table(self.reference), pq.read_table(self.current)

    def load_pandas(self) -> tuple[Any, Any]:
        """Both files as pandas DataFrames (pyarrow engine, numpy-backed dtypes)."""
        import pandas as pd

        with self.timed("load"):
            return pd.read_parquet(self.reference), pd.read_parquet(self.current)

    def emit(self, rows: int) -> None:
        load_s = self.timings.get("load", 0.0)
        drift_s = self.timings.get("drift", 0.0)
        result = {
            "tool": self.tool,
            "rows": rows,
            "load_s": round(load_s, 3),
            "drift_s": round(drift_s, 3),
            "total_s": round(load_s + drift_s, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "flagged": [c for c in self.columns if self.per_column.get(c, {}).get("drift")],
            "per_column": self.per_column,
        }
        print(json.dumps(result), flush=True)


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def start(tool: str) -> Run:
    """Parse ``--reference``/``--current`` and read the column kinds from the Parquet schema.

    String (and dictionary) columns are categorical; every other column is numeric.
    """
    parser = argparse.ArgumentParser(description=f"{tool} drift benchmark peer")
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--current", type=Path, required=True)
    args = parser.parse_args()
    run = Run(tool, args.reference, args.current)
    for f in pq.read_schema(args.reference):
        is_cat = pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        is_cat = is_cat or pa.types.is_dictionary(f.type)
        (run.categorical if is_cat else run.numeric).append(f.name)
    return run


def main(tool: str, body: Callable[[Run], int]) -> None:
    """Run ``body`` (which loads, computes verdicts and returns the row count) and emit."""
    run = start(tool)
    rows = body(run)
    run.emit(rows)
