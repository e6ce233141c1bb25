"""Read-only endpoints the dashboard draws from: summaries, never raw rows.

Each page is one or two requests whatever the number of models or points: the overview is a
handful of grouped queries (not one per model), and time series travel as two flat arrays
(epoch seconds and values), which is what a chart wants and a fraction of the JSON of a list
of (timestamp, value) pairs.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from modelmon import __version__
from modelmon.errors import ConfigError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.reports import compare_features, execution_report, render_html_report
from modelmon.reports.execution import render_execution_report
from modelmon.server.auth import state_of
from modelmon.server.routes.metrics import parse_matchers
from modelmon.server.state import ServerState
from modelmon.store import Execution, ExecutionStatus, Matcher, MonitorType, Schedule, Store
from modelmon.store._schema import (
    alerts,
    executions,
    model_versions,
    models,
    points,
    schedules,
    series,
    violations,
)
from modelmon.store._types import to_micros

__all__ = ["DRIFT_PREFIX", "NON_NULL_PREFIX", "health_verdict", "router"]

router = APIRouter(tags=["dashboard"])

DRIFT_PREFIX = "feature_baseline_drift_"
NON_NULL_PREFIX = "feature_non_null_"
_IN_CHUNK = 500
_DEFAULT_RANGE = timedelta(days=30)
# Lines one chart can show and still be read.
_MAX_SERIES = 50
_S = ExecutionStatus


def health_verdict(open_alerts: int, statuses: Iterable[ExecutionStatus | None]) -> str:
    """One word per model: alarm > violations > failing > ok > unknown (nothing ran yet)."""
    seen = {s for s in statuses if s is not None}
    if open_alerts:
        return "alarm"
    if _S.COMPLETED_WITH_VIOLATIONS in seen:
        return "violations"
    if _S.FAILED in seen:
        return "failing"
    if _S.COMPLETED in seen:
        return "ok"
    return "unknown"


# -- overview ---------------------------------------------------------------------------------


@router.get("/dashboard/info")
def info(request: Request) -> dict[str, Any]:
    """The server's clock and version: the dashboard times silences by the server, not the
    browser, whose clock may be off."""
    return {"now": state_of(request).clock().isoformat(), "version": __version__}


@router.get("/overview")
def overview(request: Request) -> dict[str, Any]:
    """Every model with its versions, monitors (last execution, its violations), open alerts
    and a health verdict; plus totals for the page header."""
    state = state_of(request)
    with state.store.engine.connect() as connection:
        found = _overview_rows(connection)
    totals: dict[str, int] = defaultdict(int)
    for model in found:
        totals[model["health"]] += 1
        totals["open_alerts"] += model["open_alerts"]
    return {
        "generated_at": state.clock().isoformat(),
        "models": found,
        "totals": {"models": len(found), **totals},
    }


def _overview_rows(connection: Connection) -> list[dict[str, Any]]:
    model_rows = connection.execute(
        select(models.c.id, models.c.name, models.c.description, models.c.problem_type).order_by(
            models.c.name
        )
    ).all()
    versions: dict[int, list[str]] = defaultdict(list)
    for model_id, version in connection.execute(
        select(model_versions.c.model_id, model_versions.c.version).order_by(
            model_versions.c.created_at, model_versions.c.id
        )
    ):
        versions[model_id].append(version)
    schedule_rows = connection.execute(
        select(
            schedules.c.id,
            schedules.c.name,
            schedules.c.monitor_type,
            schedules.c.status,
            schedules.c.cron,
            model_versions.c.model_id,
            model_versions.c.version,
        )
        .join(model_versions, model_versions.c.id == schedules.c.version_id)
        .order_by(schedules.c.name)
    ).all()
    latest = _latest_executions(connection)
    counts = _violation_counts(connection, [e["id"] for e in latest.values()])
    open_alerts = {
        model: int(count)
        for model, count in connection.execute(
            select(alerts.c.model, func.count())
            .where(alerts.c.state == "ALARM")
            .group_by(alerts.c.model)
        )
    }
    monitors: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in schedule_rows:
        last = latest.get(item.id)
        monitors[item.model_id].append(
            {
                "schedule": item.name,
                "version": item.version,
                "monitor_type": item.monitor_type,
                "cron": item.cron,
                "status": item.status,
                "last_execution": last,
                "violations": 0 if last is None else counts.get(last["id"], 0),
            }
        )
    out = []
    for row in model_rows:
        mine = monitors.get(row.id, [])
        alarms = int(open_alerts.get(row.name, 0))
        statuses = [_S(m["last_execution"]["status"]) for m in mine if m["last_execution"]]
        ended = [m["last_execution"]["ended_at"] for m in mine if m["last_execution"]]
        out.append(
            {
                "name": row.name,
                "description": row.description,
                "problem_type": row.problem_type,
                "versions": versions.get(row.id, []),
                "monitors": mine,
                "violations": sum(m["violations"] for m in mine),
                "open_alerts": alarms,
                "last_run": max((t for t in ended if t), default=None),
                "health": health_verdict(alarms, statuses),
            }
        )
    return out


# What a page shows of an execution: never its files (a JSON column that can be large).
_SUMMARY_COLUMNS = (
    executions.c.id,
    executions.c.schedule_id,
    executions.c.status,
    executions.c.scheduled_time,
    executions.c.window_start,
    executions.c.window_end,
    executions.c.ended_at,
    executions.c.failure_reason,
)


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "schedule_id": row.schedule_id,
        "status": row.status,
        "scheduled_time": row.scheduled_time.isoformat(),
        "window_start": row.window_start.isoformat(),
        "window_end": row.window_end.isoformat(),
        "ended_at": None if row.ended_at is None else row.ended_at.isoformat(),
        "failure_reason": row.failure_reason,
    }


def _latest_executions(connection: Connection) -> dict[int, dict[str, Any]]:
    """The newest execution of every schedule, in one query."""
    newest = (
        select(executions.c.schedule_id, func.max(executions.c.scheduled_time).label("at"))
        .group_by(executions.c.schedule_id)
        .subquery()
    )
    rows = connection.execute(
        select(*_SUMMARY_COLUMNS).join(
            newest,
            and_(
                executions.c.schedule_id == newest.c.schedule_id,
                executions.c.scheduled_time == newest.c.at,
            ),
        )
    ).all()
    return {row.schedule_id: _summary(row) for row in rows}


def _violation_counts(connection: Connection, execution_ids: Sequence[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for start in range(0, len(execution_ids), _IN_CHUNK):
        chunk = execution_ids[start : start + _IN_CHUNK]
        rows = connection.execute(
            select(violations.c.execution_id, func.count())
            .where(violations.c.execution_id.in_(chunk))
            .group_by(violations.c.execution_id)
        )
        counts.update({int(i): int(n) for i, n in rows})
    return counts


# -- one model ----------------------------------------------------------------------------------


@router.get("/models/{model}/summary")
def model_summary(model: str, request: Request) -> dict[str, Any]:
    """A model's page: its monitors with their last run, metric series and (data quality) the
    latest drift of every feature; recent executions; open alerts."""
    store = state_of(request).store
    found = store.models.get_model(model)
    versions = store.models.list_versions(model)
    mine = store.schedules.list_schedules(model=model)
    with store.engine.connect() as connection:
        latest = _latest_executions(connection)
        recent = _recent_executions(connection, [s.id for s in mine], limit=20)
        counts = _violation_counts(
            connection, [e["id"] for e in recent] + [e["id"] for e in latest.values()]
        )
        open_alerts = connection.execute(
            select(func.count()).where(alerts.c.state == "ALARM", alerts.c.model == model)
        ).scalar_one()
    series = store.metrics.list_series(None, {"model": model})
    names = {s.id: s.name for s in mine}
    for item in recent:
        item["schedule"] = names[item.pop("schedule_id")]
        item["violations"] = counts.get(item["id"], 0)
    monitors = []
    for schedule in mine:
        last = latest.get(schedule.id)
        metrics = [
            {"name": name, "labels": labels}
            for name, labels in series
            if labels.get("schedule") == schedule.name
            and not name.startswith((DRIFT_PREFIX, NON_NULL_PREFIX))
        ]
        monitors.append(
            {
                "schedule": schedule.name,
                "version": schedule.version,
                "monitor_type": schedule.monitor_type.value,
                "cron": schedule.cron,
                "status": schedule.status.value,
                "last_execution": last,
                "violations": 0 if last is None else counts.get(last["id"], 0),
                "metrics": metrics,
                "features": _feature_table(store, schedule)
                if schedule.monitor_type is MonitorType.DATA_QUALITY
                else [],
            }
        )
    return {
        "name": found.name,
        "description": found.description,
        "problem_type": found.problem_type.value,
        "versions": [
            {"version": v.version, "created_at": v.created_at.isoformat()} for v in versions
        ],
        "monitors": monitors,
        "recent_executions": recent,
        "open_alerts": int(open_alerts),
    }


def _recent_executions(
    connection: Connection, schedule_ids: Sequence[int], *, limit: int
) -> list[dict[str, Any]]:
    if not schedule_ids:
        return []
    rows = connection.execute(
        select(*_SUMMARY_COLUMNS)
        .where(executions.c.schedule_id.in_(schedule_ids))
        .order_by(executions.c.scheduled_time.desc(), executions.c.id.desc())
        .limit(limit)
    ).all()
    return [_summary(row) for row in rows]


def _feature_table(store: Store, schedule: Schedule) -> list[dict[str, Any]]:
    """Every feature of the newest run with a drift report (or of the baseline, before any)."""
    report: dict[str, Any] = {}
    execution_id = None
    for execution in store.executions.list_executions(schedule_id=schedule.id, limit=50):
        drift = _optional_file(execution.output_files, "drift_report.json")
        if isinstance(drift, dict):
            report, execution_id = drift, execution.id
            break
    rows = {f["name"]: f for f in report.get("features", []) if isinstance(f, dict)}
    if not rows:
        kinds = _baseline_kinds(store, schedule)
        return [{"name": n, "kind": k, "execution_id": None} for n, k in kinds.items()]
    return [
        {
            "name": name,
            "kind": row.get("kind"),
            "method": row.get("method"),
            "statistic": row.get("statistic"),
            "threshold": row.get("threshold"),
            "drift": row.get("drift"),
            "reason": row.get("reason"),
            "execution_id": execution_id,
        }
        for name, row in rows.items()
    ]


# -- one feature --------------------------------------------------------------------------------


@router.get("/models/{model}/features/{feature}")
def feature_history(
    model: str,
    feature: str,
    request: Request,
    schedule: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    span: Annotated[float | None, Query(gt=0)] = None,
) -> Response:
    """A feature's drift and completeness over time, the threshold, and every execution in the
    range (those that found a violation on this feature marked), for the feature page."""
    state = state_of(request)
    store = state.store
    store.models.get_model(model)
    chosen = _data_quality_schedule(store, model, schedule)
    start, end = _time_range(state, start, end, span)
    baseline = _baseline_kinds(store, chosen)
    constraints = _baseline_constraints(store, chosen)
    labels = {"model": model, "schedule": chosen.name}
    with store.engine.connect() as connection:
        drift = _series_arrays(connection, DRIFT_PREFIX + feature, _exact(labels), start, end)
        non_null = _series_arrays(connection, NON_NULL_PREFIX + feature, _exact(labels), start, end)
        if feature not in baseline and not drift and not non_null:
            raise NotFoundError(
                f"Model {model!r} has no feature {feature!r} in the baseline of schedule "
                f"{chosen.name!r}; its features are {list(baseline)}."
            )
        timeline = _timeline(connection, chosen.id, start, end)
        flagged = _violating_executions(connection, chosen.id, feature, start, end)
    kind, threshold, method = _threshold(baseline.get(feature), constraints, feature)
    return _json(
        {
            "model": model,
            "version": chosen.version,
            "feature": feature,
            "schedule": chosen.name,
            "kind": kind,
            "threshold": threshold,
            "method": method,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "drift": drift[0][1] if drift else {"t": [], "v": []},
            "completeness": non_null[0][1] if non_null else {"t": [], "v": []},
            "executions": {**timeline, "violated": [i in flagged for i in timeline["id"]]},
        }
    )


def _data_quality_schedule(store: Store, model: str, name: str | None) -> Schedule:
    if name is not None:
        chosen = store.schedules.get_schedule_by_name(name)
        if chosen.model != model:
            raise NotFoundError(f"Schedule {name!r} does not monitor model {model!r}.")
        return chosen
    found = [
        s
        for s in store.schedules.list_schedules(model=model)
        if s.monitor_type is MonitorType.DATA_QUALITY
    ]
    if not found:
        raise NotFoundError(
            f"Model {model!r} has no DataQuality schedule, so it has no feature history; "
            "create one with POST /api/v1/schedules."
        )
    return found[0]


def _time_range(
    state: ServerState, start: datetime | None, end: datetime | None, span: float | None = None
) -> tuple[datetime, datetime]:
    """[start, end): by default the ``span`` seconds (30 days) up to the server's now."""
    end = end or state.clock() + timedelta(seconds=1)
    start = start or end - (_DEFAULT_RANGE if span is None else timedelta(seconds=span))
    if start.tzinfo is None or end.tzinfo is None:
        raise ConfigError(
            "The 'start' and 'end' parameters must carry a time zone (e.g. "
            f"2026-11-02T00:00:00Z). Got {start.isoformat()} and {end.isoformat()} instead."
        )
    return start, end


