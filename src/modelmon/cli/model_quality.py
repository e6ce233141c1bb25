"""``modelmon model-quality baseline|check``.

Exit status of ``check``: 0 no violations (or no labels yet: performance is then estimated), 1
violations found, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmon.cli import render
from modelmon.cli.options import (
    add_engine_options,
    add_reading_options,
    add_report_option,
    with_engine,
)

if TYPE_CHECKING:  # the monitor pulls in numpy and scipy; only its commands load it
    from modelmon.monitors.model_quality import (
        ModelQualityBaseline,
        ModelQualityMonitor,
        ModelQualityResult,
    )

__all__ = ["register"]

_PROBLEM_TYPES = ("Regression", "BinaryClassification", "MulticlassClassification")


def register(commands: Any) -> None:
    group = commands.add_parser(
        "model-quality",
        help="measure a model's quality from labels; estimate it before they arrive",
        description=(
            "Model quality: SageMaker's metrics and constraints from labelled data, per segment, "
            "and estimated performance (CBPE) for classifiers whose labels have not arrived."
        ),
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    baseline = actions.add_parser(
        "baseline",
        help="measure labelled validation data into statistics.json and constraints.json",
        description=(
            "Measure labelled validation data and suggest constraints (SageMaker-compatible "
            "files; calibration.json too when there is a probability attribute)."
        ),
    )
    _options(baseline, problem_required=True)
    baseline.add_argument(
        "--constraint-tolerance",
        type=float,
        default=3.0,
        metavar="K",
        help="suggested thresholds lie K baseline standard deviations from the baseline value",
    )
    baseline.set_defaults(handler=with_engine(_baseline), parser=baseline)

    check = actions.add_parser(
        "check",
        help="measure a dataset against a baseline; exit 1 when there are violations",
        description=(
            "Measure a dataset against a baseline's constraints (overall and per segment) and "
            "estimate its performance. Writes statistics.json, constraint_violations.json, "
            "segments.json and estimated_performance.json. Without labels, only the estimate "
            "is made. Exit status: 0 no violations, 1 violations found, 2 bad input or usage."
        ),
    )
    _options(check, problem_required=False)
    check.add_argument("--baseline", required=True, metavar="DIR", help="baseline directory")
    add_report_option(check)
    check.set_defaults(handler=with_engine(_check), parser=check)


def _options(parser: argparse.ArgumentParser, *, problem_required: bool) -> None:
    parser.add_argument(
        "--dataset", required=True, metavar="PATH", help="CSV, Parquet, JSON Lines or a directory"
    )
    parser.add_argument("--output", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--problem-type",
        choices=_PROBLEM_TYPES,
        required=problem_required,
        help="the model's problem type"
        + ("" if problem_required else " (default: the baseline's)"),
    )
    parser.add_argument(
        "--inference-attribute", metavar="COLUMN", help="column of the model's predictions"
    )
    parser.add_argument(
        "--probability-attribute",
        metavar="COLUMN",
        help="column of P(label 1) (binary) or of the predicted class's probability (multiclass)",
    )
    parser.add_argument(
        "--probability-threshold",
        type=float,
        default=0.5,
        metavar="X",
        help="binary without --inference-attribute: predict 1 when probability >= X",
    )
    parser.add_argument(
        "--ground-truth-attribute",
        default="label",
        metavar="COLUMN",
        help="column of the labels (default: %(default)s)",
    )
    parser.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="COLUMN",
        help="also measure per value of COLUMN (repeatable)",
    )
    parser.add_argument(
        "--classes",
        metavar="A,B,...",
        help="the declared classes of a multiclass model (default: the baseline's)",
    )
    add_reading_options(parser)
    add_engine_options(
        parser, work="measure", note="; no segments or estimated performance there yet"
    )


def _monitor(args: argparse.Namespace, problem_type: str, **extra: Any) -> ModelQualityMonitor:
    from modelmon.monitors.model_quality import ModelQualityMonitor

    classes = None if args.classes is None else [c for c in args.classes.split(",") if c]
    return ModelQualityMonitor(
        problem_type,
        inference_attribute=args.inference_attribute,
        probability_attribute=args.probability_attribute,
        probability_threshold=args.probability_threshold,
        ground_truth_attribute=args.ground_truth_attribute,
        segments=args.segment,
        classes=classes,
        dataset_format=args.dataset_format,
        csv_header=args.csv_header,
        **extra,
    )


def _baseline(args: argparse.Namespace, engine: Any) -> int:
    monitor = _monitor(
        args, args.problem_type, constraint_tolerance=args.constraint_tolerance, engine=engine
    )
    baseline = monitor.baseline(args.dataset)
    written = baseline.save(args.output)
    print(baseline_summary(baseline, written))
    return 0


def _check(args: argparse.Namespace, engine: Any) -> int:
    from modelmon.monitors.model_quality import load_model_quality_baseline

    baseline = load_model_quality_baseline(args.baseline)
    monitor = _monitor(args, args.problem_type or baseline.problem_type, engine=engine)
    result = monitor.check(args.dataset, baseline)
    written = result.save(args.output)
    if args.report:
        from datetime import UTC, datetime

        from modelmon.formats.atomic import atomic_file
        from modelmon.reports.model_quality import render_model_quality_report

        page = render_model_quality_report(result, baseline, generated_at=datetime.now(UTC))
        with atomic_file(args.report) as sink:
            sink.write(page.encode("utf-8"))
        written = [*written, Path(args.report)]
    print(check_summary(result, written))
    return 1 if result.has_violations else 0


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4g}"


def baseline_summary(baseline: ModelQualityBaseline, written: Sequence[Path]) -> str:
    statistics = baseline.statistics
    rows = []
    for name, metric in statistics.metrics.items():
        constraint = baseline.constraints.constraints.get(name)
        rule = (
            ""
            if constraint is None
            else f"{constraint.comparison_operator} {constraint.threshold:.4g}"
        )
        rows.append([name, _number(metric.value), _number(metric.standard_deviation), rule])
    return (
        f"{statistics.problem_type} baseline of {statistics.item_count} labelled rows.\n"
        + render.table(["metric", "value", "std", "violation when"], rows)
        + "\nWrote "
        + ", ".join(str(p) for p in written)
    )


def check_summary(result: ModelQualityResult, written: Sequence[Path]) -> str:
    lines = [
        f"Checked {result.item_count} rows of {result.source} ({result.labelled_count} labelled)."
    ]
    if result.statistics is not None:
        rows = [[n, _number(m.value)] for n, m in result.statistics.metrics.items()]
        lines.append(render.table(["metric", "value"], rows))
    if result.estimate is not None:
        level = f"{result.estimate.confidence_level:.0%}"
        rows = [
            [n, _number(m.value), f"[{_number(m.lower)}, {_number(m.upper)}]"]
            for n, m in result.estimate.metrics.items()
        ]
        lines.append("\nEstimated performance (CBPE):")
        lines.append(render.table(["metric", "estimate", f"{level} interval"], rows))
        lines.extend(f"warning: {w}" for w in result.estimate.warnings)
    if result.violations:
        lines.append(f"\n{len(result.violations)} violations:")
        rows = [[v.metric_name, v.constraint_check_type, v.description] for v in result.violations]
        lines.append(render.table(["metric", "check", "description"], rows))
    lines.append("\n" + result.exit_message())
    lines.append("Wrote " + ", ".join(str(p) for p in written))
    return "\n".join(lines)
