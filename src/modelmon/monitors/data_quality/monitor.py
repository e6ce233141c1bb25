"""The data-quality monitor: baseline a dataset, then check other datasets against it.

``DataQualityMonitor`` is a small config object (its constructor only stores parameters);
``baseline`` and ``check`` validate them, read the data in bounded memory, profile it with the local
engine and write SageMaker-compatible files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modelmon.engines.local import profile_dataset
from modelmon.engines.spark import is_spark_dataframe, profile_with_engine
from modelmon.errors import ConfigError, DatasetError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.formats.atomic import atomic_file, output_directory
from modelmon.formats.datasets import Dataset, DatasetFormat, DatasetSource, open_dataset
from modelmon.monitors.data_quality.checks import evaluate
from modelmon.monitors.data_quality.drift import FeatureDrift
from modelmon.monitors.data_quality.multivariate import (
    REFERENCE_FILE,
    MultivariateDrift,
    check_methods,
    multivariate_drift,
    multivariate_violations,
    sample_rows,
)
from modelmon.monitors.data_quality.suggest import suggest_constraints
from modelmon.monitors.data_quality.summaries import profile_statistics
from modelmon.stats.profile import ColumnProfile, DatasetProfile

__all__ = [
    "DRIFT_REPORT",
    "DataQualityBaseline",
    "DataQualityMonitor",
    "DataQualityResult",
    "load_baseline",
]

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"
DRIFT_REPORT = "drift_report.json"
_DATASET_FORMATS = ("csv", "parquet", "jsonl", "sagemaker-capture")


@dataclass(frozen=True)
class DataQualityBaseline:
    """A baseline: the statistics of the training data and the constraints suggested from them."""

    statistics: sm.Statistics
    constraints: sm.Constraints
    # A bounded random sample of the baseline's rows, kept only for multivariate drift.
    reference: pa.Table | None = None

    def save(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``statistics.json`` and ``constraints.json`` into ``directory`` atomically
        (and the row sample, ``multivariate_reference.parquet``, when there is one)."""
        out = output_directory(directory)
        sm.write_statistics(out / STATISTICS, self.statistics)
        sm.write_constraints(out / CONSTRAINTS, self.constraints)
        if self.reference is not None:
            with atomic_file(out / REFERENCE_FILE) as sink:
                pq.write_table(self.reference, sink)
        return out / STATISTICS, out / CONSTRAINTS


def load_baseline(
    directory: str | os.PathLike[str] | None = None,
    *,
    statistics: str | os.PathLike[str] | None = None,
    constraints: str | os.PathLike[str] | None = None,
) -> DataQualityBaseline:
    """Read a baseline: a directory holding both files, or the two files named separately."""
    reference = None
    if directory is not None:
        base = Path(directory)
        if not base.is_dir():
            raise NotFoundError(
                f"baseline directory {str(base)!r} does not exist; create it with "
                "'modelmon data-quality baseline --dataset TRAIN --output DIR'"
            )
        statistics = statistics or base / STATISTICS
        constraints = constraints or base / CONSTRAINTS
        if (base / REFERENCE_FILE).is_file():
            reference = pq.read_table(base / REFERENCE_FILE)
    if statistics is None or constraints is None:
        raise ConfigError(
            "A baseline needs both files: give a directory holding statistics.json and "
            "constraints.json, or both the statistics and the constraints file."
        )
    return DataQualityBaseline(
        sm.read_statistics(statistics), sm.read_constraints(constraints), reference
    )


