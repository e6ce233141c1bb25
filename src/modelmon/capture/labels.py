"""Import ground-truth labels: files (or tables) of inference ids and labels, checked row by row.

Accepted sources (a file, a directory read recursively in name order, or an in-memory table):

* SageMaker ground truth, JSON Lines (sagemaker.md §4), recognised by its first line::

      {"groundTruthData": {"data": "1", "encoding": "CSV"},
       "eventMetadata": {"eventId": "<inference id>"}, "eventVersion": "0"}

  ``data`` holds the label alone; CSV encoding as SageMaker requires (a JSON scalar is accepted
  too). ``eventId`` is the capture's ``inferenceId`` if the client gave one, else its
  ``eventId``: exactly the ``inference_id`` modelmon stores for a SageMaker capture.
* CSV, Parquet or JSON Lines with an inference-id column (``inference_id_column``, else the first
  of inference_id, inferenceId, SageMakerInferenceId, eventId) and a label column
  (``label_column``, else the first of label, ground_truth, groundTruth).

A row is not imported, and is reported with its file and line, when its inference id or its
label is missing, when its label is not one value, when its inference id already had a label
earlier in the same import (the first is kept), or when no captured prediction of the model has
its inference id (unless ``keep_unknown``: labels may be imported before their predictions).
Labels are stored by arrival time (``arrival_time``, default now); see
:mod:`modelmon.capture.labelstore`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.capture.labelstore import write_labels
from modelmon.capture.layout import check_name, utc
from modelmon.capture.reader import find_captures
from modelmon.capture.report import ImportReport, Problems
from modelmon.errors import ConfigError, DatasetError
from modelmon.formats.datasets import (
    JSON_LINES_SUFFIXES,
    DatasetFormat,
    first_json_object,
    open_dataset,
)

__all__ = ["import_labels"]

ID_COLUMNS = ("inference_id", "inferenceId", "SageMakerInferenceId", "eventId")
LABEL_COLUMNS = ("label", "ground_truth", "groundTruth")
_SNIPPET = 60


@dataclass(frozen=True, slots=True)
class _Label:
    inference_id: str
    label: str
    path: str
    line: int | None  # None for Parquet and in-memory tables: ``row`` then says where
    row: int


def _now() -> datetime:
    return datetime.now(UTC)


def import_labels(
    data_dir: str | os.PathLike[str],
    model: str,
    source: str | os.PathLike[str] | Any,
    *,
    inference_id_column: str | None = None,
    label_column: str | None = None,
    format: DatasetFormat | None = None,
    arrival_time: datetime | None = None,
    keep_unknown: bool = False,
    clock: Callable[[], datetime] = _now,
) -> ImportReport:
    """Import the labels in ``source`` for ``model``; see the module docstring. Rows that cannot
    be used are in the report; a source that cannot be read at all raises DatasetError."""
    check_name(model, "model", "import_labels")
    root = Path(data_dir)
    problems = Problems()
    labels, read = _first_of_each_id(
        _labels(source, inference_id_column, label_column, format, problems), problems
    )
    notes: list[str] = []
    if labels:
        labels = _known(root, model, labels, keep_unknown, problems, notes)
    files: list[Path] = []
    if labels:
        now = clock()
        arrival = utc(arrival_time if arrival_time is not None else now)
        table = pa.table(
            {
                "inference_id": pa.array([label.inference_id for label in labels], pa.string()),
                "label": pa.array([label.label for label in labels], pa.string()),
                "label_time": pa.repeat(
                    pa.scalar(arrival, pa.timestamp("us", tz="UTC")), len(labels)
                ),
                "label_source": pa.array([label.path for label in labels], pa.string()),
            }
        )
        files = write_labels(root, model, table, now)
    return ImportReport.of(_describe(source), read, len(labels), problems, files, notes)


def _first_of_each_id(labels: Iterator[_Label], problems: Problems) -> tuple[list[_Label], int]:
    """The first label of each inference id (later ones reported), and the rows read."""
    seen: dict[str, _Label] = {}
    for label in labels:
        first = seen.setdefault(label.inference_id, label)
        if first is not label:
            where = f"line {first.line}" if first.line is not None else f"row {first.row}"
            problem = (
                f"inference id {label.inference_id!r} already has a label ({where} of "
                f"{first.path}); the first is kept"
            )
            problems.add("duplicates", _located(label, problem))
    # Every row read was either kept, a duplicate, or refused while reading.
    return list(seen.values()), len(seen) + problems.count


def _known(
    root: Path,
    model: str,
    labels: list[_Label],
    keep_unknown: bool,
    problems: Problems,
    notes: list[str],
) -> list[_Label]:
    """The labels whose inference id a captured prediction of ``model`` has (all of them with
    ``keep_unknown``, with a note); the others are reported."""
    ids = pa.array([label.inference_id for label in labels], pa.string())
    known = set(find_captures(root, model, ids)["inference_id"].to_pylist())
    unknown = [label for label in labels if label.inference_id not in known]
    if not unknown:
        return labels
    if keep_unknown:
        notes.append(
            f"{len(unknown)} labels match no captured prediction of {model!r} yet; they were "
            "kept and will join predictions captured with their ids."
        )
        return labels
    for label in unknown:
        problem = (
            f"no captured prediction of model {model!r} has inference id {label.inference_id!r}"
        )
        problems.add("unknown inference ids", _located(label, problem))
    return [label for label in labels if label.inference_id in known]


def _describe(source: object) -> str:
    return str(source) if isinstance(source, str | os.PathLike) else type(source).__name__


# -- reading sources -------------------------------------------------------------------------------


def _labels(
    source: object,
    id_column: str | None,
    label_column: str | None,
    format: DatasetFormat | None,
    problems: Problems,
) -> Iterator[_Label]:
    if not isinstance(source, str | os.PathLike):
        yield from _table_labels(source, id_column, label_column, None, problems)
        return
    path = Path(source)
    files = _files(path)
    for file in files:
        if format is None and _is_ground_truth(file):
            yield from _ground_truth_labels(file, problems)
        else:
            yield from _table_labels(file, id_column, label_column, format, problems)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.exists():
        raise DatasetError("the label file does not exist", path=path)
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise DatasetError("the directory holds no label files", path=path)
    return files


def _is_ground_truth(path: Path) -> bool:
    if path.suffix.lower() not in JSON_LINES_SUFFIXES:
        return False
    try:
        first = first_json_object(path)
    except ValueError:
        return False
    return first is not None and "groundTruthData" in first
    return False


def _ground_truth_labels(path: Path, problems: Problems) -> Iterator[_Label]:
    name = str(path)
    with open(path, "rb") as stream:
        for line, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                inference_id, label = _ground_truth(raw)
            except _RowProblem as problem:
                problems.add(
                    problem.kind,
                    DatasetError(
                        problem.problem,
                        path=name,
                        line=line,
                        column=problem.column,
                        expected=problem.expected,
                        found=problem.found,
                    ),
                )
                continue
            yield _Label(inference_id, label, name, line, line)


class _RowProblem(Exception):
    def __init__(
        self,
        kind: str,
        problem: str,
        column: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        super().__init__(problem)
        self.kind, self.problem, self.column = kind, problem, column
        self.expected, self.found = expected, found


def _ground_truth(raw: bytes) -> tuple[str, str]:
    try:
        record = json.loads(raw)
    except ValueError as error:
        raise _RowProblem(
            "unreadable rows", f"the line is not valid JSON ({error})", found=_snippet(raw)
        ) from error
    if not isinstance(record, dict):
        raise _RowProblem("unreadable rows", "the line is not a JSON object", found=_snippet(raw))
    meta = record.get("eventMetadata")
    inference_id = meta.get("eventId") if isinstance(meta, dict) else None
    if not isinstance(inference_id, str) or not inference_id:
        raise _RowProblem(
            "missing inference ids",
            "the inference id is missing",
            column="eventMetadata.eventId",
            expected="the inference id as a non-empty string",
            found=_snippet(json.dumps(meta)),
        )
    truth = record.get("groundTruthData")
    data = truth.get("data") if isinstance(truth, dict) else None
    encoding = truth.get("encoding") if isinstance(truth, dict) else None
    if not isinstance(data, str):
        raise _RowProblem(
            "missing labels",
            "the label is missing",
            column="groundTruthData.data",
            expected="the label as a string",
            found=_snippet(json.dumps(truth)),
        )
    kind = encoding.upper() if isinstance(encoding, str) else None
    if kind not in ("CSV", "JSON"):
        raise _RowProblem(
            "unparseable labels",
            "the label's encoding is not supported",
            column="groundTruthData.encoding",
            expected="CSV (or JSON)",
            found=repr(encoding),
        )
    fields = next(csv.reader([data]), []) if kind == "CSV" else _json_label(data)
    if not fields or not fields[0].strip():
        raise _RowProblem("missing labels", "the label is missing", column="groundTruthData.data")
    if len(fields) != 1:
        raise _RowProblem(
            "unparseable labels",
            "the label is not one value",
            column="groundTruthData.data",
            expected=f"exactly one {kind} value",
            found=_snippet(data),
        )
    return inference_id, fields[0]


def _json_label(data: str) -> list[str]:
    """The values of a JSON-encoded label: one for a scalar; null is none; anything else
    (an array, an object, text that is not JSON) is not one value and kept whole to be shown."""
    try:
        value = json.loads(data)
    except ValueError:
        return [data, ""]
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool | int | float):
        return [json.dumps(value)]
    return [data, ""]


def _snippet(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


def _table_labels(
    source: object,
    id_column: str | None,
    label_column: str | None,
    format: DatasetFormat | None,
    problems: Problems,
) -> Iterator[_Label]:
    dataset = open_dataset(source, format=format)
    names = dataset.schema.names
    id_name = _column(
        names, id_column, ID_COLUMNS, "inference_id_column", dataset.source.description
    )
    label_name = _column(
        names, label_column, LABEL_COLUMNS, "label_column", dataset.source.description
    )
    label_type = dataset.schema.field(label_name).type
    if pa.types.is_nested(label_type):
        raise DatasetError(
            "the label column does not hold single values",
            path=dataset.source.description,
            column=label_name,
            expected="one number or string per row",
            found=str(label_type),
        )
    path = dataset.source.description
    first_line = {"csv": 2 if dataset.source.has_header else 1, "jsonl": 1}.get(
        dataset.source.format
    )
    row = 0
    for batch in dataset.batches():
        ids = pc.cast(batch.column(id_name), pa.string()).to_pylist()
        labels = pc.cast(batch.column(label_name), pa.string()).to_pylist()
        for inference_id, label in zip(ids, labels, strict=True):
            row += 1
            line = None if first_line is None else first_line + row - 1
            where = _Label(inference_id or "", label or "", path, line, row)
            if not inference_id:
                problems.add(
                    "missing inference ids",
                    _located(where, "the inference id is missing", id_name),
                )
            elif label is None or not label.strip():
                problems.add("missing labels", _located(where, "the label is missing", label_name))
            else:
                yield where


def _located(label: _Label, problem: str, column: str | None = None) -> DatasetError:
    if label.line is None:
        problem = f"row {label.row}: {problem}"
    return DatasetError(problem, path=label.path, line=label.line, column=column)


def _column(
    names: list[str], given: str | None, defaults: tuple[str, ...], parameter: str, where: str
) -> str:
    if given is not None:
        if given in names:
            return given
    else:
        for name in defaults:
            if name in names:
                return name
    wanted = repr(given) if given is not None else "None (none of " + ", ".join(defaults) + ")"
    raise ConfigError(
        f"The {parameter!r} parameter of import_labels must name a column of {where} "
        f"(columns: {', '.join(names)}). Got {wanted} instead."
    )
