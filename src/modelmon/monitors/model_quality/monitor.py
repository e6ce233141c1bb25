"""The model-quality monitor: measure a model's quality once labels arrive, estimate it before.

``ModelQualityMonitor`` is a small config object (its constructor only stores parameters);
``baseline``, ``check`` and ``estimate`` validate them, read the few columns they need and write
SageMaker-compatible files (plus modelmon's own ``calibration.json``, ``segments.json`` and
``estimated_performance.json``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from modelmon.engines.spark import SparkEngine, is_spark_dataframe
from modelmon.errors import ConfigError, DatasetError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.formats import sagemaker_model_quality as mq
from modelmon.formats.atomic import output_directory
from modelmon.formats.datasets import DatasetFormat, open_dataset
from modelmon.monitors.model_quality.constraints import check_constraints, suggest_constraints
from modelmon.monitors.model_quality.data import (
    Attributes,
    QualityData,
    class_key,
    read_quality_data,
)
from modelmon.monitors.model_quality.estimation import (
    CALIBRATION_FILE,
    EstimatedPerformance,
    ScoreCalibration,
    calibration_from_json,
    estimate_performance,
    fit_score_calibration,
)
from modelmon.monitors.model_quality.metrics import Measured, quality_statistics
from modelmon.monitors.model_quality.segments import (
    SEGMENT_CONSTRAINTS_FILE,
    SegmentResult,
    segment_constraints_from_json,
    segment_constraints_to_json,
    segment_results,
    segments_to_json,
)

__all__ = [
    "CONSTRAINTS",
    "SEGMENTS",
    "STATISTICS",
    "VIOLATIONS",
    "ModelQualityBaseline",
    "ModelQualityMonitor",
    "ModelQualityResult",
    "load_model_quality_baseline",
]

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"
SEGMENTS = "segments.json"
_DATASET_FORMATS = ("csv", "parquet", "jsonl", "sagemaker-capture")
NO_LABELS = "no labels in window yet"


@dataclass(frozen=True)
class ModelQualityBaseline:
    """Baseline metrics, the constraints suggested from them, and the score calibration."""

    statistics: mq.ModelQualityStatistics
    constraints: mq.ModelQualityConstraints
    calibration: ScoreCalibration | None = None
    segment_constraints: Mapping[str, mq.ModelQualityConstraints] = field(default_factory=dict)

    @property
    def problem_type(self) -> mq.ProblemType:
        return self.statistics.problem_type

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write statistics.json, constraints.json (and calibration.json,
        segment_constraints.json) atomically."""
        out = output_directory(directory)
        mq.write_statistics(out / STATISTICS, self.statistics)
        mq.write_constraints(out / CONSTRAINTS, self.constraints)
        written = [out / STATISTICS, out / CONSTRAINTS]
        if self.calibration is not None:
            self.calibration.save(out / CALIBRATION_FILE)
            written.append(out / CALIBRATION_FILE)
        if self.segment_constraints:
            path = out / SEGMENT_CONSTRAINTS_FILE
            sm.write_json_atomic(path, segment_constraints_to_json(self.segment_constraints))
            written.append(path)
        return written


def load_model_quality_baseline(directory: str | os.PathLike[str]) -> ModelQualityBaseline:
    """Read a baseline directory: statistics.json and constraints.json (a SageMaker baseline
    works as is), and calibration.json if present."""
    base = Path(directory)
    if not base.is_dir():
        raise NotFoundError(
            f"baseline directory {str(base)!r} does not exist; create it with "
            "'modelmon model-quality baseline --dataset VALIDATION --output DIR ...'"
        )
    calibration = None
    if (base / CALIBRATION_FILE).exists():
        path = base / CALIBRATION_FILE
        calibration = calibration_from_json(sm.load_json_file(path), path=path)
    segments = {}
    if (base / SEGMENT_CONSTRAINTS_FILE).exists():
        path = base / SEGMENT_CONSTRAINTS_FILE
        segments = segment_constraints_from_json(sm.load_json_file(path), path=str(path))
    return baseline_from_parts(
        mq.read_statistics(base / STATISTICS),
        mq.read_constraints(base / CONSTRAINTS),
        calibration,
        segments,
    )


