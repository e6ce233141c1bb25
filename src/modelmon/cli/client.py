"""Server commands: models, versions, baselines, schedules, executions, violations, metrics,
and ingest, each a thin call to the REST API (see ``remote``) printing the JSON answer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from modelmon.cli.remote import Handler, call, command, group
from modelmon.errors import DatasetError

__all__ = ["register"]

_MEDIA_TYPES = {
    ".csv": "text/csv",
    ".jsonl": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
}


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(
            "not valid JSON",
            path=path,
            line=error.lineno,
            expected="a JSON document",
            found=error.msg,
        ) from None


def register(commands: Any) -> None:
    _models(commands)
    _baselines(commands)
    _schedules(commands)
    _executions(commands)
    _metrics(commands)
    _ingest(commands)


def _models(commands: Any) -> None:
    actions = group(commands, "models", "register models and their versions on a server")
    command(actions, "list", "list models", lambda a: call(a, "GET", "/api/v1/models"))
    show = command(
        actions, "show", "one model", lambda a: call(a, "GET", f"/api/v1/models/{a.name}")
    )
    show.add_argument("name")
    create = command(
        actions,
        "create",
        "register a model",
        lambda a: call(
            a,
            "POST",
            "/api/v1/models",
            body={
                "name": a.name,
                "description": a.description,
                "problem_type": a.problem_type,
                **({"schema": _read_json(a.schema)} if a.schema else {}),
            },
        ),
    )
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.add_argument(
        "--problem-type",
        default="None",
        choices=("Regression", "BinaryClassification", "MulticlassClassification", "None"),
    )
    create.add_argument("--schema", metavar="FILE", help="a JSON file describing the inputs")
    version = command(
        actions,
        "add-version",
        "register a version of a model",
        lambda a: call(
            a,
            "POST",
            f"/api/v1/models/{a.model}/versions",
            body={"version": a.version, "description": a.description},
        ),
    )
    version.add_argument("model")
    version.add_argument("version")
    version.add_argument("--description", default="")


def _baselines(commands: Any) -> None:
    actions = group(commands, "baselines", "attach baselines to a model version on a server")

    def upload(a: argparse.Namespace) -> Any:
        files = {Path(f).name: _read_json(f) for f in a.files}
        path = f"/api/v1/models/{a.model}/versions/{a.version}/baselines/{a.monitor_type}"
        return call(a, "PUT", path, body={"files": files})

    up = command(actions, "upload", "upload baseline files (statistics.json...)", upload)
    up.add_argument("model")
    up.add_argument("version")
    up.add_argument("files", nargs="+", metavar="FILE")
    up.add_argument("--monitor-type", default="DataQuality")

    def compute(a: argparse.Namespace) -> Any:
        path = Path(a.dataset)
        media = _MEDIA_TYPES.get(path.suffix.lower())
        if media is None:
            raise DatasetError(
                "cannot tell the dataset's format from its name",
                path=path,
                expected="a .csv, .jsonl or .parquet file",
                found=path.suffix or "no suffix",
            )
        return call(
            a,
            "POST",
            f"/api/v1/models/{a.model}/versions/{a.version}/baselines/DataQuality/dataset",
            data=path.read_bytes(),
            content_type=media,
        )

    comp = command(actions, "compute", "compute a DataQuality baseline on the server", compute)
    comp.add_argument("model")
    comp.add_argument("version")
    comp.add_argument("--dataset", required=True, metavar="FILE")
    listing = command(
        actions,
        "list",
        "the baselines of a version",
        lambda a: call(a, "GET", f"/api/v1/models/{a.model}/versions/{a.version}/baselines"),
    )
    listing.add_argument("model")
    listing.add_argument("version")


def _schedules(commands: Any) -> None:
    actions = group(commands, "schedules", "monitoring schedules on a server")
    listing = command(
        actions,
        "list",
        "list schedules",
        lambda a: call(a, "GET", "/api/v1/schedules", params={"model": a.model}),
    )
    listing.add_argument("--model")

    def create(a: argparse.Namespace) -> Any:
        body: dict[str, Any] = {
            "name": a.name,
            "model": a.model,
            "version": a.version,
            "monitor_type": a.monitor_type,
            "cron": a.cron,
            "config": _read_json(a.config) if a.config else {},
        }
        for key in ("start_offset", "end_offset", "window_start", "window_end"):
            if getattr(a, key) is not None:
                body[key] = getattr(a, key)
        return call(a, "POST", "/api/v1/schedules", body=body)

    made = command(actions, "create", "create a schedule", create)
    made.add_argument("name")
    made.add_argument("--model", required=True)
    made.add_argument("--version", required=True)
    made.add_argument("--monitor-type", default="DataQuality")
    made.add_argument(
        "--cron",
        default="cron(0 * ? * * *)",
        help="cron(0 * ? * * *) hourly (default), cron(0 H ? * * *) daily, "
        "cron(0 0/N ? * * *) every N hours, or NOW with --window-start/--window-end",
    )
    made.add_argument("--start-offset", metavar="DURATION", help="e.g. --start-offset=-PT2H")
    made.add_argument("--end-offset", metavar="DURATION", help="e.g. --end-offset=-PT1H")
    made.add_argument("--window-start", metavar="TIME")
    made.add_argument("--window-end", metavar="TIME")
    made.add_argument("--config", metavar="FILE", help="the monitor's config as a JSON file")
    for name, help_text, method, suffix in (
        ("show", "one schedule", "GET", ""),
        ("stop", "stop a schedule", "POST", "/stop"),
        ("start", "start a stopped schedule", "POST", "/start"),
        ("delete", "delete a schedule", "DELETE", ""),
    ):
        one = command(actions, name, help_text, _schedule_call(method, suffix))
        one.add_argument("name")
    run = command(
        actions,
        "run",
        "run a NOW schedule over a window",
        lambda a: call(
            a,
            "POST",
            f"/api/v1/schedules/{a.name}/run",
            body={"window_start": a.window_start, "window_end": a.window_end},
        ),
    )
    run.add_argument("name")
    run.add_argument("--window-start", required=True, metavar="TIME")
    run.add_argument("--window-end", required=True, metavar="TIME")


def _schedule_call(method: str, suffix: str) -> Handler:
    def handler(args: argparse.Namespace) -> Any:
        return call(args, method, f"/api/v1/schedules/{args.name}{suffix}")

    return handler


def _executions(commands: Any) -> None:
    actions = group(commands, "executions", "monitoring executions and their results")
    listing = command(
        actions,
        "list",
        "executions, newest first",
        lambda a: call(
            a,
            "GET",
            "/api/v1/executions",
            params={
                "schedule": a.schedule,
                "model": a.model,
                "status": a.status,
                "limit": str(a.limit),
            },
        ),
    )
    listing.add_argument("--schedule")
    listing.add_argument("--model")
    listing.add_argument("--status")
    listing.add_argument("--limit", type=int, default=20)
    show = command(
        actions,
        "show",
        "one execution with its violations",
        lambda a: call(a, "GET", f"/api/v1/executions/{a.id}"),
    )
    show.add_argument("id", type=int)
    file = command(
        actions,
        "file",
        "an output file of an execution",
        lambda a: call(a, "GET", f"/api/v1/executions/{a.id}/files/{a.name}"),
    )
    file.add_argument("id", type=int)
    file.add_argument("name")
    violations = command(
        actions,
        "violations",
        "violations of a model",
        lambda a: call(a, "GET", "/api/v1/violations", params={"model": a.model}),
    )
    violations.add_argument("--model")


def _metrics(commands: Any) -> None:
    actions = group(commands, "metrics", "metric points kept by the server")
    query = command(
        actions,
        "query",
        "points of a metric",
        lambda a: call(
            a,
            "GET",
            "/api/v1/metrics/query",
            params={"name": a.name, "match": a.match, "start": a.start, "end": a.end},
        ),
    )
    query.add_argument("name", help="e.g. feature_baseline_drift_income")
    query.add_argument(
        "--match", action="append", default=[], help='label matcher, e.g. model="credit"'
    )
    query.add_argument("--start", metavar="TIME")
    query.add_argument("--end", metavar="TIME")
    series = command(
        actions,
        "series",
        "the series that exist",
        lambda a: call(
            a, "GET", "/api/v1/metrics/series", params={"prefix": a.prefix, "match": a.match}
        ),
    )
    series.add_argument("--prefix")
    series.add_argument("--match", action="append", default=[])


def _ingest(commands: Any) -> None:
    actions = group(commands, "ingest", "send captured records or labels to a server")

    def records(path: str) -> list[Any]:
        rows = []
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise DatasetError(
                            "not valid JSON",
                            path=path,
                            line=number,
                            expected="one JSON object per line",
                            found=error.msg,
                        ) from None
        return rows

    captures = command(
        actions,
        "captures",
        "send records from a JSON Lines file ({input, output, inference_id?, ...} per line)",
        lambda a: call(
            a,
            "POST",
            "/api/v1/captures",
            params={"flush": "true"},
            body={"model": a.model, "version": a.version, "records": records(a.file)},
        ),
    )
    captures.add_argument("file")
    captures.add_argument("--model", required=True)
    captures.add_argument("--version", default="default")
    labels = command(
        actions,
        "labels",
        "send labels from a JSON Lines file ({inference_id, label} per line)",
        lambda a: call(
            a, "POST", "/api/v1/labels", body={"model": a.model, "labels": records(a.file)}
        ),
    )
    labels.add_argument("file")
    labels.add_argument("--model", required=True)
