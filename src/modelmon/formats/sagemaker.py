"""SageMaker Model Monitor data-quality files: typed models, a tolerant reader and an exact writer.

Three files make up data-quality monitoring:

* ``statistics.json``: a per-feature profile of one dataset (counts, moments, KLL sketch);
* ``constraints.json``: the rules a dataset must satisfy, plus the global ``monitoring_config``;
* ``constraint_violations.json``: the rules that one dataset broke.

The writer is exact: keys, nesting, key order and number types are those the SageMaker analyzer
writes (``"version": 0.0``, ``"k": 2048.0``, ``sum`` and ``distinct_count`` as floats, switches as
``"Enabled"``/``"Disabled"``).

The reader is tolerant of every shape seen in the wild: ``"version": 0``, the legacy
``distribution_constraints`` keys (``enable_comparisons``, ``min_domain_mass``), the
``comparion_method`` misspelling, per-feature overrides under ``monitoringConfigOverrides`` or
nested as ``monitoring_config_overrides`` inside ``string_constraints``, absent optional keys
(SageMaker's defaults apply) and statistics without buckets or sketch. Keys it does not know are
ignored, because custom containers may add their own. Shape errors name the file and the JSON path.

Non-finite numbers: JSON has no NaN or infinity, so the writer emits ``null`` for them and the
output is always valid JSON. The reader turns ``null`` back into NaN, and also accepts Jackson's
``"NaN"``/``"Infinity"``/``"-Infinity"`` strings and Python's bare ``NaN``/``Infinity`` tokens.
An infinity therefore reads back as NaN; statistics of real data never hold one.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, TypeAlias, TypeVar

from modelmon.errors import BaselineFormatError, InputError, NotFoundError
from modelmon.formats.atomic import atomic_file
from modelmon.formats.json_values import JsonValue

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "CATEGORICAL_DRIFT_METHODS",
    "CHECK_TYPES",
    "COMPARISON_METHODS",
    "INFERRED_TYPES",
    "CategoricalBucket",
    "CategoricalDriftMethod",
    "CheckType",
    "ComparisonMethod",
    "Constraints",
    "DistributionConstraints",
    "DistributionConstraintsOverrides",
    "FeatureConstraints",
    "FeatureStatistics",
    "InferredType",
    "JsonValue",
    "KllBucket",
    "KllSketch",
    "MonitoringConfig",
    "MonitoringConfigOverrides",
    "NumericalStatistics",
    "Statistics",
    "StringStatistics",
    "Violation",
    "Violations",
    "baseline_drift_description",
    "categorical_values_description",
    "completeness_description",
    "constraints_from_json",
    "constraints_to_json",
    "data_type_description",
    "extra_column_description",
    "load_json_file",
    "missing_column_description",
    "read_constraints",
    "read_statistics",
    "read_violations",
    "statistics_from_json",
    "statistics_to_json",
    "value_description",
    "violations_from_json",
    "violations_to_json",
    "write_constraints",
    "write_json_atomic",
    "write_statistics",
    "write_violations",
]

JsonObject: TypeAlias = dict[str, JsonValue]
StrPath: TypeAlias = "str | PathLike[str]"
_T = TypeVar("_T")
_D = TypeVar("_D", bound="DataclassInstance")
_R = TypeVar("_R")

InferredType = Literal["Integral", "Fractional", "String", "Unknown"]
ComparisonMethod = Literal["Simple", "Robust"]
CategoricalDriftMethod = Literal["LInfinity", "ChiSquared"]
CheckType = Literal[
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
]

INFERRED_TYPES: tuple[InferredType, ...] = ("Integral", "Fractional", "String", "Unknown")
COMPARISON_METHODS: tuple[ComparisonMethod, ...] = ("Simple", "Robust")
CATEGORICAL_DRIFT_METHODS: tuple[CategoricalDriftMethod, ...] = ("LInfinity", "ChiSquared")
CHECK_TYPES: tuple[CheckType, ...] = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
)

_STATISTICS = "statistics.json"
_CONSTRAINTS = "constraints.json"
_VIOLATIONS = "constraint_violations.json"
# Deequ's DEFAULT_SKETCH_SIZE and DEFAULT_SHRINKING_FACTOR, as every real file shows them.
_DEFAULT_SKETCH_K = 2048.0
_DEFAULT_SKETCH_C = 0.64

# ---------------------------------------------------------------------------------------------
# statistics.json
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KllBucket:
    """One of the 10 equal-width buckets over [min, max]; ``count`` is a sketch estimate."""

    lower_bound: float
    upper_bound: float
    count: float


@dataclass(frozen=True, slots=True)
class KllSketch:
    """Deequ's KLL sketch: ``data[h]`` is compactor level h, each item there weighs 2**h."""

    data: tuple[tuple[float, ...], ...]
    k: float = _DEFAULT_SKETCH_K
    c: float = _DEFAULT_SKETCH_C


