"""The REST API end to end: register, baseline, schedule, ingest, run, query — over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from modelmon.examples import generate_credit, score_credit
from modelmon.store import Store

H = timedelta(hours=1)
HOURLY = "cron(0 * ? * * *)"


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def test_models_and_versions_round_trip_with_field_named_errors(api: httpx.Client) -> None:
    created = api.post(
        "/api/v1/models",
        json={"name": "churn", "description": "who leaves", "problem_type": "Regression"},
    )
    assert created.status_code == 201
    assert api.post("/api/v1/models/churn/versions", json={"version": "v2"}).status_code == 201
    model = api.get("/api/v1/models/churn").json()
    assert (model["problem_type"], [v["version"] for v in model["versions"]]) == (
        "Regression",
        ["v2"],
    )
    names = {m["name"] for m in api.get("/api/v1/models").json()}
    assert names == {"credit", "churn"}

    bad = _error(api.post("/api/v1/models", json={"name": "a b"}), 422)
    assert bad["field"] == "name"
    typo = _error(api.post("/api/v1/models", json={"name": "x", "descripton": "?"}), 422)
    assert typo["field"] == "descripton"
    kind = _error(api.post("/api/v1/models", json={"name": "x", "problem_type": "Ranking"}), 422)
    assert kind["field"] == "problem_type"
    assert (
        "already exists"
        in _error(api.post("/api/v1/models", json={"name": "churn"}), 409)["message"]
    )
    assert "no model" in _error(api.get("/api/v1/models/nope"), 404)["message"].lower()


def test_a_baseline_is_computed_from_an_uploaded_dataset_and_served_back(
    api: httpx.Client, tmp_path: Path
) -> None:
    path = "/api/v1/models/credit/versions/v1/baselines/DataQuality"
    response = api.post(
        f"{path}/dataset",
        content=b"age,region\n31,north\n45,south\n",
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    statistics = api.get(f"{path}/files/statistics.json").json()
    assert statistics["dataset"]["item_count"] == 2
    assert {f["name"] for f in statistics["features"]} == {"age", "region"}
    constraints = api.get(f"{path}/files/constraints.json").json()
    refused = api.put(path, json={"files": {"statistics.json": statistics}})
    assert "constraints.json" in _error(refused, 422)["message"]
    ok = api.put(
        path, json={"files": {"statistics.json": statistics, "constraints.json": constraints}}
    )
    assert ok.json()["files"] == ["constraints.json", "statistics.json"]
    garbled = api.put(
        path, json={"files": {"statistics.json": {"x": 1}, "constraints.json": constraints}}
    )
    assert garbled.status_code == 400
    wrong_type = api.post(f"{path}/dataset", content=b"{}", headers={"content-type": "image/png"})
    assert "Content-Type" in _error(wrong_type, 422)["message"]
    bad_csv = api.post(
        f"{path}/dataset", content=b"a,b\n1,2,3\n", headers={"content-type": "text/csv"}
    )
    assert _error(bad_csv, 400)["line"] == 2


def test_schedules_are_validated_when_created(api: httpx.Client) -> None:
    def schedule(**changes: Any) -> httpx.Response:
        body = {
            "name": "hourly",
            "model": "credit",
            "version": "v1",
            "monitor_type": "DataQuality",
            "cron": HOURLY,
            **changes,
        }
        return api.post("/api/v1/schedules", json=body)

    assert "cron" in _error(schedule(cron="every hour"), 422)["message"]
    assert "start_offset" in _error(schedule(start_offset="-1h"), 422)["message"]
    assert "zero or negative" in _error(schedule(start_offset="PT1H"), 422)["message"]
    assert "window_start" in _error(schedule(cron="NOW"), 422)["message"]
    assert "ModelQuality baseline" in _error(schedule(monitor_type="ModelQuality"), 404)["message"]
    made = schedule(start_offset="-PT2H", end_offset="-PT1H")
    assert made.status_code == 201
    assert made.json()["start_offset_seconds"] == -7200
    assert schedule().status_code == 409
    assert api.post("/api/v1/schedules/hourly/stop").json()["status"] == "Stopped"
    assert api.post("/api/v1/schedules/hourly/start").json()["status"] == "Scheduled"
    assert [s["name"] for s in api.get("/api/v1/schedules", params={"model": "credit"}).json()] == [
        "hourly"
    ]


def test_ingested_records_are_monitored_and_results_queried(
    api: httpx.Client, clock: Any, data_dir: Path
) -> None:
    t0 = clock.now
    api.post(
        "/api/v1/schedules",
        json={
            "name": "hourly",
            "model": "credit",
            "version": "v1",
            "monitor_type": "DataQuality",
            "cron": HOURLY,
        },
    ).raise_for_status()
    for hour, drifts in ((0, ()), (1, ("income_shift",))):
        table = generate_credit(300, seed=40 + hour, drifts=drifts)
        scores = score_credit(table)
        rows = table.drop_columns(["default"]).to_pylist()
        records = [
            {
                "inference_id": f"h{hour}-{i}",
                "inference_time": (t0 + hour * H + timedelta(minutes=5)).isoformat(),
                "input": row,
                "output": {"default_probability": float(score)},
                "latency_ms": 3.5,
            }
            for i, (row, score) in enumerate(zip(rows, scores, strict=True))
        ]
        sent = api.post(
            "/api/v1/captures",
            params={"flush": "true"},
            json={"model": "credit", "version": "v1", "records": records},
        )
        assert sent.json() == {"accepted": 300, "rejected": 0, "notes": []}
    stored = list((data_dir / "captures" / "credit" / "v1").rglob("*.parquet"))
    assert sum(pq.read_metadata(p).num_rows for p in stored) == 600

    clock.advance(3 * H)  # hours 0, 1 (traffic) and 2 (none) come due
    ran = api.post("/api/v1/scheduler/tick").json()
    assert [e["status"] for e in ran] == ["Completed", "CompletedWithViolations", "Failed"]
    assert ran[2]["failure_reason"] == "no captured data in window"

    drifted = api.get(f"/api/v1/executions/{ran[1]['id']}").json()
    assert drifted["schedule"] == "hourly"
    assert any(v["feature"] == "income" for v in drifted["violations"])
    violations = api.get(f"/api/v1/executions/{ran[1]['id']}/files/constraint_violations.json")
    assert any(v["feature_name"] == "income" for v in violations.json()["violations"])
    assert (
        "no file"
        in _error(api.get(f"/api/v1/executions/{ran[1]['id']}/files/x.json"), 404)["message"]
    )

    series = api.get(
        "/api/v1/metrics/query",
        params={
            "name": "feature_baseline_drift_income",
            "match": ['model="credit"', "feature=~inc.*"],
            "start": t0.isoformat(),
            "end": (t0 + 5 * H).isoformat(),
        },
    ).json()
    assert len(series) == 1
    values = [value for _, value in series[0]["points"]]
    assert len(values) == 2
    assert values[1] > 0.1 > values[0]
    assert series[0]["labels"]["schedule"] == "hourly"
    bad_matcher = api.get("/api/v1/metrics/query", params={"name": "x", "match": "feature"})
    assert "label=" in _error(bad_matcher, 422)["message"]
    names = {
        s["name"]
        for s in api.get("/api/v1/metrics/series", params={"prefix": "feature_non_null_"}).json()
    }
    assert "feature_non_null_income" in names

    produced = api.get(f"/api/v1/executions/{ran[1]['id']}/points").json()
    drift = {
        p["labels"]["feature"]: p["value"] for p in produced if p["name"].startswith("feature_b")
    }
    assert drift["income"] == values[1]
    assert api.get(f"/api/v1/executions/{ran[2]['id']}/points").json() == []

    listed = api.get("/api/v1/executions", params={"model": "credit", "status": "Failed"}).json()
    assert [e["id"] for e in listed] == [ran[2]["id"]]
    exposition = api.get("/metrics").text
    assert "modelmon_feature_baseline_drift_income{" in exposition
    assert 'modelmon_executions{status="CompletedWithViolations"} 1.0' in exposition
    assert "modelmon_ingest_records_written_total 600.0" in exposition


def test_labels_are_ingested_and_unknown_ids_reported(api: httpx.Client, clock: Any) -> None:
    records = [{"inference_id": f"id-{i}", "input": {"x": i}} for i in range(3)]
    api.post(
        "/api/v1/captures",
        params={"flush": "true"},
        json={"model": "credit", "version": "v1", "records": records},
    ).raise_for_status()
    clock.advance(H)
    answer = api.post(
        "/api/v1/labels",
        json={
            "model": "credit",
            "labels": [{"inference_id": "id-0", "label": 1}, {"inference_id": "ghost", "label": 0}],
        },
    ).json()
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert any("ghost" in note for note in answer["notes"])
    empty = _error(api.post("/api/v1/labels", json={"model": "credit", "labels": []}), 422)
    assert empty["field"] == "labels"
    unknown = api.post(
        "/api/v1/captures", json={"model": "credit", "version": "v9", "records": records}
    )
    assert unknown.status_code == 404


def test_openapi_and_health(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/models",
        "/api/v1/schedules",
        "/api/v1/metrics/query",
        "/api/v1/captures",
    } <= set(paths)
    assert api.get("/healthz").json()["status"] == "ok"


def test_writes_need_a_token_once_one_exists(api: httpx.Client, store: Store, clock: Any) -> None:
    assert api.post("/api/v1/models", json={"name": "open"}).status_code == 201
    token_id, secret = store.tokens.create_token("ci", now=clock.now)
    refused = api.post("/api/v1/models", json={"name": "closed"})
    assert refused.status_code == 401
    assert "modelmon tokens create" in refused.json()["error"]["message"]
    wrong = api.post(
        "/api/v1/models", json={"name": "closed"}, headers={"Authorization": "Bearer mm_nope"}
    )
    assert wrong.status_code == 401
    auth = {"Authorization": f"Bearer {secret}"}
    assert api.post("/api/v1/models", json={"name": "closed"}, headers=auth).status_code == 201
    assert api.get("/api/v1/models").status_code == 200  # reads stay open
    store.tokens.revoke_token(token_id, now=clock.now)
    assert store.tokens.any_active() is False
    assert api.post("/api/v1/models", json={"name": "reopened"}).status_code == 201


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_are_refused(
    store: Store, data_dir: Path, clock: Any, chunked: bool
) -> None:
    from modelmon.server import ServerState
    from modelmon.server.testing import running_server

    data_dir.mkdir(parents=True, exist_ok=True)
    state = ServerState(store, data_dir, clock=clock, owner="t", max_body_bytes=1000)
    body = b'{"name": "' + b"x" * 5000 + b'"}'
    with running_server(state) as url, httpx.Client(base_url=url) as client:
        content: Any = iter([body[:2000], body[2000:]]) if chunked else body
        response = client.post(
            "/api/v1/models", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "1000 bytes" in response.json()["error"]["message"]
        assert client.get("/api/v1/models").status_code == 200


def test_a_schedule_runs_multivariate_drift_on_a_server_computed_baseline(
    api: httpx.Client, clock: Any, capture_hour: Any, tmp_path: Path
) -> None:
    train = generate_credit(3_000, seed=5)
    reference = train.drop_columns(["default"]).add_column(
        0, "default_probability", pa.array(score_credit(train))
    )
    path = tmp_path / "train.csv"
    pacsv.write_csv(reference, path)
    computed = api.post(
        "/api/v1/models/credit/versions/v1/baselines/DataQuality/dataset",
        params={"multivariate": "true"},
        content=path.read_bytes(),
        headers={"content-type": "text/csv"},
    )
    assert "multivariate_reference.parquet" in computed.json()["files"]
    api.post(
        "/api/v1/schedules",
        json={
            "name": "joint",
            "model": "credit",
            "version": "v1",
            "monitor_type": "DataQuality",
            "cron": HOURLY,
            "config": {"multivariate": ["pca"]},
        },
    ).raise_for_status()
    capture_hour(clock.now, seed=6)
    clock.advance(H + timedelta(minutes=5))
    [ran] = api.post("/api/v1/scheduler/tick").json()
    assert ran["status"] in ("Completed", "CompletedWithViolations"), ran["failure_reason"]
    series = api.get(
        "/api/v1/metrics/query",
        params={"name": "multivariate_pca_reconstruction_error", "start": "2026-11-01T00:00:00Z"},
    ).json()
    assert len(series[0]["points"]) == 1


def test_any_execution_has_a_self_contained_html_report(
    api: httpx.Client, clock: Any, capture_hour: Any
) -> None:
    api.post(
        "/api/v1/schedules",
        json={
            "name": "health",
            "model": "credit",
            "version": "v1",
            "monitor_type": "ServiceHealth",
            "cron": HOURLY,
        },
    ).raise_for_status()
    capture_hour(clock.now, seed=8)
    clock.advance(H + timedelta(minutes=5))
    [ran] = api.post("/api/v1/scheduler/tick").json()
    page = api.get(f"/api/v1/executions/{ran['id']}/report.html")
    assert page.status_code == 200, page.text
    assert "health" in page.text
    assert "service_throughput_per_min" in page.text
    assert "default-src 'none'" in page.text  # opens without any network access
