"""Model quality on Spark: mergeable partial results per partition, merged into the metrics.

Each partition reads its rows with the local engine's own reader and checks
(:func:`~modelmon.monitors.model_quality.data.read_quality_data`, batch by batch, inside
``mapInArrow``) and reduces them to a :class:`QualityPartial`:

* regression: per draw, the row count, the labels' mean and sum of squares about it (merged by
  Chan's rule), and the sums of absolute and squared errors; MSE, RMSE, MAE and R2 follow exactly
  (up to floating-point summation order) through
  :func:`~modelmon.stats.regression.regression_from_sums`;
* classification: per draw, the count of every (actual, predicted) class pair, so confusion
  matrices and every count-based metric are exact;
* binary with scores: per draw, a histogram of the scores of each label in ``BINS`` (10,000)
  equal-width bins of [0, 1]. The AUC and curves are computed from it with the local code, each
  non-empty bin acting as one distinct score. Only (positive, negative) pairs whose scores share
  a bin can be ranked differently, so the AUC differs from the exact one by at most
  :func:`~modelmon.stats.classification.auc_binning_error` (half the share of pairs within one
  bin), which is 0.5 * sum_b pos_b * neg_b / (P * N) and, for score densities bounded by f+ and
  f-, about f+ f- / (2 * BINS) or less: under 1e-4 for any ordinary classifier. The written
  curves have at most one point per non-empty bin.

Draws are SageMaker's subsamples for ``standard_deviation`` and modelmon's noise estimate (see
:mod:`~modelmon.monitors.model_quality.metrics`): draw 0 is every labelled row, then
``NOISE_DRAWS`` half draws and ``SUBSAMPLES`` 80% draws. A row's membership of each draw comes
from a hash of (seed, partition, row in partition, draw), so each draw is a mergeable partial
too and the same data read the same way gives the same file. These draws are Bernoulli
(a row is in with probability 1/2 or 4/5) rather than of a fixed size, so the standard
deviations differ from the local engine's by their own sampling noise, not systematically.

Partials are merged on the executors (``treeAggregate``); the driver holds a bounded number of
them whatever the number of rows. Segments and estimated performance are local-only for now.
"""

from __future__ import annotations

import functools
import pickle
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from modelmon.engines.spark import SparkEngine, partition_id, plain_text, spark_failure, text_kinds
from modelmon.engines.spark_session import quiet_pandas_warning, require_pyspark
from modelmon.formats.datasets import Dataset, DatasetSource
from modelmon.formats.sagemaker_model_quality import ModelQualityStatistics
from modelmon.formats.text_types import ColumnKind, convert_text
from modelmon.monitors.model_quality.data import (
    Attributes,
    QualityData,
    RowError,
    class_order,
    read_quality_data,
    resolve_column,
    row_error,
)
from modelmon.monitors.model_quality.metrics import (
    MIN_ROWS_FOR_NOISE,
    MIN_ROWS_FOR_STD,
    NOISE_DRAWS,
    SUBSAMPLE_SHARE,
    SUBSAMPLES,
    Measured,
    binary_metrics,
    constant_class,
    matrix_json,
    multiclass_metrics,
    with_std,
    written_curves,
)
from modelmon.stats.classification import (
    auc_binning_error,
    auc_from,
    histogram_cumulative,
    score_histogram,
)
from modelmon.stats.regression import regression_from_sums

__all__ = [
    "BINS",
    "DRAWS",
    "QualityPartial",
    "SparkQuality",
    "draw_masks",
    "measure_on_spark",
]

BINS = 10_000
DRAWS = 1 + NOISE_DRAWS + SUBSAMPLES
_SHARES = np.array([1.0] + [0.5] * NOISE_DRAWS + [SUBSAMPLE_SHARE] * SUBSAMPLES)
_MASK64 = (1 << 64) - 1

Floats: TypeAlias = npt.NDArray[np.float64]
Ints: TypeAlias = npt.NDArray[np.int64]
# (partition, row in partition, column, problem, expected, found)
Problem: TypeAlias = tuple[int, int, str, str, str, str]