@dataclass(frozen=True, slots=True)
class NumericalStatistics:
    """Profile of an Integral or Fractional feature; ``std_dev`` is the population value.

    ``buckets`` is empty and ``sketch`` is None when the file had no KLL distribution (custom
    containers); a moment the file left out reads as NaN.
    """

    num_present: int
    num_missing: int
    mean: float
    sum: float
    std_dev: float
    min: float
    max: float
    buckets: tuple[KllBucket, ...] = ()
    sketch: KllSketch | None = None


@dataclass(frozen=True, slots=True)
class CategoricalBucket:
    """How often one value of a String feature occurs."""

    value: str
    count: int


@dataclass(frozen=True, slots=True)
class StringStatistics:
    """Profile of a String feature; ``distinct_count`` is a float in SageMaker's files."""

    num_present: int
    num_missing: int
    distinct_count: float
    buckets: tuple[CategoricalBucket, ...] = ()


@dataclass(frozen=True, slots=True)
class FeatureStatistics:
    """One feature (column) of ``statistics.json``."""

    name: str
    inferred_type: InferredType
    numerical: NumericalStatistics | None = None
    string: StringStatistics | None = None


@dataclass(frozen=True, slots=True)
class Statistics:
    """A whole ``statistics.json``; features keep file order, which is the column order."""

    item_count: int
    features: tuple[FeatureStatistics, ...]
    version: float = 0.0


# ---------------------------------------------------------------------------------------------
# constraints.json
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistributionConstraints:
    """``monitoring_config.distribution_constraints`` with SageMaker's defaults."""

    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: ComparisonMethod = "Robust"
    # None means "same as comparison_threshold", which is SageMaker's documented default.
    categorical_comparison_threshold: float | None = None
    categorical_drift_method: CategoricalDriftMethod = "LInfinity"

    @property
    def effective_categorical_threshold(self) -> float:
        """The threshold that applies to String features."""
        if self.categorical_comparison_threshold is None:
            return self.comparison_threshold
        return self.categorical_comparison_threshold

    def overridden_by(
        self, overrides: DistributionConstraintsOverrides | None
    ) -> DistributionConstraints:
        """These settings with every key that ``overrides`` sets replaced."""
        return _overlay(self, overrides)


@dataclass(frozen=True, slots=True)
class DistributionConstraintsOverrides:
    """A partial ``distribution_constraints``: None means "inherit"."""

    perform_comparison: bool | None = None
    comparison_threshold: float | None = None
    comparison_method: ComparisonMethod | None = None
    categorical_comparison_threshold: float | None = None
    categorical_drift_method: CategoricalDriftMethod | None = None


@dataclass(frozen=True, slots=True)
class MonitoringConfigOverrides:
    """A partial ``monitoring_config``, as in a feature's ``monitoringConfigOverrides``.

    SageMaker does not document which keys it honours here; modelmon accepts every key of
    ``monitoring_config``. None means "inherit from the global monitoring_config".
    """

    evaluate_constraints: bool | None = None
    emit_metrics: bool | None = None
    datatype_check_threshold: float | None = None
    domain_content_threshold: float | None = None
    distribution_constraints: DistributionConstraintsOverrides | None = None


@dataclass(frozen=True, slots=True)
class MonitoringConfig:
    """``monitoring_config``; thresholds are kept exactly as read, never re-defaulted.

    The threshold defaults (1.0) are what generated files hold; the docs' 0.1 contradicts the
    observed "Expected match: 100.0%" (sagemaker.md §9.6).
    """

    evaluate_constraints: bool = True
    emit_metrics: bool = True
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    distribution_constraints: DistributionConstraints = DistributionConstraints()

    def overridden_by(self, overrides: MonitoringConfigOverrides | None) -> MonitoringConfig:
        """The configuration one feature runs under, given its overrides."""
        if overrides is None:
            return self
        merged = _overlay(self, replace(overrides, distribution_constraints=None))
        distribution = self.distribution_constraints.overridden_by(
            overrides.distribution_constraints
        )
        return replace(merged, distribution_constraints=distribution)


@dataclass(frozen=True, slots=True)
class FeatureConstraints:
    """One feature of ``constraints.json``; None marks a constraint the file does not set."""

    name: str
    inferred_type: InferredType
    completeness: float | None = None
    is_non_negative: bool | None = None
    domains: tuple[str, ...] | None = None
    overrides: MonitoringConfigOverrides | None = None


