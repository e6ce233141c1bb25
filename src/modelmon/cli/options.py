"""Options several monitor commands share: how to read the dataset, which engine runs the work,
and the HTML report of a check."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_engine_options", "add_reading_options", "add_report_option", "with_engine"]


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """``--dataset-format`` and ``--csv-header``, as every dataset reader takes them."""
    parser.add_argument(
        "--dataset-format",
        choices=("csv", "parquet", "jsonl", "sagemaker-capture"),
        help="override the format the extension implies",
    )
    parser.add_argument(
        "--csv-header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether CSV files start with a header row (default: detect)",
    )


def add_engine_options(parser: argparse.ArgumentParser, *, work: str, note: str = "") -> None:
    """``--engine local|spark`` and ``--spark-master``; ``work`` is what the engine does."""
    parser.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help=f"{work} on this machine (default) or on Apache Spark "
        f"(pip install 'modelmon[spark]'{note})",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master for --engine spark: local[N], local[*] (default), spark://HOST:PORT, "
        "yarn, k8s://...",
    )


def add_report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="also write a self-contained HTML report (charts included, no network needed)",
    )


def with_engine(handler: Callable[[argparse.Namespace, Any], int]) -> Callable[..., int]:
    """Run ``handler`` with the chosen engine, and stop a Spark session it started."""

    def run(args: argparse.Namespace) -> int:
        if args.spark_master is not None and args.engine != "spark":
            args.parser.error("--spark-master needs --engine spark")
        if args.engine == "local":
            return handler(args, "local")
        # Spark loads only for the command that asked for it.
        from modelmon.engines.spark import SparkEngine

        engine = SparkEngine(master=args.spark_master)
        try:
            return handler(args, engine)
        finally:
            engine.close()

    return run
