"""``modelmon capture import|show|stats`` and ``modelmon labels import``.

Imports exit 0 when everything was imported, 1 when some rows were reported and skipped, 2 when
nothing was usable (or on bad usage). ``--data-dir`` defaults to ``$MODELMON_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from modelmon.capture.coverage import table_coverage
from modelmon.capture.importers import import_captures
from modelmon.capture.labels import import_labels
from modelmon.capture.reader import dropped_counts, read_captures
from modelmon.capture.report import ImportReport
from modelmon.cli import render
from modelmon.errors import ConfigError

__all__ = ["register"]

_FORMATS = ("csv", "parquet", "jsonl")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SHOWN_PROBLEMS = 50
_CELL = 24  # characters of a value shown in a table cell
_TABLE_COLUMNS = ("inference_time", "inference_id", "version", "latency_ms", "status", "error")


def register(commands: Any) -> None:
    capture = commands.add_parser(
        "capture",
        help="import, show and summarise captured inferences",
        description="Captured inferences: import files, show a window, summarise by hour.",
    )
    actions = capture.add_subparsers(dest="action", metavar="ACTION", required=True)

    importer = actions.add_parser(
        "import",
        help="import SageMaker capture JSONL or batch-inference output",
        description=(
            "Import SageMaker data-capture JSON Lines (a file or its S3 layout copied to disk) "
            "or batch-inference output (CSV, Parquet, JSON Lines with an inference-id column). "
            "Exit status: 0 all imported, 1 some rows reported and skipped, 2 nothing usable."
        ),
    )
    importer.add_argument("path", metavar="PATH", help="a file or a directory")
    _model_options(importer)
    importer.add_argument("--version", help="model version (default: the SageMaker variant)")
    importer.add_argument(
        "--format", choices=(*_FORMATS, "sagemaker-capture"), help="override the detection"
    )
    importer.add_argument("--inference-id-column", metavar="C")
    importer.add_argument("--time-column", metavar="C")
    importer.add_argument(
        "--output-columns", metavar="C,C", default="", help="columns that are model outputs"
    )
    importer.set_defaults(handler=_import_captures)

    show = actions.add_parser(
        "show",
        help="print captured records of a time window",
        description="Print the captured records of a window, labels joined (latest last).",
    )
    _model_options(show)
    _window_options(show)
    show.add_argument("--limit", type=int, default=20, metavar="N", help="last N rows (0: all)")
    show.add_argument("--format", choices=("table", "jsonl", "csv"), default="table")
    show.set_defaults(handler=_show)

    stats = actions.add_parser(
        "stats",
        help="records, drops and label coverage by hour",
        description="Per version and hour: records, errors, drops, latency, label coverage.",
    )
    _model_options(stats)
    _window_options(stats, default_since="24h")
    stats.set_defaults(handler=_stats)

    labels = commands.add_parser(
        "labels",
        help="import ground-truth labels",
        description="Ground-truth labels, joined with captured predictions by inference id.",
    )
    label_actions = labels.add_subparsers(dest="action", metavar="ACTION", required=True)
    label_import = label_actions.add_parser(
        "import",
        help="import labels from CSV, Parquet, JSON Lines or SageMaker ground truth",
        description=(
            "Import labels (inference id and label per row, or SageMaker groundTruthData JSON "
            "Lines). Exit status: 0 all imported, 1 some rows reported and skipped, 2 nothing "
            "usable."
        ),
    )
    label_import.add_argument("path", metavar="FILE", help="a file or a directory")
    _model_options(label_import)
    label_import.add_argument("--format", choices=_FORMATS, help="override the detection")
    label_import.add_argument("--inference-id-column", metavar="C")
    label_import.add_argument("--label-column", metavar="C")
    label_import.add_argument(
        "--arrival-time", metavar="TIME", help="when the labels arrived (default: now)"
    )
    label_import.add_argument(
        "--keep-unknown",
        action="store_true",
        help="keep labels whose inference id matches no captured prediction (yet)",
    )
    label_import.set_defaults(handler=_import_labels)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model name")
    default = os.environ.get("MODELMON_DATA_DIR")
    parser.add_argument(
        "--data-dir",
        default=default,
        required=default is None,
        metavar="DIR",
        help="modelmon's data directory (default: $MODELMON_DATA_DIR)",
    )


def _window_options(parser: argparse.ArgumentParser, default_since: str = "1h") -> None:
    parser.add_argument("--version", help="one version (default: all)")
    parser.add_argument(
        "--since",
        default=default_since,
        metavar="WHEN",
        help=f"a duration ago (30m, 2h, 7d) or an ISO time (default: {default_since})",
    )
    parser.add_argument("--until", metavar="WHEN", help="a duration ago or an ISO time")


def _moment(text: str, option: str, now: datetime) -> datetime:
    match = _DURATION.fullmatch(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"The '{option}' option must be a duration (30m, 2h, 7d) or an ISO-8601 time "
            f"(2024-05-01T13:00:00Z). Got {text!r} instead."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _window(args: argparse.Namespace) -> tuple[datetime, datetime | None]:
    now = datetime.now(UTC)
    start = _moment(args.since, "--since", now)
    end = None if args.until is None else _moment(args.until, "--until", now)
    return start, end


# -- imports -------------------------------------------------------------------------------------


def _import_captures(args: argparse.Namespace) -> int:
    report = import_captures(
        args.data_dir,
        args.model,
        args.path,
        version=args.version,
        format=args.format,
        inference_id_column=args.inference_id_column,
        time_column=args.time_column,
        output_columns=[c.strip() for c in args.output_columns.split(",") if c.strip()],
    )
    return _report(report, "captured records")


def _import_labels(args: argparse.Namespace) -> int:
    arrival = None
    if args.arrival_time is not None:
        arrival = _moment(args.arrival_time, "--arrival-time", datetime.now(UTC))
    report = import_labels(
        args.data_dir,
        args.model,
        args.path,
        inference_id_column=args.inference_id_column,
        label_column=args.label_column,
        format=args.format,
        arrival_time=arrival,
        keep_unknown=args.keep_unknown,
    )
    return _report(report, "labels")


def _report(report: ImportReport, what: str) -> int:
    for problem in report.problems[:_SHOWN_PROBLEMS]:
        print(f"modelmon: {problem}", file=sys.stderr)
    hidden = report.problem_count - min(len(report.problems), _SHOWN_PROBLEMS)
    if hidden > 0:
        print(f"modelmon: ... and {hidden} more problems", file=sys.stderr)
    print(report.summary(what))
    return report.exit_code


# -- show ----------------------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise ConfigError(f"The '--limit' option must be 0 or more. Got {args.limit} instead.")
    start, end = _window(args)
    table = read_captures(args.data_dir, args.model, version=args.version, start=start, end=end)
    total = table.num_rows
    if args.limit and total > args.limit:
        table = table.slice(total - args.limit)
    if args.format == "jsonl":
        for row in table.to_pylist():
            print(json.dumps(row, default=_json_default, ensure_ascii=False))
    elif args.format == "csv":
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(_csv_ready(table), sink)
        sys.stdout.write(sink.getvalue().to_pybytes().decode("utf-8"))
    else:
        print(_table(table, total, args))
    return 0


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _csv_ready(table: pa.Table) -> pa.Table:
    # CSV cannot hold a null-typed column (a window without any label): write it as text.
    return pa.table(
        {
            name: column.cast(pa.string()) if column.type == pa.null() else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
    )


def _table(table: pa.Table, total: int, args: argparse.Namespace) -> str:
    if total == 0:
        return f"No captured records of {args.model!r} in the window."
    features = [n for n in table.column_names if n.startswith(("output.", "input."))]
    names = [*_TABLE_COLUMNS, "label", *features]
    rows = [[_cell(row[name]) for name in names] for row in table.select(names).to_pylist()]
    shown = table.num_rows
    note = f"{total} records" if shown == total else f"the last {shown} of {total} records"
    return render.table(names, rows) + f"\n({note}; --limit to change, --format jsonl for all)"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.6g}"
    text = str(value)
    return text if len(text) <= _CELL else text[: _CELL - 3] + "..."


# -- stats ---------------------------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    start, end = _window(args)
    table = read_captures(args.data_dir, args.model, version=args.version, start=start, end=end)
    drops = dropped_counts(args.data_dir, args.model, version=args.version, start=start, end=end)
    hours = pc.floor_temporal(table["inference_time"], unit="hour")
    keys = sorted(
        {*zip(table["version"].to_pylist(), hours.to_pylist(), strict=True), *drops},
        key=lambda key: (key[1], key[0]),
    )
    rows = []
    for version, hour in keys:
        mask = pc.and_(pc.equal(table["version"], version), pc.equal(hours, pa.scalar(hour)))
        rows.append(_stats_row(version, hour, table.filter(mask), drops.get((version, hour), 0)))
    rows.append(_stats_row("all", None, table, sum(drops.values())))
    header = ["version", "hour (UTC)", "records", "errors", "dropped", "latency p50 ms"]
    header += ["labeled", "label delay p50"]
    print(render.table(header, rows))
    return 0


def _stats_row(version: str, hour: datetime | None, part: pa.Table, dropped: int) -> list[str]:
    coverage = table_coverage(part)
    records = part.filter(pc.equal(part["row_index"], 0))
    latency = pc.approximate_median(records["latency_ms"]).as_py() if records.num_rows else None
    return [
        version,
        "" if hour is None else hour.strftime("%Y-%m-%d %H:00"),
        str(records.num_rows),
        str(pc.sum(pc.is_valid(records["error"])).as_py() or 0),
        str(dropped),
        "-" if latency is None else f"{latency:.3g}",
        "-" if math.isnan(coverage.coverage) else f"{coverage.coverage:.1%}",
        "-" if math.isnan(coverage.delay_p50_s) else _duration(coverage.delay_p50_s),
    ]


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.1f}s"
