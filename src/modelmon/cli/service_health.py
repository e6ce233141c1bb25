"""``modelmon service-health baseline|check``: latency, throughput and error rate of captures."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from modelmon.cli import render

# The same WHEN syntax as 'modelmon capture' (durations ago or ISO times).
from modelmon.cli.capture import _moment

__all__ = ["register", "window_arguments"]


def register(commands: Any) -> None:
    group = commands.add_parser(
        "service-health",
        help="latency percentiles, throughput and error rate of captured inferences",
        description=(
            "Service health of a model version from its captured inferences: p50/p90/p99 "
            "latency, throughput and error rate, compared with a benchmark."
        ),
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    baseline = actions.add_parser(
        "baseline",
        help="summarise a healthy window (a load test, the previous version) as a benchmark",
        description=(
            "Summarise the captured inferences of a window known to be healthy into "
            "service_health_baseline.json: a pre-deployment load test captured through "
            "'modelmon proxy', or the previous version's traffic."
        ),
    )
    window_arguments(baseline)
    baseline.add_argument("--output", required=True, metavar="DIR", help="output directory")
    baseline.set_defaults(handler=_baseline, parser=baseline)

    check = actions.add_parser(
        "check",
        help="compare a window with a benchmark; exit 1 when there are violations",
        description=(
            "Summarise a window of captured inferences and compare it with a benchmark. Writes "
            "service_health_report.json and constraint_violations.json. Exit status: 0 no "
            "violations, 1 violations found, 2 bad input or usage."
        ),
    )
    window_arguments(check)
    check.add_argument(
        "--baseline",
        required=True,
        metavar="PATH",
        help="service_health_baseline.json, or the directory holding it",
    )
    check.add_argument("--output", required=True, metavar="DIR", help="output directory")
    check.add_argument(
        "--latency-tolerance",
        type=float,
        default=1.5,
        metavar="X",
        help="a percentile violates above benchmark x X (default: %(default)s)",
    )
    check.add_argument(
        "--error-rate-margin",
        type=float,
        default=0.01,
        metavar="X",
        help="error-rate increase tolerated over the benchmark (default: %(default)s)",
    )
    check.set_defaults(handler=_check, parser=check)


def window_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--captures",
        default=os.environ.get("MODELMON_DATA_DIR"),
        metavar="DATA_DIR",
        help="modelmon's data directory holding captures/ (default: $MODELMON_DATA_DIR)",
    )
    parser.add_argument("--model", required=True, help="the model")
    parser.add_argument("--version", required=True, help="the model version")
    parser.add_argument(
        "--start", metavar="WHEN", help="window start: an ISO time or a duration ago (2h, 7d)"
    )
    parser.add_argument("--end", metavar="WHEN", help="window end (default: all captures)")


def window(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    if args.captures is None:
        args.parser.error("give --captures DATA_DIR (or set MODELMON_DATA_DIR)")
    now = datetime.now(UTC)
    start = None if args.start is None else _moment(args.start, "--start", now)
    end = None if args.end is None else _moment(args.end, "--end", now)
    return start, end


def _read(args: argparse.Namespace) -> tuple[Any, datetime | None, datetime | None, str]:
    from modelmon.capture import read_captures

    start, end = window(args)
    table = read_captures(
        args.captures, args.model, version=args.version, start=start, end=end, with_labels=False
    )
    span = f"{start.isoformat() if start else 'the first capture'} to " + (
        end.isoformat() if end else "the last capture"
    )
    return table, start, end, f"model {args.model!r} version {args.version!r}, {span}"


def _baseline(args: argparse.Namespace) -> int:
    from modelmon.monitors.service_health import ServiceHealthMonitor

    table, start, end, source = _read(args)
    baseline = ServiceHealthMonitor().baseline(table, start=start, end=end, source=source)
    path = baseline.save(args.output)
    print(_summary_text(baseline.summary.to_json(), f"Benchmark of {source}"))
    print(f"Wrote {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from modelmon.monitors.service_health import ServiceHealthMonitor, load_health_baseline

    benchmark = load_health_baseline(args.baseline)
    table, start, end, source = _read(args)
    monitor = ServiceHealthMonitor(
        latency_tolerance=args.latency_tolerance, error_rate_margin=args.error_rate_margin
    )
    result = monitor.check(table, start=start, end=end, benchmark=benchmark, source=source)
    written = result.save(args.output)
    print(_summary_text(result.summary.to_json(), f"Service health of {source}"))
    for violation in result.violations:
        print(f"VIOLATION {violation.feature_name}: {violation.description}")
    print(f"{len(result.violations)} violations. Wrote {', '.join(str(p) for p in written)}")
    return 1 if result.has_violations else 0


def _summary_text(summary: dict[str, Any], title: str) -> str:
    def show(value: object, unit: str = "") -> str:
        return "-" if value is None else f"{value:.4g}{unit}"

    latency = summary["latency_ms"]
    rows = [[name, show(latency.get(name), " ms")] for name in ("p50", "p90", "p99")]
    rows.append(["throughput", show(summary["throughput_per_min"], "/min")])
    rate = summary["error_rate"]
    rows.append(["error rate", "-" if rate is None else f"{100 * rate:.3g}%"])
    lines = [f"{title}: {summary['records']} inferences", render.table(["metric", "value"], rows)]
    lines += [f"  {name}: {reason}" for name, reason in summary["not_evaluated"].items()]
    return "\n".join(lines)
