"""``modelmon demo``: the data-quality loop on generated credit data, start to finish.

It writes training data and two production days (one healthy, one with a population shift, a unit
bug, a broken feature pipeline and a new region), baselines the training data, checks both days and
shows what modelmon found. Everything happens under one directory; nothing is downloaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelmon.cli import render
from modelmon.examples import generate_credit
from modelmon.monitors.data_quality import DataQualityMonitor

__all__ = ["register", "run_demo"]

_DRIFTED_DAY = ("income_shift", "unit_change", "missing_scores", "new_region")


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run modelmon end to end on generated credit data",
        description="Baseline generated training data, then check a healthy and a broken day.",
    )
    demo.add_argument(
        "--dir", default="modelmon-demo", help="working directory (default: %(default)s)"
    )
    demo.add_argument(
        "--rows", type=int, default=50_000, help="rows per dataset (default: %(default)s)"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    run_demo(Path(args.dir), rows=args.rows, echo=print)
    return 0


def run_demo(directory: Path, *, rows: int, echo: Any) -> dict[str, list[str]]:
    """Run the story; returns the drifted features found on each day."""
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    train = data / "train.parquet"
    healthy = data / "day1-healthy.csv"
    broken = data / "day2-broken.csv"
    pq.write_table(generate_credit(rows, seed=1), train)
    pacsv.write_csv(generate_credit(rows // 5, seed=2), healthy)
    pacsv.write_csv(generate_credit(rows // 5, seed=3, drifts=_DRIFTED_DAY), broken)
    echo(f"Generated {train}, {healthy} and {broken}.\n")

    monitor = DataQualityMonitor()
    baseline = monitor.baseline(train)
    written = baseline.save(directory / "baseline")
    echo(
        "$ modelmon data-quality baseline --dataset " + f"{train} --output {directory / 'baseline'}"
    )
    echo(render.baseline_summary(baseline.statistics, written) + "\n")

    found: dict[str, list[str]] = {}
    for day in (healthy, broken):
        out = directory / "reports" / day.stem
        result = monitor.check(day, baseline)
        echo(
            f"$ modelmon data-quality check --dataset {day} --baseline {directory / 'baseline'} "
            f"--output {out}"
        )
        echo(render.check_summary(result, result.save(out)) + "\n")
        found[day.stem] = result.drifted_features
    return found
