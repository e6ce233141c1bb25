"""SageMaker data-quality files: fixtures read, writer is exact, reader is tolerant and precise."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.errors import BaselineFormatError, InputError, NotFoundError
from modelmon.formats import sagemaker as sm
from modelmon.formats.sagemaker import (
    CategoricalBucket,
    Constraints,
    DistributionConstraints,
    DistributionConstraintsOverrides,
    FeatureConstraints,
    FeatureStatistics,
    KllBucket,
    KllSketch,
    MonitoringConfig,
    MonitoringConfigOverrides,
    NumericalStatistics,
    Statistics,
    StringStatistics,
    Violation,
    Violations,
)

DATA = Path(__file__).parent / "data" / "sagemaker"

# Each file kind: how to read it, how to decode it, how to encode it.
KINDS: dict[str, tuple[Callable[[Path], Any], Callable[..., Any], Callable[[Any], Any]]] = {
    "statistics": (sm.read_statistics, sm.statistics_from_json, sm.statistics_to_json),
    "constraints": (sm.read_constraints, sm.constraints_from_json, sm.constraints_to_json),
    "violations": (sm.read_violations, sm.violations_from_json, sm.violations_to_json),
}
FIXTURES = [
    ("statistics", "statistics.json"),
    ("statistics", "churn_statistics.json"),
    ("constraints", "constraints.json"),
    ("constraints", "churn_constraints.json"),
    ("violations", "constraint_violations.json"),
    ("violations", "churn_constraint_violations.json"),
]


def through_json_text(obj: sm.JsonValue) -> object:
    """What a reader sees after ``obj`` went to disk: strict JSON, no NaN tokens."""
    return json.loads(json.dumps(obj, allow_nan=False))


# ---------------------------------------------------------------------------------------------
# The fixtures read, with the values sagemaker.md records
# ---------------------------------------------------------------------------------------------


def test_sdk_statistics_fixture() -> None:
    stats = sm.read_statistics(DATA / "statistics.json")
    assert stats == Statistics(
        item_count=418,
        version=0.0,
        features=(
            FeatureStatistics(
                name="message",
                inferred_type="String",
                string=StringStatistics(
                    num_present=418,
                    num_missing=0,
                    distinct_count=1.0,
                    buckets=(CategoricalBucket("preproc-not-YET-supported-for-csv-json", 418),),
                ),
            ),
        ),
    )


def test_sdk_legacy_constraints_fixture() -> None:
    constraints = sm.read_constraints(DATA / "constraints.json")
    message, second = constraints.features
    assert message == FeatureConstraints(
        name="message",
        inferred_type="String",
        completeness=1.0,
        domains=("preproc-not-YET-supported-for-csv-json",),
        # Found nested inside string_constraints as monitoring_config_overrides.
        overrides=MonitoringConfigOverrides(evaluate_constraints=True, emit_metrics=True),
    )
    assert second.overrides is None
    assert second.is_non_negative is None
    # Legacy enable_comparisons maps to perform_comparison; absent keys take the defaults.
    assert constraints.monitoring_config == MonitoringConfig(
        distribution_constraints=DistributionConstraints(
            perform_comparison=True, comparison_threshold=1.0
        )
    )


def test_sdk_violations_fixture_texts_match_the_builders() -> None:
    violations = sm.read_violations(DATA / "constraint_violations.json")
    assert [v.constraint_check_type for v in violations.violations] == [
        "categorical_values_check",
        "data_type_check",
        "data_type_check",
        "completeness_check",
        "data_type_check",
        "data_type_check",
        "data_type_check",
    ]
    builders = {
        "categorical_values_check": sm.categorical_values_description,
        "completeness_check": sm.completeness_description,
        "data_type_check": sm.value_description,  # the older data-type style
    }
    for v in violations.violations:
        value = re.fullmatch(
            r"Value: (.+) does not meet the constraint requirement! ", v.description
        )
        assert value is not None
        assert builders[v.constraint_check_type](float(value.group(1))) == v.description


def test_notebook_violations_fixture_texts_match_the_builder() -> None:
    violations = sm.read_violations(DATA / "churn_constraint_violations.json").violations
    assert len(violations) == 10
    for v in violations[:9]:
        assert v.description == sm.data_type_description("Integral", 1.0, 1970 / 1977)
    assert violations[9] == Violation(
        "Churn", "data_type_check", sm.data_type_description("Integral", 1.0, 0.0)
    )


def test_churn_statistics_fixture_has_the_notebook_values() -> None:
    stats = sm.read_statistics(DATA / "churn_statistics.json")
    assert stats.item_count == 2333
    assert [f.name for f in stats.features] == [
        "Churn",
        "Account Length",
        "VMail Message",
        "Day Mins",
        "Day Calls",
        "Eve Mins",
        "Eve Calls",
        "Night Mins",
        "Night Calls",
        "Intl Mins",
    ]
    account = stats.features[1].numerical
    assert account is not None
    assert (account.min, account.max, account.sum) == (1.0, 243.0, 236279.0)
    assert account.mean == pytest.approx(101.276897, abs=1e-6)
    assert account.buckets[0] == KllBucket(1.0, 25.2, account.buckets[0].count)
    assert account.sketch is not None
    assert (account.sketch.k, account.sketch.c) == (2048.0, 0.64)
    assert account.sketch.data[0][:7] == (119.0, 100.0, 111.0, 181.0, 95.0, 104.0, 70.0)
    churn = stats.features[0].numerical
    assert churn is not None
    assert churn.std_dev == pytest.approx(0.346265, abs=1e-6)  # population std_dev


@pytest.mark.parametrize("index", range(10))
def test_churn_statistics_fixture_is_internally_consistent(index: int) -> None:
    stats = sm.read_statistics(DATA / "churn_statistics.json")
    feature = stats.features[index].numerical
    assert feature is not None
    assert feature.sketch is not None
    assert len(feature.buckets) == 10
    assert sum(b.count for b in feature.buckets) == feature.num_present
    weight = sum(len(level) * 2**h for h, level in enumerate(feature.sketch.data))
    assert weight == stats.item_count
    assert feature.mean == pytest.approx(feature.sum / feature.num_present)
    width = (feature.max - feature.min) / 10
    for i, bucket in enumerate(feature.buckets):
        assert bucket.lower_bound == pytest.approx(feature.min + i * width)


def test_churn_constraints_fixture_current_shape() -> None:
    constraints = sm.read_constraints(DATA / "churn_constraints.json")
    assert constraints.version == 0.0  # written as the integer 0
    churn, account = constraints.features[:2]
    assert churn.overrides == MonitoringConfigOverrides()  # the doc's empty {}
    assert constraints.features[2].overrides is None
    assert churn.is_non_negative is True
    config = constraints.monitoring_config
    assert config.distribution_constraints == DistributionConstraints(
        perform_comparison=True,
        comparison_threshold=0.1,
        comparison_method="Robust",
        categorical_comparison_threshold=0.1,
        categorical_drift_method="LInfinity",
    )
    effective = config.overridden_by(account.overrides)
    assert effective.distribution_constraints.comparison_threshold == 0.2
    assert effective.distribution_constraints.comparison_method == "Simple"
    assert effective.distribution_constraints.categorical_comparison_threshold == 0.1
    assert effective.datatype_check_threshold == 1.0


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), FIXTURES)
def test_fixture_round_trips_through_a_written_file(kind: str, name: str, tmp_path: Path) -> None:
    read, _, to_json = KINDS[kind]
    model = read(DATA / name)
    sm.write_json_atomic(tmp_path / name, to_json(model))
    assert read(tmp_path / name) == model


@pytest.mark.parametrize(("kind", "name"), FIXTURES)
def test_writer_output_is_a_fixed_point(kind: str, name: str) -> None:
    read, from_json, to_json = KINDS[kind]
    once = to_json(read(DATA / name))
    assert to_json(from_json(through_json_text(once))) == once


def test_write_helpers(tmp_path: Path) -> None:
    stats = sm.read_statistics(DATA / "statistics.json")
    constraints = sm.read_constraints(DATA / "constraints.json")
    violations = sm.read_violations(DATA / "constraint_violations.json")
    sm.write_statistics(tmp_path / "s.json", stats)
    sm.write_constraints(tmp_path / "c.json", constraints)
    sm.write_violations(tmp_path / "v.json", violations)
    assert sm.read_statistics(tmp_path / "s.json") == stats
    assert sm.read_constraints(tmp_path / "c.json") == constraints
    assert sm.read_violations(tmp_path / "v.json") == violations


# ---------------------------------------------------------------------------------------------
# The writer is exact
# ---------------------------------------------------------------------------------------------

SMALL_STATISTICS = Statistics(
    item_count=4,
    features=(
        FeatureStatistics(
            name="age",
            inferred_type="Integral",
            numerical=NumericalStatistics(
                num_present=3,
                num_missing=1,
                mean=2.0,
                sum=6,  # an int on purpose: the file must still say 6.0
                std_dev=0.816496580927726,
                min=1.0,
                max=3.0,
                buckets=(KllBucket(1.0, 2.0, 1), KllBucket(2.0, 3.0, 2.0)),
                sketch=KllSketch(data=((3.0, 1.0, 2.0),)),
            ),
        ),
        FeatureStatistics(
            name="colour",
            inferred_type="String",
            string=StringStatistics(
                num_present=4,
                num_missing=0,
                distinct_count=2,
                buckets=(CategoricalBucket("red", 3), CategoricalBucket("blue", 1)),
            ),
        ),
    ),
)


def test_statistics_json_structure_is_exact() -> None:
    assert sm.statistics_to_json(SMALL_STATISTICS) == {
        "version": 0.0,
        "dataset": {"item_count": 4},
        "features": [
            {
                "name": "age",
                "inferred_type": "Integral",
                "numerical_statistics": {
                    "common": {"num_present": 3, "num_missing": 1},
                    "mean": 2.0,
                    "sum": 6.0,
                    "std_dev": 0.816496580927726,
                    "min": 1.0,
                    "max": 3.0,
                    "distribution": {
                        "kll": {
                            "buckets": [
                                {"lower_bound": 1.0, "upper_bound": 2.0, "count": 1.0},
                                {"lower_bound": 2.0, "upper_bound": 3.0, "count": 2.0},
                            ],
                            "sketch": {
                                "parameters": {"c": 0.64, "k": 2048.0},
                                "data": [[3.0, 1.0, 2.0]],
                            },
                        }
                    },
                },
            },
            {
                "name": "colour",
                "inferred_type": "String",
                "string_statistics": {
                    "common": {"num_present": 4, "num_missing": 0},
                    "distinct_count": 2.0,
                    "distribution": {
                        "categorical": {
                            "buckets": [{"value": "red", "count": 3}, {"value": "blue", "count": 1}]
                        }
                    },
                },
            },
        ],
    }


def test_statistics_file_text_keeps_number_types_and_key_order(tmp_path: Path) -> None:
    path = tmp_path / "statistics.json"
    sm.write_statistics(path, SMALL_STATISTICS)
    text = path.read_text(encoding="utf-8")
    for fragment in ('"version": 0.0', '"k": 2048.0', '"sum": 6.0', '"distinct_count": 2.0'):
        assert fragment in text
    assert '"count": 1.0' in text  # a KLL count is a float
    assert '"count": 3' in text  # a categorical count is an int
    assert '"data": [\n' in text
    assert "[3.0, 1.0, 2.0]" in text  # an array of numbers stays on one line
    keys = re.findall(r'"(\w+)":', text)
    assert keys[:3] == ["version", "dataset", "item_count"]
    assert keys.index("mean") < keys.index("sum") < keys.index("std_dev") < keys.index("min")
    assert keys.index("buckets") < keys.index("sketch")
    assert keys.index("parameters") < keys.index("c") < keys.index("k") < keys.index("data")
    assert text.endswith("}\n")


def test_statistics_without_distribution_writes_none() -> None:
    bare = NumericalStatistics(1, 0, 1.0, 1.0, 0.0, 1.0, 1.0)
    feature = sm.statistics_to_json(Statistics(1, (FeatureStatistics("x", "Fractional", bare),)))
    assert feature["features"] == [
        {
            "name": "x",
            "inferred_type": "Fractional",
            "numerical_statistics": {
                "common": {"num_present": 1, "num_missing": 0},
                "mean": 1.0,
                "sum": 1.0,
                "std_dev": 0.0,
                "min": 1.0,
                "max": 1.0,
            },
        }
    ]


def test_constraints_json_structure_is_exact() -> None:
    constraints = Constraints(
        features=(
            FeatureConstraints("age", "Integral", completeness=1.0, is_non_negative=True),
            FeatureConstraints(
                "colour",
                "String",
                completeness=0.5,
                domains=("red", "blue"),
                overrides=MonitoringConfigOverrides(
                    evaluate_constraints=False,
                    distribution_constraints=DistributionConstraintsOverrides(
                        categorical_drift_method="ChiSquared"
                    ),
                ),
            ),
            FeatureConstraints("blob", "Unknown"),
        ),
        monitoring_config=MonitoringConfig(
            emit_metrics=False,
            datatype_check_threshold=0.1,
            distribution_constraints=DistributionConstraints(
                comparison_method="Simple", categorical_comparison_threshold=0.2
            ),
        ),
    )
    assert sm.constraints_to_json(constraints) == {
        "version": 0.0,
        "features": [
            {
                "name": "age",
                "inferred_type": "Integral",
                "completeness": 1.0,
                "num_constraints": {"is_non_negative": True},
            },
            {
                "name": "colour",
                "inferred_type": "String",
                "completeness": 0.5,
                "string_constraints": {"domains": ["red", "blue"]},
                "monitoringConfigOverrides": {
                    "evaluate_constraints": "Disabled",
                    "distribution_constraints": {"categorical_drift_method": "ChiSquared"},
                },
            },
            {"name": "blob", "inferred_type": "Unknown"},
        ],
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Disabled",
            "datatype_check_threshold": 0.1,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": 0.1,
                "comparison_method": "Simple",
                "categorical_comparison_threshold": 0.2,
                "categorical_drift_method": "LInfinity",
            },
        },
    }


def test_legacy_constraints_are_written_in_the_current_shape() -> None:
    written = sm.constraints_to_json(sm.read_constraints(DATA / "constraints.json"))
    assert written["monitoring_config"] == {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 1.0,
            "comparison_method": "Robust",
            "categorical_drift_method": "LInfinity",
        },
    }
    features = written["features"]
    assert isinstance(features, list)
    assert features[0] == {
        "name": "message",
        "inferred_type": "String",
        "completeness": 1.0,
        "string_constraints": {"domains": ["preproc-not-YET-supported-for-csv-json"]},
        "monitoringConfigOverrides": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled"},
    }


def test_violations_json_structure_is_exact() -> None:
    violations = Violations((Violation("age", "missing_column_check", "text"),))
    assert sm.violations_to_json(violations) == {
        "violations": [
            {
                "feature_name": "age",
                "constraint_check_type": "missing_column_check",
                "description": "text",
            }
        ]
    }
    assert sm.violations_to_json(Violations()) == {"violations": []}


# ---------------------------------------------------------------------------------------------
# NaN and infinity
# ---------------------------------------------------------------------------------------------


def test_non_finite_numbers_are_written_as_null_and_read_as_nan(tmp_path: Path) -> None:
    odd = NumericalStatistics(0, 5, math.nan, 0.0, math.inf, -math.inf, math.nan)
    stats = Statistics(5, (FeatureStatistics("empty", "Fractional", odd),))
    obj = sm.statistics_to_json(stats)
    features = obj["features"]
    assert isinstance(features, list)
    assert features[0] == {
        "name": "empty",
        "inferred_type": "Fractional",
        "numerical_statistics": {
            "common": {"num_present": 0, "num_missing": 5},
            "mean": None,
            "sum": 0.0,
            "std_dev": None,
            "min": None,
            "max": None,
        },
    }
    sm.write_statistics(tmp_path / "s.json", stats)
    json.loads((tmp_path / "s.json").read_text(encoding="utf-8"), parse_constant=pytest.fail)
    back = sm.read_statistics(tmp_path / "s.json").features[0].numerical
    assert back is not None
    assert all(math.isnan(x) for x in (back.mean, back.std_dev, back.min, back.max))


@pytest.mark.parametrize(
    ("token", "expected"),
    [('"NaN"', math.nan), ('"Infinity"', math.inf), ('"-Infinity"', -math.inf), ("NaN", math.nan)],
)
def test_reader_accepts_jackson_and_python_non_finite_spellings(
    token: str, expected: float, tmp_path: Path
) -> None:
    path = tmp_path / "statistics.json"
    path.write_text(
        '{"dataset": {"item_count": 1}, "features": [{"name": "x", "inferred_type": "Fractional",'
        f' "numerical_statistics": {{"common": {{"num_present": 1, "num_missing": 0}},'
        f' "mean": {token}}}}}]}}',
        encoding="utf-8",
    )
    numerical = sm.read_statistics(path).features[0].numerical
    assert numerical is not None
    assert str(numerical.mean) == str(expected)


def test_write_json_atomic_refuses_nan_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(ValueError, match="Out of range float"):
        sm.write_json_atomic(target, {"a": math.nan})
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["x.json"]


# ---------------------------------------------------------------------------------------------
# write_json_atomic
# ---------------------------------------------------------------------------------------------


def test_write_json_atomic_replaces_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    sm.write_json_atomic(target, {"a": 1})
    sm.write_json_atomic(str(target), {"b": [1.0, 2.5], "c": "é"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"b": [1.0, 2.5], "c": "é"}
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_json_atomic_keeps_the_old_file_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.json"
    target.write_text('{"old": true}', encoding="utf-8")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        sm.write_json_atomic(target, {"new": True})
    assert target.read_text(encoding="utf-8") == '{"old": true}'
    assert os.listdir(tmp_path) == ["out.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_write_json_atomic_file_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        sm.write_json_atomic(tmp_path / "out.json", {})
    finally:
        os.umask(old)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------------------------------------
# The reader is tolerant
# ---------------------------------------------------------------------------------------------


def constraints_with(config: dict[str, Any], **feature: Any) -> Constraints:
    return sm.constraints_from_json(
        {
            "version": 0,
            "features": [{"name": "f", "inferred_type": "Integral", **feature}],
            "monitoring_config": config,
        }
    )


def test_missing_monitoring_config_gives_sagemaker_defaults() -> None:
    constraints = sm.constraints_from_json({"features": []})
    assert constraints == Constraints(features=(), monitoring_config=MonitoringConfig())
    assert (
        constraints.monitoring_config.distribution_constraints.effective_categorical_threshold
        == (0.1)
    )


def test_datatype_check_threshold_is_kept_as_read() -> None:
    config = constraints_with(
        {"datatype_check_threshold": 0.1, "domain_content_threshold": 0.25}
    ).monitoring_config
    assert (config.datatype_check_threshold, config.domain_content_threshold) == (0.1, 0.25)
    assert sm.constraints_to_json(constraints_with({"datatype_check_threshold": 0.1}))[
        "monitoring_config"
    ] == {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 0.1,
        "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_drift_method": "LInfinity",
        },
    }


@pytest.mark.parametrize(
    ("distribution", "expected"),
    [
        ({"comparion_method": "Simple"}, DistributionConstraints(comparison_method="Simple")),
        ({"comparison_method": "linf_simple"}, DistributionConstraints(comparison_method="Simple")),
        ({"comparison_method": "linf_robust"}, DistributionConstraints(comparison_method="Robust")),
        (
            {"comparison_method": "Simple", "comparion_method": "Robust"},
            DistributionConstraints(comparison_method="Simple"),
        ),
        ({"enable_comparisons": False}, DistributionConstraints(perform_comparison=False)),
        ({"perform_comparison": "Disabled"}, DistributionConstraints(perform_comparison=False)),
        (
            {"enable_comparisons": True, "min_domain_mass": 1.0, "comparison_threshold": 1.0},
            DistributionConstraints(comparison_threshold=1.0),
        ),
        (
            {"categorical_drift_method": "ChiSquared", "categorical_comparison_threshold": 0.05},
            DistributionConstraints(
                categorical_drift_method="ChiSquared", categorical_comparison_threshold=0.05
            ),
        ),
    ],
)
def test_distribution_constraints_spellings(
    distribution: dict[str, Any], expected: DistributionConstraints
) -> None:
    config = constraints_with({"distribution_constraints": distribution}).monitoring_config
    assert config.distribution_constraints == expected


def test_categorical_threshold_defaults_to_comparison_threshold() -> None:
    distribution = DistributionConstraints(comparison_threshold=0.3)
    assert distribution.effective_categorical_threshold == 0.3
    assert (
        DistributionConstraints(
            categorical_comparison_threshold=0.05
        ).effective_categorical_threshold
        == 0.05
    )


@pytest.mark.parametrize(
    "feature",
    [
        {"monitoringConfigOverrides": {"emit_metrics": "Disabled"}},
        {"monitoring_config_overrides": {"emit_metrics": "Disabled"}},
        {"string_constraints": {"monitoring_config_overrides": {"emit_metrics": "Disabled"}}},
        {"string_constraints": {"monitoringConfigOverrides": {"emit_metrics": "Disabled"}}},
        {"num_constraints": {"monitoring_config_overrides": {"emit_metrics": "Disabled"}}},
    ],
)
def test_overrides_are_found_in_every_place(feature: dict[str, Any]) -> None:
    (parsed,) = constraints_with({}, **feature).features
    assert parsed.overrides == MonitoringConfigOverrides(emit_metrics=False)


def test_feature_level_overrides_win() -> None:
    (parsed,) = constraints_with(
        {},
        monitoringConfigOverrides={"emit_metrics": "Disabled"},
        string_constraints={"monitoring_config_overrides": {"emit_metrics": "Enabled"}},
    ).features
    assert parsed.overrides == MonitoringConfigOverrides(emit_metrics=False)


def test_overrides_merge_into_the_global_config() -> None:
    config = MonitoringConfig(
        datatype_check_threshold=0.9,
        distribution_constraints=DistributionConstraints(comparison_threshold=0.2),
    )
    overrides = MonitoringConfigOverrides(
        evaluate_constraints=False,
        distribution_constraints=DistributionConstraintsOverrides(comparison_method="Simple"),
    )
    assert config.overridden_by(overrides) == MonitoringConfig(
        evaluate_constraints=False,
        datatype_check_threshold=0.9,
        distribution_constraints=DistributionConstraints(
            comparison_threshold=0.2, comparison_method="Simple"
        ),
    )
    assert config.overridden_by(None) is config
    assert config.overridden_by(MonitoringConfigOverrides()) == config


def test_switches_accept_booleans_and_any_case() -> None:
    config = constraints_with({"evaluate_constraints": False, "emit_metrics": "DISABLED"})
    assert not config.monitoring_config.evaluate_constraints
    assert not config.monitoring_config.emit_metrics


def test_statistics_without_sketch_or_buckets() -> None:
    stats = sm.statistics_from_json(
        {
            "version": 0,
            "dataset": {"item_count": 2.0},  # Spark may write a count as a float
            "features": [
                {
                    "name": "x",
                    "inferred_type": "Fractional",
                    "numerical_statistics": {
                        "common": {"num_present": 2, "num_missing": 0},
                        "mean": 1,
                        "sum": 2,
                        "std_dev": 0,
                        "min": 1,
                        "max": 1,
                    },
                },
                {
                    "name": "y",
                    "inferred_type": "Fractional",
                    "numerical_statistics": {
                        "common": {"num_present": 2, "num_missing": 0},
                        "distribution": {"kll": {"sketch": {"data": [[1.0, 1.0]]}}},
                    },
                },
                {
                    "name": "s",
                    "inferred_type": "String",
                    "string_statistics": {"common": {"num_present": 2, "num_missing": 0}},
                },
                {"name": "u", "inferred_type": "Unknown"},
            ],
        }
    )
    x, y, s, u = stats.features
    assert x.numerical == NumericalStatistics(2, 0, 1.0, 2.0, 0.0, 1.0, 1.0)
    assert y.numerical is not None
    assert y.numerical.sketch == KllSketch(data=((1.0, 1.0),), k=2048.0, c=0.64)
    assert y.numerical.buckets == ()
    assert math.isnan(y.numerical.mean)  # a custom container left the moments out
    assert s.string is not None
    assert s.string.buckets == ()
    assert math.isnan(s.string.distinct_count)
    assert u == FeatureStatistics("u", "Unknown")
    assert stats.item_count == 2


def test_unknown_keys_are_ignored_everywhere() -> None:
    stats = sm.statistics_from_json(
        {
            "version": 0.0,
            "producer": "my-container",
            "dataset": {"item_count": 1, "size_bytes": 10},
            "features": [
                {
                    "name": "x",
                    "inferred_type": "Integral",
                    "custom_statistics": {"p99": 1.0},
                    "numerical_statistics": {
                        "common": {"num_present": 1, "num_missing": 0, "num_zero": 0},
                        "mean": 1.0,
                        "sum": 1.0,
                        "std_dev": 0.0,
                        "min": 1.0,
                        "max": 1.0,
                        "median": 1.0,
                        "distribution": {
                            "tdigest": {"centroids": []},
                            "kll": {
                                "buckets": [
                                    {"lower_bound": 1.0, "upper_bound": 1.0, "count": 1, "x": 0}
                                ],
                                "sketch": {"parameters": {"c": 0.5, "k": 100, "seed": 1}},
                            },
                        },
                    },
                }
            ],
        }
    )
    numerical = stats.features[0].numerical
    assert numerical is not None
    assert numerical.buckets == (KllBucket(1.0, 1.0, 1.0),)
    assert numerical.sketch == KllSketch(data=(), k=100.0, c=0.5)
    constraints = constraints_with(
        {"extra": 1, "distribution_constraints": {"extra": 2}}, unknown_rule={"x": 1}
    )
    assert constraints.monitoring_config == MonitoringConfig()
    violations = sm.violations_from_json(
        {
            "violations": [
                {
                    "feature_name": "f",
                    "constraint_check_type": "extra_column_check",
                    "description": "d",
                    "severity": "high",
                }
            ],
            "job": "x",
        }
    )
    assert violations == Violations((Violation("f", "extra_column_check", "d"),))


# ---------------------------------------------------------------------------------------------
# The reader's errors are precise
# ---------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes, name: str = "statistics.json") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "version": 0.0,\n  "dataset": {"item_count": }\n}')
    with pytest.raises(BaselineFormatError, match="not valid JSON") as info:
        sm.read_statistics(path)
    error = info.value
    assert error.path == str(path)
    assert error.line == 3
    assert str(error) == f"{path}, line 3: not valid JSON: Expecting value at column 29"


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(BaselineFormatError, match="the file is empty"):
        sm.read_constraints(write(tmp_path, "  \n", "constraints.json"))


def test_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(BaselineFormatError, match=r"not UTF-8 text \(expected UTF-8; found byte"):
        sm.read_violations(write(tmp_path, b'{"violations": ["\xff"]}'))


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, b'\xef\xbb\xbf{"violations": []}')
    assert sm.read_violations(path) == Violations()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file"):
        sm.read_statistics(tmp_path / "nope.json")


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        sm.read_statistics(tmp_path)


def churn_statistics() -> dict[str, Any]:
    obj = json.loads((DATA / "churn_statistics.json").read_text(encoding="utf-8"))
    assert isinstance(obj, dict)
    return obj


def test_wrong_inferred_type_names_path_expected_and_found(tmp_path: Path) -> None:
    obj = churn_statistics()
    obj["features"][2]["inferred_type"] = "Float"
    path = write(tmp_path, json.dumps(obj))
    with pytest.raises(BaselineFormatError, match="unsupported value") as info:
        sm.read_statistics(path)
    error = info.value
    assert error.column == "features[2].inferred_type"
    assert error.expected == "one of Integral, Fractional, String, Unknown"
    assert error.found == '"Float"'
    assert str(error) == (
        f"{path}, column 'features[2].inferred_type': unsupported value "
        '(expected one of Integral, Fractional, String, Unknown; found "Float")'
    )


def set_path(obj: dict[str, Any], path: str, value: object) -> None:
    """Set ``features[3].numerical_statistics.mean``-style ``path``; DELETE removes the key."""
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    target: Any = obj
    for part in parts[:-1]:
        target = target[part]
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


DELETE = object()


COMMON = "features[0].numerical_statistics.common"
KLL = "features[1].numerical_statistics.distribution.kll"


@pytest.mark.parametrize(
    ("path", "value", "problem", "expected", "found"),
    [
        ("features[3].numerical_statistics.mean", "abc", "wrong type", "a number", '"abc"'),
        ("features[3].numerical_statistics.mean", True, "wrong type", "a number", "true"),
        (f"{COMMON}.num_present", DELETE, "required key", None, None),
        (f"{COMMON}.num_missing", 1.5, "not a count", "a whole number >= 0", "1.5"),
        (f"{COMMON}.num_missing", -1, "not a count", "a whole number >= 0", "-1"),
        ("features[1].name", 7, "wrong type", "a string", "7"),
        ("features[1].numerical_statistics", [], "wrong type", "a JSON object", "a JSON array"),
        (f"{KLL}.buckets", {}, "wrong type", "a JSON array", "a JSON object"),
        (f"{KLL}.buckets[4].count", "x", "wrong type", "a number", '"x"'),
        (f"{KLL}.sketch.data[1][7]", [1], "wrong type", "a number", "a JSON array"),
        ("dataset.item_count", None, "wrong type", "a whole number >= 0", "null"),
        ("dataset", DELETE, "required key", None, None),
        ("features", DELETE, "required key", None, None),
    ],
)
def test_statistics_shape_errors(
    path: str, value: object, problem: str, expected: str | None, found: str | None
) -> None:
    obj = churn_statistics()
    set_path(obj, path, value)
    with pytest.raises(BaselineFormatError, match=problem) as info:
        sm.statistics_from_json(obj, path="baseline/statistics.json")
    error = info.value
    assert error.path == "baseline/statistics.json"
    assert error.column == path
    assert error.expected == expected
    assert error.found == found


@pytest.mark.parametrize(
    ("path", "value", "expected", "found"),
    [
        ("monitoring_config.evaluate_constraints", "Yes", '"Enabled" or "Disabled"', '"Yes"'),
        (
            "monitoring_config.distribution_constraints.comparison_method",
            "Fancy",
            "one of Simple, Robust (or linf_simple, linf_robust)",
            '"Fancy"',
        ),
        (
            "monitoring_config.distribution_constraints.categorical_drift_method",
            "KL",
            "one of LInfinity, ChiSquared",
            '"KL"',
        ),
        ("monitoring_config.datatype_check_threshold", "1.0", "a number", '"1.0"'),
        ("features[1].num_constraints.is_non_negative", "yes", "true or false", '"yes"'),
        ("features[0].monitoringConfigOverrides", [], "a JSON object", "a JSON array"),
        ("features[1].string_constraints", {"domains": "red"}, "a JSON array", '"red"'),
    ],
)
def test_constraints_shape_errors(path: str, value: object, expected: str, found: str) -> None:
    obj = json.loads((DATA / "churn_constraints.json").read_text(encoding="utf-8"))
    set_path(obj, path, value)
    with pytest.raises(BaselineFormatError, match=re.escape(f"expected {expected}")) as info:
        sm.constraints_from_json(obj, path="c.json")
    error = info.value
    assert error.column in (path, f"{path}.domains")
    assert error.found == found


def test_violation_with_unknown_check_type() -> None:
    obj = {"violations": [{"feature_name": "f", "constraint_check_type": "x", "description": ""}]}
    with pytest.raises(BaselineFormatError, match="unsupported value") as info:
        sm.violations_from_json(obj)
    assert info.value.column == "violations[0].constraint_check_type"
    assert info.value.expected is not None
    assert "categorical_values_check" in info.value.expected


def test_model_quality_violations_are_recognised() -> None:
    obj = {
        "violations": [
            {
                "constraint_check_type": "LessThanThreshold",
                "description": "Metric weightedF2 with 0.69 was LessThanThreshold 0.82",
                "metric_name": "weightedF2",
            }
        ]
    }
    with pytest.raises(BaselineFormatError, match="looks like a model-quality"):
        sm.violations_from_json(obj)


@pytest.mark.parametrize(
    ("reader", "fixture", "looks_like"),
    [
        (sm.read_constraints, "statistics.json", "statistics.json"),
        (sm.read_constraints, "churn_statistics.json", "statistics.json"),
        (sm.read_statistics, "constraints.json", "constraints.json"),
        (sm.read_statistics, "churn_constraints.json", "constraints.json"),
        (sm.read_statistics, "constraint_violations.json", "constraint_violations.json"),
        (sm.read_violations, "constraints.json", "constraints.json"),
        (sm.read_constraints, "constraint_violations.json", "constraint_violations.json"),
    ],
)
def test_wrong_file_kind_says_what_it_looks_like(
    reader: Callable[[Path], object], fixture: str, looks_like: str
) -> None:
    with pytest.raises(BaselineFormatError, match=f"this looks like a {re.escape(looks_like)}"):
        reader(DATA / fixture)


def test_model_quality_file_is_recognised() -> None:
    obj = {"version": 0.0, "binary_classification_metrics": {"accuracy": {"value": 0.9}}}
    with pytest.raises(BaselineFormatError, match="looks like a model-quality"):
        sm.statistics_from_json(obj)


@pytest.mark.parametrize("value", [[], "x", 3, None])
def test_top_level_must_be_an_object(value: object) -> None:
    with pytest.raises(BaselineFormatError, match=r"top level of a constraints\.json") as info:
        sm.constraints_from_json(value, path="c.json")
    assert info.value.column is None


# ---------------------------------------------------------------------------------------------
# Violation descriptions
# ---------------------------------------------------------------------------------------------


def test_data_type_description_reproduces_sagemaker() -> None:
    assert sm.data_type_description("Integral", 1.0, 1970 / 1977) == (
        "Data type match requirement is not met. Expected data type: Integral, "
        "Expected match: 100.0%. Observed: Only 99.64592817400101% of data is Integral."
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (0.009009009009009009, "0.009009009009009009"),
        (0.4994994994994995, "0.4994994994994995"),
        (1.0, "1.0"),
        (0.001, "0.001"),
        (0.000999, "9.99E-4"),
        (1e-5, "1.0E-5"),
        (1234567.0, "1234567.0"),
        (12345678.0, "1.2345678E7"),
        (1e21, "1.0E21"),
        (-0.5, "-0.5"),
        (-0.0, "-0.0"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
    ],
)
def test_value_description_prints_numbers_as_java_does(value: float, text: str) -> None:
    description = sm.value_description(value)
    assert description == f"Value: {text} does not meet the constraint requirement! "
    parsed = re.search("Value: (.+) does not meet the constraint requirement!", description)
    assert parsed is not None  # AWS's visualiser regex
    assert parsed.group(1) == text


def test_completeness_and_categorical_descriptions() -> None:
    assert sm.completeness_description(0.0) == (
        "Value: 0.0 does not meet the constraint requirement! "
    )
    assert sm.categorical_values_description(0.009009009009009009) == (
        "Value: 0.009009009009009009 does not meet the constraint requirement! "
    )


def test_baseline_drift_description_parses_with_aws_regex() -> None:
    text = sm.baseline_drift_description(0.2345678901234, 0.1)
    assert text == "Baseline drift distance: 0.2345678901234 exceeds threshold: 0.1"
    parsed = re.search("distance: (.+) exceeds", text)
    assert parsed is not None
    assert float(parsed.group(1)) == 0.2345678901234


def test_column_count_descriptions() -> None:
    assert sm.missing_column_description(3, 4) == (
        "There are missing columns in current dataset. Number of columns in current dataset: 3, "
        "Number of columns in baseline constraints: 4"
    )
    assert sm.extra_column_description(5, 4) == (
        "There are extra columns in current dataset. Number of columns in current dataset: 5, "
        "Number of columns in baseline constraints: 4"
    )


# ---------------------------------------------------------------------------------------------
# Property-based round trips
# ---------------------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=2**53)
names = st.text(max_size=12)
types = st.sampled_from(sm.INFERRED_TYPES)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


numerical_statistics = st.builds(
    NumericalStatistics,
    num_present=counts,
    num_missing=counts,
    mean=finite,
    sum=finite,
    std_dev=finite,
    min=finite,
    max=finite,
    buckets=st.lists(st.builds(KllBucket, finite, finite, finite), max_size=10).map(tuple),
    sketch=optional(
        st.builds(
            KllSketch,
            data=st.lists(st.lists(finite, max_size=5).map(tuple), max_size=3).map(tuple),
            k=finite,
            c=finite,
        )
    ),
)
string_statistics = st.builds(
    StringStatistics,
    num_present=counts,
    num_missing=counts,
    distinct_count=finite,
    buckets=st.lists(st.builds(CategoricalBucket, names, counts), max_size=4).map(tuple),
)
statistics = st.builds(
    Statistics,
    item_count=counts,
    features=st.lists(
        st.builds(
            FeatureStatistics,
            name=names,
            inferred_type=types,
            numerical=optional(numerical_statistics),
            string=optional(string_statistics),
        ),
        max_size=4,
    ).map(tuple),
    version=finite,
)
distribution_overrides = st.builds(
    DistributionConstraintsOverrides,
    perform_comparison=optional(st.booleans()),
    comparison_threshold=optional(finite),
    comparison_method=optional(st.sampled_from(sm.COMPARISON_METHODS)),
    categorical_comparison_threshold=optional(finite),
    categorical_drift_method=optional(st.sampled_from(sm.CATEGORICAL_DRIFT_METHODS)),
)
config_overrides = st.builds(
    MonitoringConfigOverrides,
    evaluate_constraints=optional(st.booleans()),
    emit_metrics=optional(st.booleans()),
    datatype_check_threshold=optional(finite),
    domain_content_threshold=optional(finite),
    distribution_constraints=optional(distribution_overrides),
)
constraints = st.builds(
    Constraints,
    features=st.lists(
        st.builds(
            FeatureConstraints,
            name=names,
            inferred_type=types,
            completeness=optional(finite),
            is_non_negative=optional(st.booleans()),
            domains=optional(st.lists(names, max_size=4).map(tuple)),
            overrides=optional(config_overrides),
        ),
        max_size=4,
    ).map(tuple),
    monitoring_config=st.builds(MonitoringConfig().overridden_by, config_overrides),
    version=finite,
)
violations = st.builds(
    Violations,
    st.lists(
        st.builds(Violation, names, st.sampled_from(sm.CHECK_TYPES), st.text()), max_size=4
    ).map(tuple),
)


@given(statistics)
def test_statistics_round_trip(model: Statistics) -> None:
    assert sm.statistics_from_json(through_json_text(sm.statistics_to_json(model))) == model


@given(constraints)
def test_constraints_round_trip(model: Constraints) -> None:
    assert sm.constraints_from_json(through_json_text(sm.constraints_to_json(model))) == model


@given(violations)
def test_violations_round_trip(model: Violations) -> None:
    assert sm.violations_from_json(through_json_text(sm.violations_to_json(model))) == model


@given(st.floats(allow_nan=False))
def test_java_double_text_reads_back_as_the_same_float(value: float) -> None:
    text = sm.value_description(value).removeprefix("Value: ").split(" does not")[0]
    assert float(text) == value
