"""Models, their versions and the baselines attached to each version."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Query, Request

from modelmon.errors import ConfigError
from modelmon.formats import sagemaker as sm
from modelmon.formats.atomic import atomic_file
from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.server.auth import require_write, state_of
from modelmon.server.schemas import (
    BaselineOut,
    BaselineUpload,
    ModelIn,
    ModelOut,
    ModelPatch,
    VersionIn,
    VersionOut,
)
from modelmon.services.runners.data_quality import REFERENCE
from modelmon.store import MonitorType, TokenInfo

__all__ = ["router"]

router = APIRouter(tags=["models"])
Writer = Annotated[TokenInfo | None, Depends(require_write)]

# An uploaded dataset's media type -> the suffix open_dataset reads it by.
_DATASET_SUFFIXES = {
    "text/csv": ".csv",
    "application/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonlines": ".jsonl",
    "application/vnd.apache.parquet": ".parquet",
    "application/x-parquet": ".parquet",
    "application/octet-stream": ".parquet",
}


@router.get("/models", response_model=list[ModelOut])
def list_models(request: Request) -> list[ModelOut]:
    store = state_of(request).store
    return [ModelOut.of(m, store.models.list_versions(m.name)) for m in store.models.list_models()]


@router.post("/models", response_model=ModelOut, status_code=201)
def create_model(body: ModelIn, request: Request, _: Writer) -> ModelOut:
    state = state_of(request)
    model = state.store.models.create_model(
        body.name,
        now=state.clock(),
        description=body.description,
        problem_type=body.problem_type,
        schema=body.model_schema,
    )
    return ModelOut.of(model, [])


@router.get("/models/{model}", response_model=ModelOut)
def get_model(model: str, request: Request) -> ModelOut:
    store = state_of(request).store
    return ModelOut.of(store.models.get_model(model), store.models.list_versions(model))


@router.patch("/models/{model}", response_model=ModelOut)
def update_model(model: str, body: ModelPatch, request: Request, _: Writer) -> ModelOut:
    store = state_of(request).store
    updated = store.models.update_model(
        model,
        description=body.description,
        problem_type=body.problem_type,
        schema=body.model_schema,
    )
    return ModelOut.of(updated, store.models.list_versions(model))


@router.delete("/models/{model}", status_code=204)
def delete_model(model: str, request: Request, _: Writer) -> None:
    state_of(request).store.models.delete_model(model)


@router.post("/models/{model}/versions", response_model=VersionOut, status_code=201)
def create_version(model: str, body: VersionIn, request: Request, _: Writer) -> VersionOut:
    state = state_of(request)
    created = state.store.models.create_version(
        model, body.version, now=state.clock(), description=body.description
    )
    return VersionOut.of(created)


@router.get("/models/{model}/versions", response_model=list[VersionOut])
def list_versions(model: str, request: Request) -> list[VersionOut]:
    return [VersionOut.of(v) for v in state_of(request).store.models.list_versions(model)]


@router.get("/models/{model}/versions/{version}/baselines", response_model=list[BaselineOut])
def list_baselines(model: str, version: str, request: Request) -> list[BaselineOut]:
    store = state_of(request).store
    return [BaselineOut.of(b) for b in store.models.list_baselines(model, version)]


@router.get("/models/{model}/versions/{version}/baselines/{monitor_type}/files/{name}")
def get_baseline_file(
    model: str, version: str, monitor_type: MonitorType, name: str, request: Request
) -> Any:
    from modelmon.server.files import file_content

    baseline = state_of(request).store.models.get_baseline(model, version, monitor_type)
    return file_content(baseline.files, name, f"the {monitor_type} baseline")


@router.put(
    "/models/{model}/versions/{version}/baselines/{monitor_type}",
    response_model=BaselineOut,
)
def upload_baseline(
    model: str,
    version: str,
    monitor_type: MonitorType,
    body: BaselineUpload,
    request: Request,
    _: Writer,
) -> BaselineOut:
    """Attach baseline files (e.g. SageMaker's statistics.json and constraints.json)."""
    if monitor_type is MonitorType.DATA_QUALITY:
        _validate_data_quality(body.files)
    state = state_of(request)
    stored = state.store.models.set_baseline(
        model, version, monitor_type, body.files, now=state.clock()
    )
    return BaselineOut.of(stored)


@router.post(
    "/models/{model}/versions/{version}/baselines/DataQuality/dataset",
    response_model=BaselineOut,
    status_code=201,
)
async def compute_data_quality_baseline(
    model: str,
    version: str,
    request: Request,
    _: Writer,
    comparison_threshold: Annotated[float, Query(gt=0, le=1)] = 0.1,
    multivariate: bool = False,
) -> BaselineOut:
    """Compute a DataQuality baseline from a dataset sent as the body (CSV, JSON Lines or
    Parquet, by Content-Type) and attach it. With ``multivariate=true`` a row sample is kept
    too (under the data directory), so schedules can run multivariate drift methods."""
    from starlette.concurrency import run_in_threadpool

    state = state_of(request)
    state.store.models.get_version(model, version)  # 404 before reading a large body
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = _DATASET_SUFFIXES.get(kind)
    if suffix is None:
        raise ConfigError(
            "The Content-Type of a baseline dataset must be one of "
            f"{', '.join(sorted(_DATASET_SUFFIXES))}. Got {kind or 'none'!r} instead."
        )
    body = await request.body()

    def compute() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"upload{suffix}"
            path.write_bytes(body)
            monitor = DataQualityMonitor(
                comparison_threshold=comparison_threshold,
                multivariate=("pca",) if multivariate else (),
            )
            baseline = monitor.baseline(path)
        files: dict[str, Any] = {
            "statistics.json": sm.statistics_to_json(baseline.statistics),
            "constraints.json": sm.constraints_to_json(baseline.constraints),
        }
        if baseline.reference is not None:
            kept = state.data_dir / "baselines" / model / version / "DataQuality"
            kept.mkdir(parents=True, exist_ok=True)
            with atomic_file(kept / REFERENCE) as temporary:
                pq.write_table(baseline.reference, temporary)
            files[REFERENCE] = str(kept / REFERENCE)
        return files

    files = await run_in_threadpool(compute)
    stored = state.store.models.set_baseline(
        model, version, MonitorType.DATA_QUALITY, files, now=state.clock()
    )
    return BaselineOut.of(stored)


def _validate_data_quality(files: dict[str, Any]) -> None:
    for name in ("statistics.json", "constraints.json"):
        if name not in files:
            raise ConfigError(
                f"The 'files' field of a DataQuality baseline must hold {name}. "
                f"Got {sorted(files)} instead."
            )
    sm.statistics_from_json(files["statistics.json"], path="files.statistics.json")
    sm.constraints_from_json(files["constraints.json"], path="files.constraints.json")
