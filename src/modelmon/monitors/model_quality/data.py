"""Read and check the columns model quality needs: labels, predictions, scores, segments.

Everything is checked here, once, with messages naming the file, the row (and line, for CSV and
JSON Lines) and the column: a missing column, a label or prediction outside the declared classes,
a probability outside [0, 1], a non-numeric regression value. A null label is not an error: the
row is simply not labelled yet (labels arrive late).

Class labels become text keys, as SageMaker's confusion matrix spells them: integers and
integral floats as integers ("1", not "1.0"), booleans as "1"/"0", other text as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.errors import DatasetError
from modelmon.formats.datasets import Dataset, DatasetSource
from modelmon.formats.sagemaker_model_quality import ProblemType

__all__ = [
    "Attributes",
    "QualityData",
    "RowError",
    "class_key",
    "class_order",
    "read_quality_data",
    "resolve_column",
    "row_error",
]

Floats: TypeAlias = npt.NDArray[np.float64]
Codes: TypeAlias = npt.NDArray[np.int64]
BINARY_CLASSES = ("0", "1")


@dataclass(frozen=True)
class Attributes:
    """Which columns hold what (SageMaker's ``*_attribute`` job parameters)."""

    problem_type: ProblemType
    inference_attribute: str | None
    probability_attribute: str | None
    probability_threshold: float
    ground_truth_attribute: str
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityData:
    """The checked columns of every row.

    Regression: ``actual`` and ``predicted`` are floats (``actual`` NaN where unlabelled).
    Classification: codes into ``classes`` (``actual`` -1 where unlabelled); ``scores`` the
    probability column if there is one (binary: of class "1"; multiclass: of the predicted
    class). ``segments`` maps each segment column to its per-row text key (None for null).
    """

    problem_type: ProblemType
    source: DatasetSource
    rows: int
    labelled: npt.NDArray[np.bool_]
    actual: Floats | Codes
    predicted: Floats | Codes
    scores: Floats | None
    classes: tuple[str, ...]
    segments: dict[str, list[str | None]]

    @property
    def labelled_rows(self) -> int:
        return int(np.count_nonzero(self.labelled))


def class_key(value: object) -> str:
    """The text key of one class label (see the module docstring)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and text.strip() == text else text


def class_order(classes: Sequence[str]) -> list[str]:
    """Numbers in numeric order first, then other text in text order."""

    def key(name: str) -> tuple[int, float, str]:
        try:
            return (0, float(name), name)
        except ValueError:
            return (1, 0.0, name)

    return sorted(set(classes), key=key)


def read_quality_data(
    dataset: Dataset,
    attributes: Attributes,
    classes: Sequence[str] | None,
    *,
    first_row: int = 0,
) -> QualityData:
    """Read the attribute columns of ``dataset`` and check them.

    ``classes`` are the declared classes of a classifier (None: every class seen is accepted).
    ``first_row``: the row number of the dataset's first row in a larger whole (for messages).
    """
    source = dataset.source
    names = dataset.schema.names
    label = resolve_column(attributes.ground_truth_attribute, names, source, "ground-truth")
    inference = (
        None
        if attributes.inference_attribute is None
        else resolve_column(attributes.inference_attribute, names, source, "inference")
    )
    probability = (
        None
        if attributes.probability_attribute is None
        else resolve_column(attributes.probability_attribute, names, source, "probability")
    )
    segments = [resolve_column(s, names, source, "segment") for s in attributes.segments]
    wanted = list(dict.fromkeys(c for c in [label, inference, probability, *segments] if c))
    table = pa.Table.from_batches(
        [batch.select(wanted) for batch in dataset.batches()],
        schema=pa.schema([dataset.schema.field(c) for c in wanted]),
    )
    reader = _Columns(table, source, first_row)
    labelled = np.asarray(table[label].is_valid(), dtype=bool)
    scores = None
    if probability is not None:
        if attributes.problem_type == "MulticlassClassification":
            scores = reader.confidences(probability)
        else:
            scores = reader.probabilities(probability)
    segment_keys = {
        name: reader.keys(column)
        for name, column in zip(attributes.segments, segments, strict=True)
    }
    if attributes.problem_type == "Regression":
        if inference is None:
            raise _no_inference(source)
        actual = reader.floats(label, required=False)
        predicted = reader.floats(inference, required=True)
        return QualityData(
            "Regression",
            source,
            table.num_rows,
            labelled,
            actual,
            predicted,
            None,
            (),
            segment_keys,
        )
    declared = BINARY_CLASSES if attributes.problem_type == "BinaryClassification" else classes
    actual_keys = reader.keys(label)
    if inference is not None:
        predicted_keys: list[str | None] = reader.keys(inference)
        reader.require_present(inference, predicted_keys)
    elif scores is not None and attributes.problem_type == "BinaryClassification":
        threshold = attributes.probability_threshold
        predicted_keys = ["1" if s >= threshold else "0" for s in scores.tolist()]
    else:
        raise _no_inference(source)
    if declared is not None:
        reader.require_classes(label, actual_keys, declared)
        reader.require_classes(inference or probability or label, predicted_keys, declared)
        found = class_order(declared)
    else:
        found = class_order([k for k in [*actual_keys, *predicted_keys] if k is not None])
    index = {name: i for i, name in enumerate(found)}
    actual_codes = np.array([-1 if k is None else index[k] for k in actual_keys], dtype=np.int64)
    predicted_codes = np.array([index[k] for k in predicted_keys if k is not None], dtype=np.int64)
    return QualityData(
        attributes.problem_type,
        source,
        table.num_rows,
        labelled,
        actual_codes,
        predicted_codes,
        scores,
        tuple(found),
        segment_keys,
    )


def _no_inference(source: DatasetSource) -> DatasetError:
    return DatasetError(
        "no prediction column: give the inference attribute (or, for a binary classifier, a "
        "probability attribute and threshold)",
        path=source.description,
    )


def resolve_column(name: str, names: Sequence[str], source: DatasetSource, role: str) -> str:
    """The column ``name`` refers to; SageMaker also names CSV columns by index ("0")."""
    if name in names:
        return name
    if name.isdigit() and f"_c{name}" in names:
        return f"_c{name}"
    shown = ", ".join(repr(n) for n in names[:12]) + (" ..." if len(names) > 12 else "")
    raise DatasetError(
        f"the {role} column is missing",
        path=source.description,
        column=name,
        expected=f"a column named {name!r} (the {role} attribute)",
        found=f"columns {shown}",
    )


class RowError(DatasetError):
    """A DatasetError about one row; ``row`` (0-based) and ``bare_problem`` let an engine that
    reads in pieces renumber it (see :func:`row_error`)."""

    def __init__(
        self,
        row: int,
        bare_problem: str,
        *,
        path: str,
        line: int | None,
        column: str,
        expected: str,
        found: str,
    ) -> None:
        self.row = row
        self.bare_problem = bare_problem
        super().__init__(
            f"{bare_problem} in row {row + 1}",
            path=path,
            line=line,
            column=column,
            expected=expected,
            found=found,
        )


def row_error(
    source: DatasetSource, row: int, column: str, problem: str, expected: str, found: str
) -> RowError:
    """The error about ``row`` (0-based) of ``source``, with its line for CSV and JSON Lines."""
    line = None
    if source.format == "csv":
        line = row + (2 if source.has_header else 1)
    elif source.format == "jsonl":
        line = row + 1
    return RowError(
        row,
        problem,
        path=source.description,
        line=line,
        column=column,
        expected=expected,
        found=found,
    )


class _Columns:
    """Typed, checked views of the table's columns; errors name the row."""

    def __init__(self, table: pa.Table, source: DatasetSource, first_row: int = 0) -> None:
        self.table = table
        self.source = source
        self.first_row = first_row

    def fail(self, column: str, row: int, problem: str, expected: str, found: object) -> RowError:
        return row_error(self.source, self.first_row + row, column, problem, expected, repr(found))

    def floats(self, column: str, *, required: bool) -> Floats:
        data = self.table[column]
        if not (pa.types.is_integer(data.type) or pa.types.is_floating(data.type)):
            if pa.types.is_boolean(data.type):
                data = data.cast(pa.int8())
            else:
                bad = _first(data, lambda v: v is not None and not _is_number(v))
                raise self.fail(column, bad, "not a number", "numbers", data[bad].as_py())
        values = np.asarray(data.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        missing = np.isnan(values) if required else np.zeros(values.size, dtype=bool)
        if required and missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise self.fail(column, row, "a value is missing", "a number in every row", None)
        return values

    def probabilities(self, column: str) -> Floats:
        values = self.floats(column, required=True)
        outside = ~((values >= 0.0) & (values <= 1.0))
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise self.fail(
                column, row, "a probability is outside [0, 1]", "0 <= p <= 1", values[row]
            )
        return values

    def confidences(self, column: str) -> Floats:
        """A multiclass probability column: the predicted class's probability, or a list of
        class probabilities (Arrow list or JSON array text) of which the largest is taken."""
        data = self.table[column]
        if not (pa.types.is_list(data.type) or pa.types.is_string(data.type)):
            return self.probabilities(column)
        values = []
        for row, item in enumerate(data.to_pylist()):
            parsed = json.loads(item) if isinstance(item, str) and item.startswith("[") else item
            if isinstance(parsed, list) and parsed and all(_is_number(v) for v in parsed):
                values.append(max(float(v) for v in parsed))
            else:
                expected = "a probability or a list of class probabilities"
                raise self.fail(column, row, "not a probability", expected, item)
        out = np.asarray(values, dtype=np.float64)
        outside = ~((out >= 0.0) & (out <= 1.0))
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise self.fail(column, row, "a probability is outside [0, 1]", "0 <= p <= 1", out[row])
        return out

    def keys(self, column: str) -> list[str | None]:
        """The class key of every row (None where null), converting each distinct value once."""
        data = self.table[column]
        encoded = pc.dictionary_encode(data).combine_chunks()
        keys = [class_key(v) for v in encoded.dictionary.to_pylist()]
        indices = encoded.indices.to_pylist()
        return [None if i is None else keys[i] for i in indices]

    def require_present(self, column: str, keys: Sequence[str | None]) -> None:
        for row, key in enumerate(keys):
            if key is None:
                raise self.fail(column, row, "a prediction is missing", "a class", None)

    def require_classes(
        self, column: str, keys: Sequence[str | None], declared: Sequence[str]
    ) -> None:
        allowed = set(declared)
        for row, key in enumerate(keys):
            if key is not None and key not in allowed:
                shown = ", ".join(repr(c) for c in class_order(declared)[:20])
                raise self.fail(
                    column,
                    row,
                    "a class outside the declared classes",
                    f"one of {shown}",
                    self.table[column][row].as_py(),
                )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _first(data: pa.ChunkedArray, bad: Any) -> int:
    for row, value in enumerate(data.to_pylist()):
        if bad(value):
            return row
    return 0
