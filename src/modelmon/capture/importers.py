"""Import captured inferences from files: SageMaker data capture, and batch-inference outputs.

* **SageMaker data capture** (JSON Lines, sagemaker.md §7), as copied from S3
  (``endpoint/variant/yyyy/mm/dd/hh/*.jsonl``): one record per line. The inference id is
  ``eventMetadata.inferenceId``, else ``eventId`` (the key ground truth joins on); the version,
  unless given, is the variant's directory name. Bodies are decoded by their encoding exactly as
  live captures are (:mod:`modelmon.capture.columns`).
* **Batch-inference output** (CSV, Parquet, JSON Lines): one row per inference. The inference id
  column is ``inference_id_column``, else ``SageMakerInferenceId`` or ``inference_id``; in a CSV
  file without a header, SageMaker batch transform's last two columns (id, then start time).
  The time column is ``time_column``, else ``SageMakerInferenceTime`` or ``inference_time``;
  without one every row gets the import time (the report says so). Every other column is a
  feature: an output if named in ``output_columns``, else an input.

A line or row that cannot be used is reported with its file and line and skipped; the rest is
imported. Output files are named after a digest of the source file's bytes, so importing the
same file again replaces what it wrote the first time instead of duplicating it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.capture.columns import (
    CAPTURE_SCHEMA_VERSION,
    DROPPED_KEY,
    INPUT_PREFIX,
    METADATA_SCHEMA,
    OUTPUT_PREFIX,
    SCHEMA_KEY,
    TableBuilder,
    is_position,
)
from modelmon.capture.layout import (
    capture_partition,
    check_name,
    hour_of,
    write_atomically,
)
from modelmon.capture.records import InferenceEvent, Payload
from modelmon.capture.report import ImportReport, Problems
from modelmon.errors import ConfigError, DatasetError
from modelmon.formats.capture_jsonl import parse_capture_record
from modelmon.formats.datasets import (
    JSON_LINES_SUFFIXES,
    DatasetFormat,
    first_json_object,
    open_dataset,
)

__all__ = ["import_captures"]

ID_COLUMNS = ("SageMakerInferenceId", "inference_id")
TIME_COLUMNS = ("SageMakerInferenceTime", "inference_time")
_CANONICAL = {"CSV": "text/csv", "JSON": "application/json"}
_EVENTS_PER_FILE = 50_000
_SUFFIXES = {".jsonl", ".json", ".ndjson", ".csv", ".tsv", ".parquet", ".pq", ".gz", ".zst", ".bz2"}


def _now() -> datetime:
    return datetime.now(UTC)


def import_captures(
    data_dir: str | os.PathLike[str],
    model: str,
    source: str | os.PathLike[str],
    *,
    version: str | None = None,
    format: DatasetFormat | None = None,
    inference_id_column: str | None = None,
    time_column: str | None = None,
    output_columns: Sequence[str] = (),
    clock: Callable[[], datetime] = _now,
) -> ImportReport:
    """Import the captures in ``source`` (a file or a directory, read recursively in name
    order) for ``model``; see the module docstring."""
    check_name(model, "model", "import_captures")
    if version is not None:
        check_name(version, "version", "import_captures")
    root = Path(data_dir)
    path = Path(source)
    files = _files(path, format)
    problems = Problems()
    state = _Totals()
    for file in files:
        if format == "sagemaker-capture" or (format is None and _is_capture(file)):
            _import_capture_file(root, model, version, file, problems, state)
        else:
            _import_table_file(
                root,
                model,
                version or "default",
                file,
                format,
                inference_id_column,
                time_column,
                output_columns,
                clock,
                problems,
                state,
            )
    return ImportReport.of(
        str(path), state.read, state.imported, problems, state.files, state.notes
    )


class _Totals:
    def __init__(self) -> None:
        self.read = 0
        self.imported = 0
        self.files: list[Path] = []
        self.notes: list[str] = []


def _files(path: Path, format: DatasetFormat | None) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.exists():
        raise DatasetError("the capture file does not exist", path=path)
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        and (format is not None or p.suffix.lower() in _SUFFIXES)
    )
    if not files:
        raise DatasetError(
            "the directory holds no capture files",
            path=path,
            expected=f"files ending in {', '.join(sorted(_SUFFIXES))}",
        )
    return files


def _is_capture(path: Path) -> bool:
    if path.suffix.lower() not in JSON_LINES_SUFFIXES:
        return False
    try:
        first = first_json_object(path)
    except ValueError:
        return True  # a broken first line: let the capture reader say where
    return first is not None and "captureData" in first
    return False


def _digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()[:16]


def _write(
    root: Path,
    model: str,
    version: str,
    hour: datetime,
    name: str,
    table: pa.Table,
    state: _Totals,
) -> None:
    directory = capture_partition(root, model, version, hour)
    metadata = {SCHEMA_KEY: CAPTURE_SCHEMA_VERSION, DROPPED_KEY: "0"}
    state.files.append(write_atomically(directory, name, table, metadata))


# -- SageMaker data capture ----------------------------------------------------------------------


def _import_capture_file(
    root: Path,
    model: str,
    version: str | None,
    file: Path,
    problems: Problems,
    state: _Totals,
) -> None:
    version = version or _variant(file)
    digest = _digest(file)
    groups: dict[datetime, list[InferenceEvent]] = {}
    parts: dict[datetime, int] = {}
    for event in _capture_events(file, model, version, problems, state):
        hour = hour_of(event.time)
        group = groups.setdefault(hour, [])
        group.append(event)
        if len(group) >= _EVENTS_PER_FILE:
            _write_events(root, model, version, hour, digest, parts, group, state)
            groups[hour] = []
    for hour, group in groups.items():
        if group:
            _write_events(root, model, version, hour, digest, parts, group, state)


def _write_events(
    root: Path,
    model: str,
    version: str,
    hour: datetime,
    digest: str,
    parts: dict[datetime, int],
    events: list[InferenceEvent],
    state: _Totals,
) -> None:
    builder = TableBuilder()
    for event in events:
        builder.add_event(event)
    part = parts.get(hour, 0)
    parts[hour] = part + 1
    _write(
        root, model, version, hour, f"import-{digest}-{part:04d}.parquet", builder.table(), state
    )
    state.imported += len(events)
    if builder.undecodable:
        state.notes.append(
            f"{builder.undecodable} bodies of {hour:%Y-%m-%d %H}:00 could not be read as JSON or "
            "CSV columns; they are kept raw (base64 or their text)."
        )


def _variant(file: Path) -> str:
    """The variant of SageMaker's ``endpoint/variant/yyyy/mm/dd/hh/file`` layout, else "default"."""
    parents = file.parents
    hours = [parents[i].name for i in range(min(4, len(parents) - 1))]
    if len(hours) == 4 and all(name.isdigit() for name in hours) and len(parents) > 4:
        candidate = parents[4].name
        try:
            return check_name(candidate, "version", "import_captures")
        except ConfigError:
            return "default"
    return "default"


