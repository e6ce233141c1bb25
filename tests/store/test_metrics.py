from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from modelmon.errors import ConfigError
from modelmon.store import Matcher, Point, Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
FEATURES = ["age", "income", "tenure"]


def labels(feature: str, model: str = "churn") -> dict[str, str]:
    return {"model": model, "version": "1", "monitor": "DataQuality", "feature": feature}


@pytest.fixture
def hourly(store: Store) -> Store:
    """24 hourly points of drift for three features, value = feature index + hour / 100."""
    written = store.metrics.write_points(
        Point("drift", labels(feature), i + hour / 100, T0 + hour * HOUR)
        for i, feature in enumerate(FEATURES)
        for hour in range(24)
    )
    assert written == 72
    return store


def test_query_one_series_over_a_range(hourly: Store) -> None:
    found = hourly.metrics.query_points(
        "drift", {"feature": "income"}, start=T0 + 2 * HOUR, end=T0 + 5 * HOUR
    )
    assert len(found) == 1
    assert found[0].labels == labels("income")
    assert found[0].timestamps == (T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR)
    assert found[0].values == pytest.approx((1.02, 1.03, 1.04))
    assert all(t.tzinfo is not None for t in found[0].timestamps)


def test_matchers(hourly: Store) -> None:
    def features(matchers: dict[str, str | Matcher]) -> list[str]:
        found = hourly.metrics.query_points("drift", matchers, start=T0, end=T0 + HOUR)
        return [series.labels["feature"] for series in found]

    assert features({}) == ["age", "income", "tenure"]
    assert features({"model": "churn", "version": "1"}) == ["age", "income", "tenure"]
    assert features({"model": "other"}) == []
    assert features({"feature": Matcher("=~", "a.*|tenure")}) == ["age", "tenure"]
    assert features({"feature": Matcher("=~", "ag")}) == []  # anchored, as in PromQL
    assert features({"feature": Matcher("!~", "a.*")}) == ["income", "tenure"]
    assert features({"feature": Matcher("!=", "age")}) == ["income", "tenure"]
    assert features({"segment": ""}) == ["age", "income", "tenure"]  # absent label == ""
    assert hourly.metrics.query_points("nope", start=T0, end=T0 + HOUR) == []


def test_bad_matchers_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="valid regular expression"):
        Matcher("=~", "(")
    with pytest.raises(ConfigError, match="'op' parameter of Matcher"):
        Matcher("==", "x")  # type: ignore[arg-type]


def test_writing_the_same_point_again_overwrites_it(hourly: Store) -> None:
    again = [
        Point("drift", labels("age"), 99.0, T0),
        Point("drift", labels("age"), 42.0, T0),  # the last write in a batch wins
    ]
    assert hourly.metrics.write_points(again, execution_id=7) == 1
    (age,) = hourly.metrics.query_points("drift", {"feature": "age"}, start=T0, end=T0 + HOUR)
    assert age.values == (42.0,)


def test_label_order_does_not_make_a_new_series(store: Store) -> None:
    store.metrics.write_points([Point("m", {"a": "1", "b": "2"}, 1.0, T0)])
    store.metrics.write_points([Point("m", {"b": "2", "a": "1"}, 2.0, T0 + HOUR)])
    (series,) = store.metrics.query_points("m", start=T0, end=T0 + 2 * HOUR)
    assert series.values == (1.0, 2.0)


def test_special_values_round_trip(store: Store) -> None:
    values = [math.nan, math.inf, -math.inf, 0.0, 1e-300]
    store.metrics.write_points(Point("m", {}, v, T0 + i * HOUR) for i, v in enumerate(values))
    (series,) = store.metrics.query_points("m", start=T0, end=T0 + 10 * HOUR)
    assert math.isnan(series.values[0])
    assert series.values[1:] == (math.inf, -math.inf, 0.0, 1e-300)


def test_bad_points_are_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="strings to strings"):
        store.metrics.write_points([Point("m", {"a": 1}, 1.0, T0)])  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="non-empty string"):
        store.metrics.write_points([Point("", {}, 1.0, T0)])
    with pytest.raises(ConfigError, match="'timestamp' parameter must be a timezone-aware"):
        store.metrics.write_points([Point("m", {}, 1.0, T0.replace(tzinfo=None))])
    assert store.metrics.write_points([]) == 0


def test_hostile_label_text_is_just_data(store: Store) -> None:
    evil = {"feature": "x'); DROP TABLE points; --", "segment": "100%_"}
    store.metrics.write_points([Point("m", evil, 1.0, T0)])
    (series,) = store.metrics.query_points("m", evil, start=T0, end=T0 + HOUR)
    assert series.labels == evil


def test_latest_points(hourly: Store) -> None:
    hourly.metrics.write_points([Point("drift_total", {}, 5.0, T0), Point("other", {}, 1.0, T0)])
    latest = hourly.metrics.latest_points("drift")
    assert [(p.name, p.labels.get("feature"), p.timestamp) for p in latest] == [
        ("drift", "age", T0 + 23 * HOUR),
        ("drift", "income", T0 + 23 * HOUR),
        ("drift", "tenure", T0 + 23 * HOUR),
        ("drift_total", None, T0),
    ]
    assert latest[1].value == pytest.approx(1.23)
    assert len(hourly.metrics.latest_points()) == 5
    assert hourly.metrics.latest_points("dr%") == []  # "%" is not a wildcard


def test_many_series_are_written_and_read_in_chunks(store: Store) -> None:
    count = 1_200  # more than one IN-list chunk
    store.metrics.write_points(
        Point("drift", labels(f"f{i:04d}"), float(i), T0 + h * HOUR)
        for i in range(count)
        for h in range(2)
    )
    found = store.metrics.query_points(
        "drift", {"feature": Matcher("=~", "f.*")}, start=T0, end=T0 + HOUR
    )
    assert len(found) == count
    assert [s.values for s in found[:2]] == [(0.0,), (1.0,)]
