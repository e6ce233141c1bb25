"""``modelmon attribution baseline|check``: global SHAP rankings and their drift (NDCG)."""

from __future__ import annotations

import argparse
from typing import Any

from modelmon.cli.options import add_reading_options

__all__ = ["register"]


def register(commands: Any) -> None:
    group = commands.add_parser(
        "attribution",
        help="explain a model with SHAP, then watch its feature ranking drift",
        description="Feature-attribution drift: global SHAP values compared by NDCG (Clarify).",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    baseline = actions.add_parser(
        "baseline",
        help="global SHAP values of the model on training data into analysis.json",
        description=(
            "Explain the model on a dataset (exact tree SHAP for tree models, kernel SHAP "
            "otherwise). Writes analysis.json and analysis_config.json."
        ),
    )
    _options(baseline)
    baseline.add_argument(
        "--feature",
        action="append",
        dest="features",
        metavar="COLUMN",
        help="a model input column (repeat; default: the model's own names, else every column)",
    )
    baseline.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COLUMN",
        help="a column that is not a model input, e.g. the label (repeat)",
    )
    baseline.add_argument("--method", choices=("auto", "tree", "kernel"), default=None)
    baseline.add_argument("--agg-method", choices=("mean_abs", "median", "mean_sq"), default=None)
    baseline.add_argument("--background-size", type=int, metavar="N", help="kernel SHAP (50)")
    baseline.add_argument("--label-header", action="append", dest="label_headers", metavar="NAME")
    baseline.set_defaults(handler=_baseline)
    check = actions.add_parser(
        "check",
        help="compare the model's SHAP ranking on a dataset with the baseline; exit 1 on drift",
        description=(
            "Explain the model on a dataset and compare the feature ranking with the baseline's "
            "by NDCG; below the threshold (0.9) is a violation. Writes analysis.json, "
            "constraint_violations.json and attribution_drift_report.json. Exit status: 0 no "
            "violations, 1 violations found, 2 bad input or usage."
        ),
    )
    _options(check)
    check.add_argument("--baseline", required=True, metavar="DIR", help="the baseline directory")
    check.add_argument("--ndcg-threshold", type=float, metavar="X", help="default 0.9")
    check.add_argument("--top-k", type=int, metavar="K", help="NDCG over the top K features")
    check.set_defaults(handler=_check)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", required=True, metavar="PATH", help="CSV, Parquet, JSON Lines or a directory"
    )
    add_reading_options(parser)
    parser.add_argument(
        "--model",
        required=True,
        metavar="MODEL",
        help="a joblib/pickle model file, a Python 'module:function', or an http(s):// endpoint",
    )
    parser.add_argument(
        "--content-type",
        choices=("application/json", "text/csv"),
        default="application/json",
        help="how rows are sent to an endpoint model",
    )
    parser.add_argument("--output", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--nsamples", type=int, metavar="N", help="kernel SHAP coalitions (256)")
    parser.add_argument(
        "--max-rows", type=int, metavar="N", help="rows explained (tree 2000, kernel 200)"
    )
    parser.add_argument("--seed", type=int, default=0)


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "model": args.model,
        "content_type": args.content_type,
        "nsamples": args.nsamples,
        "max_rows": args.max_rows,
        "seed": args.seed,
        "dataset_format": args.dataset_format,
        "csv_header": args.csv_header,
    }


def _baseline(args: argparse.Namespace) -> int:
    from modelmon.monitors.attribution import AttributionMonitor

    monitor = AttributionMonitor(
        features=args.features,
        exclude=args.exclude,
        method=args.method,
        agg_method=args.agg_method,
        background_size=args.background_size,
        label_headers=args.label_headers,
        **_common(args),
    )
    baseline = monitor.baseline(args.dataset)
    written = baseline.save(args.output)
    for label, attribution in baseline.analysis.labels().items():
        top = sorted(attribution.global_shap_values.items(), key=lambda kv: -abs(kv[1]))[:5]
        shown = ", ".join(f"{name} {value:.4g}" for name, value in top)
        print(f"{label}: top features {shown}")
    for path in written:
        print(f"  wrote {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from modelmon.monitors.attribution import AttributionMonitor

    monitor = AttributionMonitor(
        ndcg_threshold=args.ndcg_threshold, top_k=args.top_k, **_common(args)
    )
    result = monitor.check(args.dataset, args.baseline)
    written = result.save(args.output)
    print(result.exit_message())
    for label, score in result.scores.items():
        verdict = "below" if score < result.threshold else "at or above"
        print(f"  {label}: NDCG {score:.4f} {verdict} threshold {result.threshold:g}")
    for path in written:
        print(f"  wrote {path}")
    return 1 if result.has_violations else 0