def _capture_events(
    file: Path, model: str, version: str, problems: Problems, state: _Totals
) -> Iterator[InferenceEvent]:
    name = str(file)
    with open(file, "rb") as stream:
        for line, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            state.read += 1
            try:
                obj = json.loads(raw)
                record = parse_capture_record(obj, line, path=name)
            except ValueError as error:
                problems.add(
                    "unreadable lines",
                    DatasetError(f"the line is not valid JSON ({error})", path=name, line=line),
                )
                continue
            except DatasetError as error:
                problems.add("invalid records", error)
                continue
            capture = obj["captureData"]
            yield InferenceEvent(
                model=model,
                version=version,
                inference_id=record.inference_id or record.event_id,
                time=record.inference_time,
                request=_payload(capture.get("endpointInput")),
                response=_payload(capture.get("endpointOutput")),
                latency_ms=None,
                source="import",
            )


def _payload(side: Any) -> Payload | None:
    """A capture record's side as the body it was (the record is already checked)."""
    if side is None:
        return None
    data: str = side["data"]
    encoding = side["encoding"].upper()
    content_type = side.get("observedContentType")
    content_type = content_type if isinstance(content_type, str) else ""
    if encoding == "BASE64":
        return Payload(base64.b64decode(data), content_type)
    # SageMaker's encoding says how the body was read: keep a content type that agrees with it.
    media = content_type.split(";", 1)[0].strip().lower()
    if encoding.lower() not in media:
        content_type = _CANONICAL[encoding]
    return Payload(data.encode("utf-8"), content_type)


# -- batch-inference output ----------------------------------------------------------------------