def _timeline(
    connection: Connection, schedule_id: int, start: datetime, end: datetime
) -> dict[str, list[Any]]:
    """Executions whose window ends in [start, end) (points are stamped with the window end),
    as parallel arrays; only the columns a chart marks."""
    rows = connection.execute(
        select(
            executions.c.id,
            _epoch_seconds(connection, executions.c.window_end),
            executions.c.status,
        )
        .where(
            executions.c.schedule_id == schedule_id,
            executions.c.window_end >= start,
            executions.c.window_end < end,
        )
        .order_by(executions.c.window_end, executions.c.id)
    ).all()
    return {
        "id": [row[0] for row in rows],
        "t": [float(row[1]) for row in rows],
        "status": [row[2] for row in rows],
    }


def _epoch_seconds(connection: Connection, column: Any) -> Any:
    """``column`` as seconds since the epoch, computed by the database: converting thousands
    of timestamps in Python costs more than reading them."""
    if connection.dialect.name == "sqlite":
        # Stored as UTC text (see store._types); julianday 2440587.5 is the Unix epoch.
        return func.round((func.julianday(column) - 2440587.5) * 86400.0, 3)
    return func.extract("epoch", column)


def _violating_executions(
    connection: Connection, schedule_id: int, feature: str, start: datetime, end: datetime
) -> set[int]:
    rows = connection.execute(
        select(violations.c.execution_id)
        .join(executions, executions.c.id == violations.c.execution_id)
        .where(
            executions.c.schedule_id == schedule_id,
            executions.c.window_end >= start,
            executions.c.window_end < end,
            violations.c.feature == feature,
        )
        .distinct()
    ).scalars()
    return set(rows)


