"""``modelmon prediction-drift check``: do two versions' predictions agree on the same inputs?"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelmon.cli import render
from modelmon.cli.service_health import window
from modelmon.errors import ConfigError

if TYPE_CHECKING:  # the monitor imports pyarrow compute and scipy; load them when checking only
    from modelmon.monitors.prediction_drift import PredictionDriftResult

__all__ = ["register"]


def register(commands: Any) -> None:
    group = commands.add_parser(
        "prediction-drift",
        help="compare two model versions' predictions on the same inputs",
        description=(
            "Prediction drift between versions: disagreement rate, score distance and rank "
            "correlation, overall and per segment."
        ),
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="compare two prediction columns, or two versions' captures; exit 1 on violations",
        description=(
            "Compare two versions' predictions on the same inputs: two columns of one dataset "
            "(--dataset with --baseline-column and --candidate-column, paired by row), or the "
            "captures of two versions (--captures with --model, --baseline-version, "
            "--candidate-version and --output-column, paired by inference id, as shadow mode "
            "captures them). Writes prediction_drift_report.json and "
            "constraint_violations.json. Exit status: 0 no violations, 1 violations found, "
            "2 bad input or usage."
        ),
    )
    check.add_argument("--dataset", metavar="PATH", help="CSV, Parquet, JSON Lines or a directory")
    check.add_argument(
        "--dataset-format",
        choices=("csv", "parquet", "jsonl"),
        help="override the format the extension implies",
    )
    check.add_argument("--baseline-column", metavar="COL", help="the stable version's predictions")
    check.add_argument("--candidate-column", metavar="COL", help="the new version's predictions")
    check.add_argument("--captures", metavar="DATA_DIR", help="modelmon's data directory")
    check.add_argument("--model", help="the model (with --captures)")
    check.add_argument("--baseline-version", metavar="V", help="the stable version")
    check.add_argument("--candidate-version", metavar="V", help="the new (shadow) version")
    check.add_argument("--output-column", metavar="NAME", help="the captured output to compare")
    check.add_argument(
        "--start", metavar="WHEN", help="window start: an ISO time or a duration ago (2h, 7d)"
    )
    check.add_argument("--end", metavar="WHEN", help="window end (default: all captures)")
    check.add_argument("--segment", metavar="COL", help="break the comparison down by this column")
    check.add_argument("--output", required=True, metavar="DIR", help="output directory")
    check.add_argument(
        "--kind",
        choices=("auto", "label", "score"),
        default="auto",
        help="labels or scores (default: floats are scores)",
    )
    check.add_argument("--max-disagreement", type=float, default=0.05, metavar="X")
    check.add_argument(
        "--decision-threshold",
        type=float,
        metavar="X",
        help="for scores: the positive label from this score up, so label disagreement is "
        "checked too",
    )
    check.add_argument("--max-ks", type=_optional_float, default=0.1, metavar="X|none")
    check.add_argument(
        "--min-rank-correlation", type=_optional_float, default=0.9, metavar="X|none"
    )
    check.add_argument("--max-mean-abs-diff", type=_optional_float, metavar="X|none")
    check.add_argument("--comparison-method", choices=("Robust", "Simple"), default="Robust")
    check.add_argument("--min-rows", type=int, default=30, metavar="N")
    check.add_argument("--max-segments", type=int, default=50, metavar="N")
    check.set_defaults(handler=_check, parser=check)


def _optional_float(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def _check(args: argparse.Namespace) -> int:
    from modelmon.monitors.prediction_drift import PredictionDriftMonitor

    monitor = PredictionDriftMonitor(
        kind=args.kind,
        max_disagreement=args.max_disagreement,
        decision_threshold=args.decision_threshold,
        max_ks=args.max_ks,
        min_rank_correlation=args.min_rank_correlation,
        max_mean_abs_diff=args.max_mean_abs_diff,
        comparison_method=args.comparison_method,
        min_rows=args.min_rows,
        max_segments=args.max_segments,
    )
    if (args.dataset is None) == (args.captures is None):
        args.parser.error("give either --dataset or --captures")
    if args.dataset is not None:
        _require(args, "--dataset", "baseline_column", "candidate_column")
        result = monitor.check_dataset(
            args.dataset,
            args.baseline_column,
            args.candidate_column,
            segment_column=args.segment,
            dataset_format=args.dataset_format,
        )
    else:
        from modelmon.capture import read_captures

        _require(args, "--captures", "model", "baseline_version", "candidate_version")
        _require(args, "--captures", "output_column")
        start, end = window(args)
        tables = [
            read_captures(
                args.captures, args.model, version=v, start=start, end=end, with_labels=False
            )
            for v in (args.baseline_version, args.candidate_version)
        ]
        result = monitor.check_captures(
            tables[0],
            tables[1],
            args.output_column,
            segment_column=args.segment,
            baseline_name=args.baseline_version,
            candidate_name=args.candidate_version,
            source=f"captures of model {args.model!r} under {args.captures}",
        )
    written = result.save(args.output)
    print(_summary(result))
    print(f"Wrote {', '.join(str(p) for p in written)}")
    return 1 if result.has_violations else 0


def _require(args: argparse.Namespace, mode: str, *names: str) -> None:
    missing = ["--" + n.replace("_", "-") for n in names if getattr(args, n) is None]
    if missing:
        raise ConfigError(f"With {mode}, give {' and '.join(missing)} too.")


def _summary(result: PredictionDriftResult) -> str:
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.4g}"

    rows = []
    for group in (result.overall, *result.segments):
        name = "all" if group.segment is None else f"{result.segment_column}={group.segment}"
        labels, scores = group.labels, group.scores
        rows.append(
            [
                name,
                str(group.rows),
                number(None if labels is None else labels.rate),
                number(None if scores is None else scores.mean_abs_diff),
                number(None if scores is None else scores.ks_statistic),
                number(None if scores is None else scores.rank_correlation),
                group.reason or "",
            ]
        )
    header = ["group", "pairs", "disagree", "mean|diff|", "KS", "rank corr", "note"]
    lines = [
        f"Compared {result.candidate_name!r} with {result.baseline_name!r} "
        f"({result.kind}s) in {result.source}: {result.missing_pairs} rows lacked a prediction.",
        render.table(header, rows),
    ]
    if result.segments_skipped:
        lines.append(f"{result.segments_skipped} smaller segments were not compared.")
    lines += [f"VIOLATION {v.feature_name}: {v.description}" for v in result.violations]
    return "\n".join(lines)