def _import_table_file(
    root: Path,
    model: str,
    version: str,
    file: Path,
    format: DatasetFormat | None,
    id_column: str | None,
    time_column: str | None,
    output_columns: Sequence[str],
    clock: Callable[[], datetime],
    problems: Problems,
    state: _Totals,
) -> None:
    dataset = open_dataset(file, format=format)
    names = dataset.schema.names
    id_name, time_name = _id_and_time(
        names, dataset.source.has_header, id_column, time_column, file
    )
    unknown = [c for c in output_columns if c not in names]
    if unknown:
        raise ConfigError(
            f"The 'output_columns' parameter of import_captures must name columns of {file} "
            f"({', '.join(names)}). Got {', '.join(map(repr, unknown))} instead."
        )
    if time_name is None:
        state.notes.append(
            f"{file} has no inference-time column; its rows were given the import time."
        )
    features = [n for n in names if n not in (id_name, time_name)]
    outputs = [n for n in features if n in output_columns]
    inputs = [n for n in features if n not in output_columns]
    first_line = {"csv": 2 if dataset.source.has_header else 1, "jsonl": 1}.get(
        dataset.source.format
    )
    digest = _digest(file)
    now = clock()
    row = 0
    parts: dict[datetime, int] = {}
    for number, batch in enumerate(dataset.batches()):
        state.read += batch.num_rows
        table = pa.Table.from_batches([batch])
        ids = pc.cast(table[id_name], pa.string())
        times = _times(table, time_name, now)
        good = pc.and_(pc.is_valid(ids), pc.is_valid(times))
        good = pc.and_(good, pc.not_equal(pc.fill_null(ids, ""), ""))
        for index in pc.indices_nonzero(pc.invert(good)).to_pylist():
            column = id_name if not ids[index].is_valid or not ids[index].as_py() else time_name
            problem = (
                "the inference id is missing" if column == id_name else "the time is not valid"
            )
            line = None if first_line is None else first_line + row + index
            problems.add(
                "missing inference ids" if column == id_name else "invalid times",
                DatasetError(
                    problem if line is not None else f"row {row + index + 1}: {problem}",
                    path=file,
                    line=line,
                    column=column,
                    expected=None if column == id_name else "an ISO-8601 time",
                    found=None if column == id_name else repr(table[column][index].as_py()),
                ),
            )
        row += batch.num_rows
        stored = _stored(table, ids, times, model, version, outputs, inputs).filter(good)
        hours = pc.floor_temporal(stored["inference_time"], unit="hour")
        for hour in pc.unique(hours).to_pylist():
            part = stored.filter(pc.equal(hours, pa.scalar(hour, hours.type)))
            key = hour_of(hour)
            name = f"import-{digest}-{number:04d}-{parts.setdefault(key, 0):04d}.parquet"
            parts[key] += 1
            _write(root, model, version, key, name, part, state)
            state.imported += part.num_rows


def _id_and_time(
    names: list[str],
    has_header: bool,
    id_column: str | None,
    time_column: str | None,
    file: Path,
) -> tuple[str, str | None]:
    def pick(given: str | None, defaults: tuple[str, ...], parameter: str) -> str | None:
        if given is not None:
            if given not in names:
                raise ConfigError(
                    f"The {parameter!r} parameter of import_captures must name a column of "
                    f"{file} ({', '.join(names)}). Got {given!r} instead."
                )
            return given
        return next((name for name in defaults if name in names), None)

    id_name = pick(id_column, ID_COLUMNS, "inference_id_column")
    time_name = pick(time_column, TIME_COLUMNS, "time_column")
    if id_name is None and not has_header and len(names) >= 3:
        # SageMaker batch transform with GenerateInferenceId: ..., inference id, start time.
        id_name, time_name = names[-2], time_name or names[-1]
    if id_name is None:
        raise ConfigError(
            "The 'inference_id_column' parameter of import_captures must name the column of "
            f"inference ids in {file} (columns: {', '.join(names)}; none is called "
            f"{' or '.join(ID_COLUMNS)}). Got None instead."
        )
    return id_name, time_name


def _times(table: pa.Table, name: str | None, now: datetime) -> pa.Array:
    kind = pa.timestamp("us", tz="UTC")
    if name is None:
        return pa.repeat(pa.scalar(now, kind), table.num_rows)
    column = table[name].combine_chunks()
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            return column.cast(pa.timestamp("us")).cast(kind)  # naive times are UTC
        return column.cast(kind)
    text = pc.cast(column, pa.string())
    try:
        return pc.cast(text, kind)
    except pa.ArrowInvalid:
        return pa.array([_time(value) for value in text.to_pylist()], kind)


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stored(
    table: pa.Table,
    ids: pa.Array,
    times: pa.Array,
    model: str,
    version: str,
    outputs: list[str],
    inputs: list[str],
) -> pa.Table:
    """A batch-output table in the capture schema (positional names renumbered per side)."""
    rows = table.num_rows
    constants: dict[str, object] = {
        "model": model,
        "version": version,
        "row_index": 0,
        "source": "import",
    }
    arrays = []
    for field in METADATA_SCHEMA:
        if field.name == "inference_id":
            arrays.append(ids)
        elif field.name == "inference_time":
            arrays.append(times)
        else:
            arrays.append(pa.repeat(pa.scalar(constants.get(field.name), field.type), rows))
    names = list(METADATA_SCHEMA.names)
    for prefix, columns in ((OUTPUT_PREFIX, outputs), (INPUT_PREFIX, inputs)):
        positional = all(is_position(name) for name in columns)
        for position, name in enumerate(columns):
            names.append(prefix + (f"_c{position}" if positional else name))
            arrays.append(table[name])
    return pa.Table.from_arrays(arrays, names=names)
