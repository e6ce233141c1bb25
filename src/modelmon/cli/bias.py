"""``modelmon bias baseline|check``: Clarify's bias metrics, and their drift per window."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from modelmon.cli.options import add_reading_options
from modelmon.errors import ConfigError

__all__ = ["register"]


class _Facet(argparse.Action):
    """``--facet NAME`` starts a facet; ``--facet-value``/``--facet-threshold`` qualify the last."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        facets: list[dict[str, Any]] = list(getattr(namespace, "facets", None) or [])
        if option_string == "--facet":
            facets.append({"name": values, "values": []})
        elif not facets:
            parser.error(f"{option_string} must follow a --facet NAME")
        elif option_string == "--facet-value":
            facets[-1]["values"].append(values)
        else:
            try:
                facets[-1]["threshold"] = float(str(values))
            except ValueError:
                parser.error(f"{option_string} must be a number, got {values!r}")
        namespace.facets = facets


def register(commands: Any) -> None:
    group = commands.add_parser(
        "bias",
        help="bias metrics of a dataset, then their drift in others",
        description="Bias drift with SageMaker Clarify's metrics and files.",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    baseline = actions.add_parser(
        "baseline",
        help="compute the bias metrics of training data into analysis.json",
        description=(
            "Compute Clarify's pre-training (and, given predictions, post-training) bias metrics. "
            "Writes analysis.json and analysis_config.json."
        ),
    )
    _options(baseline, required=True)
    baseline.set_defaults(handler=_baseline)
    check = actions.add_parser(
        "check",
        help="judge a dataset's bias metrics against a baseline; exit 1 on violations",
        description=(
            "Compute the bias metrics of a dataset with bootstrap confidence intervals and judge "
            "them against the baseline: a metric violates when its interval lies outside the "
            "allowed range. Options not given are taken from the baseline. Writes analysis.json, "
            "constraint_violations.json and bias_drift_report.json. Exit status: 0 no "
            "violations, 1 violations found, 2 bad input or usage."
        ),
    )
    _options(check, required=False)
    check.add_argument("--baseline", required=True, metavar="DIR", help="the baseline directory")
    check.add_argument("--confidence", type=float, default=0.95, metavar="X")
    check.add_argument(
        "--correction",
        choices=("bonferroni", "none"),
        default="bonferroni",
        help="confidence for the whole check (default) or for each metric",
    )
    check.add_argument("--resamples", type=int, default=1000, metavar="N", help="bootstrap size")
    check.add_argument(
        "--allowed-range",
        action="append",
        default=[],
        metavar="METRIC=LOW,HIGH",
        help="allowed range of a metric (default: no farther from fair than the baseline)",
    )
    check.set_defaults(handler=_check)


def _options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--dataset", required=True, metavar="PATH", help="CSV, Parquet, JSON Lines or a directory"
    )
    add_reading_options(parser)
    parser.add_argument("--output", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--label", required=required, metavar="COLUMN", help="observed label")
    parser.add_argument(
        "--label-value",
        action="append",
        default=[],
        metavar="VALUE",
        help="a positive label value (repeat for several)",
    )
    parser.add_argument(
        "--label-threshold", type=float, metavar="X", help="labels above X are positive"
    )
    parser.add_argument(
        "--facet",
        action=_Facet,
        dest="facets",
        metavar="COLUMN",
        help="a sensitive column (repeat for several facets); without a value every distinct "
        "value is a facet",
    )
    parser.add_argument(
        "--facet-value",
        action=_Facet,
        dest="facets",
        metavar="VALUE",
        help="a value of the last --facet (repeat for several); one number for a continuous "
        "column is a threshold, as in Clarify",
    )
    parser.add_argument(
        "--facet-threshold",
        action=_Facet,
        dest="facets",
        metavar="X",
        help="the last --facet selects values above X",
    )
    predictions = parser.add_mutually_exclusive_group()
    predictions.add_argument("--predicted-label", metavar="COLUMN", help="predicted labels")
    predictions.add_argument(
        "--probability-attribute", metavar="COLUMN", help="scores; above the threshold is positive"
    )
    parser.add_argument("--probability-threshold", type=float, metavar="X", help="default 0.5")
    parser.add_argument("--group-variable", metavar="COLUMN", help="subgroups for CDDL/CDDPL")
    parser.add_argument("--min-count", type=int, default=10, metavar="N")


def _monitor(args: argparse.Namespace, **extra: Any) -> Any:
    from modelmon.monitors.bias import BiasMonitor

    return BiasMonitor(
        label=args.label,
        label_values=args.label_value,
        label_threshold=args.label_threshold,
        facets=args.facets or (),
        predicted_label=args.predicted_label,
        probability_attribute=args.probability_attribute,
        probability_threshold=args.probability_threshold,
        group_variable=args.group_variable,
        min_count=args.min_count,
        dataset_format=args.dataset_format,
        csv_header=args.csv_header,
        **extra,
    )


def _baseline(args: argparse.Namespace) -> int:
    baseline = _monitor(args).baseline(args.dataset)
    written = baseline.save(args.output)
    facets = sum(len(v) for _, s in baseline.analysis.stages()[:1] for v in s.facets.values())
    print(f"Baselined bias metrics for {facets} facet value(s).")
    for path in written:
        print(f"  wrote {path}")
    return 0


def _allowed_ranges(texts: list[str]) -> dict[str, tuple[float, float]]:
    ranges = {}
    for text in texts:
        metric, _, bounds = text.partition("=")
        low, _, high = bounds.partition(",")
        try:
            ranges[metric.strip()] = (float(low), float(high))
        except ValueError:
            raise ConfigError(
                f"--allowed-range must look like METRIC=LOW,HIGH (DPPL=-0.1,0.1). Got {text!r}."
            ) from None
    return ranges


def _check(args: argparse.Namespace) -> int:
    monitor = _monitor(
        args,
        confidence=args.confidence,
        correction=args.correction,
        resamples=args.resamples,
        allowed_ranges=_allowed_ranges(args.allowed_range),
    )
    result = monitor.check(args.dataset, args.baseline)
    written = result.save(args.output)
    print(result.exit_message())
    for drift in result.drift:
        if drift.violated:
            low, high = drift.interval or (drift.value, drift.value)
            print(
                f"  {drift.point_label} {drift.metric}: {drift.value:.4g} "
                f"(interval {low:.4g}..{high:.4g}) outside {drift.allowed[0]:.4g}.."
                f"{drift.allowed[1]:.4g} (baseline {drift.baseline:.4g})"
            )
    insufficient = len(result.insufficient)
    if insufficient:
        print(f"  {insufficient} metric(s) had insufficient data in this dataset")
    for path in written:
        print(f"  wrote {path}")
    return 1 if result.has_violations else 0