@dataclass(frozen=True, slots=True)
class Constraints:
    """A whole ``constraints.json``."""

    features: tuple[FeatureConstraints, ...]
    monitoring_config: MonitoringConfig = MonitoringConfig()
    version: float = 0.0


# ---------------------------------------------------------------------------------------------
# constraint_violations.json
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint."""

    feature_name: str
    constraint_check_type: CheckType
    description: str


@dataclass(frozen=True, slots=True)
class Violations:
    """A whole ``constraint_violations.json``."""

    violations: tuple[Violation, ...] = ()


def _overlay(base: _D, overrides: DataclassInstance | None) -> _D:
    """``base`` with every field that ``overrides`` sets (not None) replaced."""
    if overrides is None:
        return base
    changes = {
        f.name: value
        for f in fields(overrides)
        if (value := getattr(overrides, f.name)) is not None
    }
    return replace(base, **changes)


# ---------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------


def _number(value: float) -> float | None:
    # JSON has no NaN or infinity; null keeps the file valid (see the module docstring).
    return float(value) if math.isfinite(value) else None


def _switch(enabled: bool) -> str:
    return "Enabled" if enabled else "Disabled"


def statistics_to_json(statistics: Statistics) -> JsonObject:
    """The JSON object SageMaker writes for ``statistics``."""
    return {
        "version": _number(statistics.version),
        "dataset": {"item_count": int(statistics.item_count)},
        "features": [_feature_statistics_json(f) for f in statistics.features],
    }


def _feature_statistics_json(feature: FeatureStatistics) -> JsonObject:
    obj: JsonObject = {"name": feature.name, "inferred_type": feature.inferred_type}
    if feature.numerical is not None:
        obj["numerical_statistics"] = _numerical_json(feature.numerical)
    if feature.string is not None:
        obj["string_statistics"] = _string_json(feature.string)
    return obj


def _common_json(num_present: int, num_missing: int) -> JsonObject:
    return {"num_present": int(num_present), "num_missing": int(num_missing)}


def _numerical_json(stats: NumericalStatistics) -> JsonObject:
    obj: JsonObject = {
        "common": _common_json(stats.num_present, stats.num_missing),
        "mean": _number(stats.mean),
        "sum": _number(stats.sum),
        "std_dev": _number(stats.std_dev),
        "min": _number(stats.min),
        "max": _number(stats.max),
    }
    if stats.buckets or stats.sketch is not None:
        kll: JsonObject = {
            "buckets": [
                {
                    "lower_bound": _number(b.lower_bound),
                    "upper_bound": _number(b.upper_bound),
                    "count": _number(b.count),
                }
                for b in stats.buckets
            ]
        }
        if stats.sketch is not None:
            kll["sketch"] = {
                "parameters": {"c": _number(stats.sketch.c), "k": _number(stats.sketch.k)},
                "data": [[_number(x) for x in level] for level in stats.sketch.data],
            }
        obj["distribution"] = {"kll": kll}
    return obj


def _string_json(stats: StringStatistics) -> JsonObject:
    obj: JsonObject = {
        "common": _common_json(stats.num_present, stats.num_missing),
        "distinct_count": _number(stats.distinct_count),
    }
    if stats.buckets:
        buckets: list[JsonValue] = [
            {"value": b.value, "count": int(b.count)} for b in stats.buckets
        ]
        obj["distribution"] = {"categorical": {"buckets": buckets}}
    return obj


def constraints_to_json(constraints: Constraints) -> JsonObject:
    """The JSON object SageMaker writes for ``constraints``."""
    return {
        "version": _number(constraints.version),
        "features": [_feature_constraints_json(f) for f in constraints.features],
        "monitoring_config": _config_json(constraints.monitoring_config),
    }


def _feature_constraints_json(feature: FeatureConstraints) -> JsonObject:
    obj: JsonObject = {"name": feature.name, "inferred_type": feature.inferred_type}
    if feature.completeness is not None:
        obj["completeness"] = _number(feature.completeness)
    if feature.is_non_negative is not None:
        obj["num_constraints"] = {"is_non_negative": feature.is_non_negative}
    if feature.domains is not None:
        domains: list[JsonValue] = list(feature.domains)
        obj["string_constraints"] = {"domains": domains}
    if feature.overrides is not None:
        obj["monitoringConfigOverrides"] = _config_json(feature.overrides)
    return obj


def _config_json(config: MonitoringConfig | MonitoringConfigOverrides) -> JsonObject:
    # One function for the full config and for overrides: unset (None) keys are left out.
    pairs: list[tuple[str, JsonValue]] = [
        ("evaluate_constraints", _optional(config.evaluate_constraints, _switch)),
        ("emit_metrics", _optional(config.emit_metrics, _switch)),
        ("datatype_check_threshold", _optional(config.datatype_check_threshold, _number)),
        ("domain_content_threshold", _optional(config.domain_content_threshold, _number)),
        (
            "distribution_constraints",
            _optional(config.distribution_constraints, _distribution_json),
        ),
    ]
    return {key: value for key, value in pairs if value is not None}


def _distribution_json(
    distribution: DistributionConstraints | DistributionConstraintsOverrides,
) -> JsonObject:
    pairs: list[tuple[str, JsonValue]] = [
        ("perform_comparison", _optional(distribution.perform_comparison, _switch)),
        ("comparison_threshold", _optional(distribution.comparison_threshold, _number)),
        ("comparison_method", distribution.comparison_method),
        (
            "categorical_comparison_threshold",
            _optional(distribution.categorical_comparison_threshold, _number),
        ),
        ("categorical_drift_method", distribution.categorical_drift_method),
    ]
    return {key: value for key, value in pairs if value is not None}


def _optional(value: _T | None, convert: Callable[[_T], _R]) -> _R | None:
    return None if value is None else convert(value)


def violations_to_json(violations: Violations) -> JsonObject:
    """The JSON object SageMaker writes for ``violations``."""
    return {
        "violations": [
            {
                "feature_name": v.feature_name,
                "constraint_check_type": v.constraint_check_type,
                "description": v.description,
            }
            for v in violations.violations
        ]
    }


def write_json_atomic(path: StrPath, obj: JsonValue) -> None:
    """Write ``obj`` as JSON so that readers see either the old file or the whole new one.

    The text goes to a uniquely named file in the same directory (same filesystem, so the
    rename is atomic), is flushed to disk, and then replaces ``path``. NaN or infinity in
    ``obj`` raises ValueError instead of producing invalid JSON.
    """
    text = _dumps(obj, "") + "\n"
    with atomic_file(path) as sink:
        sink.write(text.encode("utf-8"))


def _dumps(value: JsonValue, indent: str) -> str:
    """JSON indented by two spaces, but an array of scalars stays on one line.

    A KLL sketch holds thousands of numbers; one per line would triple the file for nothing.
    """
    inner = indent + "  "
    if isinstance(value, dict) and value:
        members = [f"{inner}{_scalar(key)}: {_dumps(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        elements = [f"{inner}{_dumps(item, inner)}" for item in value]
        return "[\n" + ",\n".join(elements) + f"\n{indent}]"
    return _scalar(value)


def _scalar(value: JsonValue) -> str:
    # allow_nan=False: NaN or infinity raises ValueError rather than writing invalid JSON.
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def write_statistics(path: StrPath, statistics: Statistics) -> None:
    """Write ``statistics`` to ``path`` atomically."""
    write_json_atomic(path, statistics_to_json(statistics))


def write_constraints(path: StrPath, constraints: Constraints) -> None:
    """Write ``constraints`` to ``path`` atomically."""
    write_json_atomic(path, constraints_to_json(constraints))


def write_violations(path: StrPath, violations: Violations) -> None:
    """Write ``violations`` to ``path`` atomically."""
    write_json_atomic(path, violations_to_json(violations))


# ---------------------------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------------------------


def read_statistics(path: StrPath) -> Statistics:
    """Read a ``statistics.json``; raises BaselineFormatError naming the file and JSON path."""
    return statistics_from_json(load_json_file(path), path=path)


def read_constraints(path: StrPath) -> Constraints:
    """Read a ``constraints.json``; raises BaselineFormatError naming the file and JSON path."""
    return constraints_from_json(load_json_file(path), path=path)


def read_violations(path: StrPath) -> Violations:
    """Read a ``constraint_violations.json``; raises BaselineFormatError on a bad file."""
    return violations_from_json(load_json_file(path), path=path)


def load_json_file(path: StrPath) -> object:
    """The JSON document in ``path``; a missing or invalid file is a BaselineFormatError."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"{os.fspath(path)}: no such file") from exc
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", path=path) from exc
    try:
        # utf-8-sig also accepts a byte-order mark, which some Windows editors add.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BaselineFormatError(
            "not UTF-8 text",
            path=path,
            expected="UTF-8",
            found=f"byte 0x{raw[exc.start]:02x} at offset {exc.start}",
        ) from exc
    if not text.strip():
        raise BaselineFormatError("the file is empty", path=path, expected="a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineFormatError(
            f"not valid JSON: {exc.msg} at column {exc.colno}", path=path, line=exc.lineno
        ) from exc