@dataclass
class QualityPartial:
    """What some rows contribute to the metrics; partials of disjoint rows merge exactly.

    ``moments[draw]`` is (rows, mean label, labels' sum of squares about it, sum of absolute
    errors, sum of squared errors); ``pairs[(actual, predicted)][draw]`` counts class pairs;
    ``histogram[draw, negative/positive, bin]`` counts binary scores; ``classes`` are every class
    key seen (labelled or not); ``pieces`` the (partition, rows) read; ``problems`` the first bad
    row of each partition that had one.
    """

    pieces: list[tuple[int, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    labelled: int = 0
    moments: Floats | None = None
    pairs: dict[tuple[str, str], Ints] = field(default_factory=dict)
    histogram: Ints | None = None
    classes: set[str] = field(default_factory=set)

    def add(self, data: QualityData, masks: npt.NDArray[np.bool_]) -> None:
        """Add the rows of one batch; ``masks[draw, row]`` says which draws hold each row."""
        labelled = data.labelled
        self.labelled += int(np.count_nonzero(labelled))
        inside = masks & labelled
        if data.problem_type == "Regression":
            self.moments = _merge_moments(self.moments, _moments(data, inside))
            return
        self.classes.update(data.classes)
        k = len(data.classes)
        actual = np.asarray(data.actual, dtype=np.int64)
        codes = np.where(labelled, actual * k + np.asarray(data.predicted, dtype=np.int64), 0)
        counts = np.stack([np.bincount(codes[row], minlength=k * k) for row in inside]).astype(
            np.int64
        )
        for code in np.flatnonzero(counts.sum(axis=0)):
            key = (data.classes[code // k], data.classes[code % k])
            known = self.pairs.get(key)
            self.pairs[key] = counts[:, code] if known is None else known + counts[:, code]
        if data.problem_type == "BinaryClassification" and data.scores is not None:
            positive = actual == 1
            histogram = np.stack(
                [score_histogram(positive[row], data.scores[row], BINS) for row in inside]
            )
            self.histogram = histogram if self.histogram is None else self.histogram + histogram

    def merge(self, other: QualityPartial) -> QualityPartial:
        """A new partial of both partials' rows."""
        pairs = dict(self.pairs)
        for key, counts in other.pairs.items():
            pairs[key] = pairs[key] + counts if key in pairs else counts
        histogram = self.histogram
        if other.histogram is not None:
            histogram = other.histogram if histogram is None else histogram + other.histogram
        return QualityPartial(
            self.pieces + other.pieces,
            self.problems + other.problems,
            self.labelled + other.labelled,
            _merge_moments(self.moments, other.moments),
            pairs,
            histogram,
            self.classes | other.classes,
        )


@dataclass(frozen=True)
class SparkQuality:
    """What the spark engine measured: the rows read, the labelled ones, and their metrics
    (None when nothing is labelled); ``auc_error`` bounds the AUC's binning error."""

    source: DatasetSource
    rows: int
    labelled_rows: int
    measured: Measured | None
    auc_error: float | None = None


def draw_masks(seed: int, partition: int, first_row: int, rows: int) -> npt.NDArray[np.bool_]:
    """``[draw, row]``: whether each row (numbered within its partition) is in each draw.

    A splitmix64 hash of (seed, partition, row, draw) decides, so any piece of the data gets
    the same answer wherever and whenever it is read.
    """
    ids = np.arange(first_row, first_row + rows, dtype=np.uint64)
    ids |= np.uint64((partition & 0xFFFFFF) << 40)
    mixed = _mix(ids)
    masks = np.ones((DRAWS, rows), dtype=bool)
    for draw in range(1, DRAWS):
        salt = np.uint64((seed * 0x100000001B3 + draw * 0x9E3779B97F4A7C15) & _MASK64)
        uniform = (_mix(mixed ^ salt) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        masks[draw] = uniform < _SHARES[draw]
    return masks


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # splitmix64's finaliser; uint64 array arithmetic wraps silently, as intended.
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _moments(data: QualityData, inside: npt.NDArray[np.bool_]) -> Floats:
    actual = np.asarray(data.actual, dtype=np.float64)
    error = np.asarray(data.predicted, dtype=np.float64) - actual
    out = np.zeros((DRAWS, 5))
    for draw, row in enumerate(inside):
        n = int(np.count_nonzero(row))
        if n == 0:
            continue
        a, e = actual[row], error[row]
        mean = float(a.mean())
        centred = a - mean
        out[draw] = (n, mean, (centred * centred).sum(), np.abs(e).sum(), (e * e).sum())
    return out


def _merge_moments(a: Floats | None, b: Floats | None) -> Floats | None:
    """Chan et al.'s pairwise merge of (n, mean, M2), plus plain sums of the errors."""
    if a is None or b is None:
        return b if a is None else a
    na, nb = a[:, 0], b[:, 0]
    n = na + nb
    safe = np.where(n == 0, 1.0, n)
    delta = b[:, 1] - a[:, 1]
    out = a + b
    out[:, 1] = a[:, 1] + delta * nb / safe
    out[:, 2] = a[:, 2] + b[:, 2] + delta * delta * na * nb / safe
    return out


# -- what runs on the executors (module-level, so Spark pickles them by reference) --------------


def _partition(
    attributes: Attributes,
    classes: Sequence[str] | None,
    source: DatasetSource,
    kinds: list[ColumnKind] | None,
    seed: int,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    pid = partition_id()
    partial = QualityPartial()
    rows = 0
    for batch in batches:
        if kinds is not None:
            batch = pa.RecordBatch.from_arrays(
                [convert_text(plain_text(c), k) for c, k in zip(batch.columns, kinds, strict=True)],
                names=batch.schema.names,
            )
        dataset = Dataset(source, batch.schema, batch.num_rows, functools.partial(iter, [batch]))
        try:
            data = read_quality_data(dataset, attributes, classes, first_row=rows)
        except RowError as error:
            found = error.found or ""
            problem = (error.column or "", error.bare_problem, error.expected or "", found)
            partial.problems.append((pid, error.row, *problem))
            break
        partial.add(data, draw_masks(seed, pid, rows, batch.num_rows))
        rows += batch.num_rows
    partial.pieces.append((pid, rows))
    blob = zlib.compress(pickle.dumps(partial, protocol=pickle.HIGHEST_PROTOCOL), 1)
    yield pa.RecordBatch.from_pydict({"partial": pa.array([blob], pa.binary())})


def _load(row: Any) -> QualityPartial:
    partial: QualityPartial = pickle.loads(zlib.decompress(bytes(row["partial"])))
    return partial


def _merge(a: QualityPartial, b: QualityPartial) -> QualityPartial:
    return a.merge(b)


# -- on the driver ----------------------------------------------------------------------------


def measure_on_spark(
    engine: SparkEngine,
    data: Any,
    attributes: Attributes,
    classes: Sequence[str] | None,
    *,
    seed: int = 0,
    evaluation_time: str | None = None,
    curve_points: int = 1000,
    format: str | None = None,
    csv_header: bool | None = None,
) -> SparkQuality:
    """Read ``data`` (a path Spark reads, or a Spark DataFrame) on Spark and measure it."""
    require_pyspark()
    opened = engine.open(data, format=format, csv_header=csv_header)
    source = opened.source
    names = list(opened.frame.columns)
    wanted = [
        resolve_column(name, names, source, role)
        for name, role in (
            (attributes.ground_truth_attribute, "ground-truth"),
            (attributes.inference_attribute, "inference"),
            (attributes.probability_attribute, "probability"),
        )
        if name is not None
    ]
    frame = opened.frame.select(*dict.fromkeys(wanted))
    with quiet_pandas_warning():
        try:
            kinds = text_kinds(frame, list(frame.columns)) if opened.text else None
            run = functools.partial(_partition, attributes, classes, source, kinds, seed)
            partials = frame.mapInArrow(run, "partial binary")
            merged = partials.rdd.map(_load).treeAggregate(QualityPartial(), _merge, _merge)
        except Exception as error:
            raise spark_failure(error, source.description) from error
    if merged.problems:
        _raise_first(merged, source)
    rows = sum(count for _, count in merged.pieces)
    if merged.labelled == 0:
        return SparkQuality(source, rows, 0, None)
    if attributes.problem_type == "Regression":
        assert merged.moments is not None
        # A draw can only be empty on a handful of rows, where its metrics are not used.
        draws = [
            regression_from_sums(n, absolute, squared, total) if n > 0 else None
            for n, _, total, absolute, squared in merged.moments.tolist()
        ]
        measured = _measured("Regression", merged.labelled, draws, evaluation_time)
        return SparkQuality(source, rows, merged.labelled, measured)
    return _classification(merged, attributes, classes, rows, source, evaluation_time, curve_points)


def _classification(
    merged: QualityPartial,
    attributes: Attributes,
    classes: Sequence[str] | None,
    rows: int,
    source: DatasetSource,
    evaluation_time: str | None,
    curve_points: int,
) -> SparkQuality:
    binary = attributes.problem_type == "BinaryClassification"
    found = tuple(class_order(("0", "1") if binary else list(classes or merged.classes)))
    index = {name: i for i, name in enumerate(found)}
    k = len(found)
    matrices = np.zeros((DRAWS, k, k), dtype=np.int64)
    for (actual, predicted), counts in merged.pairs.items():
        matrices[:, index[actual], index[predicted]] = counts
    extra: dict[str, Any] = {}
    auc_error = None
    if binary:
        histogram = merged.histogram
        draws = []
        for draw, m in enumerate(matrices):
            confusion = (float(m[1, 1]), float(m[0, 1]), float(m[1, 0]), float(m[0, 0]))
            auc = None if histogram is None else auc_from(histogram_cumulative(histogram[draw]))
            draws.append(binary_metrics(confusion, auc))
        if histogram is not None:
            auc_error = auc_binning_error(histogram[0])
            extra["roc_curve"], extra["precision_recall_curve"] = written_curves(
                histogram_cumulative(histogram[0]), curve_points
            )
        extra["confusion_matrix"] = matrix_json(matrices[0], found, observed_only=False)
    else:
        constant = constant_class(found)
        draws = [multiclass_metrics(m, constant) for m in matrices]
        extra["confusion_matrix"] = matrix_json(matrices[0], found, observed_only=True)
    measured = _measured(attributes.problem_type, merged.labelled, draws, evaluation_time, extra)
    return SparkQuality(source, rows, merged.labelled, measured, auc_error)


def _measured(
    problem_type: Any,
    labelled: int,
    draws: Sequence[dict[str, float] | None],
    evaluation_time: str | None,
    extra: dict[str, Any] | None = None,
) -> Measured:
    """Draw 0's metrics with the standard deviations of the other draws, as the local engine."""
    halves = draws[1 : 1 + NOISE_DRAWS] if labelled >= MIN_ROWS_FOR_NOISE else []
    subsamples = draws[1 + NOISE_DRAWS :] if labelled >= MIN_ROWS_FOR_STD else []
    assert draws[0] is not None
    values, noise = with_std(
        draws[0], [d for d in halves if d is not None], [d for d in subsamples if d is not None]
    )
    statistics = ModelQualityStatistics(
        problem_type, labelled, values, evaluation_time, **(extra or {})
    )
    return Measured(statistics, noise)


def _raise_first(merged: QualityPartial, source: DatasetSource) -> None:
    """The first bad row in partition order, numbered among all rows as the local engine does."""
    pid, row, column, problem, expected, found = min(merged.problems)
    before = sum(count for other, count in merged.pieces if other < pid)
    raise row_error(source, before + row, column, problem, expected, found)
