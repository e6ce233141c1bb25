"""Shared plumbing for the detection-quality peer scripts (run in the peers' own venvs).

Input (written by benchmarks/detection_quality.py): ``--reference`` and ``--windows`` Parquet
files; the windows file holds every window of one size one after another, each exactly
``--window-rows`` rows, with its id in the ``__window`` column. String columns are categorical.
Output: one JSON line ``{"tool", "seconds", "flags": {window id: [drifted column, ...]}}``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

WINDOW = "__window"


def main(
    tool: str, detect: Callable[[Any, Any, list[str], list[str], int], dict[int, list[str]]]
) -> None:
    parser = argparse.ArgumentParser(description=f"{tool} detection-quality peer")
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--windows", type=Path, required=True)
    parser.add_argument("--window-rows", type=int, required=True)
    args = parser.parse_args()
    schema = pq.read_schema(args.reference)
    numeric, categorical = [], []
    for f in schema:
        is_text = pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        (categorical if is_text else numeric).append(f.name)
    reference = pq.read_table(args.reference).to_pandas()
    windows = pq.read_table(args.windows).to_pandas()
    start = time.perf_counter()
    flags = detect(reference, windows, numeric, categorical, args.window_rows)
    seconds = time.perf_counter() - start
    print(json.dumps({"tool": tool, "seconds": round(seconds, 3), "flags": flags}), flush=True)
