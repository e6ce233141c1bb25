"""The dashboard's read-only endpoints over a real server seeded by the real scheduler."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from modelmon.formats import sagemaker as sm
from modelmon.server.routes.dashboard import health_verdict
from modelmon.store import ExecutionStatus

S = ExecutionStatus


def _by_status(seeded: Any) -> dict[ExecutionStatus, list[Any]]:
    found: dict[ExecutionStatus, list[Any]] = {}
    for execution in seeded.executions:
        found.setdefault(execution.status, []).append(execution)
    return found


def test_the_seeded_runs_are_what_the_pages_expect(seeded: Any) -> None:
    assert [e.status for e in seeded.executions] == [
        S.COMPLETED,
        S.COMPLETED,
        S.FAILED,
        S.COMPLETED,
        S.COMPLETED_WITH_VIOLATIONS,
    ]


def test_overview_counts_every_model(seeded: Any, api: httpx.Client) -> None:
    body = api.get("/api/v1/overview").json()
    by_name = {m["name"]: m for m in body["models"]}
    assert sorted(by_name) == ["credit", "fraud"]
    credit, fraud = by_name["credit"], by_name["fraud"]
    last = seeded.executions[-1]
    (monitor,) = credit["monitors"]
    assert monitor["last_execution"]["id"] == last.id
    assert monitor["last_execution"]["status"] == "CompletedWithViolations"
    violations = seeded.store.violations.list_violations(execution_id=last.id)
    assert monitor["violations"] == len(violations) == credit["violations"] >= 1
    alarms = seeded.store.alerts.list_alerts(state="ALARM", model="credit")
    assert credit["open_alerts"] == len(alarms)
    assert credit["health"] == ("alarm" if alarms else "violations")
    assert credit["versions"] == ["v1"]
    assert (fraud["health"], fraud["monitors"], fraud["versions"]) == ("unknown", [], ["v3"])
    assert body["totals"]["models"] == 2
    assert body["totals"]["unknown"] == 1


@pytest.mark.parametrize(
    ("alerts", "statuses", "verdict"),
    [
        (1, [S.COMPLETED], "alarm"),
        (0, [S.COMPLETED, S.COMPLETED_WITH_VIOLATIONS], "violations"),
        (0, [S.COMPLETED, S.FAILED], "failing"),
        (0, [S.COMPLETED, None], "ok"),
        (0, [None], "unknown"),
        (0, [S.IN_PROGRESS], "unknown"),
    ],
)
def test_health_verdict_orders_problems(
    alerts: int, statuses: list[ExecutionStatus | None], verdict: str
) -> None:
    assert health_verdict(alerts, statuses) == verdict


def test_model_summary_lists_features_from_the_latest_drift_report(
    seeded: Any, api: httpx.Client
) -> None:
    body = api.get("/api/v1/models/credit/summary").json()
    (monitor,) = body["monitors"]
    last = seeded.executions[-1]
    report = api.get(f"/api/v1/executions/{last.id}/files/drift_report.json").json()
    expected = {f["name"]: f["statistic"] for f in report["features"]}
    assert {f["name"]: f["statistic"] for f in monitor["features"]} == expected
    income = next(f for f in monitor["features"] if f["name"] == "income")
    assert income["drift"] is True
    assert income["execution_id"] == last.id
    assert [e["id"] for e in body["recent_executions"]] == [
        e.id for e in reversed(seeded.executions)
    ]


def test_feature_history_holds_points_threshold_and_marked_violations(
    seeded: Any, api: httpx.Client
) -> None:
    body = api.get("/api/v1/models/credit/features/income", params={"span": 86400}).json()
    (series,) = seeded.store.metrics.query_points(
        "feature_baseline_drift_income",
        {"model": "credit"},
        start=seeded.executions[0].window_start,
        end=seeded.executions[-1].window_end
        + (seeded.executions[1].window_end - seeded.executions[0].window_end),
    )
    assert body["drift"]["v"] == list(series.values)
    assert body["drift"]["t"] == [t.timestamp() for t in series.timestamps]
    assert body["threshold"] == 0.1
    assert body["kind"] == "numeric"
    assert body["executions"]["id"] == [e.id for e in seeded.executions]
    assert body["executions"]["violated"] == [False, False, False, False, True]
    assert body["executions"]["status"][2] == "Failed"


def test_distribution_is_the_binned_sketch_of_both_statistics_files(
    seeded: Any, api: httpx.Client, baseline_files: dict[str, Any]
) -> None:
    last = seeded.executions[-1]
    body = api.get(f"/api/v1/executions/{last.id}/features/income/distribution").json()
    assert body["kind"] == "numeric"
    edges = np.asarray(body["edges"])
    assert len(edges) == len(body["baseline"]) + 1 == len(body["current"]) + 1
    assert sum(body["baseline"]) == pytest.approx(1.0)
    assert sum(body["current"]) == pytest.approx(1.0)
    # The baseline side is the weighted histogram of the baseline sketch's items.
    baseline = sm.statistics_from_json(baseline_files["statistics.json"])
    income = next(f for f in baseline.features if f.name == "income")
    assert income.numerical is not None
    assert income.numerical.sketch is not None
    items = np.concatenate([np.asarray(level) for level in income.numerical.sketch.data])
    weights = np.concatenate(
        [np.full(len(level), 2.0**h) for h, level in enumerate(income.numerical.sketch.data)]
    )
    expected, _ = np.histogram(items, bins=edges, weights=weights)
    assert body["baseline"] == pytest.approx((expected / weights.sum()).tolist())
    assert body["summary"]["baseline"]["mean"] == pytest.approx(income.numerical.mean)
    assert body["drift"]["drift"] is True
    assert any(v["check_type"] == "baseline_drift_check" for v in body["violations"])
    # The current window drifted up: its mean is well above the baseline's.
    assert body["summary"]["current"]["mean"] > 1.2 * body["summary"]["baseline"]["mean"]


def test_categorical_distribution_shares_per_category(seeded: Any, api: httpx.Client) -> None:
    first = seeded.executions[0]
    body = api.get(f"/api/v1/executions/{first.id}/features/region/distribution").json()
    assert body["kind"] == "categorical"
    assert body["labels"] == body["categories"]
    stats = api.get(f"/api/v1/executions/{first.id}/files/statistics.json").json()
    region = next(f for f in stats["features"] if f["name"] == "region")
    buckets = region["string_statistics"]["distribution"]["categorical"]["buckets"]
    total = sum(b["count"] for b in buckets)
    shares = dict(zip(body["categories"], body["current"], strict=True))
    assert shares == pytest.approx({b["value"]: b["count"] / total for b in buckets})


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/models/nope/summary", "nope"),
        ("/api/v1/models/credit/features/nope", "no feature 'nope'"),
        ("/api/v1/models/fraud/features/income", "no DataQuality schedule"),
        ("/api/v1/executions/999999/features/income/distribution", "999999"),
        ("/api/v1/executions/999999/report.html", "999999"),
    ],
)
def test_unknown_things_are_404_with_a_message(api: httpx.Client, path: str, message: str) -> None:
    response = api.get(path)
    assert response.status_code == 404, response.text
    assert message in response.json()["error"]["message"]


def test_a_failed_execution_has_no_distribution_and_says_why(
    seeded: Any, api: httpx.Client
) -> None:
    failed = _by_status(seeded)[S.FAILED][0]
    response = api.get(f"/api/v1/executions/{failed.id}/features/income/distribution")
    assert response.status_code == 404
    assert "no captured data in window" in response.json()["error"]["message"]


def test_execution_report_is_one_self_contained_page(seeded: Any, api: httpx.Client) -> None:
    last = seeded.executions[-1]
    response = api.get(f"/api/v1/executions/{last.id}/report.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    assert "credit-hourly" in text
    assert "baseline_drift_check" in text
    assert "<script" not in text
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert len(response.content) < 300_000


def test_timeseries_and_timeline_are_flat_arrays(seeded: Any, api: httpx.Client) -> None:
    body = api.get(
        "/api/v1/timeseries",
        params={
            "name": "feature_non_null_age",
            "match": 'model="credit"',
            "schedule": "credit-hourly",
            "span": 86400,
        },
    ).json()
    (series,) = body["series"]
    assert series["v"] == [1.0, 1.0, 1.0, 1.0]
    assert body["executions"]["id"] == [e.id for e in seeded.executions]
    timeline = api.get("/api/v1/schedules/credit-hourly/timeline", params={"span": 86400}).json()
    assert timeline["id"] == body["executions"]["id"]
    bad = api.get("/api/v1/timeseries", params={"name": "x", "start": "2026-11-02T00:00:00"})
    assert bad.status_code == 422
    assert "time zone" in bad.json()["error"]["message"]