def _threshold(
    kind: str | None, constraints: sm.Constraints | None, feature: str
) -> tuple[str | None, float | None, str | None]:
    """The drift threshold that applies to ``feature`` (its overrides included)."""
    if constraints is None:
        return kind, None, None
    config = constraints.monitoring_config
    for item in constraints.features:
        if item.name == feature:
            config = config.overridden_by(item.overrides)
    distribution = config.distribution_constraints
    if kind == "categorical":
        if distribution.categorical_drift_method == "ChiSquared":
            return kind, distribution.effective_categorical_threshold, "ChiSquared p-value"
        threshold = distribution.effective_categorical_threshold
    else:
        threshold = distribution.comparison_threshold
    return kind, threshold, f"{distribution.comparison_method} L-infinity"


def _series_arrays(
    connection: Connection,
    name: str,
    matchers: Mapping[str, Matcher],
    start: datetime,
    end: datetime,
    *,
    limit: int = _MAX_SERIES,
) -> list[tuple[dict[str, str], dict[str, list[Any]]]]:
    """Series named ``name`` whose labels match (ordered by labels, at most ``limit``), each
    with its points in [start, end) as epoch seconds and values.

    Reads the points table directly: a year of hourly points is 8,760 rows, and building a
    datetime for each (as the store's general query does) costs more than the query itself."""
    candidates = connection.execute(
        select(series.c.id, series.c.labels).where(series.c.name == name)
    ).all()
    chosen = sorted(
        (
            (row.labels, row.id)
            for row in candidates
            if all(m.matches(row.labels.get(k, "")) for k, m in matchers.items())
        ),
        key=lambda item: sorted(item[0].items()),
    )[:limit]
    found = []
    for labels, series_id in chosen:
        rows = connection.execute(
            select(points.c.time_us, points.c.value)
            .where(
                points.c.series_id == series_id,
                points.c.time_us >= to_micros(start, "start"),
                points.c.time_us < to_micros(end, "end"),
            )
            .order_by(points.c.time_us)
        ).all()
        arrays = {
            "t": [time_us / 1e6 for time_us, _ in rows],
            "v": [None if value is None or math.isnan(value) else value for _, value in rows],
        }
        found.append((dict(labels), arrays))
    return found


