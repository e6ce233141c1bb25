"""Ingest captured inferences and ground-truth labels over HTTP (batched JSON).

Captures go through the same writer as the SDK (Parquet, atomic, partitioned by hour); a batch
the writer's queue cannot take is refused whole with 503, so the client retries and nothing is
lost silently. Labels go through ``import_labels`` with its checks.
"""

from __future__ import annotations

from typing import Annotated

import pyarrow as pa
from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from modelmon.capture import import_labels, new_inference_id
from modelmon.capture.columns import LoggedInference
from modelmon.server.auth import require_write, state_of
from modelmon.server.schemas import CapturesIn, IngestResult, LabelsIn
from modelmon.store import TokenInfo

__all__ = ["router"]

router = APIRouter(tags=["ingest"])
Writer = Annotated[TokenInfo | None, Depends(require_write)]


@router.post("/captures", response_model=IngestResult, status_code=202)
def ingest_captures(
    body: CapturesIn, request: Request, _: Writer, flush: bool = False
) -> IngestResult:
    """Queue the records for writing; ``flush=true`` waits until they are on disk."""
    state = state_of(request)
    state.store.models.get_version(body.model, body.version)
    now = state.clock()
    writer = state.writer
    accepted = 0
    for record in body.records:
        inference_id = record.inference_id or new_inference_id()
        if not writer.should_sample(inference_id):
            continue
        logged = LoggedInference(
            model=body.model,
            version=body.version,
            inference_id=inference_id,
            time=record.inference_time or now,
            inputs=record.input,
            outputs=record.output,
            latency_ms=record.latency_ms,
            error=record.error,
        )
        if not writer.submit_logged(logged):
            raise HTTPException(
                503,
                f"The capture queue is full after {accepted} of {len(body.records)} records; "
                "retry the rest later.",
                headers={"Retry-After": "1"},
            )
        accepted += 1
    if flush:
        writer.flush(timeout=30)
    return IngestResult(accepted=accepted, rejected=len(body.records) - accepted)


@router.post("/labels", response_model=IngestResult, status_code=202)
async def ingest_labels(body: LabelsIn, request: Request, _: Writer) -> IngestResult:
    """Store ground truth for earlier inferences; labels of unknown inference ids are refused
    and counted (the response's notes say which)."""
    state = state_of(request)
    state.store.models.get_model(body.model)
    values = [label.label for label in body.labels]
    kinds = {type(v) for v in values}
    if len(kinds) > 1:
        values = [str(v) for v in values]  # one column needs one type
    table = pa.table(
        {"inference_id": [label.inference_id for label in body.labels], "label": values}
    )
    report = await run_in_threadpool(
        import_labels,
        state.data_dir,
        body.model,
        table,
        inference_id_column="inference_id",
        label_column="label",
        clock=state.clock,
    )
    # The first problems in full (they name the row and what was wrong), then the notes.
    notes = [str(problem) for problem in report.problems[:20]] + list(report.notes)
    return IngestResult(
        accepted=report.imported, rejected=report.read - report.imported, notes=notes
    )