def statistics_from_json(obj: object, *, path: StrPath | None = None) -> Statistics:
    """Build Statistics from a decoded ``statistics.json``; ``path`` is only for messages."""
    return _Parser(path).statistics(obj)


def constraints_from_json(obj: object, *, path: StrPath | None = None) -> Constraints:
    """Build Constraints from a decoded ``constraints.json``; ``path`` is only for messages."""
    return _Parser(path).constraints(obj)


def violations_from_json(obj: object, *, path: StrPath | None = None) -> Violations:
    """Build Violations from a decoded ``constraint_violations.json``."""
    return _Parser(path).violations(obj)


_Choice = TypeVar("_Choice", bound=str)
_Convert: TypeAlias = Callable[[object, str], _T]

# Comparison-method spellings: the schema's, and the doc table's linf_simple/linf_robust.
_COMPARISON_ALIASES: dict[str, ComparisonMethod] = {
    "simple": "Simple",
    "robust": "Robust",
    "linf_simple": "Simple",
    "linf_robust": "Robust",
}
_NON_FINITE_STRINGS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MODEL_QUALITY_KEYS = (
    "regression_metrics",
    "binary_classification_metrics",
    "multiclass_classification_metrics",
)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _show(value: object) -> str:
    if isinstance(value, Mapping):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _file_kinds(top: Mapping[str, object]) -> list[str]:
    """Which known file kinds ``top`` shows signs of, strongest first."""
    kinds = []
    if "violations" in top:
        kinds.append(_VIOLATIONS)
    if "dataset" in top or _features_have(top, ("numerical_statistics", "string_statistics")):
        kinds.append(_STATISTICS)
    if "monitoring_config" in top or _features_have(
        top, ("completeness", "num_constraints", "string_constraints")
    ):
        kinds.append(_CONSTRAINTS)
    if any(key in top for key in _MODEL_QUALITY_KEYS):
        kinds.append("model-quality statistics.json or constraints.json")
    return kinds