def _exact(labels: Mapping[str, str]) -> dict[str, Matcher]:
    return {key: Matcher("=", value) for key, value in labels.items()}


# -- series for any chart ---------------------------------------------------------------------


@router.get("/timeseries")
def timeseries(
    request: Request,
    name: str,
    match: Annotated[list[str] | None, Query()] = None,
    start: datetime | None = None,
    end: datetime | None = None,
    span: Annotated[float | None, Query(gt=0)] = None,
    schedule: str | None = None,
) -> Response:
    """Series named ``name`` matching every ``match`` in [start, end) (30 days by default), as
    flat arrays (at most 50 series); with ``schedule``, its executions in the range too (to
    mark violations)."""
    state = state_of(request)
    start, end = _time_range(state, start, end, span)
    matchers = parse_matchers(match or [])
    chosen = None if schedule is None else state.store.schedules.get_schedule_by_name(schedule)
    with state.store.engine.connect() as connection:
        found = _series_arrays(connection, name, matchers, start, end)
        timeline = None if chosen is None else _timeline(connection, chosen.id, start, end)
    return _json(
        {
            "name": name,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "series": [{"labels": labels, **arrays} for labels, arrays in found],
            "executions": timeline,
        }
    )


@router.get("/schedules/{name}/timeline")
def schedule_timeline(
    name: str,
    request: Request,
    start: datetime | None = None,
    end: datetime | None = None,
    span: Annotated[float | None, Query(gt=0)] = None,
) -> Response:
    """The schedule's executions whose window ends in [start, end), as parallel arrays."""
    state = state_of(request)
    start, end = _time_range(state, start, end, span)
    chosen = state.store.schedules.get_schedule_by_name(name)
    with state.store.engine.connect() as connection:
        timeline = _timeline(connection, chosen.id, start, end)
    return _json({"schedule": name, "start": start.isoformat(), "end": end.isoformat(), **timeline})