@dataclass(frozen=True)
class DataQualityResult:
    """The outcome of one check: the current statistics, the violations and the drift report."""

    statistics: sm.Statistics
    violations: tuple[sm.Violation, ...]
    drift: tuple[FeatureDrift, ...]
    baseline_item_count: int
    source: str
    multivariate: tuple[MultivariateDrift, ...] = ()

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    @property
    def drifted_features(self) -> list[str]:
        return [f.name for f in self.drift if f.drift]

    def exit_message(self) -> str:
        """SageMaker's job exit message for this outcome."""
        if not self.violations:
            return "Completed: Job completed successfully with no violations."
        return (
            "CompletedWithViolations: Job completed successfully with "
            f"{len(self.violations)} violations."
        )

    def drift_report(self) -> dict[str, Any]:
        evaluated = [f for f in self.drift if f.drift is not None]
        return {
            "version": 1,
            "dataset": {
                "source": self.source,
                "baseline_item_count": self.baseline_item_count,
                "current_item_count": self.statistics.item_count,
            },
            "summary": {
                "features": len(self.drift),
                "evaluated": len(evaluated),
                "drifted": self.drifted_features,
                "not_evaluated": {f.name: f.reason for f in self.drift if f.drift is None},
                "multivariate_drifted": [m.method for m in self.multivariate if m.drift],
            },
            "features": [f.to_json() for f in self.drift],
            "multivariate": [m.to_json() for m in self.multivariate],
        }

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write statistics, violations and the drift report into ``directory`` atomically."""
        out = output_directory(directory)
        sm.write_statistics(out / STATISTICS, self.statistics)
        sm.write_violations(out / VIOLATIONS, sm.Violations(self.violations))
        sm.write_json_atomic(out / DRIFT_REPORT, self.drift_report())
        return [out / STATISTICS, out / VIOLATIONS, out / DRIFT_REPORT]


class DataQualityMonitor:
    """Data-quality monitoring: types, completeness, domains and per-feature drift.

    Parameters
    ----------
    comparison_threshold
        L-infinity distance above which a numeric feature has drifted (SageMaker default 0.1).
    comparison_method
        ``"Robust"`` (default) subtracts the KS critical value at alpha ~0.003 from the distance,
        so small windows do not raise false alarms; ``"Simple"`` uses the raw distance.
    categorical_comparison_threshold
        Threshold for String features; defaults to ``comparison_threshold``.
    categorical_drift_method
        ``"LInfinity"`` (default) or ``"ChiSquared"`` (drift when the p-value is below the
        categorical threshold).
    datatype_check_threshold, domain_content_threshold
        Required share of values of the baseline type / within the baseline domain (1.0).
    dataset_format
        ``csv``, ``parquet``, ``jsonl`` or ``sagemaker-capture``; default: from the extension.
    csv_header
        Whether CSV files have a header row; default: detect.
    allow_mixed_types
        Accept a baseline column mixing numbers and text (it becomes a String feature) instead
        of refusing it as bad input.
    workers
        Threads to profile with; default: the available cores.
    multivariate
        Multivariate drift methods to run, any of ``"domain_classifier"`` (needs scikit-learn),
        ``"pca"`` and ``"mmd"``; default none. The baseline then keeps a row sample.
    multivariate_rows
        Rows sampled (seeded, uniformly) from the baseline and from each checked dataset.
    fdr
        Hold the false-discovery rate of drift verdicts across the features of one check at
        this level (Benjamini-Hochberg, e.g. 0.05), on top of the distance threshold.
    seed
        Seed of every random draw (row samples, classifier folds, permutations).
    engine
        ``"local"`` (default), ``"spark"`` or a ``modelmon.engines.spark.SparkEngine``; a Spark
        DataFrame is always profiled on Spark.

    Examples
    --------
    >>> monitor = DataQualityMonitor()
    >>> baseline = monitor.baseline("train.parquet")            # doctest: +SKIP
    >>> result = monitor.check("today.csv", baseline)           # doctest: +SKIP
    >>> result.drifted_features                                 # doctest: +SKIP
    ['income']
    """

    def __init__(
        self,
        *,
        comparison_threshold: float = 0.1,
        comparison_method: str = "Robust",
        categorical_comparison_threshold: float | None = None,
        categorical_drift_method: str = "LInfinity",
        datatype_check_threshold: float = 1.0,
        domain_content_threshold: float = 1.0,
        dataset_format: str | None = None,
        csv_header: bool | None = None,
        allow_mixed_types: bool = False,
        workers: int | None = None,
        multivariate: Sequence[str] = (),
        multivariate_rows: int = 5000,
        fdr: float | None = None,
        seed: int = 0,
        engine: Any = "local",
    ) -> None:
        self.comparison_threshold = comparison_threshold
        self.comparison_method = comparison_method
        self.categorical_comparison_threshold = categorical_comparison_threshold
        self.categorical_drift_method = categorical_drift_method
        self.datatype_check_threshold = datatype_check_threshold
        self.domain_content_threshold = domain_content_threshold
        self.dataset_format = dataset_format
        self.csv_header = csv_header
        self.allow_mixed_types = allow_mixed_types
        self.workers = workers
        self.multivariate = multivariate
        self.multivariate_rows = multivariate_rows
        self.fdr = fdr
        self.seed = seed
        self.engine = engine

    # -- the two operations ---------------------------------------------------------------------

    def baseline(self, data: Any) -> DataQualityBaseline:
        """Profile ``data`` (a path, pandas/polars DataFrame or Arrow table) into a baseline."""
        config = self._monitoring_config()
        dataset, profile = self._profile(data)
        _require_usable_baseline(profile, dataset.source, allow_mixed=self.allow_mixed_types)
        reference = None
        if self.multivariate:
            reference = sample_rows(dataset, self.multivariate_rows, self.seed)
        return DataQualityBaseline(
            profile_statistics(profile), suggest_constraints(profile, config), reference
        )

    def check(
        self, data: Any, baseline: DataQualityBaseline | str | os.PathLike[str]
    ) -> DataQualityResult:
        """Profile ``data`` and check it against ``baseline`` (an object or a directory)."""
        self._monitoring_config()
        if not isinstance(baseline, DataQualityBaseline):
            baseline = load_baseline(baseline)
        dataset, profile = self._profile(data)
        by_position = not dataset.source.has_header or _positional(baseline.constraints)
        evaluation = evaluate(
            baseline.constraints,
            baseline.statistics,
            profile,
            by_position=by_position,
            fdr=self.fdr,
        )
        multivariate = self._multivariate(dataset, baseline, by_position)
        return DataQualityResult(
            statistics=profile_statistics(_renamed(profile, baseline, by_position)),
            violations=evaluation.violations + tuple(multivariate_violations(multivariate)),
            drift=evaluation.drift,
            baseline_item_count=baseline.statistics.item_count,
            source=dataset.source.description,
            multivariate=multivariate,
        )

    def _multivariate(
        self, dataset: Dataset, baseline: DataQualityBaseline, by_position: bool
    ) -> tuple[MultivariateDrift, ...]:
        if not self.multivariate:
            return ()
        current = sample_rows(dataset, self.multivariate_rows, self.seed + 1)
        if by_position:
            names = [f.name for f in baseline.constraints.features]
            current = current.rename_columns(
                [names[i] if i < len(names) else n for i, n in enumerate(current.column_names)]
            )
        return multivariate_drift(
            check_methods(type(self).__name__, self.multivariate),
            baseline.reference,
            current,
            seed=self.seed,
        )

    # -- the one validation boundary -------------------------------------------------------------

    def _monitoring_config(self) -> sm.MonitoringConfig:
        name = type(self).__name__
        _check_fraction(name, "comparison_threshold", self.comparison_threshold)
        _check_choice(name, "comparison_method", self.comparison_method, sm.COMPARISON_METHODS)
        categorical = self.categorical_comparison_threshold
        if categorical is None:
            categorical = self.comparison_threshold
        _check_fraction(name, "categorical_comparison_threshold", categorical)
        _check_choice(
            name,
            "categorical_drift_method",
            self.categorical_drift_method,
            sm.CATEGORICAL_DRIFT_METHODS,
        )
        _check_fraction(name, "datatype_check_threshold", self.datatype_check_threshold)
        _check_fraction(name, "domain_content_threshold", self.domain_content_threshold)
        if self.dataset_format is not None:
            _check_choice(name, "dataset_format", self.dataset_format, _DATASET_FORMATS)
        check_methods(name, self.multivariate)
        _check_positive_int(name, "multivariate_rows", self.multivariate_rows)
        if self.fdr is not None:
            _check_fraction(name, "fdr", self.fdr)
        if self.workers is not None and (
            not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 1
        ):
            raise ConfigError(
                f"The 'workers' parameter of {name} must be an int >= 1. "
                f"Got {self.workers!r} instead."
            )
        distribution = sm.DistributionConstraints(
            perform_comparison=True,
            comparison_threshold=float(self.comparison_threshold),
            comparison_method=self.comparison_method,  # type: ignore[arg-type]
            categorical_comparison_threshold=float(categorical),
            categorical_drift_method=self.categorical_drift_method,  # type: ignore[arg-type]
        )
        return sm.MonitoringConfig(
            datatype_check_threshold=float(self.datatype_check_threshold),
            domain_content_threshold=float(self.domain_content_threshold),
            distribution_constraints=distribution,
        )

    def _profile(self, data: Any) -> tuple[Dataset, DatasetProfile]:
        if self.engine == "local" and not is_spark_dataframe(data):
            dataset = self._open(data)
            return dataset, profile_dataset(dataset, workers=self.workers)
        fmt, owner = self.dataset_format, type(self).__name__
        return profile_with_engine(
            self.engine,
            data,
            format=fmt,
            csv_header=self.csv_header,
            owner=owner,
            needs_rows=bool(self.multivariate),
        )

    def _open(self, data: Any) -> Dataset:
        fmt: DatasetFormat | None = self.dataset_format  # type: ignore[assignment]
        return open_dataset(data, format=fmt, csv_header=self.csv_header)


def _check_fraction(owner: str, parameter: str, value: object) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0.0 <= float(value) <= 1.0 or math.isnan(float(value)):  # type: ignore[arg-type]
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be a float in the range [0, 1]. "
            f"Got {value!r} instead."
        )


def _check_positive_int(owner: str, parameter: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be an int >= 1. Got {value!r} instead."
        )


def _check_choice(owner: str, parameter: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be one of {options}. "
            f"Got {value!r} instead."
        )


def _positional(constraints: sm.Constraints) -> bool:
    """A baseline of header-less data (columns _c0, _c1, ...) can only be matched by position."""
    names = [f.name for f in constraints.features]
    return bool(names) and all(n == f"_c{i}" for i, n in enumerate(names))


def _renamed(
    profile: DatasetProfile, baseline: DataQualityBaseline, by_position: bool
) -> DatasetProfile:
    """With positional matching, report current columns under the baseline's feature names."""
    if not by_position:
        return profile
    names = [f.name for f in baseline.constraints.features]
    renamed = DatasetProfile(row_count=profile.row_count)
    for i, column in enumerate(profile.columns.values()):
        name = names[i] if i < len(names) else column.name
        renamed.columns[name] = replace(column, name=name)
    return renamed