def _features_have(top: Mapping[str, object], keys: tuple[str, ...]) -> bool:
    features = top.get("features")
    if not isinstance(features, list):
        return False
    return any(isinstance(f, Mapping) and any(k in f for k in keys) for f in features)


class _Parser:
    """Walks a decoded JSON document; every error names the file and the JSON path."""

    def __init__(self, path: StrPath | None) -> None:
        self.path = path

    # -- errors and primitives --------------------------------------------------------------

    def fail(
        self, where: str, problem: str, *, expected: str | None = None, found: str | None = None
    ) -> NoReturn:
        raise BaselineFormatError(
            problem, path=self.path, column=where or None, expected=expected, found=found
        )

    def wrong(self, where: str, value: object, expected: str) -> NoReturn:
        self.fail(where, "wrong type", expected=expected, found=_show(value))

    def mapping(self, value: object, where: str) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            self.wrong(where, value, "a JSON object")
        return value

    def array(self, value: object, where: str) -> list[object]:
        if not isinstance(value, list):
            self.wrong(where, value, "a JSON array")
        return value

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            self.wrong(where, value, "a string")
        return value

    def boolean(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            self.wrong(where, value, "true or false")
        return value

    def number(self, value: object, where: str) -> float:
        if value is None:
            return math.nan  # the writer's spelling of NaN and infinity
        if isinstance(value, str) and value in _NON_FINITE_STRINGS:
            return _NON_FINITE_STRINGS[value]  # Jackson's spelling
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(where, value, "a number")
        try:
            return float(value)
        except OverflowError:  # JSON integers are unbounded; doubles stop near 1.8e308
            self.fail(where, "number out of range", expected="a number", found=_show(value))

    def count(self, value: object, where: str) -> int:
        # Spark may write a count as 418.0; any whole, non-negative number is accepted.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(where, value, "a whole number >= 0")
        if (isinstance(value, float) and not value.is_integer()) or value < 0:
            self.fail(where, "not a count", expected="a whole number >= 0", found=_show(value))
        return int(value)

    def switch(self, value: object, where: str) -> bool:
        if isinstance(value, bool):
            return value  # the legacy enable_comparisons is a JSON boolean
        if isinstance(value, str) and value.lower() in ("enabled", "disabled"):
            return value.lower() == "enabled"
        self.fail(
            where, "unsupported value", expected='"Enabled" or "Disabled"', found=_show(value)
        )

    def choice(self, value: object, where: str, options: tuple[_Choice, ...]) -> _Choice:
        for option in options:
            if value == option:
                return option
        self.fail(
            where, "unsupported value", expected=f"one of {', '.join(options)}", found=_show(value)
        )

    def comparison_method(self, value: object, where: str) -> ComparisonMethod:
        if isinstance(value, str) and value.lower() in _COMPARISON_ALIASES:
            return _COMPARISON_ALIASES[value.lower()]
        self.fail(
            where,
            "unsupported value",
            expected="one of Simple, Robust (or linf_simple, linf_robust)",
            found=_show(value),
        )

    def drift_method(self, value: object, where: str) -> CategoricalDriftMethod:
        return self.choice(value, where, CATEGORICAL_DRIFT_METHODS)

    def inferred_type(self, value: object, where: str) -> InferredType:
        return self.choice(value, where, INFERRED_TYPES)

    def check_type(self, value: object, where: str) -> CheckType:
        return self.choice(value, where, CHECK_TYPES)

    # -- keys ----------------------------------------------------------------------------------

    def take(self, obj: Mapping[str, object], key: str, where: str, convert: _Convert[_T]) -> _T:
        path = _join(where, key)
        if key not in obj:
            self.fail(path, "required key is missing")
        return convert(obj[key], path)

    def first(
        self, obj: Mapping[str, object], keys: Sequence[str], where: str, convert: _Convert[_T]
    ) -> _T | None:
        """The first of ``keys`` that is present and not null, converted; None if none is."""
        for key in keys:
            if obj.get(key) is not None:
                return convert(obj[key], _join(where, key))
        return None

    def maybe(
        self, obj: Mapping[str, object], key: str, where: str, convert: _Convert[_T]
    ) -> _T | None:
        return self.first(obj, (key,), where, convert)

    def items(
        self, obj: Mapping[str, object], key: str, where: str, convert: _Convert[_T]
    ) -> tuple[_T, ...]:
        """An optional array, each element converted; () if the key is absent."""
        return self.maybe(obj, key, where, self.each(convert)) or ()

    def each(self, convert: _Convert[_T]) -> _Convert[tuple[_T, ...]]:
        """A converter for an array whose elements ``convert`` handles."""

        def convert_all(value: object, where: str) -> tuple[_T, ...]:
            values = self.array(value, where)
            return tuple(convert(v, f"{where}[{i}]") for i, v in enumerate(values))

        return convert_all

    def top(self, value: object, kind: str) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            self.fail("", f"the top level of a {kind} must be a JSON object", found=_show(value))
        kinds = _file_kinds(value)
        if kinds and kind not in kinds:
            keys = ", ".join(f'"{k}"' for k in list(value)[:5])
            self.fail(
                "",
                f"this looks like a {kinds[0]}, not a {kind}",
                expected=f"a {kind}",
                found=f"top-level keys {keys}",
            )
        return value

    def version(self, top: Mapping[str, object]) -> float:
        version = self.maybe(top, "version", "", self.number)
        return 0.0 if version is None else version

    # -- statistics.json -----------------------------------------------------------------------

    def statistics(self, value: object) -> Statistics:
        top = self.top(value, _STATISTICS)
        dataset = self.take(top, "dataset", "", self.mapping)
        return Statistics(
            item_count=self.take(dataset, "item_count", "dataset", self.count),
            features=self.take(top, "features", "", self.each(self.feature_statistics)),
            version=self.version(top),
        )

    def feature_statistics(self, value: object, where: str) -> FeatureStatistics:
        obj = self.mapping(value, where)
        return FeatureStatistics(
            name=self.take(obj, "name", where, self.string),
            inferred_type=self.take(obj, "inferred_type", where, self.inferred_type),
            numerical=self.maybe(obj, "numerical_statistics", where, self.numerical),
            string=self.maybe(obj, "string_statistics", where, self.string_statistics),
        )

    def common(self, obj: Mapping[str, object], where: str) -> tuple[int, int]:
        common = self.take(obj, "common", where, self.mapping)
        where = _join(where, "common")
        return (
            self.take(common, "num_present", where, self.count),
            self.take(common, "num_missing", where, self.count),
        )

    def moment(self, obj: Mapping[str, object], key: str, where: str) -> float:
        # A custom container may leave a moment out (e.g. an all-missing column): NaN.
        value = self.maybe(obj, key, where, self.number)
        return math.nan if value is None else value

    def numerical(self, value: object, where: str) -> NumericalStatistics:
        obj = self.mapping(value, where)
        num_present, num_missing = self.common(obj, where)
        kll, kll_where = self.distribution(obj, "kll", where)
        return NumericalStatistics(
            num_present=num_present,
            num_missing=num_missing,
            mean=self.moment(obj, "mean", where),
            sum=self.moment(obj, "sum", where),
            std_dev=self.moment(obj, "std_dev", where),
            min=self.moment(obj, "min", where),
            max=self.moment(obj, "max", where),
            buckets=self.items(kll, "buckets", kll_where, self.kll_bucket),
            sketch=self.maybe(kll, "sketch", kll_where, self.sketch),
        )

    def distribution(
        self, obj: Mapping[str, object], kind: str, where: str
    ) -> tuple[Mapping[str, object], str]:
        """``distribution.<kind>`` and its path; an empty object when the file has none."""
        distribution = self.maybe(obj, "distribution", where, self.mapping) or {}
        where = _join(where, "distribution")
        return self.maybe(distribution, kind, where, self.mapping) or {}, _join(where, kind)

    def kll_bucket(self, value: object, where: str) -> KllBucket:
        obj = self.mapping(value, where)
        return KllBucket(
            lower_bound=self.take(obj, "lower_bound", where, self.number),
            upper_bound=self.take(obj, "upper_bound", where, self.number),
            count=self.take(obj, "count", where, self.number),
        )

    def sketch(self, value: object, where: str) -> KllSketch:
        obj = self.mapping(value, where)
        parameters = self.maybe(obj, "parameters", where, self.mapping) or {}
        parameters_where = _join(where, "parameters")
        k = self.maybe(parameters, "k", parameters_where, self.number)
        c = self.maybe(parameters, "c", parameters_where, self.number)
        return KllSketch(
            data=self.items(obj, "data", where, self.each(self.number)),
            k=_DEFAULT_SKETCH_K if k is None else k,
            c=_DEFAULT_SKETCH_C if c is None else c,
        )

    def string_statistics(self, value: object, where: str) -> StringStatistics:
        obj = self.mapping(value, where)
        num_present, num_missing = self.common(obj, where)
        categorical, categorical_where = self.distribution(obj, "categorical", where)
        return StringStatistics(
            num_present=num_present,
            num_missing=num_missing,
            distinct_count=self.moment(obj, "distinct_count", where),
            buckets=self.items(categorical, "buckets", categorical_where, self.categorical_bucket),
        )

    def categorical_bucket(self, value: object, where: str) -> CategoricalBucket:
        obj = self.mapping(value, where)
        return CategoricalBucket(
            value=self.take(obj, "value", where, self.string),
            count=self.take(obj, "count", where, self.count),
        )

    # -- constraints.json ----------------------------------------------------------------------

    def constraints(self, value: object) -> Constraints:
        top = self.top(value, _CONSTRAINTS)
        config = self.maybe(top, "monitoring_config", "", self.config)
        return Constraints(
            features=self.take(top, "features", "", self.each(self.feature_constraints)),
            # Parsing as overrides of the defaults fills in whatever the file leaves out.
            monitoring_config=MonitoringConfig().overridden_by(config),
            version=self.version(top),
        )

    def feature_constraints(self, value: object, where: str) -> FeatureConstraints:
        obj = self.mapping(value, where)
        num_where = _join(where, "num_constraints")
        str_where = _join(where, "string_constraints")
        num = self.maybe(obj, "num_constraints", where, self.mapping) or {}
        strings = self.maybe(obj, "string_constraints", where, self.mapping) or {}
        return FeatureConstraints(
            name=self.take(obj, "name", where, self.string),
            inferred_type=self.take(obj, "inferred_type", where, self.inferred_type),
            completeness=self.maybe(obj, "completeness", where, self.number),
            is_non_negative=self.maybe(num, "is_non_negative", num_where, self.boolean),
            domains=self.maybe(strings, "domains", str_where, self.each(self.string)),
            overrides=self.feature_overrides(
                ((obj, where), (strings, str_where), (num, num_where))
            ),
        )

    def feature_overrides(
        self, places: Sequence[tuple[Mapping[str, object], str]]
    ) -> MonitoringConfigOverrides | None:
        # The docs put monitoringConfigOverrides on the feature; the SDK's fixture nests
        # monitoring_config_overrides inside string_constraints. The first place found wins.
        for obj, where in places:
            found = self.first(
                obj,
                ("monitoringConfigOverrides", "monitoring_config_overrides"),
                where,
                self.config,
            )
            if found is not None:
                return found
        return None

    def config(self, value: object, where: str) -> MonitoringConfigOverrides:
        obj = self.mapping(value, where)
        return MonitoringConfigOverrides(
            evaluate_constraints=self.maybe(obj, "evaluate_constraints", where, self.switch),
            emit_metrics=self.maybe(obj, "emit_metrics", where, self.switch),
            datatype_check_threshold=self.maybe(
                obj, "datatype_check_threshold", where, self.number
            ),
            domain_content_threshold=self.maybe(
                obj, "domain_content_threshold", where, self.number
            ),
            distribution_constraints=self.maybe(
                obj, "distribution_constraints", where, self.distribution_constraints
            ),
        )

    def distribution_constraints(
        self, value: object, where: str
    ) -> DistributionConstraintsOverrides:
        obj = self.mapping(value, where)
        # Legacy shape (SDK fixture): enable_comparisons for perform_comparison. Its
        # min_domain_mass has no counterpart in the current schema and is dropped.
        return DistributionConstraintsOverrides(
            perform_comparison=self.first(
                obj, ("perform_comparison", "enable_comparisons"), where, self.switch
            ),
            comparison_threshold=self.maybe(obj, "comparison_threshold", where, self.number),
            comparison_method=self.first(
                obj, ("comparison_method", "comparion_method"), where, self.comparison_method
            ),
            categorical_comparison_threshold=self.maybe(
                obj, "categorical_comparison_threshold", where, self.number
            ),
            categorical_drift_method=self.maybe(
                obj, "categorical_drift_method", where, self.drift_method
            ),
        )

    # -- constraint_violations.json ------------------------------------------------------------

    def violations(self, value: object) -> Violations:
        top = self.top(value, _VIOLATIONS)
        return Violations(violations=self.take(top, "violations", "", self.each(self.violation)))

    def violation(self, value: object, where: str) -> Violation:
        obj = self.mapping(value, where)
        if "metric_name" in obj:
            # Model-quality violations carry metric_name and their own check types.
            self.fail(
                where,
                "this looks like a model-quality constraint_violations.json, "
                "not a data-quality one",
                expected="feature_name, constraint_check_type and description",
                found=f"metric_name {_show(obj['metric_name'])}",
            )
        return Violation(
            feature_name=self.take(obj, "feature_name", where, self.string),
            constraint_check_type=self.take(obj, "constraint_check_type", where, self.check_type),
            description=self.take(obj, "description", where, self.string),
        )


# ---------------------------------------------------------------------------------------------
# Violation descriptions
# ---------------------------------------------------------------------------------------------


def _java_double(value: float) -> str:
    """``value`` as Java's Double.toString prints it, as the Scala analyzer's texts do.

    Same shortest digits as Python's repr, but Java switches to "1.0E-5" style below 1e-3 and
    from 1e7 on, and always keeps one digit after the point.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0.0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    assert isinstance(exponent, int)  # finite, so never 'n'/'N'/'F'
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    point = len(digits) + exponent  # digits before the decimal point
    if -3 < point <= 7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        whole, fraction = digits[:point].ljust(point, "0"), digits[point:]
        return f"{sign}{whole}.{fraction or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def value_description(value: float) -> str:
    """The analyzer's generic text, e.g. "Value: 0.0 does not meet the constraint requirement! ".

    The trailing space is SageMaker's; AWS's visualiser parses the value with
    ``Value: (.+) does not meet the constraint requirement!``.
    """
    return f"Value: {_java_double(value)} does not meet the constraint requirement! "


def data_type_description(expected_type: str, expected_match: float, observed_share: float) -> str:
    """``data_type_check`` text; both shares are fractions in [0, 1], printed as percentages.

    ``data_type_description("Integral", 1.0, 1970 / 1977)`` gives SageMaker's own "Data type
    match requirement is not met. Expected data type: Integral, Expected match: 100.0%.
    Observed: Only 99.64592817400101% of data is Integral."
    """
    return (
        f"Data type match requirement is not met. Expected data type: {expected_type}, "
        f"Expected match: {_java_double(expected_match * 100)}%. "
        f"Observed: Only {_java_double(observed_share * 100)}% of data is {expected_type}."
    )


def completeness_description(observed_completeness: float) -> str:
    """``completeness_check`` text, as in SageMaker's own files."""
    return value_description(observed_completeness)


def categorical_values_description(observed_share: float) -> str:
    """``categorical_values_check`` text, as in SageMaker's own files."""
    return value_description(observed_share)


def baseline_drift_description(distance: float, threshold: float) -> str:
    """``baseline_drift_check`` text; AWS's visualiser reads it with ``distance: (.+) exceeds``.

    SageMaker's full wording is not public; this keeps the part AWS's own tooling parses.
    """
    return (
        f"Baseline drift distance: {_java_double(distance)} "
        f"exceeds threshold: {_java_double(threshold)}"
    )


def missing_column_description(current_columns: int, baseline_columns: int) -> str:
    """``missing_column_check`` text (SageMaker's wording is not public)."""
    return (
        "There are missing columns in current dataset. "
        f"Number of columns in current dataset: {current_columns}, "
        f"Number of columns in baseline constraints: {baseline_columns}"
    )


def extra_column_description(current_columns: int, baseline_columns: int) -> str:
    """``extra_column_check`` text (SageMaker's wording is not public)."""
    return (
        "There are extra columns in current dataset. "
        f"Number of columns in current dataset: {current_columns}, "
        f"Number of columns in baseline constraints: {baseline_columns}"
    )