def _json(content: dict[str, Any]) -> Response:
    # Straight to json.dumps: FastAPI's encoder walks every item of big arrays one by one.
    body = json.dumps(content, separators=(",", ":"), allow_nan=False)
    return Response(body, media_type="application/json")


# -- one execution ------------------------------------------------------------------------------


@router.get("/executions/{execution_id}/features/{feature}/distribution")
def feature_distribution(execution_id: int, feature: str, request: Request) -> dict[str, Any]:
    """Baseline vs current distribution of one feature in one execution: histogram shares
    (numeric, from the KLL sketches) or category shares, from the stored statistics files."""
    store = state_of(request).store
    execution = store.executions.get_execution(execution_id)
    schedule = store.schedules.get_schedule(execution.schedule_id)
    current = _optional_file(execution.output_files, "statistics.json")
    if current is None:
        reason = f" ({execution.failure_reason})" if execution.failure_reason else ""
        raise NotFoundError(
            f"Execution {execution_id} has no statistics.json: it ended "
            f"{execution.status.value}{reason}, so there is no distribution to show."
        )
    mine = _one_feature(current, feature)
    theirs = _one_feature(
        _optional_file(_baseline_files(store, schedule), "statistics.json"), feature
    )
    if mine is None and theirs is None:
        raise NotFoundError(
            f"Execution {execution_id} has no feature {feature!r}; its features are "
            f"{sorted(_feature_kinds(current))}."
        )
    drift = _optional_file(execution.output_files, "drift_report.json")
    row = None
    if isinstance(drift, dict):
        row = next(
            (
                f
                for f in drift.get("features", [])
                if isinstance(f, dict) and f.get("name") == feature
            ),
            None,
        )
    return {
        **compare_features(theirs, mine).to_json(),
        "execution_id": execution.id,
        "schedule": schedule.name,
        "model": schedule.model,
        "status": execution.status.value,
        "window_start": execution.window_start.isoformat(),
        "window_end": execution.window_end.isoformat(),
        "drift": row,
        "violations": [
            {"check_type": v.check_type, "description": v.description}
            for v in store.violations.list_violations(execution_id=execution_id)
            if v.feature == feature
        ],
    }


