"""``modelmon data-quality baseline|check``."""

from __future__ import annotations

import argparse
from typing import Any

from modelmon.cli import render
from modelmon.cli.options import (
    add_engine_options,
    add_reading_options,
    add_report_option,
    with_engine,
)
from modelmon.monitors.data_quality import DataQualityMonitor, load_baseline

__all__ = ["register"]


def register(commands: Any) -> None:
    group = commands.add_parser(
        "data-quality",
        help="baseline a dataset, then check others against it",
        description="Data quality: types, completeness, domains and drift, in SageMaker's files.",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    baseline = actions.add_parser(
        "baseline",
        help="profile training data into statistics.json and constraints.json",
        description="Profile a dataset and suggest constraints (SageMaker-compatible files).",
    )
    _dataset_options(baseline)
    baseline.add_argument("--output", required=True, metavar="DIR", help="output directory")
    baseline.add_argument("--comparison-threshold", type=float, default=0.1, metavar="X")
    baseline.add_argument("--comparison-method", choices=("Robust", "Simple"), default="Robust")
    baseline.add_argument("--categorical-comparison-threshold", type=float, metavar="X")
    baseline.add_argument(
        "--categorical-drift-method", choices=("LInfinity", "ChiSquared"), default="LInfinity"
    )
    baseline.add_argument("--datatype-check-threshold", type=float, default=1.0, metavar="X")
    baseline.add_argument("--domain-content-threshold", type=float, default=1.0, metavar="X")
    baseline.add_argument(
        "--allow-mixed-types",
        action="store_true",
        help="treat a column mixing numbers and text as text instead of refusing it",
    )
    baseline.set_defaults(handler=with_engine(_baseline), parser=baseline)

    check = actions.add_parser(
        "check",
        help="check a dataset against a baseline; exit 1 when there are violations",
        description=(
            "Check a dataset against a baseline. Writes statistics.json, "
            "constraint_violations.json and drift_report.json. Exit status: 0 no violations, "
            "1 violations found, 2 bad input or usage."
        ),
    )
    _dataset_options(check)
    check.add_argument("--baseline", metavar="DIR", help="directory with both baseline files")
    check.add_argument("--statistics", metavar="FILE", help="baseline statistics.json")
    check.add_argument("--constraints", metavar="FILE", help="baseline constraints.json")
    check.add_argument("--output", required=True, metavar="DIR", help="output directory")
    check.add_argument(
        "--fdr",
        type=float,
        metavar="Q",
        help="control the false-discovery rate across features at Q (e.g. 0.05)",
    )
    add_report_option(check)
    check.set_defaults(handler=with_engine(_check), parser=check)


def _dataset_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--multivariate",
        action="append",
        default=[],
        choices=("domain_classifier", "pca", "mmd"),
        help="also judge the features jointly with this method (repeatable); the baseline "
        "keeps a row sample for it",
    )
    parser.add_argument(
        "--dataset", required=True, metavar="PATH", help="CSV, Parquet, JSON Lines or a directory"
    )
    add_reading_options(parser)
    parser.add_argument(
        "--workers", type=int, metavar="N", help="threads of the local engine (default: all cores)"
    )
    add_engine_options(parser, work="profile")


def _baseline(args: argparse.Namespace, engine: Any) -> int:
    monitor = DataQualityMonitor(
        comparison_threshold=args.comparison_threshold,
        comparison_method=args.comparison_method,
        categorical_comparison_threshold=args.categorical_comparison_threshold,
        categorical_drift_method=args.categorical_drift_method,
        datatype_check_threshold=args.datatype_check_threshold,
        domain_content_threshold=args.domain_content_threshold,
        dataset_format=args.dataset_format,
        csv_header=args.csv_header,
        allow_mixed_types=args.allow_mixed_types,
        workers=args.workers,
        engine=engine,
        multivariate=tuple(args.multivariate),
    )
    baseline = monitor.baseline(args.dataset)
    written = baseline.save(args.output)
    print(render.baseline_summary(baseline.statistics, written))
    return 0


def _check(args: argparse.Namespace, engine: Any) -> int:
    both_files = args.statistics is not None and args.constraints is not None
    any_file = args.statistics is not None or args.constraints is not None
    if (args.baseline is not None and any_file) or (args.baseline is None and not both_files):
        args.parser.error("give --baseline DIR, or both --statistics FILE and --constraints FILE")
    baseline = load_baseline(
        args.baseline, statistics=args.statistics, constraints=args.constraints
    )
    monitor = DataQualityMonitor(
        dataset_format=args.dataset_format,
        csv_header=args.csv_header,
        workers=args.workers,
        engine=engine,
        multivariate=tuple(args.multivariate),
        fdr=args.fdr,
    )
    result = monitor.check(args.dataset, baseline)
    written = result.save(args.output)
    if args.report:
        from modelmon.reports import data_quality_report, write_html_report

        written.append(write_html_report(args.report, data_quality_report(result, baseline)))
    print(render.check_summary(result, written))
    return 1 if result.has_violations else 0