def baseline_from_parts(
    statistics: mq.ModelQualityStatistics,
    constraints: mq.ModelQualityConstraints,
    calibration: ScoreCalibration | None,
    segment_constraints: Mapping[str, mq.ModelQualityConstraints] | None = None,
) -> ModelQualityBaseline:
    """A baseline from its parts, refusing parts of different problem types."""
    kinds = {statistics.problem_type, constraints.problem_type}
    if calibration is not None:
        kinds.add(calibration.problem_type)
    if len(kinds) != 1:
        raise ConfigError(
            "The baseline's files disagree on the problem type: statistics.json is "
            f"{statistics.problem_type}, constraints.json {constraints.problem_type}"
            + ("" if calibration is None else f", calibration.json {calibration.problem_type}")
            + "."
        )
    segments = dict(segment_constraints or {})
    for name, rules in segments.items():
        if rules.problem_type != statistics.problem_type:
            raise ConfigError(
                f"The baseline's segment constraints of {name} are for {rules.problem_type}, "
                f"its statistics for {statistics.problem_type}."
            )
    return ModelQualityBaseline(statistics, constraints, calibration, segments)


@dataclass(frozen=True)
class ModelQualityResult:
    """One check: measured statistics (None without labels), violations, segments, estimate."""

    item_count: int
    labelled_count: int
    statistics: mq.ModelQualityStatistics | None
    violations: tuple[mq.ModelQualityViolation, ...]
    segments: tuple[SegmentResult, ...]
    estimate: EstimatedPerformance | None
    source: str

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    @property
    def has_labels(self) -> bool:
        return self.labelled_count > 0

    def exit_message(self) -> str:
        """SageMaker's job exit message; says so when nothing was labelled yet."""
        if not self.has_labels:
            return (
                "Completed: Job completed successfully with no violations "
                f"({NO_LABELS}: performance estimated, not measured)."
            )
        if not self.violations:
            return "Completed: Job completed successfully with no violations."
        return (
            "CompletedWithViolations: Job completed successfully with "
            f"{len(self.violations)} violations."
        )

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the report files into ``directory`` atomically."""
        out = output_directory(directory)
        written = []
        if self.statistics is not None:
            mq.write_statistics(out / STATISTICS, self.statistics)
            written.append(out / STATISTICS)
        mq.write_violations(out / VIOLATIONS, self.violations)
        written.append(out / VIOLATIONS)
        if self.segments:
            sm.write_json_atomic(out / SEGMENTS, segments_to_json(self.segments))
            written.append(out / SEGMENTS)
        if self.estimate is not None:
            written.append(self.estimate.save(out))
        return written


class ModelQualityMonitor:
    """Model quality: SageMaker's metrics from labels, and CBPE estimates before they arrive.

    Parameters
    ----------
    problem_type
        ``"Regression"``, ``"BinaryClassification"`` or ``"MulticlassClassification"``.
    inference_attribute
        The column holding the model's prediction (a label, or a number for regression).
        A binary classifier may omit it and give a probability and threshold instead.
    probability_attribute
        Binary: the column holding P(label = 1). Multiclass: the probability of the predicted
        class (or a list of class probabilities, of which the largest is taken). Needed for the
        AUC, the curves and estimation.
    probability_threshold
        Binary without an inference attribute: predicted 1 when probability >= threshold.
    ground_truth_attribute
        The label column (default ``"label"``). A null label means "not labelled yet".
    segments
        Columns whose values get their own metrics and constraint checks.
    classes
        The declared classes of a multiclass model; other labels are bad input. Default: the
        baseline's classes at check time, anything at baseline time. Binary classes are 0 and 1.
    constraint_tolerance
        Suggested thresholds sit this many sampling standard deviations (of the baseline's
        size) from the baseline value on the "worse" side.
    comparison_method, robust_z
        ``"Robust"`` (default): a metric violates only when it crosses its threshold by more
        than ``robust_z`` of its own sampling standard deviations in the window, so small
        windows and segments do not alarm on noise. ``"Simple"``: SageMaker's plain comparison.
    min_segment_rows, max_segment_values
        Segments with fewer labelled rows are reported but not checked; at most this many of the
        most frequent values per segment column are reported.
    confidence_level, estimation_draws, calibration_alpha
        The estimate's interval level, the simulated label draws behind it, and the significance
        level of the calibration-drift test.
    seed
        Seeds the subsamples of the standard deviations and the estimation draws.
    curve_points
        At most this many points per ROC / precision-recall curve in statistics.json.
    engine
        ``"local"`` (default), ``"spark"`` or a :class:`~modelmon.engines.spark.SparkEngine`; a
        Spark DataFrame as data is measured on its own session. Spark computes the same metrics
        from mergeable partials (see :mod:`modelmon.monitors.model_quality.spark`: counts exact,
        regression sums exact, AUC and curves from 10,000-bin score histograms). On Spark,
        segments and estimated performance are refused (ConfigError), a baseline has no
        calibration.json and a check makes no estimate.
    clock
        Gives the ``evaluation_time`` written in statistics.json (default: now, UTC).

    Examples
    --------
    >>> monitor = ModelQualityMonitor(                                # doctest: +SKIP
    ...     problem_type="BinaryClassification", inference_attribute="prediction",
    ...     probability_attribute="score", ground_truth_attribute="label")
    >>> baseline = monitor.baseline("validation.parquet")             # doctest: +SKIP
    >>> monitor.check("window.parquet", baseline).violations          # doctest: +SKIP
    """

    def __init__(
        self,
        problem_type: str,
        *,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold: float = 0.5,
        ground_truth_attribute: str = "label",
        segments: Sequence[str] = (),
        classes: Sequence[Any] | None = None,
        constraint_tolerance: float = 3.0,
        comparison_method: str = "Robust",
        robust_z: float = 2.0,
        min_segment_rows: int = 100,
        max_segment_values: int = 20,
        confidence_level: float = 0.95,
        estimation_draws: int = 500,
        calibration_alpha: float = 0.01,
        seed: int = 0,
        curve_points: int = 1000,
        dataset_format: str | None = None,
        csv_header: bool | None = None,
        clock: Callable[[], datetime] | None = None,
        engine: Any = "local",
    ) -> None:
        self.problem_type = problem_type
        self.inference_attribute = inference_attribute
        self.probability_attribute = probability_attribute
        self.probability_threshold = probability_threshold
        self.ground_truth_attribute = ground_truth_attribute
        self.segments = segments
        self.classes = classes
        self.constraint_tolerance = constraint_tolerance
        self.comparison_method = comparison_method
        self.robust_z = robust_z
        self.min_segment_rows = min_segment_rows
        self.max_segment_values = max_segment_values
        self.confidence_level = confidence_level
        self.estimation_draws = estimation_draws
        self.calibration_alpha = calibration_alpha
        self.seed = seed
        self.curve_points = curve_points
        self.dataset_format = dataset_format
        self.csv_header = csv_header
        self.clock = clock
        self.engine = engine

    # -- the operations --------------------------------------------------------------------------

    def baseline(self, data: Any) -> ModelQualityBaseline:
        """Measure ``data`` (labelled validation data) and suggest constraints from it."""
        attributes = self._attributes()
        spark = self._spark(data, attributes)
        if spark is not None:
            declared = self._declared()
            measured, rows, _, source = self._on_spark(spark, data, attributes, declared)
            if measured is None:
                raise _unlabelled(source, attributes, rows)
            tolerance = float(self.constraint_tolerance)
            return ModelQualityBaseline(
                measured.statistics,
                suggest_constraints(measured.statistics, tolerance, measured.noise),
            )
        quality = self._read(data, attributes, self._declared())
        if quality.labelled_rows == 0:
            raise _unlabelled(quality.source.description, attributes, quality.rows)
        measured = self._statistics(quality)
        statistics = measured.statistics
        tolerance = float(self.constraint_tolerance)
        segments = {
            s.name: suggest_constraints(s.statistics, tolerance, s.noise)
            for s in segment_results(
                quality,
                None,
                max_values=self.max_segment_values,
                seed=self.seed,
                evaluation_time=statistics.evaluation_time,
            )
            if s.statistics.item_count >= self.min_segment_rows
        }
        return ModelQualityBaseline(
            statistics,
            suggest_constraints(statistics, tolerance, measured.noise),
            fit_score_calibration(quality, seed=self.seed),
            segments,
        )

    def check(
        self, data: Any, baseline: ModelQualityBaseline | str | os.PathLike[str]
    ) -> ModelQualityResult:
        """Measure ``data`` against ``baseline``'s constraints, overall and per segment, and
        estimate its performance; without any label, only the estimate is made."""
        attributes = self._attributes()
        baseline = self._baseline(baseline)
        spark = self._spark(data, attributes)
        if spark is not None:
            return self._check_on_spark(spark, data, attributes, baseline)
        quality = self._read(data, attributes, self._declared(baseline))
        measured = self._statistics(quality) if quality.labelled_rows else None
        statistics = None if measured is None else measured.statistics
        violations: tuple[mq.ModelQualityViolation, ...] = ()
        segments: tuple[SegmentResult, ...] = ()
        robust = self.comparison_method == "Robust"
        if measured is not None and statistics is not None:
            violations = check_constraints(
                statistics.metrics,
                baseline.constraints,
                noise=measured.noise if robust else None,
                z=float(self.robust_z),
            )
            segments = segment_results(
                quality,
                baseline.constraints,
                own=baseline.segment_constraints,
                min_rows=self.min_segment_rows,
                max_values=self.max_segment_values,
                seed=self.seed,
                evaluation_time=statistics.evaluation_time,
                robust_z=float(self.robust_z) if robust else None,
            )
            violations += tuple(v for s in segments for v in s.violations)
        estimate = self._estimate(quality, baseline, statistics)
        return ModelQualityResult(
            quality.rows,
            quality.labelled_rows,
            statistics,
            violations,
            segments,
            estimate,
            quality.source.description,
        )

    def estimate(
        self, data: Any, baseline: ModelQualityBaseline | str | os.PathLike[str]
    ) -> EstimatedPerformance:
        """Estimated performance of ``data`` (labels are not needed; any present are used to
        test the calibration). Raises ConfigError for regression or without scores."""
        attributes = self._attributes()
        if attributes.problem_type == "Regression" or attributes.probability_attribute is None:
            raise ConfigError(
                "Estimated performance needs a classifier's scores: give problem_type "
                "BinaryClassification or MulticlassClassification and a probability_attribute."
            )
        baseline = self._baseline(baseline)
        if self._spark(data, attributes) is not None:
            raise ConfigError(_LOCAL_ONLY.format(what="Estimated performance"))
        quality = self._read(data, attributes, self._declared(baseline))
        measured = self._statistics(quality) if quality.labelled_rows else None
        estimate = self._estimate(quality, baseline, measured.statistics if measured else None)
        assert estimate is not None  # scores exist and the problem is a classification
        return estimate

    # -- helpers ---------------------------------------------------------------------------------

    def _statistics(self, quality: QualityData) -> Measured:
        return quality_statistics(
            quality,
            seed=self.seed,
            evaluation_time=self._evaluation_time(),
            curve_points=self.curve_points,
        )

    def _evaluation_time(self) -> str:
        now = (self.clock or _utc_now)()
        return (
            now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        )

    def _spark(self, data: Any, attributes: Attributes) -> SparkEngine | None:
        """The Spark engine to measure ``data`` with, or None for the local engine."""
        engine = self.engine
        if isinstance(engine, SparkEngine):
            chosen = engine
        elif engine == "spark":
            chosen = SparkEngine()
        elif engine == "local" and is_spark_dataframe(data):
            chosen = SparkEngine(session=data.sparkSession)
        elif engine == "local":
            return None
        else:
            _bad(type(self).__name__, "engine", "'local', 'spark' or a SparkEngine", engine)
        if attributes.segments:
            raise ConfigError(_LOCAL_ONLY.format(what="Segments (--segment)"))
        return chosen

    def _on_spark(
        self,
        engine: SparkEngine,
        data: Any,
        attributes: Attributes,
        classes: list[str] | None,
    ) -> tuple[Measured | None, int, int, str]:
        from modelmon.monitors.model_quality.spark import measure_on_spark

        measured = measure_on_spark(
            engine,
            data,
            attributes,
            classes,
            seed=self.seed,
            evaluation_time=self._evaluation_time(),
            curve_points=self.curve_points,
            format=self.dataset_format,
            csv_header=self.csv_header,
        )
        where = measured.source.description
        return measured.measured, measured.rows, measured.labelled_rows, where

    def _check_on_spark(
        self,
        engine: SparkEngine,
        data: Any,
        attributes: Attributes,
        baseline: ModelQualityBaseline,
    ) -> ModelQualityResult:
        declared = self._declared(baseline)
        measured, rows, labelled, source = self._on_spark(engine, data, attributes, declared)
        if measured is None:
            raise ConfigError(
                f"No row of {source} has a label yet; "
                + _LOCAL_ONLY.format(what="Estimated performance")
            )
        violations = check_constraints(
            measured.statistics.metrics,
            baseline.constraints,
            noise=measured.noise if self.comparison_method == "Robust" else None,
            z=float(self.robust_z),
        )
        return ModelQualityResult(rows, labelled, measured.statistics, violations, (), None, source)

    def _estimate(
        self,
        quality: QualityData,
        baseline: ModelQualityBaseline,
        statistics: mq.ModelQualityStatistics | None,
    ) -> EstimatedPerformance | None:
        realised = None
        if statistics is not None:
            realised = {name: m.value for name, m in statistics.metrics.items()}
        return estimate_performance(
            quality,
            baseline.calibration,
            confidence_level=float(self.confidence_level),
            draws=int(self.estimation_draws),
            seed=self.seed,
            calibration_alpha=float(self.calibration_alpha),
            realised=realised,
        )

    def _baseline(
        self, baseline: ModelQualityBaseline | str | os.PathLike[str]
    ) -> ModelQualityBaseline:
        if not isinstance(baseline, ModelQualityBaseline):
            baseline = load_model_quality_baseline(baseline)
        if baseline.problem_type != self.problem_type:
            raise ConfigError(
                f"The baseline is for a {baseline.problem_type} model, but the monitor's "
                f"problem_type is {self.problem_type}; use the same problem type for both."
            )
        return baseline

    def _declared(self, baseline: ModelQualityBaseline | None = None) -> list[str] | None:
        if self.classes is not None:
            return [class_key(c) for c in self.classes]
        if baseline is not None and baseline.statistics.confusion_matrix is not None:
            matrix = baseline.statistics.confusion_matrix
            return sorted({*matrix, *(p for row in matrix.values() for p in row)})
        return None

    def _read(self, data: Any, attributes: Attributes, classes: list[str] | None) -> QualityData:
        fmt: DatasetFormat | None = self.dataset_format  # type: ignore[assignment]
        dataset = open_dataset(data, format=fmt, csv_header=self.csv_header)
        return read_quality_data(dataset, attributes, classes)

    # -- the one validation boundary -------------------------------------------------------------

    def _attributes(self) -> Attributes:
        name = type(self).__name__
        if self.problem_type not in mq.PROBLEM_TYPES:
            _bad(name, "problem_type", f"one of {', '.join(mq.PROBLEM_TYPES)}", self.problem_type)
        for parameter in ("inference_attribute", "probability_attribute"):
            value = getattr(self, parameter)
            if value is not None and (not isinstance(value, str) or not value):
                _bad(name, parameter, "a column name or None", value)
        if not isinstance(self.ground_truth_attribute, str) or not self.ground_truth_attribute:
            _bad(name, "ground_truth_attribute", "a column name", self.ground_truth_attribute)
        if self.inference_attribute is None and not (
            self.problem_type == "BinaryClassification" and self.probability_attribute
        ):
            _bad(
                name,
                "inference_attribute",
                "a column name (only a binary classifier with a probability_attribute may omit it)",
                None,
            )
        _fraction(name, "probability_threshold", self.probability_threshold)
        _fraction(name, "confidence_level", self.confidence_level, open_ends=True)
        _fraction(name, "calibration_alpha", self.calibration_alpha, open_ends=True)
        for parameter in ("min_segment_rows", "max_segment_values", "estimation_draws"):
            _positive_int(name, parameter, getattr(self, parameter))
        _positive_int(name, "curve_points", self.curve_points, minimum=2)
        _positive_int(name, "seed", self.seed, minimum=0)
        for parameter in ("constraint_tolerance", "robust_z"):
            value = getattr(self, parameter)
            if not _is_number(value) or not 0 <= float(value) < math.inf:
                _bad(name, parameter, "a number >= 0", value)
        if self.comparison_method not in ("Robust", "Simple"):
            _bad(name, "comparison_method", "'Robust' or 'Simple'", self.comparison_method)
        segments = (self.segments,) if isinstance(self.segments, str) else tuple(self.segments)
        if not all(isinstance(s, str) and s for s in segments):
            _bad(name, "segments", "a list of column names", self.segments)
        if self.classes is not None and (isinstance(self.classes, str) or not self.classes):
            _bad(name, "classes", "a non-empty list of class labels or None", self.classes)
        if self.dataset_format is not None and self.dataset_format not in _DATASET_FORMATS:
            _bad(
                name, "dataset_format", f"one of {', '.join(_DATASET_FORMATS)}", self.dataset_format
            )
        return Attributes(
            self.problem_type,
            self.inference_attribute,
            self.probability_attribute,
            float(self.probability_threshold),
            self.ground_truth_attribute,
            segments,
        )


_LOCAL_ONLY = (
    "{what} are not computed by the spark engine yet; run this with the local engine "
    "(engine='local', --engine local)."
)


def _unlabelled(source: str, attributes: Attributes, rows: int) -> DatasetError:
    return DatasetError(
        "no row has a label, so there is no quality to baseline",
        path=source,
        column=attributes.ground_truth_attribute,
        expected="labelled validation data",
        found=f"{rows} rows, every label null",
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bad(owner: str, parameter: str, expected: str, value: object) -> NoReturn:
    raise ConfigError(
        f"The {parameter!r} parameter of {owner} must be {expected}. Got {value!r} instead."
    )


def _fraction(owner: str, parameter: str, value: object, *, open_ends: bool = False) -> None:
    ok = _is_number(value) and not math.isnan(float(value))  # type: ignore[arg-type]
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = 0.0 < v < 1.0 if open_ends else 0.0 <= v <= 1.0
    if not ok:
        span = "(0, 1)" if open_ends else "[0, 1]"
        _bad(owner, parameter, f"a float in the range {span}", value)


def _positive_int(owner: str, parameter: str, value: object, *, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        _bad(owner, parameter, f"an int >= {minimum}", value)