@router.get("/executions/{execution_id}/report.html", response_class=HTMLResponse)
def execution_html_report(execution_id: int, request: Request) -> HTMLResponse:
    """A self-contained HTML report of an execution (one file, no network): data quality with
    distributions, other monitors with their violations and metric points."""
    state = state_of(request)
    store = state.store
    execution = store.executions.get_execution(execution_id)
    schedule = store.schedules.get_schedule(execution.schedule_id)
    if schedule.monitor_type is not MonitorType.DATA_QUALITY:
        return HTMLResponse(
            render_execution_report(
                execution,
                schedule,
                store.violations.list_violations(execution_id=execution_id),
                store.metrics.execution_points(
                    execution_id, execution.window_end, {"schedule": schedule.name}
                ),
                generated_at=state.clock(),
            )
        )
    report = execution_report(
        execution.output_files,
        _baseline_files(store, schedule),
        title=f"{schedule.model} · {schedule.name} · execution {execution.id}",
        details=_execution_details(execution, schedule),
    )
    return HTMLResponse(render_html_report(report, generated_at=state.clock()))


def _execution_details(execution: Execution, schedule: Schedule) -> list[tuple[str, str]]:
    details = [
        ("Model", f"{schedule.model} (version {schedule.version})"),
        ("Schedule", schedule.name),
        ("Window", f"{execution.window_start.isoformat()} – {execution.window_end.isoformat()}"),
        ("Status", execution.status.value),
    ]
    if execution.failure_reason:
        details.append(("Failure reason", execution.failure_reason))
    return details


# -- files --------------------------------------------------------------------------------------


def _optional_file(files: Mapping[str, Any], name: str) -> Any:
    """A stored file's JSON (kept inline or as a path), or None if absent or gone."""
    if name not in files:
        return None
    stored = files[name]
    if not isinstance(stored, str):
        return stored
    try:
        return json.loads(Path(stored).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _baseline_files(store: Store, schedule: Schedule) -> dict[str, Any]:
    try:
        return store.models.get_baseline(
            schedule.model, schedule.version, MonitorType.DATA_QUALITY
        ).files
    except NotFoundError:
        return {}


def _feature_kinds(statistics: Any) -> dict[str, str]:
    """Feature name -> "numeric" or "categorical" from a statistics.json, without parsing the
    sketches (a baseline's are thousands of numbers per feature)."""
    found = statistics.get("features") if isinstance(statistics, dict) else None
    if not isinstance(found, list):
        return {}
    return {
        str(f["name"]): "numeric" if "numerical_statistics" in f else "categorical"
        for f in found
        if isinstance(f, dict) and "name" in f
    }


def _baseline_kinds(store: Store, schedule: Schedule) -> dict[str, str]:
    return _feature_kinds(_optional_file(_baseline_files(store, schedule), "statistics.json"))


def _one_feature(statistics: Any, feature: str) -> sm.FeatureStatistics | None:
    """One feature of a statistics.json, parsed (and checked) alone: parsing every feature's
    sketch to draw one would be most of the request's time."""
    if not isinstance(statistics, dict) or not isinstance(statistics.get("features"), list):
        return None
    wanted = [f for f in statistics["features"] if isinstance(f, dict) and f.get("name") == feature]
    if not wanted:
        return None
    parsed = sm.statistics_from_json({**statistics, "features": wanted}, path="statistics.json")
    return parsed.features[0]


def _baseline_constraints(store: Store, schedule: Schedule) -> sm.Constraints | None:
    found = _optional_file(_baseline_files(store, schedule), "constraints.json")
    return None if found is None else sm.constraints_from_json(found, path="constraints.json")
