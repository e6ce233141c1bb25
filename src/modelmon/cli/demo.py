"""``modelmon demo``: capture, late labels and data-quality checks on generated credit data.

The story: a credit-default model is trained (baselined) on generated applications, then serves
two days of traffic that modelmon captures hour by hour. Day 1 is healthy. On day 2 incomes rise,
an upstream job starts sending loan amounts in cents, a third of credit scores go missing and a new
region appears. Labels for day 1 arrive later and are joined by inference id. modelmon checks each
day's captured window against the baseline and says what changed. Everything happens under one
directory on embedded defaults; nothing is downloaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from modelmon.cli import render

__all__ = ["register", "run_demo"]

_BROKEN_DAY = ("income_shift", "unit_change", "missing_scores", "new_region")
_DAY1 = datetime(2026, 11, 2, tzinfo=UTC)
_HOURS = 24


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run modelmon end to end on generated credit data",
        description=(
            "Baseline a credit model's training data, capture two days of its traffic (one "
            "healthy, one broken), join late labels, and check each day against the baseline."
        ),
    )
    demo.add_argument(
        "--dir", default="modelmon-demo", help="working directory (default: %(default)s)"
    )
    demo.add_argument(
        "--rows", type=int, default=48_000, help="training rows (default: %(default)s)"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    run_demo(Path(args.dir), rows=args.rows, echo=print)
    return 0


def run_demo(directory: Path, *, rows: int, echo: Callable[[str], Any]) -> dict[str, list[str]]:
    """Run the story; returns the drifted features found on each day."""
    # The statistics stack loads only for the command that needs it.
    from modelmon.capture import (
        Capture,
        capture_features,
        import_labels,
        label_coverage,
        read_captures,
    )
    from modelmon.examples import FEATURES, generate_credit, score_credit
    from modelmon.monitors.data_quality import DataQualityMonitor

    data_dir = directory / "data"
    train = generate_credit(rows, seed=1)
    reference = train.select(list(FEATURES)).append_column(
        "default_probability", pa.array(score_credit(train))
    )
    monitor = DataQualityMonitor()
    baseline = monitor.baseline(reference)
    written = baseline.save(directory / "baseline")
    echo(f"1. Baseline of the training data ({rows} rows), as SageMaker's files:")
    echo(render.baseline_summary(baseline.statistics, written) + "\n")

    days = {"day1-healthy": generate_credit(rows // 4, seed=2)}
    days["day2-broken"] = generate_credit(rows // 4, seed=3, drifts=_BROKEN_DAY)
    with Capture("credit", "v1", data_dir=data_dir) as capture:
        ids = {
            day: _serve(capture, table, _DAY1 + timedelta(days=n), score_credit)
            for n, (day, table) in enumerate(days.items())
        }
    stats = capture.stats
    echo(
        f"2. Captured two days of traffic hour by hour: {stats.written} predictions written "
        f"({stats.dropped} dropped) under {data_dir}/captures/credit/v1/.\n"
    )

    labels = directory / "labels-day1.csv"
    truth = days["day1-healthy"]["default"]
    pacsv.write_csv(pa.table({"inference_id": ids["day1-healthy"], "label": truth}), labels)
    report = import_labels(data_dir, "credit", labels)
    coverage = label_coverage(data_dir, "credit")
    echo(
        f"3. Labels for day 1 arrived: {report.imported} imported from {labels}; "
        f"{coverage.coverage:.0%} of all captured predictions now have a label.\n"
    )

    found: dict[str, list[str]] = {}
    for n, day in enumerate(days):
        start = _DAY1 + timedelta(days=n)
        window = read_captures(data_dir, "credit", start=start, end=start + timedelta(days=1))
        result = monitor.check(capture_features(window), baseline)
        out = directory / "reports" / day
        echo(f"{4 + n}. Check of {day} ({start:%Y-%m-%d}) against the baseline:")
        echo(render.check_summary(result, result.save(out)) + "\n")
        found[day] = result.drifted_features
    echo(
        "The same from the command line: modelmon data-quality baseline|check, "
        "modelmon capture show|stats, modelmon labels import (see README.md)."
    )
    return found


def _serve(
    capture: Any, table: pa.Table, day: datetime, model: Callable[[pa.Table], Any]
) -> list[str]:
    """Score the day's applications hour by hour, as a model server would, and capture them."""
    ids: list[str] = []
    per_hour = -(-table.num_rows // _HOURS)
    for hour in range(_HOURS):
        batch = table.slice(hour * per_hour, per_hour)
        if batch.num_rows == 0:
            break
        features = batch.drop_columns(["default"])  # the label is not known when serving
        outputs = pa.table({"default_probability": model(batch)})
        ids += capture.log_batch(features, outputs, time=day + timedelta(hours=hour, minutes=7))
        # A day replayed in a second outpaces the writer; a live server would not.
        capture.flush()
    return ids