def _require_usable_baseline(
    profile: DatasetProfile, source: DatasetSource, *, allow_mixed: bool
) -> None:
    """A baseline defines normal: refuse data that cannot (no rows, empty or mixed columns)."""
    if profile.row_count == 0:
        raise DatasetError(
            "the dataset has no rows; a baseline needs data", path=source.description
        )
    for column in profile.columns.values():
        if column.num_present == 0:
            raise DatasetError(
                f"every one of the {profile.row_count} values is missing, so there is nothing to "
                "baseline; drop the column or fix the data",
                path=source.description,
                column=column.name,
                expected="at least one value",
                found="only nulls",
            )
        if not allow_mixed:
            _refuse_mixed(column, source)


def _refuse_mixed(column: ColumnProfile, source: DatasetSource) -> None:
    types = column.types
    numbers = types.integral + types.fractional
    if not (types.string and numbers > types.string) or column.first_string is None:
        return
    expected_type = "Fractional" if types.fractional else "Integral"
    share = 100.0 * numbers / types.total
    example = column.first_string
    raise DatasetError(
        f"the column mixes numbers and text ({share:.2f}% of its values are numbers); fix the "
        "data, or pass --allow-mixed-types to treat the column as text",
        path=source.description,
        line=_line_of(example.row, source),
        column=column.name,
        expected=f"{expected_type} values",
        found=f"{example.value!r} in row {example.row + 1}",
    )


def _line_of(row: int, source: DatasetSource) -> int | None:
    """The file line of a 0-based data row, for line-oriented formats without blank lines."""
    if source.format == "csv":
        return row + (2 if source.has_header else 1)
    if source.format == "jsonl":
        return row + 1
    return None
